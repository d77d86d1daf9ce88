"""Boilerplate removal: the article's text without web furniture, every story sentence kept (`text_clean`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.enrichment.clean_neighbours import (
    drop_echoes,
    drop_enclosed,
    drop_header_labels,
    drop_link_lists,
    drop_unfinished,
)
from pipeline.enrichment.clean_stamps import is_stamp
from pipeline.enrichment.normalise import fold, squash, visible
from pipeline.enrichment.phrases import phrase_pattern
from pipeline.enrichment.repeated import line_fingerprint

_BLANK_RUNS = re.compile(r"\n{3,}")
_END_PUNCTUATION = tuple(".!?:;”\"’'»)")
_KICKER = re.compile(r"[A-Z0-9][A-Z0-9 &'’,:!?\-]*")
_SENTENCE_END = tuple('.!…”"’»)')
_OPENERS = "“\"‘'«„"
_QUOTATION = '“”"«»„'


@dataclass(frozen=True)
class BoilerplateRules:
    """The compiled rules of `pipeline/data/enrich_boilerplate.toml` plus the agencies' sign-offs."""

    lines: re.Pattern[str]
    fragments: tuple[re.Pattern[str], ...]
    link_lines: re.Pattern[str]
    signoff: re.Pattern[str] | None
    datelines: tuple[re.Pattern[str], ...] = ()
    link_line_max_chars: int = 300
    line_max_chars: int = 1000  # a longer line is a story paragraph: the `lines` rules are not tried on it
    # `lines` rules tried only on lines holding one of their words (a rule with none is tried on every line)
    keyed_lines: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = ()
    # each word of `keyed_lines` with the rules holding it ("" for a rule with none: every line holds it)
    keyed_words: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = ()
    kicker_max_words: int = 6
    teaser_headline_max_words: int = 25
    label_max_words: int = 4
    dateline_max_line: int = 6
    above_dateline_max_words: int = 40
    caps_line_min_words: int = 3
    caps_line_min_letters: int = 10
    caps_line_upper_share: float = 0.85
    caps_line_max_words: int = 30  # a longer ALL-CAPS line is the writer shouting, not a headline
    caps_line_max_sentences: int = 1  # ... and so is one of more sentences and more than a short headline's words
    caps_headline_words: int = 12
    fragment_needs: tuple[str, ...] = ()  # per fragment: a word its line must hold for it to be tried ("" = any)
    bio: re.Pattern[str] | None = None  # the writer's note closing an article ("X is a Guardian columnist")
    bio_last_lines: int = 2
    bio_max_words: int = 40
    abbreviations: frozenset[str] = frozenset()  # words a full stop ends without ending a sentence ("gen", "ret")
    furniture_terms: re.Pattern[str] | None = None  # the words of page furniture: "newsletter", "privacy policy"
    furniture_min_terms: int = 3  # a line naming this many different ones is furniture, whatever its wording
    furniture_short_terms: int = 2  # ... and so is a short line naming this many
    furniture_short_words: int = 16
    echo_min_words: int = 4  # a line repeated in its text: this long at least
    echo_max_words: int = 20  # ... and this long at most (a widget's line, a heading; not a paragraph)
    echo_widget_copies: int = 3  # this many copies of one line are a widget's: none of them is story
    pull_quote_min_words: int = 8
    pull_quote_max_words: int = 40
    pull_quote_share: float = 0.6  # of a pull quote's word trigrams found in one longer line of the text
    enclosed_max_lines: int = 4  # short lines between furniture above and below are furniture: at most this many
    enclosed_max_words: int = 12  # ... of at most this many words each
    enclosed_sentence_words: int = 8  # ... but never a sentence of at least this many words: that is story
    unfinished_max_words: int = 13  # a line shorter than this that ends like no sentence is furniture (0: off)
    link_list_heading: re.Pattern[str] | None = None  # a links box's heading alone on its line ("More to Read")
    link_list_max_items: int = 6  # ... the headlines under it that go with it: at most this many
    link_list_item_words: int = 20  # ... of at most this many words each
    stamp_words: frozenset[str] = frozenset()  # words of a page's time stamp besides dates ("published", "updated")
    stamp_max_words: int = 16  # a time stamp line is at most this long
    given_names: frozenset[str] = frozenset()  # first names, folded lower case: a byline's name alone on its line
    header_story_words: int = 12  # the story's first paragraph: a line this long at least; bylines stand above it

    @classmethod
    def from_data(
        cls, data: Mapping, agencies: Iterable[str] = (), given_names: Iterable[str] = ()
    ) -> BoilerplateRules:
        """Compile the data file's rules; a broken pattern fails here, at start-up. `given_names`: first names,
        folded lower case (a byline's name alone on its line above the story)."""
        names = sorted({a for a in agencies if a}, key=len, reverse=True)
        # An agency's name alone after the story's last full stop ("... they face. EFE") is its sign-off.
        signoff = (
            re.compile(r"(?<=[.!?”\"’)])(?:\s+(?:" + "|".join(map(re.escape, names)) + r"))+\s*$") if names else None
        )
        keyed = tuple(
            (_words(p.get("needs", ())), re.compile(p["pattern"], re.IGNORECASE))
            for p in data["lines"]
            if not isinstance(p, str)
        )
        return cls(
            lines=re.compile("|".join(f"(?:{p})" for p in data["lines"] if isinstance(p, str)), re.IGNORECASE),
            keyed_lines=keyed,
            keyed_words=_by_word(keyed),
            fragments=tuple(re.compile(_pattern(f), re.IGNORECASE) for f in data["fragments"]),
            fragment_needs=tuple("" if isinstance(f, str) else f.get("needs", "").lower() for f in data["fragments"]),
            link_lines=re.compile("|".join(f"(?:{p})" for p in data["link_lines"]), re.IGNORECASE),
            signoff=signoff,
            datelines=tuple(re.compile(p, re.IGNORECASE) for p in data.get("datelines", ())),
            link_line_max_chars=int(data.get("link_line_max_chars", 300)),
            line_max_chars=int(data.get("line_max_chars", 1000)),
            abbreviations=frozenset(a.lower() for a in data.get("abbreviations", ())),
            bio=re.compile(data["bio"]) if data.get("bio") else None,
            bio_last_lines=int(data.get("bio_last_lines", 2)),
            bio_max_words=int(data.get("bio_max_words", 40)),
            kicker_max_words=int(data.get("kicker_max_words", 6)),
            teaser_headline_max_words=int(data.get("teaser_headline_max_words", 25)),
            label_max_words=int(data.get("label_max_words", 4)),
            dateline_max_line=int(data.get("dateline_max_line", 6)),
            above_dateline_max_words=int(data.get("above_dateline_max_words", 40)),
            caps_line_min_words=int(data.get("caps_line_min_words", 3)),
            caps_line_min_letters=int(data.get("caps_line_min_letters", 10)),
            caps_line_upper_share=float(data.get("caps_line_upper_share", 0.85)),
            caps_line_max_words=int(data.get("caps_line_max_words", 30)),
            caps_line_max_sentences=int(data.get("caps_line_max_sentences", 1)),
            caps_headline_words=int(data.get("caps_headline_words", 12)),
            furniture_terms=(
                re.compile(r"\b" + phrase_pattern([t.lower() for t in data["furniture_terms"]]) + r"\b", re.IGNORECASE)
                if data.get("furniture_terms")
                else None
            ),
            furniture_min_terms=int(data.get("furniture_min_terms", 3)),
            furniture_short_terms=int(data.get("furniture_short_terms", 2)),
            furniture_short_words=int(data.get("furniture_short_words", 16)),
            echo_min_words=int(data.get("echo_min_words", 4)),
            echo_max_words=int(data.get("echo_max_words", 20)),
            echo_widget_copies=int(data.get("echo_widget_copies", 3)),
            pull_quote_min_words=int(data.get("pull_quote_min_words", 8)),
            pull_quote_max_words=int(data.get("pull_quote_max_words", 40)),
            pull_quote_share=float(data.get("pull_quote_share", 0.6)),
            enclosed_max_lines=int(data.get("enclosed_max_lines", 4)),
            enclosed_max_words=int(data.get("enclosed_max_words", 12)),
            enclosed_sentence_words=int(data.get("enclosed_sentence_words", 8)),
            unfinished_max_words=int(data.get("unfinished_max_words", 13)),
            link_list_heading=(
                re.compile("|".join(f"(?:{p})" for p in data["link_list_headings"]), re.IGNORECASE)
                if data.get("link_list_headings")
                else None
            ),
            link_list_max_items=int(data.get("link_list_max_items", 6)),
            link_list_item_words=int(data.get("link_list_item_words", 20)),
            stamp_words=frozenset(w.lower() for w in data.get("stamp_words", ())),
            stamp_max_words=int(data.get("stamp_max_words", 16)),
            given_names=frozenset(given_names),
            header_story_words=int(data.get("header_story_words", 12)),
        )


def _words(needs: str | Sequence[str]) -> tuple[str, ...]:
    """A keyed rule's words, lower case: `needs` is one word or a list of them (a match holds one of them)."""
    return tuple(w.lower() for w in ([needs] if isinstance(needs, str) else needs) if w)


def _by_word(rules: Iterable[tuple[tuple[str, ...], re.Pattern[str]]]) -> tuple[tuple[str, tuple], ...]:
    """The keyed rules by word: a line is tested for each word once (a plain substring test), and tries only the
    rules of the words it holds (a rule with no word is filed under "", which every line holds)."""
    by_word: dict[str, list[re.Pattern[str]]] = {}
    for words, pattern in rules:
        for word in words or ("",):
            by_word.setdefault(word, []).append(pattern)
    return tuple((word, tuple(patterns)) for word, patterns in by_word.items())


def _pattern(fragment: str | Mapping) -> str:
    """A fragment rule's pattern: the string, or a table's `pattern` (with `needs`, a word it cannot match without)."""
    return fragment if isinstance(fragment, str) else fragment["pattern"]


def clean_text(
    text: str, rules: BoilerplateRules, titles: Sequence[str | None] = (), repeated: Collection[int] = ()
) -> str:
    """`text` without boilerplate lines, glued credits, teasers and a repeated headline; "" when nothing is left.

    `repeated` holds the fingerprints (`line_fingerprint`) of lines the article's source repeats across its
    articles: those lines go too.
    """
    raw = visible(text).split("\n")
    raw = _drop_above_dateline(raw, rules)
    cleaned = [_clean_line(line, rules, repeated) for line in raw]
    # a line that lost a glued credit is a caption: it stays with the story's words, whatever it echoes
    whole = [line is not None and line == original.strip() for line, original in zip(cleaned, raw, strict=True)]
    kept = drop_echoes(cleaned, whole, rules)
    kept = drop_enclosed(kept, rules, raw)
    kept = drop_link_lists(kept, rules, raw)
    kept = drop_unfinished(kept, whole, rules.unfinished_max_words)
    kept = drop_header_labels(kept, whole, rules.given_names, rules.header_story_words)
    lines = [line for line in kept if line is not None]
    lines = _drop_repeated_headline(lines, titles, rules.label_max_words)
    lines = _drop_teasers(lines, rules)
    lines = _drop_sign_off(_drop_closing_bio(lines, rules))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _clean_line(line: str, rules: BoilerplateRules, repeated: Collection[int] = ()) -> str | None:
    """The line with glued furniture cut off; None when the whole line is furniture ("" stays: a paragraph break)."""
    stripped = line.strip()
    if not stripped:
        return ""
    if repeated and line_fingerprint(stripped) in repeated:
        return None
    if (
        _is_caps_line(stripped, rules)
        or _is_map_labels(stripped)
        or _is_furniture(stripped, rules)
        or is_stamp(stripped, rules.stamp_words, rules.stamp_max_words)
    ):
        return None
    lower = stripped.lower()
    for fragment, needs in zip(rules.fragments, rules.fragment_needs or [""] * len(rules.fragments), strict=True):
        if needs in lower:  # a word the fragment cannot match without: most lines skip it at once
            stripped = fragment.sub("", stripped).strip()
    if stripped != line.strip() and _is_caps_line(stripped, rules):
        return None  # what is left once the glued furniture is cut is another story's headline
    if rules.signoff is not None:
        signed = rules.signoff.sub("", stripped).strip()
        if signed != stripped and _whole_line_rule(stripped, rules):
            return None  # a caption whose credit is an agency's name ("A painting. 1938. Sputnik Sputnik")
        stripped = signed
    if not stripped or not any(c.isalnum() for c in stripped):
        return None
    if _whole_line_rule(stripped, rules) or (
        stripped[0] in "([" and stripped[-1] in ")]" and _whole_line_rule(stripped[1:-1].strip(), rules)
    ):
        return None  # "(Reporting by …; Editing by …)": a credit in brackets is a credit
    if len(stripped) <= rules.link_line_max_chars and rules.link_lines.search(stripped):
        return None
    return stripped


def _whole_line_rule(line: str, rules: BoilerplateRules) -> bool:
    """A `lines` rule of the data file matches the whole line (a keyed rule only when its word is in the line)."""
    if len(line) > rules.line_max_chars:
        return False
    if rules.lines.fullmatch(line):
        return True
    lower = line.lower()
    # a substring test per word, then only the rules of the words found (most lines hold none)
    found = [patterns for word, patterns in rules.keyed_words if word in lower]
    return any(pattern.fullmatch(line) for patterns in found for pattern in patterns)


def _is_furniture(line: str, rules: BoilerplateRules) -> bool:
    """A line made of the words of page furniture, however an outlet phrases it: several different ones
    ("… Sign up to … daily newsletter … Enter your email address … Privacy Notice … Google Privacy Policy and Terms of
    Service apply"; "You also agree to this site's Privacy Policy and Terms of Use"). A quotation is never one."""
    if rules.furniture_terms is None or any(c in line for c in _QUOTATION):
        return False
    terms = {" ".join(m.group(0).lower().split()).rstrip("s") for m in rules.furniture_terms.finditer(line)}
    if len(terms) >= rules.furniture_min_terms:
        return True
    return len(terms) >= rules.furniture_short_terms and len(line.split()) <= rules.furniture_short_words


def _is_map_labels(line: str) -> bool:
    """A graphic's labels flattened into a line ("Kamyanets-Podilskyi Uman UKRAINE Briceni Soroca TRANSNISTRIA …
    25 MILES"): a dozen words or more, nearly all capitalised, several in capitals, no quotation. Prose, even in Title
    Case, has its small words in lower case and few words in capitals."""
    words = line.split()
    if len(words) < 12 or any(c in line for c in '"“”?!'):
        return False
    # prose shows its small words at once: more lower-case words among the first dozen than labels allow in all
    if sum(w[:1].islower() for w in words[:12]) > 0.15 * len(words):
        return False
    capitalised = sum(w[:1].isupper() or w[:1].isdigit() for w in words)
    shouted = sum(len(w) >= 3 and w.isupper() and w.isalpha() for w in words)
    # a shouted paragraph ("NOTICE THAT NOT ONE …") is prose: labels are mostly names, a few of them in capitals
    return capitalised >= 0.85 * len(words) and 3 <= shouted <= 0.5 * len(words)


def _is_caps_line(line: str, rules: BoilerplateRules) -> bool:
    """An ALL-CAPS line of several words: another story's headline or a promotion put between paragraphs.

    A dateline on a line of its own ("WASHINGTON (AP) —") is not one.
    """
    if sum(c.islower() for c in line[:16]) > 2:
        return False  # most lines show lower case at once: no need to count
    letters = [c for c in line if c.isalpha()]
    if len(letters) < rules.caps_line_min_letters or len(line.split()) < rules.caps_line_min_words:
        return False
    if sum(c.isupper() for c in letters) < rules.caps_line_upper_share * len(letters):
        return False
    words = len(line.split())
    # a full stop at the end makes a sentence too: "SPECIAL COUNSEL … WILL NOT RECOMMEND …, THE JUSTICE DEPARTMENT
    # ANNOUNCED FRIDAY EVENING." is a lede in capitals (a headline ends without one)
    # (a title's abbreviation is no sentence end: "FOX NEWS CONTRIBUTOR RET. LT. GEN. KELLOGG")
    sentences = sum(not _abbreviation(line, m.start(), rules) for m in _CAPS_SENTENCE_END.finditer(line)) + any(
        not _abbreviation(line, m.start(), rules) for m in _CAPS_FULL_STOP.finditer(line)
    )
    if words > rules.caps_line_max_words or (
        words > rules.caps_headline_words and sentences >= rules.caps_line_max_sentences
    ):
        return False  # "NOTICE THAT NOT ONE … NUCLEAR WAR. HOW CAN THIS BE?": prose in capitals
    return not any(p.search(line) for p in rules.datelines)


def _abbreviation(line: str, stop: int, rules: BoilerplateRules) -> bool:
    """The full stop at `stop` ends an abbreviation ("RET.", "GEN.")."""
    word = re.search(r"(\w+)$", line[:stop])
    return word is not None and word.group(1).lower() in rules.abbreviations


# a sentence ending inside a line, another sentence after it ("… WAR. HOW CAN")
_CAPS_SENTENCE_END = re.compile(r"(?:(?<=\w{3})\.|[!?])[”’\"')]*\s+(?=[“\"‘']?[A-Z])")
_CAPS_FULL_STOP = re.compile(r"(?<=\w{3})\.[”’\"')]*\s*$")


def _drop_above_dateline(lines: list[str], rules: BoilerplateRules) -> list[str]:
    """Headlines, teasers and labels above the dateline go: short lines that do not end like a sentence.

    A line ending with "?" is a headline here; a quotation (a pull quote above the dateline) stays.
    """
    if not rules.datelines:
        return lines
    seen = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        seen += 1
        if seen > rules.dateline_max_line:
            return lines
        if any(p.search(stripped) for p in rules.datelines):
            if seen == 1:
                return lines
            above = [_is_page_heading(x.strip(), rules.above_dateline_max_words) for x in lines[:i]]
            return [x for x, heading in zip(lines[:i], above, strict=True) if not heading] + lines[i:]
    return lines


def _is_page_heading(line: str, max_words: int) -> bool:
    """Not a sentence of the story: short, and not ending with a full stop or a quotation ("?" is a headline's)."""
    if not line or line[:1] in _OPENERS:
        return False
    return len(line.split()) <= max_words and not line.endswith(_SENTENCE_END)


def _drop_repeated_headline(lines: list[str], titles: Sequence[str | None], label_max_words: int) -> list[str]:
    """Lines that repeat the headline go, and so do the short labels above its first repeat when only labels are there."""
    keys = {fold(t) for t in titles if t and t.strip()}
    if not keys:
        return lines
    # a line far longer than every headline is none of them: not folded (folding keeps a text's length but for
    # its runs of spaces and its accents)
    longest = 2 * max(map(len, keys)) + 20
    hits = [i for i, line in enumerate(lines) if line and len(line) <= longest and fold(line) in keys]
    if not hits:
        return _cut_glued_headline(lines, keys, longest)
    drop = set(hits)
    above = [i for i in range(hits[0]) if lines[i]]
    if all(_is_label(lines[i], label_max_words) for i in above):
        drop.update(above)
    return [line for i, line in enumerate(lines) if i not in drop]


def _cut_glued_headline(lines: list[str], keys: set[str], longest: int) -> list[str]:
    """A first line that opens with the headline and goes on with the story (a scrape that lost the line break:
    "Poroshenko's Move ... Met With Memes, Mockery WASHINGTON (Sputnik) — ...") loses the headline."""
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is None:
        return lines
    line = lines[first]
    folded = fold(line[:longest])  # the headline is at its start
    for key in keys:
        if len(key.split()) >= 4 and folded.startswith(key + " "):
            words = len(key.split())
            rest = line.split(maxsplit=words)
            if len(rest) > words:
                return [*lines[:first], rest[words], *lines[first + 1 :]]
    return lines


def _drop_closing_bio(lines: list[str], rules: BoilerplateRules) -> list[str]:
    """The writer's note after the story ("Nathalie Tocci is a Guardian Europe columnist"): a bio line among the
    last `bio_last_lines` lines that only labels or other bios follow (no sentence) goes, with what follows it; the
    same words higher up are story."""
    if rules.bio is None:
        return lines
    filled = [i for i, line in enumerate(lines) if line]
    last = filled[-rules.bio_last_lines :]
    for k, i in enumerate(last):
        # only labels may follow it (a page's tags: "Climate", "Explainers"), no sentence of the story
        after = [lines[j] for j in last[k + 1 :]]
        if (
            len(lines[i].split()) <= rules.bio_max_words
            and rules.bio.fullmatch(lines[i])
            and not any(line.rstrip().endswith(_SENTENCE_END) and not rules.bio.fullmatch(line) for line in after)
        ):
            return lines[:i]
    return lines


_SIGN_OFF_SMALL = frozenset({"of", "for", "and", "the", "on", "in", "&", "-", "–", "at"})


def _drop_sign_off(lines: list[str]) -> list[str]:
    """The name that signs the text off on its last line ("Center for Strategic Communication and Information
    Security", "Jane Doe"): two to ten words, each capitalised but for small words, no digit, no sentence end, no
    quotation. A story's last line is a sentence."""
    filled = [i for i, line in enumerate(lines) if line]
    if len(filled) < 3:
        return lines
    last = lines[filled[-1]]
    words = last.split()
    if (
        not 2 <= len(words) <= 10
        or last.endswith(_SENTENCE_END)
        or any(c in last for c in _QUOTATION + "0123456789:?!")
    ):
        return lines
    if all(w[:1].isupper() or w.lower() in _SIGN_OFF_SMALL for w in words) and words[0][:1].isupper():
        return lines[: filled[-1]]
    return lines


def _drop_teasers(lines: list[str], rules: BoilerplateRules) -> list[str]:
    """An ALL-CAPS kicker followed by a headline-like line is a teaser for another story: both go."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = next((j for j in range(i + 1, len(lines)) if lines[j]), None)
        if (
            line
            and nxt is not None
            and _is_kicker(line, rules.kicker_max_words)
            and _is_headline(lines[nxt], rules.teaser_headline_max_words)
        ):
            i = nxt + 1
            continue
        out.append(line)
        i += 1
    return out


def _is_label(line: str, max_words: int) -> bool:
    """A section label or breadcrumb: a few words, no sentence punctuation."""
    return len(line.split()) <= max_words and not line.endswith(_END_PUNCTUATION)


def _is_kicker(line: str, max_words: int) -> bool:
    """An ALL-CAPS line of a few words ("WAR TALKS")."""
    return (
        len(line.split()) <= max_words and _KICKER.fullmatch(line) is not None and sum(c.isalpha() for c in line) >= 3
    )


def _is_headline(line: str, max_words: int) -> bool:
    """A headline: not too long, not ending like a sentence, not another kicker of the same page."""
    words = squash(line).split()
    return 0 < len(words) <= max_words and not line.endswith(_END_PUNCTUATION)

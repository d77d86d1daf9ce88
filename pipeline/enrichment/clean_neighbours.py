"""Passes of `clean.clean_text` that read a line with the lines around it: echoes (a widget's repeated line, a
pull quote), short lines enclosed by furniture (a poll's choices), a links box's headlines under its heading and
short unfinished lines next to furniture (a caption by its credit); never a story sentence."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from pipeline.enrichment.normalise import fold

if TYPE_CHECKING:
    from pipeline.enrichment.clean import BoilerplateRules

_QUOTATION = '“”"«»„'
_CLOSERS = "”’\"')» "
_SENTENCE_STOPS = (".", "!", "?", "…", ":", ";")
_WORDS = re.compile(r"\w+")
# a line ending so is a sentence, a quotation or a dateline ("KYIV, Ukraine —"), never an unfinished line
_UNFINISHED_NOT = tuple(".!?:;”\"’'»)…—–-")


def drop_echoes(lines: list[str | None], whole: Sequence[bool], rules: BoilerplateRules) -> list[str | None]:
    """Lines that echo another line of the same text go: a short line the scrape repeated three times or more (a
    poll's question: every copy goes), a line that is no sentence said twice (the later copy goes), and a pull quote,
    a short line without a sentence's end whose words run, mostly in order, through a longer line ("Biden knows any
    sign of weakness over Ukraine may be read …" beside "But he knows any sign of weakness in confronting Putin over
    Ukraine may be read …"). `whole[i]`: line i is as scraped (a caption that lost its credit is no pull quote)."""
    counts: dict[str, int] = {}
    for line in lines:
        if line and rules.echo_min_words <= len(line.split()) <= rules.echo_max_words:
            counts[line] = counts.get(line, 0) + 1
    seen: set[str] = set()
    out: list[str | None] = []
    for line in lines:
        copies = counts.get(line or "", 0)
        if line and copies >= 2:
            widget = copies >= rules.echo_widget_copies
            # a story paragraph the scrape doubled keeps both copies: only a line that is no sentence goes
            if widget or (line in seen and not line.rstrip(_CLOSERS).endswith(_SENTENCE_STOPS)):
                out.append(None)
                continue
            seen.add(line)
        out.append(line)
    pulls = [
        i
        for i, line in enumerate(out)
        if line
        and whole[i]
        and rules.pull_quote_min_words <= len(line.split()) <= rules.pull_quote_max_words
        and not line.rstrip(_CLOSERS).endswith(_SENTENCE_STOPS)
    ]
    if not pulls:
        return out
    grams = [_trigrams(line) if line else set() for line in out]
    for i in pulls:
        mine, length = grams[i], len(out[i] or "")
        if mine and any(
            line is not None and len(line) > length and len(mine & grams[j]) >= rules.pull_quote_share * len(mine)
            for j, line in enumerate(out)
        ):
            out[i] = None
    return out


def _trigrams(line: str) -> set[tuple[str, ...]]:
    """The line's word trigrams, folded to lower case and without punctuation."""
    words = _WORDS.findall(line.lower())
    return {tuple(words[k : k + 3]) for k in range(len(words) - 2)}


def drop_enclosed(lines: list[str | None], rules: BoilerplateRules, raw: Sequence[str]) -> list[str | None]:
    """A few short lines with furniture right above and below them are furniture too: a poll's choices between its
    question and its e-mail field, "You may opt out at anytime." between a form's consent lines. Blank lines do not
    count; a line with a quotation is never enclosed, nor a sentence of the story's length unless a question stands
    right above or opens the run (a poll's: "Do you think …?"). `raw[i]`: line i as scraped."""
    present = [i for i, line in enumerate(lines) if line != ""]
    out = list(lines)
    k = 0
    while k < len(present):
        if lines[present[k]] is None:
            k += 1
            continue
        run_end = k
        while run_end < len(present) and lines[present[run_end]] is not None:
            run_end += 1
        run = present[k:run_end]
        closed = k > 0 and run_end < len(present)  # furniture (None) before and after the run
        # a poll: its question above the run, or opening it
        poll = closed and (raw[present[k - 1]].strip().endswith("?") or (lines[run[0]] or "").endswith("?"))
        if (
            closed
            and len(run) <= rules.enclosed_max_lines
            and all(
                len((lines[i] or "").split()) <= rules.enclosed_max_words
                and not any(c in (lines[i] or "") for c in _QUOTATION)
                and (poll or not _story_sentence(lines[i] or "", rules))
                for i in run
            )
        ):
            for i in run:
                out[i] = None
        k = run_end
    return out


def _story_sentence(line: str, rules: BoilerplateRules) -> bool:
    """A line that reads as a sentence of the story: it starts with a capital, ends with a full stop and has at least
    `enclosed_sentence_words` words ("The mayor said rescue work would continue through the night.")."""
    return line[:1].isupper() and line.rstrip().endswith(".") and len(line.split()) >= rules.enclosed_sentence_words


def drop_link_lists(lines: list[str | None], rules: BoilerplateRules, raw: Sequence[str]) -> list[str | None]:
    """The items of a links box go with its heading: after a line that is only such a heading ("Most Read from
    Bloomberg", "More to Read", "Keep reading", "Read more from Sky News:"), up to `link_list_max_items` lines that
    read as headlines (at most `link_list_item_words` words, no full stop at the end, no quotation) go. The first
    line that reads as a sentence ends the box; blank lines and furniture inside it do not. `raw[i]`: line i as
    scraped."""
    if rules.link_list_heading is None:
        return lines
    out = list(lines)
    i = 0
    while i < len(lines):
        if lines[i] is not None or not rules.link_list_heading.fullmatch(raw[i].strip()):
            i += 1
            continue
        taken = 0
        j = i + 1
        while j < len(lines) and taken < rules.link_list_max_items:
            line = lines[j]
            if line is None or line == "":
                j += 1
                continue
            if not _headline(line, rules.link_list_item_words):
                break
            out[j] = None
            taken += 1
            j += 1
        i = j
    return out


def _headline(line: str, max_words: int) -> bool:
    """A headline of another story: short, no quotation, not ending like a sentence ("?" is a headline's too)."""
    return (
        len(line.split()) <= max_words
        and not any(c in line for c in _QUOTATION)
        and not line.rstrip().endswith((".", "!", "…", ":", ";"))
    )


def drop_unfinished(lines: list[str | None], whole: Sequence[bool], max_words: int) -> list[str | None]:
    """Short lines that end like no sentence go when furniture stands right above or below them, or another such
    line does: the headlines of a links box, a caption without its full stop next to its credit, a label by its
    button. One such line alone between story paragraphs is a sub-heading and stays ("Marathon peace talks"), and
    so is a caption that lost a glued credit, and one under furniture with a story paragraph right after it (a
    sub-heading below an advert: "Advertisement / Lawmakers demand answers / Sen. … said …"). Never one of
    `max_words` words or more, one ending with a sentence's or a quotation's mark, a dash (a dateline) or "…", a
    list's item, a line the next goes on from in lower case (text wrapped at a fixed width) or names alone (up to
    three capitalised words: a byline, a signature)."""
    if max_words <= 0:
        return lines
    present = [i for i, line in enumerate(lines) if line != ""]  # None: furniture; "": a paragraph break
    candidate = {i for i in present if lines[i] is not None and whole[i] and _unfinished(lines[i] or "", max_words)}
    for k, i in enumerate(present[:-1]):
        if (lines[present[k + 1]] or "")[:1].islower():
            candidate.discard(i)  # the next line goes on from it: a text wrapped at a fixed width
    candidate -= set(present[-3:])  # a letter's signature block closes the text
    out = list(lines)
    for k, i in enumerate(present):
        if i not in candidate:
            continue
        above = present[k - 1] if k else None
        below = present[k + 1] if k + 1 < len(present) else None
        if (
            above is not None
            and lines[above] is None
            and below is not None
            and lines[below] is not None
            and below not in candidate
            and _paragraph(lines[below] or "")
        ):
            continue  # a sub-heading under an advert: the story paragraph it heads follows it
        near = [j for j in (above, below) if j is not None]
        if any(lines[j] is None or j in candidate for j in near):
            out[i] = None
    return out


def drop_header_labels(
    lines: list[str | None], whole: Sequence[bool], given_names: Collection[str], story_words: int
) -> list[str | None]:
    """Above the story's first paragraph (a line of `story_words` words or more), a line that is a person's name
    alone is the byline ("Kara Delacroix": two or three capitalised words, the first a given name of `given_names`,
    folded lower case) and one capitalised word alone a section's or a role's label ("Business", "Reporter"). The
    same lines after the story has begun are story (a signature, a sub-heading). A name the table does not know
    ("Wanjiru Kamau") is the byline when furniture stands right beside it (a role, a time stamp)."""
    if story_words <= 0:
        return lines
    present = [i for i, line in enumerate(lines) if line != ""]
    head = next((k for k, i in enumerate(present) if len((lines[i] or "").split()) >= story_words), len(present))
    header = [i for i in present[:head] if lines[i] is not None and whole[i]]
    out = list(lines)
    for i in header:
        if _TITLE_WORD.fullmatch(lines[i] or ""):
            out[i] = None
    for i in header:
        line = lines[i] or ""
        if _name_alone(line):
            # a given name the table knows, or furniture right beside it ("Reporter", a time stamp)
            k = present.index(i)
            near = [present[j] for j in (k - 1, k + 1) if 0 <= j < len(present)]
            if fold(line.split()[0]).lower() in given_names or any(out[j] is None for j in near):
                out[i] = None
    return out


def _name_alone(line: str) -> bool:
    words = line.split()
    return (
        2 <= len(words) <= 3
        and all(_NAME_WORD.fullmatch(w) for w in words)
        and not any(w.lower() in _SMALL_WORDS for w in words)  # "The News": a section's heading
    )


_SMALL_WORDS = frozenset({"the", "a", "an", "of", "for", "and", "in", "on", "to", "at", "by", "with", "from"})


_NAME_WORD = re.compile(r"[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)*|[A-Z]\.")
_TITLE_WORD = re.compile(r"[A-Z][a-z]{2,}")


def _paragraph(line: str) -> bool:
    """A story paragraph: two sentences or more, or one long one (what follows a sub-heading)."""
    return len(line.split()) >= 10 and line.rstrip().endswith((".", "”", '"', "’"))


def _unfinished(line: str, max_words: int) -> bool:
    words = line.split()
    return (
        len(words) < max_words
        and not line.endswith(_UNFINISHED_NOT)
        and (line[:1].isupper() or line[:1].isdigit())
        and not _LIST_ITEM.match(line)
        and not (len(words) <= 3 and all(w[:1].isupper() for w in words))
    )


_LIST_ITEM = re.compile(r"\d{1,3}[.)]\s|[-–—•*]\s")

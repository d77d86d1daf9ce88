"""Named-entity mentions from spaCy docs: NER spans, alias-table names NER missed, capitalised words after a locative cue."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Span

from pipeline.enrichment.name_tokens import (
    SENTENCE_OPENERS,
    alias_end,
    apposition_end,
    complement_end,
    defined_by_acronym,
    given_name_before,
    lone_acronym,
    name_goes_on,
    org_start,
    person_start,
)

# People, organisations, places (GPE/LOC/FAC), groups (NORP) and events; numbers and dates are read elsewhere.
ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT"})
CONTEXT_BEFORE = 10
CONTEXT_AFTER = 6
_STANCE = frozenset({"pro", "anti", "non"})  # "pro-EU": NER's span holds the prefix


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of the analysed text that may name an entity, with the words around it (cues for what it is)."""

    text: str
    label: str  # spaCy label; "" when only the alias table or a place cue found it
    start: int  # character offsets in the analysed text
    end: int
    before: tuple[str, ...] = ()  # lower-cased tokens before the span, nearest last
    after: tuple[str, ...] = ()  # tokens after the span, as written
    source: str = "ner"  # ner | alias | cue | dateline | acronym


class SurfaceIndex:
    """Alias-table surfaces by their first two characters, for scanning tokens without building spaCy spans."""

    def __init__(self, surfaces: Collection[str]) -> None:
        self.surfaces = frozenset(surfaces)
        # longest surface (in characters) for each two-letter start: how far a match can run from a token
        self.longest: dict[str, int] = {}
        for s in self.surfaces:
            self.longest[s[:2]] = max(self.longest.get(s[:2], 0), len(s))
        # first words of the surfaces written in lower case ("dpa", "state department")
        self.lower_starts = frozenset(s.split()[0] for s in self.surfaces if s[:1].islower())
        # every beginning of a surface: a scan stops as soon as its words begin none ("Kyiv says" after "Kyiv")
        self.prefixes = frozenset(s[:k] for s in self.surfaces for k in range(1, len(s) + 1))


def split_joined(
    doc, spans: Sequence, is_place: Callable[[str], bool], org_nouns: Collection[str], known: Collection[str]
) -> list:
    """NER's spans, each one it ran over a comma cut there ("Kharkiv, Sumy" as one ORG; "Kharkiv, Ihor Terekhov" of
    "The mayor of Kharkiv, Ihor Terekhov, said"): a part that is a place is a place, two or three capitalised words
    with no word for a kind of body a person, anything else keeps the span's label. A name the alias table knows with
    its comma stays whole ("Washington, D.C."). Two table names joined by "and" are two ("Amnesty International and
    Human Rights Watch")."""
    out = []
    for span in spans:
        if span.label_ == "ORG" and " and " in span.text and span.text not in known:
            # "Amnesty International and Human Rights Watch": two table names NER read as one
            at = next((t.i for t in span if t.lower_ == "and"), span.end)
            if doc[span.start : at].text in known and doc[at + 1 : span.end].text in known:
                out += [Span(doc, span.start, at, label="ORG"), Span(doc, at + 1, span.end, label="ORG")]
                continue
        if span.label_ == "ORG" and span.text not in known and (parts := _hyphen_joined(doc, span, is_place, known)):
            out += parts  # "a Washington Post-ABC News poll": two names NER read as one
            continue
        if span.label_ not in ("ORG", "GPE", "PERSON") or "," not in span.text or span.text in known:
            out.append(span)
            continue
        start = span.start
        for i in [*(t.i for t in span if t.text == ","), span.end]:
            if i > start:
                text = doc[start:i].text
                words = text.split()
                if is_place(text):
                    label = "GPE"
                elif (
                    2 <= len(words) <= 3
                    and all(w[:1].isupper() and w[1:].islower() for w in words)
                    and not any(w.lower() in org_nouns for w in words)
                ):
                    label = "PERSON"
                else:
                    label = span.label_
                out.append(Span(doc, start, i, label=label))
            start = i + 1
    return out


def _hyphen_joined(doc, span, is_place: Callable[[str], bool], known: Collection[str]) -> list:
    """ "Washington Post-ABC News", "Reuters-Ipsos": an organisation's span NER ran over a hyphen joining two names,
    both the alias table's, or one of them and two or three capitalised words that open with no place ("ITAR-TASS",
    "NATO-Russia Council" are one name each). Empty when the span is one name."""
    at = next((t.i for t in span if t.text == "-" and t.whitespace_ == "" and t.i > span.start), None)
    if at is None or at + 1 >= span.end or doc[at - 1].whitespace_:
        return []
    left, right = doc[span.start : at], doc[at + 1 : span.end]
    if not (left.text in known and right.text in known):
        if not (left.text in known or right.text in known):
            return []
        other = right if left.text in known else left
        if not 2 <= len(other) <= 3 or not all(t.text[:1].isupper() for t in other) or is_place(other[0].text):
            return []  # "ITAR-TASS", "NATO-Russia Council": one name
    return [Span(doc, span.start, at, label="ORG"), Span(doc, at + 1, span.end, label="ORG")]


def _positions(items: list[str], value: str) -> list[int]:
    """The indexes of `value` in `items` (list.index scans in C: a word's few places in a long text, found fast)."""
    found: list[int] = []
    i = -1
    while True:
        try:
            i = items.index(value, i + 1)
        except ValueError:
            return found
        found.append(i)


def mentions_from_doc(
    doc,
    surfaces: SurfaceIndex,
    locative: Collection[str],
    not_places: Collection[str] = (),
    ner_from: int = 0,
    text: str | None = None,
    name_titles: Collection[str] = (),
    spans: Sequence | None = None,
    outlets: Collection[str] = (),
    body_heads: Collection[str] = (),
    person_titles: Collection[str] = (),
    speech_verbs: Collection[str] = (),
    role_nouns: Collection[str] = (),
    org_nouns: Collection[str] = (),
) -> list[Mention]:
    """NER mentions of the kept labels, then alias-table surfaces and cue-marked capitalised words outside them.

    `outlets`: the kinds of news outlet ("channel") after which capitalised words name one ("channel SOTA").
    `body_heads`: the words a body's name may go on after with "of"/"for" and more capitalised words, where NER stops
    ("International Criminal Tribunal" + "for the Former Yugoslavia"). `person_titles`: the lower-case titles that
    stand before a person's name ("president", "minister"): never a given name; two or three capitalised words NER
    missed between such a title and a speech verb or a comma are a person's name ("JMM spokesperson Manoj Tirkey
    claimed", "SES Superintendent Scott Kearney said"). `speech_verbs`: every form of the speech verbs. `role_nouns`:
    the words of a role in an apposition ("analyst", "MP"): two or three capitalised words NER missed that open a
    sentence, then ", a/an/the …role…," and a speech verb, are a person ("Tunde Adeyemi, an analyst at Ecobank
    Research, said"), unless one of them is a body's noun (`org_nouns`: "Green Party, a member of …").

    NER spans starting before `ner_from` (a Title-Case headline: "Putin Declines Negotiations") are not used:
    there only the alias table names entities. `text` is the string the doc was made from, when the caller has it;
    `spans` the doc's `ents` when the caller has read them (each read of `doc.ents` builds every span anew).
    """
    # token attributes in one array call: iterating a Doc builds a Python Token object per token
    columns = doc.to_array(["IDX", "LENGTH", "SPACY"]).tolist() if len(doc) else []
    whole = doc.text if text is None else text  # doc.text joins every token each time it is read
    starts = [c[0] for c in columns]
    texts = [whole[c[0] : c[0] + c[1]] for c in columns]
    spaces = [" " if c[2] else "" for c in columns]
    lower = [t.lower() for t in texts]
    n = len(texts)
    mentions: list[Mention] = []
    covered = bytearray(n)  # token i is inside a mention already

    def mention(i: int, j: int, label: str, source: str) -> Mention:
        text = whole[starts[i] : starts[j - 1] + len(texts[j - 1])]  # the doc's text is its tokens and their spaces
        return Mention(
            text,
            label,
            starts[i],
            starts[i] + len(text),
            tuple(lower[max(0, i - CONTEXT_BEFORE) : i]),
            tuple(texts[j : j + CONTEXT_AFTER]),
            source,
        )

    def capitalised_run(i: int) -> int:
        """End of the capitalised words from token i on, up to three, none read yet ("Telegram channel SOTA")."""
        j = i + 1
        while j < n and j - i < 3 and not covered[j] and texts[j].isalpha() and texts[j][:1].isupper():
            j += 1
        return j

    ents = [(e.start, e.end, e.label_, e.start_char) for e in (doc.ents if spans is None else spans)]
    if "(" in texts:
        ents = defined_by_acronym(texts, ents, starts)  # "Jharkhand Mukti Morcha (JMM)": an organisation
    # a person's surname NER labels otherwise elsewhere ("DeSantis" as PRODUCT) is the person
    surnames = {texts[end - 1] for start, end, label, _ in ents if label == "PERSON" and end - start >= 2}
    # a one-word name NER calls a person in one place and an organisation in another ("Alexei Pushkov," as ORG,
    # "Pushkov said" as PERSON) is the person
    surnames |= {texts[start] for start, end, label, _ in ents if label == "PERSON" and end - start == 1}
    one_word = {start for start, end, _, _ in ents if end - start == 1}  # spans of one token, by their token
    named = bytearray(n)  # token i is inside a span NER marks, of any label
    for start, end, _, _ in ents:
        named[start:end] = b"\x01" * (end - start)
    lower_case = {t for t in set(texts) if t.islower()}  # each distinct word once
    # so is a one-word "organisation" that a relative clause for people follows ("Sabalenka, who could become ..."):
    # bodies take "which"
    surnames |= {
        texts[i - 2]
        for i in _positions(lower, "who")
        if i >= 2
        and texts[i - 1] == ","
        and texts[i - 2].isalpha()
        and texts[i - 2][:1].isupper()
        and texts[i - 2][1:].islower()
        and lower[i - 2] not in lower_case
        and lower[i - 2] not in STOP_WORDS
        and texts[i - 2] not in surfaces.surfaces
    }
    run_on = 0  # tokens before it belong to a body's name that went on past NER's span
    for start, end, label, start_char in ents:
        if start_char < ner_from or start < run_on:
            continue
        if label in ("ORG", "GPE") and end - start >= 3 and lower[start] in _STANCE and texts[start + 1] == "-":
            start += 2  # "pro-EU", "anti-NATO": the name after the stance
        if label not in ENTITY_LABELS:
            if end - start == 1 and texts[start] in surnames:
                label = "PERSON"
            else:
                continue
        if label == "ORG" and end - start == 1:
            if given_name_before(texts, lower, named, lower_case, start, person_titles, surfaces.surfaces):
                label, start = "PERSON", start - 1  # "Nadezhda Kevorkova": NER reads "Kevorkova" as an organisation
            elif texts[start] in surnames:
                label = "PERSON"
        if label == "PERSON":
            start = person_start(texts, spaces, lower, covered, start, end, name_titles, surfaces.surfaces)
            if end - start >= 2 and name_goes_on(texts, spaces, lower, named, lower_case, end, person_titles, one_word):
                end = run_on = end + 1  # "Ahmet Selim" + "Karaca" (NER's place): a third name NER left out
        elif label == "ORG":
            start = org_start(texts, spaces, lower, covered, start, name_titles, surfaces.surfaces)
        longest = surfaces.longest.get(texts[start][:2])
        if longest and not covered[start]:
            # an alias-table name NER cut short ("UN" of "UN human rights office"): the name, as the table has it
            longer = alias_end(texts, spaces, covered, start, longest, surfaces)
            if longer > end:
                mentions.append(mention(start, longer, "", "alias"))
                covered[start:longer] = b"\x01" * (longer - start)
                continue
        if (
            label == "ORG"
            and lower[end - 1] in body_heads
            and whole[starts[start] : starts[end - 1] + len(texts[end - 1])] not in surfaces.surfaces
        ):
            end = run_on = complement_end(texts, spaces, lower, end, body_heads)
        mentions.append(mention(start, end, label, "ner"))
        covered[start:end] = b"\x01" * (end - start)
    # a name starts with a capital, but for the few the table writes in lower case ("dpa"): only those tokens are read
    lower_starts = surfaces.lower_starts
    candidates = [k for k, token in enumerate(texts) if token[:1].isupper() or token in lower_starts]
    i = 0  # tokens before i are read
    for k in candidates:
        if k < i or covered[k]:
            continue
        i = k
        word = texts[i]
        longest = surfaces.longest.get(word[:2])
        if longest:
            j = alias_end(texts, spaces, covered, i, longest, surfaces)
            if j:
                mentions.append(mention(i, j, "", "alias"))
                covered[i:j] = b"\x01" * (j - i)
                i = j
                continue
        if (
            word in surnames
            and len(word) >= 3
            and not (i + 1 < n and texts[i + 1][:1].isdigit())
            and not (i >= 1 and lower[i - 1] in _DATE_BEFORE)
        ):
            # "May said" after "Clifford May": the article's person by the surname, where NER saw nothing (not the
            # month: "in May", "May 5")
            mentions.append(mention(i, i + 1, "PERSON", "surname"))
            covered[i] = 1
            i += 1
            continue
        # a title right before, or before a comma ("Its vice president, Orysia Petryshyn, wrote")
        titled = (i >= 1 and lower[i - 1] in person_titles) or (
            i >= 2 and texts[i - 1] == "," and lower[i - 2] in person_titles
        )
        if titled and speech_verbs:
            j = capitalised_run(i)
            if (
                j - i >= 2
                and j < n
                and (
                    lower[j] in speech_verbs
                    or texts[j] in (",", "(")  # "MK Noa Kedar (Yesh Atid), a member"
                    # "…,” said opposition MP Anirudh Sehgal.": the speaker after an inverted verb, the sentence's end
                    or (texts[j] in (".", ";") and any(lower[k] in speech_verbs for k in range(max(0, i - 4), i - 1)))
                )
                and not any(named[i:j])
                and all(texts[k][1:].islower() and lower[k] not in lower_case for k in range(i, j))
                and all(lower[k] not in person_titles and lower[k] not in STOP_WORDS for k in range(i, j))
            ):
                mentions.append(mention(i, j, "PERSON", "titled"))
                covered[i:j] = b"\x01" * (j - i)
                i = j
                continue
        if (
            speech_verbs
            and role_nouns
            and (i == 0 or texts[i - 1] in SENTENCE_OPENERS or "\n" in spaces[i - 1] + texts[i - 1])
        ):
            j = capitalised_run(i)
            if (
                2 <= j - i <= 3
                and (close := apposition_end(texts, lower, j, role_nouns)) is not None
                and close + 1 < n
                and lower[close + 1] in speech_verbs
                and not any(named[i:j])
                and all(texts[k][1:].islower() and lower[k] not in lower_case for k in range(i, j))
                and all(lower[k] not in person_titles and lower[k] not in STOP_WORDS for k in range(i, j))
                and not any(lower[k] in org_nouns for k in range(i, j))
            ):
                # "Sirikorn Thanasak, a party-list MP, said": a name NER missed, set off by its role
                mentions.append(mention(i, j, "PERSON", "apposition"))
                covered[i:j] = b"\x01" * (j - i)
                i = j
                continue
        outlet = i >= 1 and (lower[i - 1] in outlets or (i >= 2 and lower[i - 1] == "," and lower[i - 2] in outlets))
        if outlet and word.isalpha():
            # "news outlet, Mediazona", "Telegram channel SOTA": the outlet, whatever NER made of it
            j = capitalised_run(i)
            mentions.append(mention(i, j, "ORG", "outlet"))
            covered[i:j] = b"\x01" * (j - i)
            i = j
            continue
        if lone_acronym(texts, i):
            # an acronym NER missed ("PACE also notes"): the organisation it spells if the article names one
            mentions.append(mention(i, i + 1, "", "acronym"))
            covered[i] = 1
            i += 1
            continue
        after_cue = (i >= 1 and lower[i - 1] in locative) or (
            i >= 2 and lower[i - 1] == "the" and lower[i - 2] in locative
        )
        if after_cue and word.isalpha() and word not in not_places:
            j = capitalised_run(i)
            mentions.append(mention(i, j, "", "cue"))
            covered[i:j] = b"\x01" * (j - i)
            i = j
            continue
        i += 1
    mentions.sort(key=lambda m: m.start)
    return mentions


# words before a month's name ("in May", "since March", "last August")
_DATE_BEFORE = frozenset(
    "in on since until till by from of last next early late mid through during before after this that to between and or"
    " - –".split()
)

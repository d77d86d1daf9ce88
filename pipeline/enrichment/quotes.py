"""Quotes: direct speech in the text with its speaker when the text attributes it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.enrichment.canonical import Resolved
from pipeline.records import Quote

_DOUBLE_OPEN = "“\"«„"
_SINGLE_OPEN = "‘'"
_OPENERS = _DOUBLE_OPEN + _SINGLE_OPEN
_DOUBLE_CLOSE = "”\"»"
_SINGLE_CLOSE = "’'"
_BEFORE_OPENER = " \t([:—–-,;/"
_DASH_AFTER = re.compile(r"^\s*[,.]?\s*[–—-]\s*")
# Between "said" and the speaker named after it only titles may stand ("said presidential spokesman Dmitry Peskov"),
# not a preposition ("said on Telegram", "said in statements reported by The Kyiv Independent").
_NOT_TITLE = re.compile(r"\b(?:on|in|at|to|by|with|from|for|after|before|during|that|which|while|and)\b", re.IGNORECASE)
_STOP = frozenset({"the", "of", "and", "for", "a", "an", "in", "on"})
_WORD = re.compile(r"[\w’'-]+")
_OPENER = re.compile("[" + re.escape(_OPENERS) + "]")
_REOPENED = re.compile(r"\n\s*[“\"«„]")


@dataclass(frozen=True)
class QuoteRules:
    """The cues of enrich_quotes.toml."""

    min_words: int
    speech_verbs: frozenset[str]
    pronouns: frozenset[str]
    person_nouns: re.Pattern[str]
    abbreviations: frozenset[str]

    @classmethod
    def from_data(cls, data: Mapping) -> QuoteRules:
        """The quote cues, lower-cased."""
        nouns = "|".join(r"\s+".join(map(re.escape, n.split())) for n in sorted(data["person_nouns"], key=len, reverse=True))
        return cls(
            min_words=int(data.get("min_words", 4)),
            speech_verbs=frozenset(w.lower() for w in data["speech_verbs"]),
            pronouns=frozenset(w.lower() for w in data["pronouns"]),
            person_nouns=re.compile(rf"\bthe\s+(?:[\w-]+\s+){{0,2}}(?:{nouns})\b", re.IGNORECASE),
            abbreviations=frozenset(a.lower() for a in data.get("abbreviations", ())),
        )


@dataclass(frozen=True, slots=True)
class Span:
    """A quoted span: where its text starts and ends, and its marks."""

    start: int  # offset of the opening mark
    end: int  # offset just after the closing mark (or the paragraph's end)
    text_start: int
    text_end: int


def find_quotes(text: str, entities: Sequence[Resolved], rules: QuoteRules) -> list[Quote]:
    """Direct quotes of `min_words` words or more, each with its speaker's canonical name or None."""
    spans = quoted_spans(text)
    spans = [s for s in spans if len(_WORD.findall(text[s.text_start:s.text_end])) >= rules.min_words]
    if not spans:
        return []
    people = [e for e in entities if e.label == "PERSON"]
    speakers_of = [e for e in entities if e.label in ("PERSON", "ORG")]
    inside = [(s.start, s.end) for s in spans]
    outside = [e for e in speakers_of if not any(a <= e.start < b for a, b in inside)]
    speakers: list[str | None] = []
    sentences: list[tuple[int, int]] = []
    for span in spans:
        begin, finish = _sentence_around(text, span, spans, rules.abbreviations)
        sentences.append((begin, finish))
        speakers.append(_speaker(text, span, begin, finish, outside, people, rules))
    # quotes of one sentence share a speaker found for any of them ("“...”, it is “...” because “...” Zelensky said")
    for i, speaker in enumerate(speakers):
        if speaker is None:
            same = [speakers[j] for j in range(len(spans)) if sentences[j] == sentences[i] and speakers[j]]
            speakers[i] = same[0] if same else None
    out: dict[str, Quote] = {}
    for span, speaker in zip(spans, speakers, strict=True):
        quote = _tidy(_REOPENED.sub(" ", text[span.text_start:span.text_end]))
        if quote and quote.casefold() not in out:
            out[quote.casefold()] = Quote(speaker=speaker, text=quote)
    return list(out.values())


def quoted_spans(text: str) -> list[Span]:
    """Quoted spans, paragraph by paragraph; a quote running over paragraphs (each reopened, closed once) is one span."""
    spans: list[Span] = []
    n = len(text)
    match = _OPENER.search(text)
    while match is not None:
        i = match.start()
        opener = text[i]
        if not _opens(text, i):
            match = _OPENER.search(text, i + 1)
            continue
        close = _closing(text, i)
        end = i + 1
        if close is None and opener in _DOUBLE_OPEN:
            end = _paragraph_end(text, i)
            after = _next_paragraph(text, end)
            while after is not None and text[after] == opener:  # the quote goes on in the next paragraph
                close = _closing(text, after)
                if close is not None:
                    break
                end = _paragraph_end(text, after)
                after = _next_paragraph(text, end)
            if close is None:  # never closed: the quote runs to the end of its last paragraph
                spans.append(Span(i, end, i + 1, end))
        if close is not None:
            spans.append(Span(i, close + 1, i + 1, close))
            end = close + 1
        # an unclosed single mark is an apostrophe or a stray: "'90s"
        match = _OPENER.search(text, end) if end < n else None
    return spans


def _opens(text: str, i: int) -> bool:
    """A quotation mark at i opens a quote: after a space or punctuation, before a non-space."""
    before_ok = i == 0 or text[i - 1] in _BEFORE_OPENER or text[i - 1] == "\n"
    return before_ok and i + 1 < len(text) and not text[i + 1].isspace()


def _closing(text: str, i: int) -> int | None:
    """Offset of the mark closing the quote opened at i, in the same paragraph."""
    closers = _DOUBLE_CLOSE if text[i] in _DOUBLE_OPEN else _SINGLE_CLOSE + "”"  # machine translation mixes 'and ”
    for j in range(i + 2, _paragraph_end(text, i)):
        c = text[j]
        if c not in closers:
            continue
        if c in _SINGLE_CLOSE and text[j - 1].isalnum() and j + 1 < len(text) and text[j + 1].isalnum():
            continue  # an apostrophe: don't, Ukraine’s
        if c in "\"'" and text[j - 1].isspace():
            continue  # a straight mark after a space opens the next quote, it does not close this one
        return j
    return None


def _paragraph_end(text: str, i: int) -> int:
    """Offset of the end of the paragraph holding i."""
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _next_paragraph(text: str, end: int) -> int | None:
    """Offset of the first character of the next non-empty paragraph after `end`."""
    j = end
    while j < len(text) and text[j].isspace():
        j += 1
    return j if j < len(text) else None


def _sentence_around(text: str, span: Span, spans: Sequence[Span], abbreviations: frozenset[str]) -> tuple[int, int]:
    """The sentence holding a quote: boundaries are full stops outside quotes followed by a capital or a quote."""
    para_start = text.rfind("\n", 0, span.start) + 1
    para_end = text.find("\n", span.end)
    para_end = len(text) if para_end < 0 else para_end
    begin = para_start
    for j in range(para_start, span.start):
        if _boundary(text, j, spans, abbreviations):
            begin = j + 1
    finish = para_end
    for j in range(max(span.text_end - 1, span.start), para_end):
        if _boundary(text, j, spans, abbreviations):
            finish = j + 1
            break
    return begin, finish


def _boundary(text: str, j: int, spans: Sequence[Span], abbreviations: frozenset[str]) -> bool:
    """A sentence ends at j: end punctuation outside any quote, then space and a capital or a quotation mark."""
    # inside a quote only its own last full stop can end the sentence ("... objectives.” The offensive")
    if text[j] not in ".!?" or any(s.start <= j < s.end and j < s.text_end - 1 for s in spans):
        return False
    k = j + 1
    while k < len(text) and text[k] in "”’\"')":
        k += 1
    if k >= len(text) or not text[k].isspace():
        return False
    while k < len(text) and text[k].isspace():
        k += 1
    if k >= len(text) or not (text[k].isupper() or text[k] in _OPENERS):
        return False
    word = _WORD.findall(text[max(0, j - 12):j])
    return not word or (word[-1].lower() not in abbreviations and not (len(word[-1]) == 1 and word[-1].isupper()))


def _speaker(text: str, span: Span, begin: int, finish: int, speakers: Sequence[Resolved],
             people: Sequence[Resolved], rules: QuoteRules) -> str | None:
    """The speaker: named after the quote ("...,” Kuleba said), before it ("Podolyak writes:"), or referred back to."""
    after = text[span.end:finish]
    dash = _DASH_AFTER.match(after)
    named_after = [e for e in speakers if span.end <= e.start < finish]
    if dash and named_after:
        return named_after[0].name  # "“...” – Zelensky, responding to ..."
    verb_after = _first_verb(after, rules.speech_verbs)
    if verb_after is not None:
        verb_at = span.end + verb_after
        before_verb = [e for e in named_after if e.start < verb_at]
        right_after = [e for e in named_after if e.start >= verb_at and e.start - verb_at < 60
                       and not _NOT_TITLE.search(text[verb_at:e.start])]  # "said Peskov"
        chosen = _prefer_people(before_verb) or _prefer_people(right_after[:1])
        if chosen:
            return chosen.name
        if _refers_back(after[:verb_after], rules):
            return _last_person_before(people, span.start)
        return _described(after[:verb_after], speakers, span.start)
    before = text[begin:span.start]
    named_before = [e for e in speakers if begin <= e.start < span.start]
    evidence = before.rstrip().endswith(":") or _first_verb(before, rules.speech_verbs) is not None
    persons_before = [e for e in named_before if e.label == "PERSON"]
    if persons_before:
        return persons_before[0].name
    if _refers_back(before, rules):
        return _last_person_before(people, begin if begin < span.start else span.start)
    if evidence and named_before:
        return named_before[0].name
    return _named_in_next_sentence(text, finish, speakers, rules)


def _named_in_next_sentence(text: str, finish: int, speakers: Sequence[Resolved], rules: QuoteRules) -> str | None:
    """“We will win.” Zelensky said. -- a short sentence right after the quote that names who said it."""
    end = text.find("\n", finish)
    end = len(text) if end < 0 else end
    stop = min((i for i in (text.find(". ", finish), text.find(".\n", finish)) if i >= 0), default=end)
    sentence = text[finish:min(stop, end) + 1]
    if len(_WORD.findall(sentence)) > 8 or _first_verb(sentence, rules.speech_verbs) is None:
        return None
    named = [e for e in speakers if finish <= e.start < finish + len(sentence)]
    chosen = _prefer_people(named)
    return chosen.name if chosen else None


def _first_verb(text: str, verbs: frozenset[str]) -> int | None:
    """Offset of the first speech verb in `text`."""
    for match in _WORD.finditer(text):
        if match.group(0).lower() in verbs:
            return match.start()
    return None


def _refers_back(text: str, rules: QuoteRules) -> bool:
    """"he said", "The Ukrainian leader, ... says": the speaker was named earlier."""
    words = {w.lower() for w in _WORD.findall(text)}
    return bool(words & rules.pronouns) or rules.person_nouns.search(text) is not None


def _last_person_before(people: Sequence[Resolved], offset: int) -> str | None:
    """The person named last before `offset`."""
    earlier = [p for p in people if p.end <= offset]
    return earlier[-1].name if earlier else None


def _described(text: str, speakers: Sequence[Resolved], offset: int) -> str | None:
    """"the newspaper wrote": the organisation named last before the quote that the text calls that."""
    words = {w.lower() for w in _WORD.findall(text)}
    for org in reversed([s for s in speakers if s.label == "ORG" and s.end <= offset]):
        nouns = set(org.entry.nouns) if org.entry is not None else set()
        nouns |= {w.lower() for w in org.name.split()} - _STOP
        if words & nouns:
            return org.name
    return None


def _prefer_people(entities: Sequence[Resolved]) -> Resolved | None:
    """The first person among `entities`, else the first organisation."""
    return next((e for e in entities if e.label == "PERSON"), None) or (entities[0] if entities else None)


def _tidy(quote: str) -> str:
    """Quote text without surrounding spaces and the trailing comma of "“...,” he said"."""
    return " ".join(quote.split()).strip(" ,;")

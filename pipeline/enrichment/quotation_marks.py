"""Where the quotations are: quoted spans in a text (across paragraphs when reopened), the sentence around each,
and that sentence with its quotations as placeholders for the parser."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_DOUBLE_OPEN = '“"«„'
_SINGLE_OPEN = "‘'"
_OPENERS = _DOUBLE_OPEN + _SINGLE_OPEN
_DOUBLE_CLOSE = '”"»″'  # a double prime closes a quote where a publishing system put one for "”"
_SINGLE_CLOSE = "’'"
_BEFORE_OPENER = " \t([:—–-,;/"
# Between "said" and the speaker named after it only titles may stand ("said presidential spokesman Dmitry Peskov"),
# not a preposition ("said on Telegram", "said in statements reported by The Kyiv Independent").
WORD = re.compile(r"[\w’'-]+")
_OPENER = re.compile("[" + re.escape(_OPENERS) + "]")


@dataclass(frozen=True, slots=True)
class Span:
    """A quoted span: where its text starts and ends, and its marks."""

    start: int  # offset of the opening mark (of the paragraph's first word when a scrape lost the mark)
    end: int  # offset just after the closing mark (or the paragraph's end)
    text_start: int
    text_end: int


def same_paragraph(text: str, first: Span, second: Span) -> bool:
    """Two quotes stand in one paragraph."""
    return "\n" not in text[first.end : second.start]


def only_quotes(text: str, span: Span, spans: Sequence[Span]) -> bool:
    """The quote's paragraph holds nothing but quotation (a few words at most besides)."""
    para_start = text.rfind("\n", 0, span.start) + 1
    para_end = text.find("\n", span.end)
    para_end = len(text) if para_end < 0 else para_end
    rest = text[para_start:para_end]
    for s in sorted((s for s in spans if para_start <= s.start < para_end), key=lambda s: -s.start):
        rest = rest[: s.start - para_start] + rest[min(s.end, para_end) - para_start :]
    return len(WORD.findall(rest)) <= 2


def quoted_spans(text: str) -> list[Span]:
    """Quoted spans, paragraph by paragraph; a quote running over paragraphs (each reopened, closed once) is one span.

    Two breaks a scrape makes are mended for the marks that show their direction (“…” and «…»): a paragraph break
    inside a quotation (opened in one paragraph, closed in the next, which does not reopen it), and a lost opening
    mark (a paragraph that closes a quote it never opened: the quote is the paragraph up to its closing mark)."""
    spans: list[Span] = []
    n = len(text)
    dead: set[int] = set()  # single marks reopening paragraphs of a passage no paragraph closes: read once
    match = _OPENER.search(text)
    while match is not None:
        i = match.start()
        opener = text[i]
        if i in dead or not _opens(text, i):
            match = _OPENER.search(text, i + 1)
            continue
        close = _closing(text, i)
        end = i + 1
        if close is None and opener in _DOUBLE_OPEN:
            close, end, after, _ = _reopened(text, i, opener)
            if close is None and opener in _DIRECTED and after is not None:
                close = _continued(text, after, opener)  # a scrape broke the paragraph inside the quote
            if close is None:  # never closed: the quote runs to the end of its last paragraph
                spans.append(Span(i, end, i + 1, end))
        elif close is None and _opens_passage(text, i):
            # single marks, reopened paragraph by paragraph and closed once (British style): a quote only when some
            # paragraph closes it; a mark never closed is an apostrophe or a stray ("'90s")
            close, _, _, chain = _reopened(text, i, opener)
            if close is None:
                dead.update(chain)
        if close is not None:
            spans.append(Span(i, close + 1, i + 1, close))
            end = close + 1
        # an unclosed single mark is an apostrophe or a stray: "'90s"
        match = _OPENER.search(text, end) if end < n else None
    return sorted(spans + _unopened(text, spans), key=lambda s: s.start)


def _reopened(text: str, i: int, opener: str) -> tuple[int | None, int, int | None, list[int]]:
    """A quote opened at `i` and not closed in its paragraph, followed over the paragraphs that reopen it with the
    same mark: the closing mark (None when none closes it), the end of the last paragraph it runs to, the paragraph
    after that (None at the text's end) and the reopening marks read."""
    end = _paragraph_end(text, i)
    after = _next_paragraph(text, end)
    chain: list[int] = []
    while after is not None and text[after] == opener:  # the quote goes on in the next paragraph
        chain.append(after)
        close = _closing(text, after)
        if close is not None:
            return close, end, after, chain
        end = _paragraph_end(text, after)
        after = _next_paragraph(text, end)
    return None, end, after, chain


def _opens_passage(text: str, i: int) -> bool:
    """A single mark that may open a quoted passage: before a capital, opening its paragraph or after a colon or a
    comma ("Judge X said: 'You presented …"); not "the '90s"."""
    lead = text[text.rfind("\n", 0, i) + 1 : i].rstrip()
    return text[i + 1 : i + 2].isupper() and (not lead or lead.endswith((":", ",")))


_DIRECTED = "“«"  # opening marks that cannot be read as closing ones
_DIRECTED_CLOSE = {"“": "”", "«": "»"}


def _continued(text: str, after: int, opener: str) -> int | None:
    """The closing mark that ends a quote opened in an earlier paragraph, when the paragraphs from `after` on do not
    reopen it: in the first of them, or in a later one when those between hold no quotation mark (a scrape broke a
    quoted passage into lines; at most `_BROKEN_LINES` of them)."""
    closer = _DIRECTED_CLOSE[opener]
    for _ in range(_BROKEN_LINES):
        end = _paragraph_end(text, after)
        j = text.find(closer, after, end)
        if j >= 0:
            return None if opener in text[after:j] else j
        if any(c in text[after:end] for c in _DOUBLE_OPEN + _DOUBLE_CLOSE):
            return None
        nxt = _next_paragraph(text, end)
        if nxt is None:
            return None
        after = nxt
    return None


_BROKEN_LINES = 3


def _unopened(text: str, spans: Sequence[Span]) -> list[Span]:
    """Quotes whose opening mark a scrape lost: a paragraph whose first mark is a closing ” or » after the end of a
    clause (",” said Jao") and outside every span is quoted from its start; a straight mark so placed only when an
    attribution follows it (",\" said Chernea", ",\" the minister added")."""
    out: list[Span] = []
    for close in _LOST_OPENING.finditer(text):
        j = close.start() + 1
        para_start = text.rfind("\n", 0, j) + 1
        if any(s.start <= j < s.end or para_start <= s.start < j for s in spans):
            continue
        if any(c in text[para_start:j] for c in _OPENERS if c != "'" and c != "’"):
            continue
        if text[j] == '"' and not _ATTRIBUTION_AFTER.match(text, j + 1):
            continue
        start = para_start
        while start < j and text[start].isspace():
            start += 1
        out.append(Span(start, j + 1, start, j))
    return out


# A closing mark right after the end of a clause, then a space: where a quote ends
_LOST_OPENING = re.compile(r"[,.!?…][”»\"](?=\s)")
# After a straight closing mark: "said X", "X said", "the minister added" (up to four words before the verb)
_ATTRIBUTION_AFTER = re.compile(
    r"\s+(?:(?:said|says|added|adds|stressed|noted|told|wrote|explained|emphasized|emphasised)\b"
    r"|(?:[\w’'.-]+\s+){1,4}(?:said|says|added|adds|stressed|noted|told|wrote|explained|emphasized|emphasised)\b)"
)


def _opens(text: str, i: int) -> bool:
    """A quotation mark at i opens a quote: after a space or punctuation, before a non-space."""
    before_ok = i == 0 or text[i - 1] in _BEFORE_OPENER or text[i - 1] == "\n"
    before_ok = before_ok or (text[i] in _DIRECTED and text[i - 1] in "”»")  # two paragraphs glued: ".”“Next"
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


def sentence_around(text: str, span: Span, spans: Sequence[Span], abbreviations: frozenset[str]) -> tuple[int, int]:
    """The sentence holding a quote: boundaries are full stops outside quotes followed by a capital or a quote."""
    para_start = text.rfind("\n", 0, span.start) + 1
    para_end = text.find("\n", span.end)
    para_end = len(text) if para_end < 0 else para_end
    begin = para_start
    for stop in _END_MARK.finditer(text, para_start, span.start):  # only end punctuation can end a sentence
        if _boundary(text, stop.start(), spans, abbreviations):
            begin = stop.start() + 1
    finish = para_end
    for stop in _END_MARK.finditer(text, max(span.text_end - 1, span.start), para_end):
        if _boundary(text, stop.start(), spans, abbreviations):
            finish = stop.start() + 1
            break
    return begin, finish


_END_MARK = re.compile(r"[.!?]")


def _boundary(text: str, j: int, spans: Sequence[Span], abbreviations: frozenset[str]) -> bool:
    """A sentence ends at j: end punctuation outside any quote, then space and a capital or a quotation mark."""
    # inside a quote only its own last full stop can end the sentence ("... objectives.” The offensive")
    if text[j] not in ".!?" or any(s.start <= j < s.end and j < s.text_end - 1 for s in spans):
        return False
    k = j + 1
    while k < len(text) and text[k] in "”’\"')":
        k += 1
    if k > j + 1 and k < len(text) and text[k] in _DIRECTED:
        return True  # two paragraphs glued at their marks: ".”“Next"
    if k >= len(text) or not text[k].isspace():
        return False
    while k < len(text) and text[k].isspace():
        k += 1
    if k >= len(text) or not (text[k].isupper() or text[k] in _OPENERS):
        return False
    word = WORD.findall(text[max(0, j - 12) : j])
    return not word or (word[-1].lower() not in abbreviations and not (len(word[-1]) == 1 and word[-1].isupper()))


def reduce_sentence(
    text: str, begin: int, finish: int, spans: Sequence[Span]
) -> tuple[str, list[tuple[int, int, int]]]:
    """The sentence with each quotation inside it as a placeholder, and (reduced start, original start, length)
    of the pieces copied, to map parse offsets back."""
    parts: list[str] = []
    offsets: list[tuple[int, int, int]] = []
    at = begin
    length = 0
    inside = [s for s in spans if begin <= s.start < finish]
    if inside:  # who speaks stands near the quotation: the words far before or after it are not parsed
        begin = max(begin, min(inside[0].start, _word_start(text, inside[0].start - _WINDOW)))
        finish = min(finish, max(min(inside[-1].end, finish), _word_end(text, inside[-1].end + _WINDOW)))
        at = begin
    for span in inside:
        piece = text[at : span.start]
        offsets.append((length, at, len(piece)))
        parts.append(piece)
        length += len(piece)
        last = text[span.text_end - 1 : span.text_end]
        placeholder = "“Q" + (last if last in ",.!?" else "") + "”"  # "“Q,” Biggs said": the comma ends the clause
        parts.append(placeholder)
        length += len(placeholder)
        at = max(at, min(span.end, finish))
    piece = text[at:finish]
    offsets.append((length, at, len(piece)))
    parts.append(piece)
    return " ".join("".join(parts).split("\n")), offsets


_WINDOW = 160  # characters kept before the first and after the last quotation of a sentence


def _word_start(text: str, i: int) -> int:
    """The start of the word at or after offset i."""
    if i <= 0:
        return 0
    j = text.find(" ", i)
    return i if j < 0 else j + 1


def _word_end(text: str, i: int) -> int:
    """The end of the word at or before offset i."""
    if i >= len(text):
        return len(text)
    j = text.rfind(" ", 0, i)
    return i if j < 0 else j


def to_original(offsets: Sequence[tuple[int, int, int]], i: int) -> int | None:
    """The original offset of reduced offset i (None inside a placeholder)."""
    for start, original, length in offsets:
        if start <= i < start + length:
            return original + i - start
    return None

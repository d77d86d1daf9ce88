"""Cutting text for a translation provider: paragraphs kept intact, long ones split at sentence boundaries.

Every split here is exact: joining the pieces gives back the input character for character, so the
translated text can be re-assembled with the original's paragraph breaks and spacing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The same paragraph rule as the detect stage (`pipeline.stages.detect.split_paragraphs`): a paragraph
# is a non-empty line, so `language.paragraphs[i].index` points at the i-th paragraph found here.
_PARAGRAPH_BREAK = re.compile(r"(\n\s*)")
# End of a sentence: terminal punctuation, any closing quotes or brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'»”’)\]]*\s+")
_WORD_END = re.compile(r"\s+")
PACK_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of a text: its number among the non-empty lines, and its text without surrounding blanks."""

    index: int
    lead: str
    core: str
    trail: str


Segment = Paragraph | str  # a paragraph, or the exact whitespace between paragraphs


def segments(text: str) -> list[Segment]:
    """The text as paragraphs and the literal text between them; `"".join(render(s) ...)` is the text."""
    out: list[Segment] = []
    index = 0
    for position, piece in enumerate(_PARAGRAPH_BREAK.split(text)):
        if position % 2 or not piece.strip():
            if piece:
                out.append(piece)
            continue
        core = piece.strip()
        start = piece.index(core)
        out.append(Paragraph(index, piece[:start], core, piece[start + len(core) :]))
        index += 1
    return out


def render(segment: Segment, translation: str | None = None) -> str:
    """A segment as text, with `translation` in place of a paragraph's own words when given."""
    if isinstance(segment, str):
        return segment
    return segment.lead + (segment.core if translation is None else translation) + segment.trail


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters that join back to `text`, cut after sentences where possible."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    for sentence in _cut_after(text, _SENTENCE_END):
        if len(sentence) <= limit:
            pieces.append(sentence)
        else:
            # A sentence longer than the limit: cut between words, and a word longer than that anywhere.
            for word in _cut_after(sentence, _WORD_END):
                pieces.extend(word[i : i + limit] for i in range(0, len(word), limit))
    return _pack_runs(pieces, limit)


def _cut_after(text: str, boundary: re.Pattern[str]) -> list[str]:
    """`text` cut right after each match of `boundary` (the boundary stays with the piece before it)."""
    cuts = [m.end() for m in boundary.finditer(text) if m.end() < len(text)]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True) if b > a]


def _pack_runs(pieces: list[str], limit: int) -> list[str]:
    """Consecutive pieces concatenated greedily while the run stays within `limit`."""
    runs: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) > limit:
            runs.append(current)
            current = ""
        current += piece
    if current:
        runs.append(current)
    return runs


def strip_parts(piece: str) -> tuple[str, str, str]:
    """`(leading blanks, words, trailing blanks)` of a piece: providers get only the words."""
    core = piece.strip()
    if not core:
        return piece, "", ""
    start = piece.index(core)
    return piece[:start], core, piece[start + len(core) :]


def pack(texts: list[str], limit: int, separator: str = PACK_SEPARATOR) -> list[list[int]]:
    """Groups of consecutive `texts` (by position) that fit in one request joined by `separator`.

    A text that contains the separator's newline goes alone: its translation could not be split back.
    """
    groups: list[list[int]] = []
    size = 0
    for i, text in enumerate(texts):
        fits = size + len(separator) + len(text) <= limit
        if groups and fits and not _alone(text) and not _alone(texts[groups[-1][-1]]):
            groups[-1].append(i)
            size += len(separator) + len(text)
        else:
            groups.append([i])
            size = len(text)
    return groups


def _alone(text: str) -> bool:
    """Whether a text must be sent in a request of its own."""
    return "\n" in text


def unpack(translated: str, count: int) -> list[str] | None:
    """The `count` translations of a packed request, or None when the provider did not keep the breaks."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", translated.strip())]
    if len(parts) != count or not all(parts):
        return None
    return parts

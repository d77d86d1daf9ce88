"""Fingerprints of an article's text: normalised form, content hash, word-shingle hashes, MinHash and lead.

Besides the shingle set, a fingerprint knows which shingles occur only inside quotations or embedded posts
(two stories quoting the same statement share them without copying each other: shingles both texts carry only
as quotations are set aside when two texts are compared), and which shingles start the story's *lead* (its first
words after any title lines), so that a match can be required to share a lead and not only background.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files

import numpy as np
from datasketch import MinHash

_TOKEN = re.compile(r"\w+")
DEFAULT_BOILERPLATE = "dedup_boilerplate.txt"
DEFAULT_EMBEDS = "dedup_embeds.txt"
# Quotation marks and the marks that close each. Straight double quotes open and close; “ also closes a German
# „; » opens a German or Danish »…«. Straight single quotes and apostrophes are never marks (don't, Russia's);
# ‘…’ counts when ‘ starts a word and the closing ’ is not followed by a letter.
_CLOSERS = {
    '"': '"”“',
    "“": '”"“',
    "„": '“”"',
    "”": '”"',
    "«": "»",
    "»": "«",
    "‹": "›",
    "›": "‹",
    "「": "」",
    "『": "』",
    "‘": "’",
}
_QUOTE_MARK = re.compile('["“”„«»‹›「」『』‘’]')
# A quotation left open runs to the end of its paragraph (one opening mark per paragraph is how long quotations
# are printed); left open for more words than this it is a stray mark, not a quotation.
MAX_OPEN_QUOTATION_WORDS = 100
# Title lines (a headline, section name, byline or date: short, not ending a sentence) before the story are not
# its lead: reposts change them first. At most this many are skipped, each shorter than TITLE_WORDS words.
MAX_TITLE_LINES = 3
TITLE_WORDS = 25
# Lines longer than this are story paragraphs: checking them against the patterns costs most of the
# normalisation time and never matches (the data file says so to whoever adds a pattern).
MAX_BOILERPLATE_LINE = 400
# An embedded post's line (a post of up to 280 characters and its signature) is shorter than this.
MAX_EMBED_LINE = 600
# datasketch 2.0's default permutation scheme. Its values do not mix with 1.x ("legacy") signatures,
# so every state record names the scheme it was computed with (see `Fingerprinter.minhash_scheme`).
MINHASH_SCHEME = "affine32"

# Shingle hash: the k crc32 word hashes folded as a base-_POLY polynomial in uint64 (wrapping),
# then the MurmurHash3 64-bit finaliser, high 32 bits kept. Vectorised, so one article costs one
# crc32 per word instead of one sha1 per shingle; stable across processes (unlike `hash()`).
_POLY = np.uint64(0x100000001B3)
_MIX1, _MIX2, _S33 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)
_SHINGLE_HASH = "crc32-poly-fmix64"
# MurmurHash3's 32-bit finaliser, which datasketch's affine32 scheme applies to every input hash.
_M32A, _M32B = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_S16, _S13 = np.uint32(16), np.uint32(13)


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """Whole-line patterns of web furniture, matched against normalised lines."""

    patterns: tuple[str, ...]
    # One alternation instead of a loop over patterns: ~5x faster on a 70-line article.
    _combined: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        combined = re.compile("|".join(f"(?:{p})" for p in self.patterns)) if self.patterns else None
        object.__setattr__(self, "_combined", combined)

    def matches(self, normalised_line: str) -> bool:
        """True when the (already normalised) line is furniture, not story."""
        return self._combined is not None and self._combined.fullmatch(normalised_line) is not None


def parse_boilerplate(lines: Iterable[str]) -> Boilerplate:
    """Patterns from the lines of a boilerplate file: one regex per line, `#` comments, blanks ignored."""
    patterns = tuple(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))
    for pattern in patterns:
        re.compile(pattern)  # a broken pattern fails here, naming itself, not inside the alternation
    return Boilerplate(patterns)


def load_boilerplate(name: str = DEFAULT_BOILERPLATE) -> Boilerplate:
    """The boilerplate patterns shipped in `pipeline/data/`."""
    return parse_boilerplate(files("pipeline.data").joinpath(name).read_text(encoding="utf-8").splitlines())


NO_BOILERPLATE = Boilerplate(())


@dataclass(frozen=True, slots=True)
class Embeds:
    """Patterns of the line that marks an embedded post (a tweet's `— Name (@handle) date` signature)."""

    patterns: tuple[str, ...]
    # Searched one by one, not as one alternation: each keeps its literal prefix, which re scans for quickly.
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(re.compile(p) for p in self.patterns))

    def marks(self, folded_line: str) -> bool:
        """True when the (case-folded, punctuation kept) line belongs to an embedded post."""
        return len(folded_line) <= MAX_EMBED_LINE and any(p.search(folded_line) for p in self._compiled)


def load_embeds(name: str = DEFAULT_EMBEDS) -> Embeds:
    """The embedded-post patterns shipped in `pipeline/data/` (same file format as the boilerplate patterns)."""
    lines = files("pipeline.data").joinpath(name).read_text(encoding="utf-8").splitlines()
    return Embeds(parse_boilerplate(lines).patterns)


NO_EMBEDS = Embeds(())


def fold(text: str) -> str:
    """NFKC and case-folded (then NFKC again: case folding can leave a string that is not NFKC)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def is_boilerplate_line(line: str, boilerplate: Boilerplate) -> bool:
    """True when one raw line of text is furniture that normalisation drops."""
    tokens = _TOKEN.findall(fold(line))
    return bool(tokens) and len(line) <= MAX_BOILERPLATE_LINE and boilerplate.matches(" ".join(tokens))


def story_words(text: str, boilerplate: Boilerplate = NO_BOILERPLATE) -> list[str]:
    """The words of a text with its boilerplate lines left out."""
    words: list[str] = []
    for line in fold(text).splitlines():
        tokens = _TOKEN.findall(line)
        if tokens and (len(line) > MAX_BOILERPLATE_LINE or not boilerplate.matches(" ".join(tokens))):
            words.extend(tokens)
    return words


def quotation_spans(line: str) -> list[tuple[int, int]]:
    """Character spans of the quotations in one line, marks included (an open one runs to the line's end)."""
    spans: list[tuple[int, int]] = []
    start, closers = -1, ""
    for found in _QUOTE_MARK.finditer(line):
        mark, at = found.group(), found.start()
        if start < 0:
            if mark == "’" or (mark == "‘" and at and line[at - 1].isalnum()):
                continue  # an apostrophe, not an opening mark
            start, closers = at, _CLOSERS[mark]
        elif mark in closers:
            if mark == "’" and at + 1 < len(line) and line[at + 1].isalnum():
                continue  # an apostrophe inside a single-quoted quotation
            spans.append((start, at + 1))
            start = -1
    if start >= 0 and len(_TOKEN.findall(line, start)) <= MAX_OPEN_QUOTATION_WORDS:
        spans.append((start, len(line)))
    return spans


@dataclass(frozen=True, slots=True)
class Story:
    """The words of a text without its boilerplate lines, which of them are quoted, and where its lead starts."""

    words: list[str]
    quoted: np.ndarray  # bool per word: inside quotation marks or an embedded post
    lead_start: int  # index of the first word after the title lines


def read_story(text: str, boilerplate: Boilerplate = NO_BOILERPLATE, embeds: Embeds = NO_EMBEDS) -> Story:
    """The story of a text: the same words as `story_words`, with quotations and the lead start marked."""
    words: list[str] = []
    quoted: list[tuple[int, int]] = []  # word ranges inside quotations or embedded posts
    paragraph = previous_paragraph = 0  # first word of the current and of the previous paragraph
    lead_start, titles = 0, 0  # titles: title lines skipped so far; -1 once the story has started
    for line in fold(text).splitlines():
        spans = quotation_spans(line) if _QUOTE_MARK.search(line) else ()
        tokens: list[str] = []
        inside: list[tuple[int, int]] = []  # word ranges of the line inside its quotations
        at = 0
        for begin, end in spans:  # spans start and end on marks, never inside a word: the same words as findall
            tokens += _TOKEN.findall(line, at, begin)
            quotation = _TOKEN.findall(line, begin, end)
            inside.append((len(tokens), len(tokens) + len(quotation)))
            tokens += quotation
            at = end
        tokens += _TOKEN.findall(line, at)
        if not tokens:
            if paragraph != len(words):
                previous_paragraph, paragraph = paragraph, len(words)
            continue
        if len(line) <= MAX_BOILERPLATE_LINE and boilerplate.matches(" ".join(tokens)):
            continue
        if embeds.marks(line):
            # The post's text is its paragraph; a signature standing alone closes the paragraph before it.
            quoted.append((previous_paragraph if paragraph == len(words) else paragraph, len(words) + len(tokens)))
        else:
            quoted += [(len(words) + begin, len(words) + end) for begin, end in inside]
        words.extend(tokens)
        if 0 <= titles < MAX_TITLE_LINES and len(tokens) < TITLE_WORDS and line.rstrip()[-1:].isalnum():
            titles += 1
            lead_start = len(words)
        else:
            titles = -1
    flags = np.zeros(len(words), dtype=bool)
    for begin, end in quoted:
        flags[begin:end] = True
    return Story(words, flags, lead_start)


def normalise(text: str, boilerplate: Boilerplate = NO_BOILERPLATE) -> str:
    """Case, whitespace, punctuation and known boilerplate folded away: the form exact copies share."""
    return " ".join(story_words(text, boilerplate))


def content_hash(normalised: str) -> str:
    """sha256 of the normalised text (hex)."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the polynomial's structure over every bit."""
    values = values ^ (values >> _S33)
    values = values * _MIX1
    values = values ^ (values >> _S33)
    values = values * _MIX2
    return values ^ (values >> _S33)


def shingle_sequence(words: Sequence[str], k: int) -> np.ndarray:
    """32-bit hashes of the word k-shingles in text order, one per start (a text shorter than k is one shingle)."""
    if not words:
        return np.empty(0, dtype=np.uint32)
    word_hashes = np.array(list(map(zlib.crc32, " ".join(words).encode("utf-8").split(b" "))), dtype=np.uint64)
    width = min(k, len(words))
    count = len(words) - width + 1
    folded = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        folded = folded * _POLY + word_hashes[offset : offset + count]
    return (_fmix64(folded) >> np.uint64(32)).astype(np.uint32)


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values: np.unique's result, by sorting (numpy 2's hash-based unique is 5-10x slower here)."""
    ordered = np.sort(values)
    if ordered.size < 2:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def contains(sorted_distinct: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per value, True when it is in the sorted distinct array."""
    if not sorted_distinct.size:
        return np.zeros(values.size, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_distinct, values), sorted_distinct.size - 1)
    return sorted_distinct[at] == values


def shingle_hashes(words: Sequence[str], k: int) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the word k-shingles (a text shorter than k is one shingle)."""
    return distinct(shingle_sequence(words, k))


def overlap(a: np.ndarray, b: np.ndarray) -> int:
    """How many hashes two sorted distinct hash arrays share."""
    return int(np.intersect1d(a, b, assume_unique=True).size)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two shingle sets."""
    if not a.size and not b.size:
        return 1.0
    shared = overlap(a, b)
    return shared / (a.size + b.size - shared)


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller shingle set found in the larger (1.0 when one text embeds the other)."""
    smaller = min(a.size, b.size)
    return overlap(a, b) / smaller if smaller else 0.0


def similarity(a: np.ndarray, b: np.ndarray, min_containment_shingles: int = 20) -> float:
    """max(Jaccard, containment) of two shingle sets; containment counts only when the smaller set is big enough.

    Containment catches a wire story inside commentary (Jaccard 0.1-0.5 there); below the minimum a stub
    such as a one-line teaser would be "contained" in every article that happens to repeat it.
    """
    shared = overlap(a, b)
    if not shared:
        return 0.0
    score = shared / (a.size + b.size - shared)
    smaller = min(a.size, b.size)
    return max(score, shared / smaller) if smaller >= min_containment_shingles else score


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before its affine permutations."""
    values = values ^ (values >> _S16)
    values = values * _M32A
    values = values ^ (values >> _S13)
    values = values * _M32B
    return values ^ (values >> _S16)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup needs to know of one text."""

    content_hash: str
    word_count: int
    shingles: np.ndarray  # sorted distinct uint32 shingle hashes
    minhash: np.ndarray  # uint32[num_perm], datasketch affine32 values
    quoted: np.ndarray  # the shingles that occur only inside quotations or embedded posts (a subset of `shingles`)
    lead: np.ndarray  # the shingles that start in the lead window (sorted distinct)
    lead_size: int  # positions outside quotations in the lead window: the denominator of `lead_share`


def set_aside(a_quoted: np.ndarray, b_quoted: np.ndarray) -> np.ndarray:
    """Shingles both texts carry only as quotations: the same statement quoted twice, no evidence of copying."""
    if not a_quoted.size or not b_quoted.size:
        return a_quoted[:0]
    return np.intersect1d(a_quoted, b_quoted, assume_unique=True)


def evidence_similarity(a: np.ndarray, b: np.ndarray, aside: np.ndarray, min_containment_shingles: int = 20) -> float:
    """`similarity` of two shingle sets with the shingles set aside (a subset of both) left out of both."""
    shared = overlap(a, b) - aside.size
    if shared <= 0:
        return 0.0
    score = shared / (a.size + b.size - shared - 2 * aside.size)
    smaller = min(a.size, b.size) - aside.size
    return max(score, shared / smaller) if smaller >= min_containment_shingles else score


def lead_share(lead: np.ndarray, lead_size: int, other: np.ndarray, aside: np.ndarray) -> float:
    """Share of a lead window's positions (outside quotations) whose shingle the other text has, set-aside ones not
    counted."""
    if not lead.size or not lead_size:
        return 0.0
    shared = np.intersect1d(lead, other, assume_unique=True)
    if aside.size:
        shared = np.setdiff1d(shared, aside, assume_unique=True)
    return shared.size / lead_size


class Fingerprinter:
    """Turns texts into fingerprints with one shingle size, boilerplate list and set of MinHash permutations."""

    def __init__(
        self,
        *,
        shingle_words: int = 5,
        num_perm: int = 128,
        seed: int = 1,
        boilerplate: Boilerplate = NO_BOILERPLATE,
        embeds: Embeds = NO_EMBEDS,
        lead_words: int = 32,
    ) -> None:
        self.shingle_words = shingle_words
        self.num_perm = num_perm
        self.seed = seed
        self.boilerplate = boilerplate
        self.embeds = embeds
        self.lead_words = lead_words
        # Permutations are drawn once and shared by every MinHash (datasketch otherwise redraws them per object).
        self.permutations = MinHash(num_perm=num_perm, seed=seed, scheme=MINHASH_SCHEME).permutations

    @property
    def shingling(self) -> str:
        """Names how shingles are made: records made another way cannot be compared with ours."""
        return f"words{self.shingle_words}.{_SHINGLE_HASH}"

    @property
    def minhash_scheme(self) -> str:
        """Names how MinHash values are made: records made another way are re-signed from their shingles."""
        return f"datasketch-{MINHASH_SCHEME}.seed{self.seed}.perm{self.num_perm}"

    def of(self, text: str) -> Fingerprint:
        """The fingerprint of one text."""
        story = read_story(text, self.boilerplate, self.embeds)
        words, k = story.words, self.shingle_words
        sequence = shingle_sequence(words, k)
        shingles = distinct(sequence)
        quoted = shingles[:0]
        if story.quoted.any():
            # A shingle is quoted where most of its words are; it is `quoted` when it never occurs otherwise.
            width = min(k, len(words))
            inside = np.convolve(story.quoted, np.ones(width, dtype=int), mode="valid") * 2 > width
            quoted = shingles[~contains(distinct(sequence[~inside]), shingles)]
        # The lead window: `lead_words` words from the lead start (from the first word when the titles would
        # leave fewer), made longer when quotations fill more than half of it: a story opening with a long
        # quotation leads with the words that follow. Its shingles are those starting at a word outside
        # quotations (a quotation is no evidence of a shared lead, nor against one).
        start = story.lead_start if len(words) - story.lead_start >= self.lead_words else 0
        outside = np.flatnonzero(~story.quoted[start:]) + start
        half = max(1, self.lead_words // 2)
        end = max(start + self.lead_words, int(outside[half - 1]) + 1 if outside.size >= half else 0)
        window = outside[(outside < end) & (outside < sequence.size)]
        return Fingerprint(
            content_hash(" ".join(words)),
            len(words),
            shingles,
            self.signature(shingles),
            quoted,
            distinct(sequence[window]),
            int(window.size),
        )

    def signature(self, shingles: np.ndarray) -> np.ndarray:
        """MinHash values of a shingle-hash set (all max values when it is empty).

        The same values as datasketch's `MinHash.update_batch` with the shingle hashes as input (a test
        holds the two equal), computed in one numpy expression without a Python loop over shingles.
        """
        if not shingles.size:
            return np.full(self.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
        a, b = self.permutations
        permuted = np.multiply.outer(_fmix32(shingles), a)  # shingles x permutations; wraps mod 2^32 as datasketch
        permuted += b
        return permuted.min(axis=0)

    def minhash(self, values: np.ndarray) -> MinHash:
        """A datasketch MinHash around stored values (what `MinHashLSH` takes)."""
        return MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashvalues=values,
            permutations=self.permutations,
            scheme=MINHASH_SCHEME,
        )

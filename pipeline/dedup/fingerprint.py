"""Fingerprints of an article's text: normalised form, content hash, word-shingle hashes and MinHash."""

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
# Lines longer than this are story paragraphs: checking them against the patterns costs most of the
# normalisation time and never matches (the data file says so to whoever adds a pattern).
MAX_BOILERPLATE_LINE = 400
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


def shingle_hashes(words: Sequence[str], k: int) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the word k-shingles (a text shorter than k is one shingle)."""
    if not words:
        return np.empty(0, dtype=np.uint32)
    word_hashes = np.array(list(map(zlib.crc32, " ".join(words).encode("utf-8").split(b" "))), dtype=np.uint64)
    width = min(k, len(words))
    count = len(words) - width + 1
    folded = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        folded = folded * _POLY + word_hashes[offset : offset + count]
    return np.unique((_fmix64(folded) >> np.uint64(32)).astype(np.uint32))


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


class Fingerprinter:
    """Turns texts into fingerprints with one shingle size, boilerplate list and set of MinHash permutations."""

    def __init__(self, *, shingle_words: int = 5, num_perm: int = 128, seed: int = 1,
                 boilerplate: Boilerplate = NO_BOILERPLATE) -> None:
        self.shingle_words = shingle_words
        self.num_perm = num_perm
        self.seed = seed
        self.boilerplate = boilerplate
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
        words = story_words(text, self.boilerplate)
        shingles = shingle_hashes(words, self.shingle_words)
        return Fingerprint(content_hash(" ".join(words)), len(words), shingles, self.signature(shingles))

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
        return MinHash(num_perm=self.num_perm, seed=self.seed, hashvalues=values,
                       permutations=self.permutations, scheme=MINHASH_SCHEME)

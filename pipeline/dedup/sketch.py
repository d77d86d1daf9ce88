"""A containment sketch: what a member of the dedup window keeps of its shingle set instead of the set itself.

The incoming article always has its whole shingle set; only stored members are sketched, so every comparison
probes the new article's hashes against one member's sketch. The sketch is the member's sorted shingle hashes,
each reduced to `log2(size) + bits` bits and coded Elias-Fano style: `bits` low bits per hash as they are (plus
one flag: the shingle occurs only inside quotations) and the high bits in unary, two bits per hash. At the
default 11 bits that is 14 bits (1.75 bytes) per shingle instead of 32, and a hash that is not in the set is
taken for one 1 time in 2**11: comparisons give the exact counts unless such a false hit occurs, and one false
hit moves a containment of 600 shingles by 0.0017.

Texts longer than `cap` shingles keep the `cap` smallest hashes (a bottom-k sample: the same hashes are chosen
in every text), and counts on that sampled subspace are scaled to the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.dedup.fingerprint import contains

UNIVERSE = 1 << 32  # shingle hashes are uint32
SKETCH_BITS = 11  # low bits kept per hash: false hits 1 in 2**11 probes
SKETCH_CAP = 4096  # hashes kept at most: 7 KB; 0.4 % of the corpus texts have more shingles (3.4 % more than 2048)


def _pack(words: np.ndarray, width: int) -> bytes:
    """`width`-bit words as a little-endian bit stream."""
    bits = (words[:, None] >> np.arange(width, dtype=np.uint32)) & np.uint32(1)
    return np.packbits(bits.astype(np.uint8).ravel(), bitorder="little").tobytes()


def _unpack(data: bytes | memoryview, count: int, width: int) -> np.ndarray:
    """The `count` words of `_pack`."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if width == 12:  # the default: two words in three bytes, decoded bytewise (~10x faster than bit by bit)
        flat = np.zeros(3 * ((count + 1) // 2), dtype=np.uint32)
        flat[: raw.size] = raw
        triples = flat.reshape(-1, 3)
        words = np.empty(2 * triples.shape[0], dtype=np.uint32)
        words[0::2] = triples[:, 0] | ((triples[:, 1] & 0xF) << 8)
        words[1::2] = (triples[:, 1] >> 4) | (triples[:, 2] << 4)
        return words[:count]
    bits = np.unpackbits(raw, count=count * width, bitorder="little")
    return (bits.reshape(count, width).astype(np.uint32) << np.arange(width, dtype=np.uint32)).sum(
        axis=1, dtype=np.uint32
    )


def _lower_bytes(size: int, bits: int) -> int:
    return (size * (bits + 1) + 7) // 8


@dataclass(frozen=True, slots=True)
class Sketch:
    """One member's shingle set, reduced and Elias-Fano coded, with the quoted-only flag of each shingle."""

    count: int  # shingles in the whole set
    size: int  # hashes kept: all of them up to the cap
    limit: int  # the kept hashes are those below this (UNIVERSE: all)
    bits: int  # low bits kept per reduced hash
    data: bytes  # `size` words of bits + 1 (remainder, quoted flag), then 2 * size unary bits

    @classmethod
    def of(cls, shingles: np.ndarray, quoted: np.ndarray, *, cap: int = SKETCH_CAP, bits: int = SKETCH_BITS) -> Sketch:
        """The sketch of a sorted distinct shingle set, `quoted` the subset that occurs only in quotations."""
        count = int(shingles.size)
        kept = shingles[:cap]
        limit = UNIVERSE if count <= cap else int(shingles[cap])
        size = int(kept.size)
        if not size:
            return cls(count, 0, limit, bits, b"")
        flags = contains(quoted, kept).astype(np.uint32) if quoted.size else np.zeros(size, dtype=np.uint32)
        reduced = cls._reduce(kept, size, limit, bits)
        words = ((reduced & np.uint64((1 << bits) - 1)).astype(np.uint32) << np.uint32(1)) | flags
        upper = np.zeros(2 * size, dtype=np.uint8)
        upper[(reduced >> np.uint64(bits)).astype(np.int64) + np.arange(size)] = 1
        return cls(count, size, limit, bits, _pack(words, bits + 1) + np.packbits(upper, bitorder="little").tobytes())

    @staticmethod
    def _reduce(hashes: np.ndarray, size: int, limit: int, bits: int) -> np.ndarray:
        """Hashes below `limit` mapped monotonically onto [0, size << bits)."""
        return (hashes.astype(np.uint64) * np.uint64(size << bits)) // np.uint64(limit)

    @property
    def sampled(self) -> bool:
        """True when the text had more shingles than the sketch keeps."""
        return self.limit < UNIVERSE

    def decode(self) -> tuple[np.ndarray, np.ndarray]:
        """The reduced hashes (sorted) and their quoted flags."""
        if not self.size:
            return np.empty(0, dtype=np.uint64), np.zeros(0, dtype=bool)
        split = _lower_bytes(self.size, self.bits)
        words = _unpack(memoryview(self.data)[:split], self.size, self.bits + 1)
        ones = np.flatnonzero(
            np.unpackbits(
                np.frombuffer(self.data, dtype=np.uint8, offset=split), count=2 * self.size, bitorder="little"
            )
        )
        high = (ones - np.arange(self.size)).astype(np.uint64)
        return (high << np.uint64(self.bits)) | (words >> np.uint32(1)).astype(np.uint64), (words & 1).astype(bool)

    def probe(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per hash of another (whole) set: whether the sketch covers it, whether it is in the set, and whether it
        is quoted-only there (false hits: 1 in 2**bits of the covered hashes that are not in the set)."""
        tested = hashes < self.limit if self.sampled else np.ones(hashes.size, dtype=bool)
        if not self.size or not hashes.size:
            none = np.zeros(hashes.size, dtype=bool)
            return tested, none, none
        reduced, flags = self.decode()
        mine = self._reduce(hashes, self.size, self.limit, self.bits)
        at = np.minimum(np.searchsorted(reduced, mine), self.size - 1)
        hit = (reduced[at] == mine) & tested
        return tested, hit, hit & flags[at]

    def nbytes(self) -> int:
        """Bytes of the coded sketch."""
        return len(self.data)

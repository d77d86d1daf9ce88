"""The dedup store's rows and keys (state.py): the per-row columns and flags, the keys its postings are searched by
(LSH bands as datasketch sizes them, each band folded into one uint32; content hashes folded into one word), and
handing the memory a growth or a compaction freed back to the system."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH

from pipeline.dedup.fingerprint import _POLY, _fmix64


@lru_cache(maxsize=8)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's (bands, rows) for a threshold: its optimisation takes ~40 ms, so it runs once per setting."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_keys(minhash: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint32 LSH keys, one per band, of MinHash rows (n x num_perm): equal bands give equal keys, as datasketch's
    buckets; the band number is folded in, so one sorted array holds every band."""
    values = minhash[:, : bands * rows].reshape(minhash.shape[0], bands, rows).astype(np.uint64)
    folded = np.broadcast_to(np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15), values.shape[:2])
    for j in range(rows):
        folded = folded * _POLY + values[:, :, j]
    return (_fmix64(folded) >> np.uint64(32)).astype(np.uint32)


# Per-row flags.
DUPLICATE, HAS_DUPLICATE_OF, HAS_MATCHED, HAS_SIMILARITY, HAS_LEAD = 1, 2, 4, 8, 16
METHOD_SHIFT = 5


def fixed_columns(num_perm: int) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """Name -> (dtype, trailing shape) of the per-row columns."""
    return {
        "ids": (np.dtype(np.uint64), ()),
        "cluster": (np.dtype(np.uint64), ()),
        "duplicate_of": (np.dtype(np.uint64), ()),
        "matched": (np.dtype(np.uint64), ()),
        "flags": (np.dtype(np.uint8), ()),
        "similarity": (np.dtype(np.float64), ()),
        "published": (np.dtype(np.float64), ()),
        "ingested": (np.dtype(np.float64), ()),
        "revision": (np.dtype(np.uint32), ()),
        "word_count": (np.dtype(np.uint32), ()),
        "shingle_count": (np.dtype(np.uint32), ()),
        "lead_size": (np.dtype(np.uint16), ()),
        "content": (np.dtype(np.uint64), (4,)),  # sha256, 4 little-endian words
        "minhash": (np.dtype(np.uint32), (num_perm,)),
        "sketch_size": (np.dtype(np.uint32), ()),
        "sketch_limit": (np.dtype(np.uint64), ()),
        "sketch_bits": (np.dtype(np.uint8), ()),
        "n_samples": (np.dtype(np.uint16), ()),
        "n_lead": (np.dtype(np.uint16), ()),
        "heap_start": (np.dtype(np.int64), ()),
        "heap_len": (np.dtype(np.uint32), ()),
        "alive": (np.dtype(bool), ()),
    }


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, when this is glibc."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _libc_trim()


def release_freed_memory() -> None:
    """Hand the arrays a growth or a compaction just freed back to the system. glibc keeps freed blocks below its
    mmap threshold in its heap, and the threshold rises (up to 32 MB) as big arrays are freed: without this a
    worker's RSS carries up to a whole old copy of the store (measured: 3.5 KB per article where the arrays are
    2.5 KB)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def content_words(content_hash: str) -> np.ndarray:
    """A sha256 hex digest as 4 little-endian 64-bit words (a row of the `content` column)."""
    return np.frombuffer(bytes.fromhex(content_hash), dtype="<u8").astype(np.uint64)


def content_keys(words: np.ndarray) -> np.ndarray:
    """The postings key of content hashes (rows of 4 words): all 32 bytes folded, so that hashes that share a
    prefix (as synthetic ones do) do not share a key."""
    return _fmix64(words[:, 0] ^ words[:, 1] ^ words[:, 2] ^ words[:, 3])


def padded(size: int) -> int:
    """A heap entry's size rounded up to 4 bytes."""
    return (size + 3) & ~3

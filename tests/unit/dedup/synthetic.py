"""Synthetic signatures for store tests: random shingle sets of 300-900 shingles, a fifth quoted, a 32-shingle lead."""

from __future__ import annotations

import numpy as np

from pipeline.dedup.fingerprint import Fingerprinter, distinct
from pipeline.dedup.members import Signature
from pipeline.dedup.sketch import UNIVERSE


def random_set(size: int, seed: int) -> np.ndarray:
    """A sorted distinct set of about `size` random shingle hashes."""
    rng = np.random.default_rng(seed)
    return distinct(rng.integers(0, UNIVERSE, size, dtype=np.uint64).astype(np.uint32))


def signature(fingerprinter: Fingerprinter, n: int, ingested: float, rng: np.random.Generator) -> Signature:
    """Article `n` (id = n in 16 hex digits), ingested at `ingested`, with a random text's fingerprint."""
    shingles = distinct(rng.integers(0, UNIVERSE, int(rng.integers(300, 900)), dtype=np.uint64).astype(np.uint32))
    return Signature(
        article_id=f"{n:016x}",
        content_hash=f"{n:064x}",
        cluster_id=f"{n:016x}",
        is_duplicate=False,
        duplicate_of=None,
        similarity=None,
        method=None,
        matched_id=None,
        published=ingested,
        ingested=ingested,
        revision=0,
        word_count=int(shingles.size) + 4,
        shingles=shingles,
        minhash=fingerprinter.signature(shingles),
        shingling=fingerprinter.shingling,
        minhash_scheme=fingerprinter.minhash_scheme,
        quoted=shingles[rng.random(shingles.size) < 0.2],
        lead=np.sort(rng.choice(shingles, 32, replace=False)),
        lead_size=32,
    )

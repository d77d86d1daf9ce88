"""The dedup state: one signature per article of the window, searchable by id, content hash, MinHash LSH and
sampled shingles.

Persistence is a compacted topic (key = article_id, value = `Signature.to_state_record()`, tombstone on
eviction): the runner produces the records the stage hands it and replays the topic into `rebuild` or
`apply` at start. Nothing here touches Kafka; every method is deterministic given the records applied.
"""

from __future__ import annotations

import base64
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from datasketch import MinHashLSH

from pipeline.dedup.fingerprint import Fingerprinter, contains, distinct


@lru_cache(maxsize=8)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's (bands, rows) for a threshold: its optimisation takes ~40 ms, so it runs once per setting."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


class IncompatibleState(ValueError):
    """A state record was made with another shingling: its signatures cannot be compared with ours."""


_NONE = np.empty(0, dtype=np.uint32)


def _pack(values: np.ndarray) -> str:
    """Little-endian uint32, base64: ~2.7 KB for 500 shingles where a JSON list takes ~5.5 KB."""
    return base64.b64encode(values.astype("<u4").tobytes()).decode("ascii")


def _unpack(text: str) -> np.ndarray:
    """The uint32 values of `_pack`."""
    return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint32)


@dataclass(frozen=True, slots=True, eq=False)
class Signature:
    """What the window remembers of one article: its fingerprint and the decision it was given."""

    article_id: str
    content_hash: str
    cluster_id: str
    is_duplicate: bool
    duplicate_of: str | None
    similarity: float | None
    method: str | None
    matched_id: str | None  # the member whose similarity confirmed a near match (audit trail)
    published: float  # published (else ingested) epoch seconds: orders members of a story
    ingested: float  # ingested epoch seconds: the window's clock
    revision: int  # +1 each time the same article_id arrives with changed text
    word_count: int
    shingles: np.ndarray  # sorted distinct uint32 shingle hashes
    minhash: np.ndarray  # uint32[num_perm]
    shingling: str
    minhash_scheme: str
    quoted: np.ndarray = field(default_factory=lambda: _NONE)  # shingles only in quotations (none in older records)
    lead: np.ndarray | None = None  # the shingles starting the lead; None in records written before leads
    lead_size: int = 0  # positions outside quotations in the lead window

    def same_decision(self, other: Signature) -> bool:
        """True when both carry the same content, revision and decision (an echo of our own record)."""
        return (
            self.revision,
            self.content_hash,
            self.cluster_id,
            self.is_duplicate,
            self.duplicate_of,
            self.similarity,
            self.method,
        ) == (
            other.revision,
            other.content_hash,
            other.cluster_id,
            other.is_duplicate,
            other.duplicate_of,
            other.similarity,
            other.method,
        )

    def to_state_record(self) -> dict:
        """The JSON-ready value of this article's record on the state topic."""
        return {
            "article_id": self.article_id,
            "content_hash": self.content_hash,
            "cluster_id": self.cluster_id,
            "is_duplicate": self.is_duplicate,
            "duplicate_of": self.duplicate_of,
            "similarity": self.similarity,
            "method": self.method,
            "matched_id": self.matched_id,
            "timestamp": self.published,
            "ingested": self.ingested,
            "revision": self.revision,
            "word_count": self.word_count,
            "shingle_count": int(self.shingles.size),
            "shingling": self.shingling,
            # The shingle set in parts, so that the record is hardly larger than the set alone: `lead` the
            # shingles starting the lead, `quoted_shingles` the ones that occur only in quotations, `shingles`
            # the others; the article's set is their union.
            "shingles": _pack(self._rest()),
            "minhash_scheme": self.minhash_scheme,
            "minhash": self.minhash.tolist(),
            **({} if not self.quoted.size else {"quoted_shingles": _pack(self.quoted)}),
            **({} if self.lead is None else {"lead": _pack(self.lead), "lead_size": self.lead_size}),
        }

    def _rest(self) -> np.ndarray:
        """The shingles that are neither quoted nor in the lead (what the record's `shingles` holds)."""
        told = [part for part in (self.quoted, self.lead) if part is not None and part.size]
        if not told:
            return self.shingles
        return self.shingles[~contains(distinct(np.concatenate(told)), self.shingles)]

    @classmethod
    def from_state_record(cls, record: dict, fingerprinter: Fingerprinter) -> Signature:
        """A signature from a state record; MinHash values of another scheme are recomputed from the shingles."""
        if record["shingling"] != fingerprinter.shingling:
            raise IncompatibleState(
                f"state record {record['article_id']} was made with shingling {record['shingling']!r}, this "
                f"stage uses {fingerprinter.shingling!r}: keep the setting or empty the dedup state topic"
            )
        shingles = _unpack(record["shingles"])
        quoted = _unpack(record["quoted_shingles"]) if record.get("quoted_shingles") else _NONE
        lead = _unpack(record["lead"]) if "lead" in record else None
        if quoted.size or (lead is not None and lead.size):
            shingles = distinct(np.concatenate([shingles, quoted, _NONE if lead is None else lead]))
        if record["minhash_scheme"] == fingerprinter.minhash_scheme:
            minhash = np.asarray(record["minhash"], dtype=np.uint32)
        else:  # another seed, num_perm or datasketch scheme: re-sign rather than mix incompatible values
            minhash = fingerprinter.signature(shingles)
        return cls(
            article_id=record["article_id"],
            content_hash=record["content_hash"],
            cluster_id=record["cluster_id"],
            is_duplicate=record["is_duplicate"],
            duplicate_of=record["duplicate_of"],
            similarity=record["similarity"],
            method=record["method"],
            matched_id=record.get("matched_id"),
            published=float(record["timestamp"]),
            ingested=float(record["ingested"]),
            revision=int(record["revision"]),
            word_count=int(record["word_count"]),
            shingles=shingles,
            minhash=minhash,
            shingling=fingerprinter.shingling,
            minhash_scheme=fingerprinter.minhash_scheme,
            quoted=quoted,
            lead=lead,
            lead_size=int(record.get("lead_size", 0)),
        )


class DedupStore:
    """Signatures of the window in memory, rebuilt from state records; no I/O of its own."""

    def __init__(
        self,
        fingerprinter: Fingerprinter,
        *,
        lsh_threshold: float = 0.3,
        sample_one_in: int = 32,
        max_postings: int = 100,
    ) -> None:
        self.fingerprinter = fingerprinter
        self.lsh_threshold = lsh_threshold
        # Containment candidates: every shingle hash below this limit (1 in `sample_one_in`, a fixed-threshold
        # sample, the same shingles in every text) is indexed. A wire story inside a page 5-10x its length has
        # Jaccard 0.1-0.2, where LSH banding finds it only 50-90 % of the time; it shares all its samples.
        self.sample_limit = (1 << 32) // sample_one_in if sample_one_in else 0
        self.max_postings = max_postings  # a sample shared by more articles than this is a stock phrase: not asked
        self._clear()

    def _clear(self) -> None:
        num_perm = self.fingerprinter.num_perm
        self._lsh = MinHashLSH(num_perm=num_perm, params=lsh_bands(self.lsh_threshold, num_perm))
        self._entries: dict[str, Signature] = {}
        self._by_hash: dict[str, list[str]] = {}
        self._by_sample: dict[int, list[str]] = {}
        self._ages: list[tuple[float, str, int]] = []  # heap of (ingested, article_id, revision); stale items skipped
        self.newest = 0.0  # newest ingested time seen: stream time, so a replay evicts exactly as the first run

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, article_id: str) -> Signature | None:
        """The signature stored for an article, if it is in the window."""
        return self._entries.get(article_id)

    def add(self, signature: Signature) -> None:
        """Store a signature, replacing the article's previous one."""
        self.remove(signature.article_id)
        self._entries[signature.article_id] = signature
        self._by_hash.setdefault(signature.content_hash, []).append(signature.article_id)
        if signature.shingles.size:  # an empty text's all-max MinHash would collide with every other empty text
            minhash = self.fingerprinter.minhash(signature.minhash)
            self._lsh.insert(signature.article_id, minhash, check_duplication=False)
        for sample in self._samples(signature.shingles):
            self._by_sample.setdefault(sample, []).append(signature.article_id)
        heapq.heappush(self._ages, (signature.ingested, signature.article_id, signature.revision))
        self.newest = max(self.newest, signature.ingested)

    def remove(self, article_id: str) -> Signature | None:
        """Forget an article; returns what was stored."""
        signature = self._entries.pop(article_id, None)
        if signature is None:
            return None
        same_text = self._by_hash[signature.content_hash]
        same_text.remove(article_id)
        if not same_text:
            del self._by_hash[signature.content_hash]
        if signature.shingles.size:
            self._lsh.remove(article_id)
        for sample in self._samples(signature.shingles):
            sharing = self._by_sample[sample]
            sharing.remove(article_id)
            if not sharing:
                del self._by_sample[sample]
        return signature

    def _samples(self, shingles: np.ndarray) -> list[int]:
        """The shingle hashes under the sample limit (a prefix: shingles are sorted)."""
        return shingles[: int(np.searchsorted(shingles, self.sample_limit))].tolist()

    def with_content(self, content_hash: str) -> list[Signature]:
        """Articles whose normalised text has this hash."""
        return [self._entries[a] for a in self._by_hash.get(content_hash, ())]

    def candidates(self, minhash: np.ndarray, shingles: np.ndarray) -> list[Signature]:
        """Articles in an LSH bucket with this MinHash or sharing a sampled shingle (to be confirmed by the caller)."""
        found = set(self._lsh.query(self.fingerprinter.minhash(minhash))) if shingles.size else set()
        for sample in self._samples(shingles):
            sharing = self._by_sample.get(sample, ())
            if len(sharing) <= self.max_postings:
                found.update(sharing)
        return [self._entries[a] for a in sorted(found)]

    def evict(self, horizon: float) -> list[str]:
        """Forget every article ingested before `horizon` (epoch seconds); returns their ids."""
        evicted = []
        while self._ages and self._ages[0][0] < horizon:
            ingested, article_id, revision = heapq.heappop(self._ages)
            current = self._entries.get(article_id)
            if current is not None and current.revision == revision and current.ingested == ingested:
                self.remove(article_id)
                evicted.append(article_id)
        return evicted

    def records(self) -> Iterator[dict]:
        """A snapshot of the state as records (what a compacted topic holds after compaction)."""
        for signature in list(self._entries.values()):
            yield signature.to_state_record()

    def apply(self, article_id: str, record: dict | None) -> None:
        """Apply one state record (None deletes); an older revision than the stored one is ignored."""
        if record is None:
            self.remove(article_id)
            return
        signature = Signature.from_state_record(record, self.fingerprinter)
        current = self._entries.get(article_id)
        if current is not None and (current.revision > signature.revision or current.same_decision(signature)):
            return  # our own record read back, or a stale one: what we hold is as new or newer
        self.add(signature)

    def rebuild(self, records: Iterable[dict | tuple[str, dict | None]]) -> None:
        """Replace the state with the given records (values, or (key, value) pairs with tombstones)."""
        self._clear()
        for item in records:
            key, value = item if isinstance(item, tuple) else (item["article_id"], item)
            self.apply(key, value)

"""What the dedup window keeps of each article, and its state record: the incoming article's whole fingerprint
with its decision (`Signature`), the compact form a member keeps (`Member`: the decision, MinHash values, sampled
and lead shingles, a containment sketch) and the evidence a member gives against an incoming fingerprint.

A `Member` is written to the compacted state topic as `to_state_record()` and read back with `from_state_record`
(records of older, fuller forms are compacted on read). The store of members is state.py."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import numpy as np

from pipeline.dedup.fingerprint import Fingerprint, Fingerprinter, contains, distinct
from pipeline.dedup.sketch import UNIVERSE, Sketch

# Every record carries the hashes below this limit (1 in 32 shingles) for the containment candidates; a store
# indexes those under its own `sample_one_in` limit (the same ones or fewer).
RECORD_SAMPLE_ONE_IN = 32
METHODS = (None, "exact", "near")


class IncompatibleState(ValueError):
    """A state record cannot be compared with ours: made with another shingling, or (a compact record, which keeps
    no shingles to re-sign) with another MinHash scheme."""


_NONE = np.empty(0, dtype=np.uint32)


def _pack(values: np.ndarray) -> str:
    """Little-endian uint32, base64: half the bytes of a JSON list of the numbers."""
    return base64.b64encode(values.astype("<u4").tobytes()).decode("ascii")


def _unpack(text: str) -> np.ndarray:
    """The uint32 values of `_pack`."""
    return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint32)


def id_number(article_id: str) -> int:
    """An article id (16 lower-case hex digits, the schema's form) as the uint64 the columns keep."""
    number = int(article_id, 16)
    if len(article_id) != 16 or f"{number:016x}" != article_id:
        raise ValueError(f"article id {article_id!r} is not 16 lower-case hex digits")
    return number


def _decision(s: Signature | Member) -> tuple:
    return (s.revision, s.content_hash, s.cluster_id, s.is_duplicate, s.duplicate_of, s.similarity, s.method)


@dataclass(frozen=True, slots=True, eq=False)
class Signature:
    """An article just decided: its whole fingerprint and its decision (stored as a compact `Member`)."""

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

    def same_decision(self, other: Signature | Member) -> bool:
        """True when both carry the same content, revision and decision (an echo of our own record)."""
        return _decision(self) == _decision(other)

    def compact(self) -> Member:
        """What the window keeps of this article."""
        shingles = self.shingles
        lead_quoted = None
        if self.lead is not None:
            lead_quoted = contains(self.quoted, self.lead) if self.quoted.size else np.zeros(self.lead.size, bool)
        return Member(
            article_id=self.article_id,
            content_hash=self.content_hash,
            cluster_id=self.cluster_id,
            is_duplicate=self.is_duplicate,
            duplicate_of=self.duplicate_of,
            similarity=self.similarity,
            method=self.method,
            matched_id=self.matched_id,
            published=self.published,
            ingested=self.ingested,
            revision=self.revision,
            word_count=self.word_count,
            minhash=self.minhash,
            sketch=Sketch.of(shingles, self.quoted),
            samples=shingles[: int(np.searchsorted(shingles, UNIVERSE // RECORD_SAMPLE_ONE_IN))],
            lead=self.lead,
            lead_quoted=lead_quoted,
            lead_size=self.lead_size,
            shingling=self.shingling,
            minhash_scheme=self.minhash_scheme,
        )

    def to_state_record(self) -> dict:
        """The JSON-ready value of this article's record on the state topic (its compact form)."""
        return self.compact().to_state_record()

    @classmethod
    def from_state_record(cls, record: dict, fingerprinter: Fingerprinter) -> Signature:
        """A signature from a record written before sketches (the whole shingle set); MinHash values of another
        scheme are recomputed from the shingles."""
        _check_shingling(record, fingerprinter)
        shingles = _unpack(record["shingles"])
        quoted = _unpack(record["quoted_shingles"]) if record.get("quoted_shingles") else _NONE
        lead = _unpack(record["lead"]) if "lead" in record else None
        if quoted.size or (lead is not None and lead.size):
            shingles = distinct(np.concatenate([shingles, quoted, _NONE if lead is None else lead]))
        if record["minhash_scheme"] == fingerprinter.minhash_scheme:
            minhash = _minhash(record["minhash"])
        else:  # another seed, num_perm or datasketch scheme: re-sign rather than mix incompatible values
            minhash = fingerprinter.signature(shingles)
        return cls(
            **_decision_fields(record),
            word_count=int(record["word_count"]),
            shingles=shingles,
            minhash=minhash,
            shingling=fingerprinter.shingling,
            minhash_scheme=fingerprinter.minhash_scheme,
            quoted=quoted,
            lead=lead,
            lead_size=int(record.get("lead_size", 0)),
        )


def _check_shingling(record: dict, fingerprinter: Fingerprinter) -> None:
    if record["shingling"] != fingerprinter.shingling:
        raise IncompatibleState(
            f"state record {record['article_id']} was made with shingling {record['shingling']!r}, this "
            f"stage uses {fingerprinter.shingling!r}: keep the setting or empty the dedup state topic"
        )


def _minhash(value: str | list[int]) -> np.ndarray:
    """MinHash values as records carry them: base64 uint32 (older records: a list of numbers)."""
    return _unpack(value) if isinstance(value, str) else np.asarray(value, dtype=np.uint32)


def _decision_fields(record: dict) -> dict:
    return dict(
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
    )


@dataclass(frozen=True, slots=True)
class Evidence:
    """How an incoming article compares with one member (the quotations both carry set aside)."""

    score: float  # max(Jaccard, containment) of the shingle sets
    article_lead: float  # share of the article's lead window that the member has
    member_lead: float | None  # share of the member's lead window that the article has (None: member has no lead)
    shared: float = 0.0  # shingles both texts carry, the set-aside ones not counted


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    """What the window remembers of one article: its decision and the compact fingerprint the next decisions need."""

    article_id: str
    content_hash: str
    cluster_id: str
    is_duplicate: bool
    duplicate_of: str | None
    similarity: float | None
    method: str | None
    matched_id: str | None
    published: float
    ingested: float
    revision: int
    word_count: int
    minhash: np.ndarray  # uint32[num_perm]
    sketch: Sketch  # the shingle set (its count is the set's size)
    samples: np.ndarray  # the shingle hashes below 2**32 / RECORD_SAMPLE_ONE_IN, sorted
    lead: np.ndarray | None  # the shingles starting the lead (sorted distinct); None for records written before leads
    lead_quoted: np.ndarray | None  # per lead shingle: it occurs only in quotations
    lead_size: int
    shingling: str
    minhash_scheme: str

    @property
    def shingle_count(self) -> int:
        """Distinct shingles of the text."""
        return self.sketch.count

    def same_decision(self, other: Signature | Member) -> bool:
        """True when both carry the same content, revision and decision (an echo of our own record)."""
        return _decision(self) == _decision(other)

    def evidence(self, fingerprint: Fingerprint, min_containment_shingles: int = 20) -> Evidence:
        """The article's fingerprint against this member: `evidence_similarity` and `lead_share` both ways, computed
        on the member's sketch (the exact values unless a false hit occurs; scaled when the sketch is a sample)."""
        shingles, quoted = fingerprint.shingles, fingerprint.quoted
        tested, hit, quoted_here = self.sketch.probe(shingles)
        in_quoted = contains(quoted, shingles) if quoted.size else np.zeros(shingles.size, dtype=bool)
        aside = quoted_here & in_quoted  # quoted-only in both: set aside
        if self.sketch.sampled:
            scale = self.sketch.count / self.sketch.size
            shared_all, set_aside = float(hit.sum()) * scale, float(aside.sum()) * scale
        else:
            shared_all, set_aside = int(hit.sum()), int(aside.sum())
        shared = shared_all - set_aside
        score = 0.0
        if shared > 0:
            score = shared / (shingles.size + self.sketch.count - shared - 2 * set_aside)
            smaller = min(shingles.size, self.sketch.count) - set_aside
            if smaller >= min_containment_shingles:
                score = max(score, shared / smaller)
        article_lead = 0.0
        lead = fingerprint.lead
        if lead.size and fingerprint.lead_size:
            at = np.searchsorted(shingles, lead)  # the lead's shingles are among the text's
            found = int((hit[at] & ~aside[at]).sum())
            estimate: float = found
            if self.sketch.sampled:  # lead shingles outside the sampled subspace: as many found as in it
                known = int(tested[at].sum())
                estimate = found + (lead.size - known) * found / known if known else 0.0
            article_lead = estimate / fingerprint.lead_size
        member_lead = None
        if self.lead is not None:
            member_lead = 0.0
            if self.lead.size and self.lead_size:
                present = contains(shingles, self.lead)
                if quoted.size and self.lead_quoted is not None:
                    present &= ~(self.lead_quoted & contains(quoted, self.lead))
                member_lead = int(present.sum()) / self.lead_size
        return Evidence(score, article_lead, member_lead, shared)

    def to_state_record(self) -> dict:
        """The JSON-ready value of this article's record on the state topic."""
        sketch = self.sketch
        record = {
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
            "shingle_count": sketch.count,
            "shingling": self.shingling,
            "minhash_scheme": self.minhash_scheme,
            "minhash": _pack(self.minhash),
            "sketch": {
                "bits": sketch.bits,
                "size": sketch.size,
                "limit": sketch.limit,
                "data": base64.b64encode(sketch.data).decode("ascii"),
            },
            "samples": _pack(self.samples),
        }
        if self.lead is not None:
            record["lead"] = _pack(self.lead)
            record["lead_size"] = self.lead_size
            if self.lead_quoted is not None and self.lead_quoted.any():
                record["lead_quoted"] = np.flatnonzero(self.lead_quoted).tolist()
        return record

    @classmethod
    def from_state_record(cls, record: dict, fingerprinter: Fingerprinter) -> Member:
        """A member from a state record; a record written before sketches (the whole shingle set) is compacted."""
        _check_shingling(record, fingerprinter)
        if "sketch" not in record:
            return Signature.from_state_record(record, fingerprinter).compact()
        if record["minhash_scheme"] != fingerprinter.minhash_scheme:
            raise IncompatibleState(
                f"state record {record['article_id']} was signed with {record['minhash_scheme']!r}, this stage "
                f"uses {fingerprinter.minhash_scheme!r}, and compact records keep no shingles to re-sign: keep "
                f"NEWSFLOW_DEDUP_NUM_PERM or empty the dedup state topic"
            )
        sketch = record["sketch"]
        lead = _unpack(record["lead"]) if "lead" in record else None
        lead_quoted = None
        if lead is not None:
            lead_quoted = np.zeros(lead.size, dtype=bool)
            lead_quoted[record.get("lead_quoted", [])] = True
        return cls(
            **_decision_fields(record),
            word_count=int(record["word_count"]),
            minhash=_minhash(record["minhash"]),
            sketch=Sketch(
                int(record["shingle_count"]),
                int(sketch["size"]),
                int(sketch["limit"]),
                int(sketch["bits"]),
                base64.b64decode(sketch["data"]),
            ),
            samples=_unpack(record["samples"]),
            lead=lead,
            lead_quoted=lead_quoted,
            lead_size=int(record.get("lead_size", 0)),
            shingling=fingerprinter.shingling,
            minhash_scheme=fingerprinter.minhash_scheme,
        )

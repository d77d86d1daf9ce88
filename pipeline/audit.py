"""The ledger: every raw article ends in exactly one terminal state — indexed unique, indexed duplicate, or DLQ."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import orjson
from elasticsearch import Elasticsearch, NotFoundError, helpers

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.identity import valid_article_id as _valid_id


@dataclass(frozen=True)
class Ledger:
    """Distinct article ids per terminal state, and what does not add up."""

    raw: int
    unique: int
    duplicates: int
    dlq: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)
    dlq_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """raw = unique + duplicates + DLQ, with nothing missing and nothing from nowhere."""
        return not self.missing and not self.unexpected and self.raw == self.unique + self.duplicates + self.dlq

    def to_dict(self) -> dict:
        """For `--json` and the quality DAG."""
        return {
            "raw": self.raw, "unique": self.unique, "duplicates": self.duplicates, "dlq": self.dlq,
            "balanced": self.balanced, "missing": list(self.missing[:100]), "missing_count": len(self.missing),
            "unexpected": list(self.unexpected[:100]), "unexpected_count": len(self.unexpected),
            "by_language": self.by_language, "dlq_reasons": self.dlq_reasons,
        }


def _raw_identity(record) -> str:
    """The article id of a raw message, or its coordinates when it has none."""
    key = record.key.decode("utf-8", "replace") if record.key else None
    return _valid_id(key) or f"@{record.topic}:{record.partition}:{record.offset}"


def compute_ledger(settings: Settings, es: Elasticsearch) -> Ledger:
    """Reconcile the raw topic, the DLQ topic and the index by distinct article id."""
    raw_topic = settings.topic("raw")
    raw_ids = {_raw_identity(r) for r in kafka_io.read_topic(settings, raw_topic)}

    dlq_ids: set[str] = set()
    reasons: Counter[str] = Counter()
    for record in kafka_io.read_topic(settings, settings.topic("dlq")):
        body = orjson.loads(record.value)
        source = body["source"]
        identity = _valid_id(body.get("article_id")) or f"@{source['topic']}:{source['partition']}:{source['offset']}"
        dlq_ids.add(identity)
        reasons[f"{body['stage']}: {body['error']['class']}"] += 1

    unique_ids: set[str] = set()
    duplicate_ids: set[str] = set()
    languages: dict[str, Counter[str]] = {}
    try:
        for hit in helpers.scan(
            es, index=settings.index_alias, query={"query": {"match_all": {}}},
            _source=["dedup.is_duplicate", "language.code"], size=1000,
        ):
            source = hit.get("_source", {})
            duplicate = bool(source.get("dedup", {}).get("is_duplicate"))
            (duplicate_ids if duplicate else unique_ids).add(hit["_id"])
            code = source.get("language", {}).get("code", "und")
            languages.setdefault(code, Counter())["duplicate" if duplicate else "unique"] += 1
    except NotFoundError:
        pass  # no index yet: everything raw is missing, which the ledger says

    indexed = unique_ids | duplicate_ids
    dlq_only = dlq_ids - indexed
    missing = sorted(raw_ids - indexed - dlq_ids)
    unexpected = sorted((indexed | dlq_ids) - raw_ids)
    for identity in dlq_only:
        if identity in raw_ids:
            languages.setdefault("(dlq)", Counter())["dlq"] += 1
    return Ledger(
        raw=len(raw_ids),
        unique=len(unique_ids & raw_ids),
        duplicates=len(duplicate_ids & raw_ids),
        dlq=len(dlq_only & raw_ids),
        missing=tuple(missing),
        unexpected=tuple(unexpected),
        by_language={code: dict(c) for code, c in sorted(languages.items())},
        dlq_reasons=dict(reasons.most_common()),
    )

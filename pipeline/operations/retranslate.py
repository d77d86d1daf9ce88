"""`newsflow retranslate` and news_retranslate: articles indexed with a pending translation go back through translate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import structlog
from elasticsearch import Elasticsearch, NotFoundError

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import ContractError, Contracts
from pipeline.kafka_io import Outgoing
from pipeline.records import Article

log = structlog.get_logger("newsflow.operations")


# What a detect output carries: the article as pulled, its language and its pipeline trail. Fields
# that later stages fill in (translation, dedup, enrichment) are left for them to fill in again.
DETECTED_FIELDS = (
    "article_id",
    "url",
    "source",
    "title",
    "text",
    "published_at",
    "ingested_at",
    "origin",
    "language",
    "pipeline",
)
LATER_STAGES = ("translate", "dedup", "enrich", "index")


def pending_translations(settings: Settings, es: Elasticsearch, limit: int) -> Iterator[dict]:
    """Documents behind the alias whose translation is pending, oldest ingested first, at most `limit`."""
    try:
        hits = es.search(
            index=settings.index_alias,
            size=min(limit, 10_000),
            query={"term": {"translation.status": "pending"}},
            sort=[{"ingested_at": {"order": "asc", "unmapped_type": "date"}}],
        )["hits"]["hits"]
    except NotFoundError:
        return
    for hit in hits:
        yield {**hit["_source"], "article_id": hit["_id"]}


def to_detected(document: dict) -> dict | None:
    """The news.detected.v1 message for an indexed document; None when the index has no text for it (duplicates)."""
    if not (document.get("text") or "").strip() or not document.get("language"):
        return None
    message = {k: document[k] for k in DETECTED_FIELDS if k in document}
    message["language"] = {k: v for k, v in message["language"].items() if v is not None}
    for key in ("url", "title", "published_at"):
        message.setdefault(key, None)
    trail = dict(message.get("pipeline") or {})
    stages = {s: ts for s, ts in (trail.get("stages") or {}).items() if s not in LATER_STAGES}
    message["pipeline"] = {
        **trail,
        "stages": stages,
        "placeholders": [p for p in trail.get("placeholders", []) if p not in LATER_STAGES],
    }
    return Article.model_validate(message).to_wire()


@dataclass
class RetranslateReport:
    """What one re-translation run did."""

    pending: int = 0
    resent: int = 0
    skipped: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        """For XCom and logs."""
        return {"pending": self.pending, "resent": self.resent, "skipped": dict(self.skipped)}


def retranslate(settings: Settings, es: Elasticsearch, limit: int) -> RetranslateReport:
    """Send pending-translation articles back to the translate stage's input topic (news.detected.v1), confirmed."""
    contracts = Contracts()
    report = RetranslateReport()
    outgoing = []
    for document in pending_translations(settings, es, limit):
        report.pending += 1
        message = to_detected(document)
        if message is None:
            report.skipped["no text in the index (a duplicate: its cluster's leader carries the text)"] += 1
            continue
        try:
            contracts.validate("detected", message)
        except ContractError as exc:
            report.skipped[f"does not match news.detected.v1: {exc}"] += 1
            log.warning("pending article not re-sent", article_id=document["article_id"], error=str(exc))
            continue
        outgoing.append(Outgoing(settings.topic("detected"), message["article_id"], message))
    report.resent = kafka_io.produce_confirmed(settings, outgoing)
    log.info("re-translation", **report.to_dict())
    return report

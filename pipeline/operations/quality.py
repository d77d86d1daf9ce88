"""Quality checks the news_quality DAG runs: the audit ledger, DLQ growth, consumer lag per stage, freshness.

Each check returns a `Check`; `ok=False` carries a message that says what is wrong in operator terms.
Thresholds come from the settings (`NEWSFLOW_QUALITY_*`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from elasticsearch import Elasticsearch, NotFoundError

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.operations.audit import compute_ledger


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the checks."""

    ledger_grace_s: float = 900.0
    window_s: float = 3600.0
    max_dlq_growth: int = 10
    max_lag: int = 1000
    max_staleness_s: float = 21600.0

    @classmethod
    def from_settings(cls, settings: Settings) -> QualityConfig:
        """Thresholds from `NEWSFLOW_QUALITY_*`."""
        return cls(
            ledger_grace_s=settings.quality_ledger_grace_s,
            window_s=settings.quality_window_s,
            max_dlq_growth=settings.quality_max_dlq_growth,
            max_lag=settings.quality_max_lag,
            max_staleness_s=settings.quality_max_staleness_s,
        )


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    message: str
    details: dict = field(default_factory=dict)


def check_ledger(settings: Settings, es: Elasticsearch | None, config: QualityConfig) -> Check:
    """Every raw message of the audit window older than the grace period is in a terminal state, and no
    worker is held by infrastructure (a 401 or a missing index fails this check, never passes as balanced)."""
    ledger = compute_ledger(settings, settle_s=config.ledger_grace_s)
    details = ledger.to_dict()
    summary = ledger.summary()
    if ledger.verdict == "held":
        held = "; ".join(f"{h.stage} {h.state} since {h.since}: {h.reason[:200]}" for h in ledger.holds)
        return Check("ledger", False, f"the stream is held by infrastructure ({summary}): {held}", details)
    if ledger.verdict == "gaps":
        return Check(
            "ledger",
            False,
            f"the ledger does not balance ({summary}): {ledger.overdue} raw articles older than "
            f"{config.ledger_grace_s:.0f}s are in no terminal state (not indexed, not in the DLQ; first: "
            f"{', '.join(ledger.missing[:5])})",
            details,
        )
    if ledger.in_flight:
        return Check(
            "ledger", True, f"ledger balances once {ledger.in_flight} articles in flight land: {summary}", details
        )
    return Check("ledger", True, f"ledger balances: {summary}", details)


def check_dlq_growth(settings: Settings, config: QualityConfig) -> Check:
    """No more DLQ records in the last window than allowed; the message names the stages and error classes."""
    since_ms = int((time.time() - config.window_s) * 1000)
    reasons: Counter[str] = Counter()
    for record in kafka_io.read_window(settings, settings.topic("dlq"), since_ms):
        try:
            body = orjson.loads(record.value)
            reasons[f"{body['stage']}: {body['error']['class']}"] += 1
        except (orjson.JSONDecodeError, KeyError, TypeError):
            reasons["(unreadable DLQ record)"] += 1
    grown = sum(reasons.values())
    details = {"window_s": config.window_s, "dlq_new": grown, "by_reason": dict(reasons.most_common())}
    window = f"{config.window_s / 60:.0f} min"
    if grown > config.max_dlq_growth:
        top = ", ".join(f"{reason} ×{n}" for reason, n in reasons.most_common(5))
        return Check(
            "dlq_growth",
            False,
            f"the DLQ grew by {grown} records in the last {window} (limit {config.max_dlq_growth}): {top}",
            details,
        )
    return Check("dlq_growth", True, f"the DLQ grew by {grown} records in the last {window}", details)


def check_consumer_lag(settings: Settings, config: QualityConfig) -> Check:
    """Each stage's consumer group is within the allowed lag on its input topics."""
    from pipeline import registry

    lags = {
        stage: kafka_io.group_lag(settings, settings.group(stage), [settings.topic(k) for k in sources])
        for stage, sources in ((s.name, s.sources) for s in registry.stages())
    }
    behind = {stage: lag for stage, lag in lags.items() if lag > config.max_lag}
    if behind:
        listed = ", ".join(f"{stage} {lag}" for stage, lag in behind.items())
        return Check(
            "consumer_lag",
            False,
            f"stages are behind by more than {config.max_lag} messages: {listed} "
            f"(is `newsflow worker <stage>` running? scale it up)",
            {"lag": lags},
        )
    return Check(
        "consumer_lag", True, "lag per stage: " + ", ".join(f"{s} {n}" for s, n in lags.items()), {"lag": lags}
    )


def check_freshness(settings: Settings, es: Elasticsearch, config: QualityConfig) -> Check:
    """Nothing has waited longer than the allowed staleness since the newest indexed article.

    The age of the newest indexed article alone would raise false alarms on a quiet night; this
    fails when raw articles arrived after it and have waited longer than the limit, i.e. the stream is stuck.
    """
    try:
        aggs = es.search(index=settings.index_alias, size=0, aggs={"newest": {"max": {"field": "indexed_at"}}})
        newest_ms = aggs["aggregations"]["newest"]["value"]
    except NotFoundError:
        newest_ms = None
    now = time.time()
    waiting_ms = kafka_io.first_timestamp_since(settings, settings.topic("raw"), int(newest_ms or 0))
    details = {
        "newest_indexed_age_s": None if newest_ms is None else round(now - newest_ms / 1000, 1),
        "oldest_waiting_raw_age_s": None if waiting_ms is None else round(now - waiting_ms / 1000, 1),
        "limit_s": config.max_staleness_s,
    }
    newest = (
        "nothing is indexed"
        if newest_ms is None
        else f"the newest indexed article is {_duration(now - newest_ms / 1000)} old"
    )
    if waiting_ms is not None and now - waiting_ms / 1000 > config.max_staleness_s:
        return Check(
            "freshness",
            False,
            f"{newest} and raw articles have waited {_duration(now - waiting_ms / 1000)} "
            f"(limit {_duration(config.max_staleness_s)}) behind {settings.index_alias}: "
            f"are the stage workers and the index stage running?",
            details,
        )
    waiting = "" if waiting_ms is None else f"; raw articles waiting for {_duration(now - waiting_ms / 1000)}"
    return Check("freshness", True, newest + waiting, details)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

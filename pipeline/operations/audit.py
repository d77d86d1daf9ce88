"""The ledger: every raw message ends in exactly one terminal state, reconciled per time window, incrementally.

How it works, and why it stays cheap and correct over weeks:
- The runner writes a terminal event to `news.ledger.v1` for every article it indexes (unique or
  duplicate) or dead-letters (bad input or processing), with the article's raw coordinates
  (partition, offset, broker timestamp of its `news.raw.v1` message), in the same confirmed batch as
  the outputs, before the commit.
- The audit reads only the events written since its last run (a cursor), folds them into a book:
  per raw partition the set of accounted offsets as intervals (they merge into a handful), and
  counts per class in small time buckets by the raw timestamp. The book is saved in the compacted
  topic `news.ledger-state.v1`: no scan of the raw topic or of the index, ever.
- A window (default: the last 24 h) is an offset range of the raw topic (its timestamps are the
  broker's, so they rise with offsets). Raw messages in it that no event accounts for are in flight
  when younger than the settle margin, held when a worker is held by infrastructure, and gaps
  otherwise. Messages deleted by retention are outside every window: they never count as gaps.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.operations.ledger_book import STATES, fold_events, gaps, load_book, save_book
from pipeline.records import WorkerState

log = structlog.get_logger("newsflow.audit")


# -- workers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """A stage worker that is held by infrastructure (or gave up because of it)."""

    stage: str
    worker: str
    state: str
    reason: str
    since: str
    silent_s: float


def worker_states(settings: Settings) -> list[tuple[WorkerState, float]]:
    """The last state of every worker that has not stopped cleanly, with seconds since it was written."""
    latest = kafka_io.latest_by_key(settings, settings.topic("workers"))
    now = time.time()
    out = []
    for value in latest.values():
        if value is None:
            continue
        state = WorkerState.model_validate(value)
        out.append((state, max(0.0, now - _epoch_s(state.updated_at))))
    return out


# A worker is alive while its last state is younger than three heartbeats, and never less than this: a busy
# machine delays a heartbeat by seconds, and a held worker must not read as gone (its stream as "gaps") meanwhile.
LIVE_FLOOR_S = 30.0


def alive(state: WorkerState, age: float) -> bool:
    """The worker that wrote `state` `age` seconds ago is still there."""
    return age <= max(3 * (state.heartbeat_s or 15), LIVE_FLOOR_S)


def holds(states: list[tuple[WorkerState, float]]) -> list[Hold]:
    """Workers holding the stream: held and still alive, or failed with no newer worker of their stage running."""
    running_since: dict[str, float] = {}
    for state, age in states:
        if state.state in ("running", "held") and alive(state, age):
            running_since[state.stage] = min(running_since.get(state.stage, age), age)
    out = []
    for state, age in states:
        if (state.state == "held" and alive(state, age)) or (
            state.state == "failed" and running_since.get(state.stage, 1e18) > age
        ):
            out.append(Hold(state.stage, state.worker, state.state, state.reason or "", state.since, round(age, 1)))
    return out


# -- the reconciliation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """One window of the raw topic, by terminal state; what is not accounted for, and why."""

    since: str
    until: str
    raw: int
    by_state: dict[str, int]
    in_flight: int
    overdue: int
    holds: tuple[Hold, ...] = ()
    missing: tuple[str, ...] = ()
    expired_before: str | None = None
    unattributed: dict[str, int] = field(default_factory=dict)
    events_read: int = 0

    @property
    def unique(self) -> int:
        return self.by_state.get("unique", 0)

    @property
    def duplicates(self) -> int:
        return self.by_state.get("duplicate", 0)

    @property
    def dlq_bad_input(self) -> int:
        return self.by_state.get("dlq_bad_input", 0)

    @property
    def dlq_processing(self) -> int:
        return self.by_state.get("dlq_processing", 0)

    @property
    def dlq(self) -> int:
        return self.dlq_bad_input + self.dlq_processing

    @property
    def held(self) -> int:
        """Raw messages waiting behind a held worker."""
        return self.in_flight + self.overdue if self.holds else 0

    @property
    def verdict(self) -> str:
        """gaps (real loss, exit 1), held (infrastructure, exit 2), in_flight or balanced (exit 0)."""
        if self.overdue and not self.holds:
            return "gaps"
        if self.holds:
            return "held"
        return "in_flight" if self.in_flight else "balanced"

    @property
    def balanced(self) -> bool:
        """Every raw message of the window is in exactly one terminal state, and no worker is held."""
        return self.verdict == "balanced"

    @property
    def exit_code(self) -> int:
        return {"gaps": 1, "held": 2}.get(self.verdict, 0)

    def summary(self) -> str:
        """`raw N = unique a + duplicates b + DLQ c` (+ what is open)."""
        text = f"raw {self.raw} = unique {self.unique} + duplicates {self.duplicates} + DLQ {self.dlq}"
        open_ = self.in_flight + self.overdue
        if open_:
            text += f" + {open_} open ({self.in_flight} in flight, {self.overdue} overdue)"
        return text

    def to_dict(self) -> dict:
        """For `--json`, status and the quality DAG."""
        return {
            "window": {"since": self.since, "until": self.until, "expired_before": self.expired_before},
            "verdict": self.verdict,
            "balanced": self.balanced,
            "raw": self.raw,
            "unique": self.unique,
            "duplicates": self.duplicates,
            "dlq_bad_input": self.dlq_bad_input,
            "dlq_processing": self.dlq_processing,
            "dlq": self.dlq,
            "in_flight": self.in_flight,
            "overdue": self.overdue,
            "held": self.held,
            "holds": [h.__dict__ for h in self.holds],
            "missing": list(self.missing[:100]),
            "missing_count": self.in_flight + self.overdue,
            "unattributed": self.unattributed,
            "events_read": self.events_read,
        }


def compute_ledger(
    settings: Settings,
    es: object = None,
    *,
    window_s: float | None = None,
    settle_s: float | None = None,
) -> Ledger:
    """Fold in new terminal events, save the book, and reconcile the window (default NEWSFLOW_AUDIT_*).

    `es` is accepted for callers of the earlier, scanning ledger; the audit no longer reads the index.
    """
    window_s = settings.audit_window_s if window_s is None else window_s
    settle_s = settings.audit_settle_s if settle_s is None else settle_s
    bucket_ms = int(settings.audit_bucket_s * 1000)
    contracts = Contracts()
    book = load_book(settings)
    read = fold_events(settings, book)
    now_ms = int(time.time() * 1000)
    since_ms = (now_ms - int(window_s * 1000)) // bucket_ms * bucket_ms

    c = kafka_io.consumer(settings, None)
    try:
        raw_topic = settings.topic("raw")
        retained = kafka_io.offsets_between(c, raw_topic)
        log_starts = {r.partition: r.log_start for r in retained}
        whole = book.first_whole_bucket(log_starts)
        expired_before = None
        if whole is not None and whole * bucket_ms > since_ms:
            # Retention deleted part of the window: it starts at the first time bucket that is wholly retained.
            since_ms = whole * bucket_ms
            expired_before = _iso(since_ms)
        window = kafka_io.offsets_between(c, raw_topic, since_ms)
        settled = {r.partition: r.start for r in kafka_io.offsets_between(c, raw_topic, now_ms - int(settle_s * 1000))}
    finally:
        c.close()

    keep_ms = max(window_s, 8 * 86400) * 1000  # counts older than any window asked for are dropped
    book.prune(log_starts, oldest_bucket=int((now_ms - keep_ms) // bucket_ms))
    save_book(settings, book, contracts)

    raw = in_flight = overdue = 0
    missing: list[str] = []
    for r in window:
        raw += r.end - r.start
        boundary = max(r.start, min(settled.get(r.partition, r.end), r.end))
        for a, b in gaps(book.accounted.get(r.partition, []), r.start, r.end):
            old = max(0, min(b, boundary) - a)
            overdue += old
            in_flight += (b - a) - old
            missing.extend(f"{raw_topic}:{r.partition}:{o}" for o in range(a, min(b, a + 100 - len(missing))))
    by_state: Counter[str] = Counter()
    for bucket, counts in book.buckets.items():
        if bucket * bucket_ms >= since_ms:
            by_state.update(counts)
    found_holds = holds(worker_states(settings))
    ledger = Ledger(
        since=_iso(since_ms),
        until=_iso(now_ms),
        raw=raw,
        by_state={s: by_state.get(s, 0) for s in STATES},
        in_flight=in_flight,
        overdue=overdue,
        holds=tuple(found_holds),
        missing=tuple(missing[:100]),
        expired_before=expired_before,
        unattributed=dict(book.unattributed),
        events_read=read,
    )
    log.debug(
        "audit",
        verdict=ledger.verdict,
        events_read=read,
        **{k: v for k, v in ledger.to_dict().items() if k in ("raw", "in_flight", "overdue")},
    )
    return ledger


def _epoch_s(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

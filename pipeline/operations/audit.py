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

import bisect
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import structlog

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.kafka_io import Outgoing
from pipeline.records import LedgerEvent, WorkerState, utc_now

log = structlog.get_logger("newsflow.audit")

STATES = ("unique", "duplicate", "dlq_bad_input", "dlq_processing")
BOOK_KEY = "ledger"


# -- offset intervals ------------------------------------------------------------------------------


def add_offset(intervals: list[list[int]], offset: int) -> bool:
    """Add `offset` to sorted, disjoint [start, end) intervals, merging neighbours; False if it was there."""
    i = bisect.bisect_right(intervals, [offset, float("inf")]) - 1
    if i >= 0 and intervals[i][0] <= offset < intervals[i][1]:
        return False
    joins_left = i >= 0 and intervals[i][1] == offset
    joins_right = i + 1 < len(intervals) and intervals[i + 1][0] == offset + 1
    if joins_left and joins_right:
        intervals[i][1] = intervals[i + 1][1]
        del intervals[i + 1]
    elif joins_left:
        intervals[i][1] = offset + 1
    elif joins_right:
        intervals[i + 1][0] = offset
    else:
        intervals.insert(i + 1, [offset, offset + 1])
    return True


def gaps(intervals: list[list[int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) that the intervals do not cover."""
    out, cursor = [], start
    for a, b in intervals:
        if b <= cursor:
            continue
        if a >= end:
            break
        if a > cursor:
            out.append((cursor, min(a, end)))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return out


def clip(intervals: list[list[int]], start: int) -> list[list[int]]:
    """The intervals from `start` on (what retention has deleted needs no accounting any more)."""
    return [[max(a, start), b] for a, b in intervals if b > start]


# -- the book --------------------------------------------------------------------------------------


@dataclass
class Book:
    """What the audit has folded in so far; saved in news.ledger-state.v1."""

    raw_topic: str
    cursor: dict[int, int] = field(default_factory=dict)
    accounted: dict[int, list[list[int]]] = field(default_factory=dict)
    buckets: dict[int, Counter] = field(default_factory=dict)
    dead_lettered: dict[str, list] = field(default_factory=dict)
    unattributed: Counter = field(default_factory=Counter)
    lows: dict[int, dict[int, int]] = field(default_factory=dict)  # bucket -> partition -> lowest raw offset

    def apply(self, event: LedgerEvent, bucket_s: float) -> None:
        """Fold one terminal event in; a repeated event (re-delivery, re-translation) changes nothing,
        and an article indexed after it was dead-lettered (a DLQ replay) moves to its new state."""
        raw = event.raw
        if raw is None:
            self.unattributed[event.state] += 1
            return
        bucket = int(raw.timestamp // (bucket_s * 1000))
        where = f"{raw.partition}:{raw.offset}"
        if add_offset(self.accounted.setdefault(raw.partition, []), raw.offset):
            self.buckets.setdefault(bucket, Counter())[event.state] += 1
            low = self.lows.setdefault(bucket, {})
            low[raw.partition] = min(low.get(raw.partition, raw.offset), raw.offset)
            if event.state.startswith("dlq"):
                self.dead_lettered[where] = [bucket, event.state]
        elif where in self.dead_lettered and not event.state.startswith("dlq"):
            old_bucket, old_state = self.dead_lettered.pop(where)
            self.buckets[old_bucket][old_state] -= 1
            self.buckets[old_bucket][event.state] += 1

    def prune(self, log_starts: dict[int, int], oldest_bucket: int) -> None:
        """Forget what retention has deleted from the raw topic."""
        for partition, start in log_starts.items():
            if partition in self.accounted:
                self.accounted[partition] = clip(self.accounted[partition], start)
        self.buckets = {b: c for b, c in self.buckets.items() if b >= oldest_bucket}
        self.lows = {b: low for b, low in self.lows.items() if b >= oldest_bucket}
        self.dead_lettered = {
            k: v
            for k, v in self.dead_lettered.items()
            if int(k.split(":")[1]) >= log_starts.get(int(k.split(":")[0]), 0)
        }

    def to_wire(self) -> dict:
        """The checkpoint record."""
        return {
            "raw_topic": self.raw_topic,
            "cursor": {str(p): o for p, o in self.cursor.items()},
            "accounted": {str(p): iv for p, iv in self.accounted.items()},
            "buckets": {str(b): {s: n for s, n in c.items() if n} for b, c in self.buckets.items()},
            "dead_lettered": self.dead_lettered,
            "unattributed": dict(self.unattributed),
            "lows": {str(b): {str(p): o for p, o in low.items()} for b, low in self.lows.items()},
            "updated_at": utc_now(),
        }

    @classmethod
    def from_wire(cls, data: dict) -> Book:
        """The inverse of `to_wire`."""
        return cls(
            raw_topic=data["raw_topic"],
            cursor={int(p): o for p, o in data["cursor"].items()},
            accounted={int(p): [list(i) for i in iv] for p, iv in data["accounted"].items()},
            buckets={int(b): Counter(c) for b, c in data["buckets"].items()},
            dead_lettered=dict(data.get("dead_lettered") or {}),
            unattributed=Counter(data.get("unattributed") or {}),
            lows={int(b): {int(p): o for p, o in low.items()} for b, low in (data.get("lows") or {}).items()},
        )

    def first_whole_bucket(self, log_starts: dict[int, int]) -> int | None:
        """The bucket after the last one that retention has cut into (some of its raw messages deleted)."""
        cut = [b for b, low in self.lows.items() if any(o < log_starts.get(p, 0) for p, o in low.items())]
        return max(cut) + 1 if cut else None


def load_book(settings: Settings) -> Book:
    """The latest checkpoint, or an empty book."""
    latest = kafka_io.latest_by_key(settings, settings.topic("ledger-state")).get(BOOK_KEY)
    raw_topic = settings.topic("raw")
    return Book.from_wire(latest) if latest and latest.get("raw_topic") == raw_topic else Book(raw_topic)


def save_book(settings: Settings, book: Book, contracts: Contracts) -> None:
    """Write the checkpoint, confirmed."""
    producer = kafka_io.producer(settings)
    try:
        wire = contracts.validate("ledger-state", book.to_wire())
        kafka_io.send_confirmed(producer, [Outgoing(settings.topic("ledger-state"), BOOK_KEY, wire)])
    finally:
        producer.close()


def fold_events(settings: Settings, book: Book) -> int:
    """Fold in the terminal events written since the book's cursor; returns how many."""
    n = 0
    for record in kafka_io.read_from(settings, settings.topic("ledger"), book.cursor):
        book.cursor[record.partition] = record.offset + 1
        try:
            event = LedgerEvent.model_validate(orjson.loads(record.value))
        except ValueError:
            book.unattributed["unreadable"] += 1
            continue
        book.apply(event, settings.audit_bucket_s)
        n += 1
    return n


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


def holds(states: list[tuple[WorkerState, float]]) -> list[Hold]:
    """Workers holding the stream: held and still alive, or failed with no newer worker of their stage running."""
    running_since: dict[str, float] = {}
    for state, age in states:
        if state.state in ("running", "held") and age <= 3 * (state.heartbeat_s or 15):
            running_since[state.stage] = min(running_since.get(state.stage, age), age)
    out = []
    for state, age in states:
        alive = age <= 3 * (state.heartbeat_s or 15)
        if (state.state == "held" and alive) or (
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
    log.info(
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

"""The audit's book: which raw offsets are accounted for (as intervals), and counts per class per time bucket.

Saved in the compacted news.ledger-state.v1 and folded forward from news.ledger.v1 by `fold_events`.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

import orjson

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.kafka_io import Outgoing
from pipeline.records import LedgerEvent, utc_now

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

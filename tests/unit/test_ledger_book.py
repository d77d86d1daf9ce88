"""The audit's book: accounted offsets as intervals, counts by class, idempotent under re-delivery."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from pipeline.operations.audit import Hold, Ledger, holds
from pipeline.operations.ledger_book import Book, add_offset, clip, gaps
from pipeline.records import LedgerEvent, RawOrigin, WorkerState


def _event(offset: int, state: str = "unique", partition: int = 0, ts: int = 1_700_000_000_000) -> LedgerEvent:
    return LedgerEvent(
        article_id=None, state=state, stage="index", raw=RawOrigin(partition=partition, offset=offset, timestamp=ts)
    )


@given(st.lists(st.integers(min_value=0, max_value=300), max_size=200))
def test_intervals_hold_exactly_the_offsets_added(offsets: list[int]) -> None:
    intervals: list[list[int]] = []
    for o in offsets:
        add_offset(intervals, o)
    covered = {o for a, b in intervals for o in range(a, b)}
    assert covered == set(offsets)
    assert all(a < b for a, b in intervals)
    assert all(intervals[i][1] < intervals[i + 1][0] for i in range(len(intervals) - 1)), "neighbours merge"
    missing = {o for a, b in gaps(intervals, 0, 301) for o in range(a, b)}
    assert missing == set(range(301)) - set(offsets)


def test_a_contiguous_stream_is_one_interval_whatever_the_order() -> None:
    offsets = list(range(10_000))
    random.Random(7).shuffle(offsets)
    intervals: list[list[int]] = []
    for o in offsets:
        add_offset(intervals, o)
    assert intervals == [[0, 10_000]]
    assert clip(intervals, 9_000) == [[9_000, 10_000]]


def test_repeated_events_count_once_and_a_replayed_dlq_record_moves_to_indexed() -> None:
    book = Book("news.raw.v1")
    for event in (_event(0), _event(0), _event(1, "duplicate"), _event(2, "dlq_bad_input")):
        book.apply(event, bucket_s=60)
    (counts,) = book.buckets.values()
    assert dict(counts) == {"unique": 1, "duplicate": 1, "dlq_bad_input": 1}
    book.apply(_event(2, "unique"), bucket_s=60)  # indexed after `newsflow dlq replay` of an internal record
    assert {k: v for k, v in counts.items() if v} == {"unique": 2, "duplicate": 1}
    assert Book.from_wire(book.to_wire()).buckets == book.buckets


def test_retention_prunes_what_was_deleted() -> None:
    book = Book("news.raw.v1")
    for o in range(10):
        book.apply(_event(o, "dlq_processing" if o == 3 else "unique"), bucket_s=60)
    book.prune({0: 5}, oldest_bucket=0)
    assert book.accounted[0] == [[5, 10]]
    assert book.dead_lettered == {}


def _ledger(**changes) -> Ledger:
    base = dict(since="", until="", raw=10, by_state={"unique": 10}, in_flight=0, overdue=0)
    return Ledger(**{**base, **changes})


def test_verdicts_tell_balanced_from_held_from_lost() -> None:
    hold = Hold("index", "index/h/1", "held", "401 Unauthorized", "2026-01-01T00:00:00Z", 1.0)
    assert (_ledger().verdict, _ledger().exit_code) == ("balanced", 0)
    assert (_ledger(in_flight=3).verdict, _ledger(in_flight=3).exit_code) == ("in_flight", 0)
    assert (_ledger(overdue=2).verdict, _ledger(overdue=2).exit_code) == ("gaps", 1)
    held = _ledger(overdue=2, in_flight=1, holds=(hold,))
    assert (held.verdict, held.exit_code, held.held, held.balanced) == ("held", 2, 3, False)
    assert not _ledger(holds=(hold,)).balanced, "a held worker is never balanced, even with nothing waiting"


def test_a_failed_worker_holds_until_a_newer_worker_of_its_stage_runs() -> None:
    def state(worker: str, kind: str) -> WorkerState:
        return WorkerState(
            stage="index", worker=worker, state=kind, reason="401", since="2026-01-01T00:00:00Z", heartbeat_s=15
        )

    assert [h.worker for h in holds([(state("a", "failed"), 500.0)])] == ["a"]
    assert holds([(state("a", "failed"), 500.0), (state("b", "running"), 2.0)]) == []
    assert holds([(state("a", "held"), 500.0)]) == [], "a held worker that went silent was killed: not holding"


def test_a_late_heartbeat_on_a_busy_machine_does_not_end_a_hold() -> None:
    fast = WorkerState(
        stage="index", worker="w", state="held", reason="401", since="2026-01-01T00:00:00Z", heartbeat_s=1
    )
    assert [h.worker for h in holds([(fast, 12.0)])] == ["w"], "three heartbeats of 1 s, but never under 30 s"
    assert holds([(fast, 31.0)]) == []


def test_the_window_starts_after_the_last_bucket_retention_cut_into() -> None:
    book = Book("news.raw.v1")
    minute = 60_000
    for offset, ts in ((0, 0), (1, 0), (2, minute), (3, minute), (4, 2 * minute)):
        book.apply(_event(offset, ts=1_700_000_000_000 // minute * minute + ts), bucket_s=60)
    first = min(book.buckets)
    assert book.first_whole_bucket({0: 0}) is None, "nothing deleted"
    assert book.first_whole_bucket({0: 2}) == first + 1, "the first bucket went whole: the next is the start"
    assert book.first_whole_bucket({0: 3}) == first + 2, "a bucket cut in half is left out"

"""The next poll's size follows the stage's pace: about `target_s` of work, never more than the cap."""

from __future__ import annotations

from pipeline.batching import AdaptiveBatch


def test_a_small_first_batch_until_the_pace_is_known() -> None:
    assert (AdaptiveBatch(100, 2.0).size, AdaptiveBatch(5, 2.0).size) == (10, 1)


def test_a_slow_stage_asks_for_about_target_seconds_of_work() -> None:
    batch = AdaptiveBatch(100, 2.0)
    batch.observe(100, 8.0)  # 80 ms an article, like enrich
    assert batch.size == 25


def test_a_fast_stage_keeps_the_cap_and_a_very_slow_one_takes_one() -> None:
    fast, slow = AdaptiveBatch(100, 2.0), AdaptiveBatch(100, 2.0)
    fast.observe(100, 0.5)
    slow.observe(1, 30.0)
    assert (fast.size, slow.size) == (100, 1)


def test_the_pace_is_smoothed_so_one_odd_batch_does_not_swing_it() -> None:
    batch = AdaptiveBatch(100, 2.0)
    batch.observe(20, 2.0)  # 100 ms
    batch.observe(20, 0.2)  # one fast batch: 10 ms
    assert 25 <= batch.size < 100


def test_target_zero_always_asks_for_the_cap() -> None:
    batch = AdaptiveBatch(100, 0.0)
    batch.observe(10, 50.0)
    assert batch.size == 100

"""Library log lines are rate-limited: a broker restart does not bury newsflow's own lines."""

from __future__ import annotations

import logging
import random

from pipeline.logs import RateLimit


def _record(msg: str = "Connect attempt to %s returned error %s") -> logging.LogRecord:
    return logging.LogRecord("kafka.conn", logging.ERROR, __file__, 1, msg, ("broker", 111), None)


def test_a_repeated_line_passes_a_few_times_a_period_then_says_how_many_were_dropped() -> None:
    now = [0.0]
    limit = RateLimit(burst=3, period_s=60, clock=lambda: now[0])
    passed = [limit.filter(_record()) for _ in range(100)]
    assert passed.count(True) == 3
    assert limit.filter(_record("another template %s %s")), "other lines are counted apart"
    now[0] = 61.0
    first = _record()
    assert limit.filter(first) and first.suppressed == 97


def test_repeats_that_differ_only_in_numbers_or_object_addresses_share_one_template() -> None:
    limit = RateLimit(burst=2, period_s=60, clock=lambda: 0.0)
    lines = [
        f"Task <kafka.net.selector.Task object at 0x7f{i:010x}> ran for 0.{i % 900 + 100}s (>0.100s threshold)"
        for i in range(50)
    ]
    assert [limit.filter(_record(line)) for line in lines].count(True) == 2


def test_no_span_of_one_period_holds_more_than_two_bursts_of_a_template() -> None:
    """The bound the outage drill checks on the real log, for a flood that comes in bursts at random moments."""
    rng = random.Random(7)
    now = [0.0]
    limit = RateLimit(burst=5, period_s=60, clock=lambda: now[0])
    passed = []
    for at in sorted(rng.uniform(0, 600) for _ in range(3000)):
        now[0] = at
        if limit.filter(_record()):
            passed.append(at)
    densest = max(sum(1 for t in passed if start <= t < start + 60) for start in passed)
    assert 5 < densest <= 2 * 5, "a span can straddle two windows, never three"
    assert len(passed) <= 5 * 10

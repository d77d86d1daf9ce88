"""How many messages a worker asks for in its next poll: sized so that a batch takes about a target time.

A poll already adapts to the load (it returns what is there, up to the cap). The cap adapts to the stage: a
stage that takes 80 ms an article (enrich) asks for ~25 at a time with a 2 s target, one that takes 5 ms asks
for the full NEWSFLOW_BATCH_SIZE. Under a backlog the next stage then starts on the first articles seconds
sooner, and the partitions' work spreads over a stage's workers instead of ending on one big batch.
"""

from __future__ import annotations

SMOOTHING = 0.3  # weight of the newest batch in the running time per message
FIRST_BATCH_SHARE = 10  # the first poll asks for largest // 10


class AdaptiveBatch:
    """The next poll's `max_records`, from the seconds per message of the batches so far."""

    def __init__(self, largest: int, target_s: float) -> None:
        self.largest = largest
        self.target_s = target_s
        self.per_message_s: float | None = None

    @property
    def size(self) -> int:
        """At most `largest`; `target_s` worth of messages at the measured pace; a tenth of `largest` until the
        pace is measured, so that the next stages start on a backlog's first articles soon."""
        if not self.target_s:
            return self.largest
        if not self.per_message_s:
            return max(1, self.largest // FIRST_BATCH_SHARE)
        return max(1, min(self.largest, int(self.target_s / self.per_message_s)))

    def observe(self, messages: int, seconds: float) -> None:
        """One batch of `messages` took `seconds` (processing, produce and commit)."""
        if messages <= 0 or seconds <= 0:
            return
        pace = seconds / messages
        self.per_message_s = (
            pace if self.per_message_s is None else SMOOTHING * pace + (1 - SMOOTHING) * self.per_message_s
        )

"""The error policy at work inside a stage worker: retry, hold, recover, give up — and say so.

`Guard.run(action)` runs one step of the worker (process and produce a batch, commit, restore state):
- transient failures are retried with exponential backoff and jitter; when the failing service is not
  even listening, the wait ends as soon as it listens again;
- infrastructure failures hold the worker: one ERROR saying why, `held` in news.workers.v1, and after
  NEWSFLOW_FATAL_AFTER_S a FatalError (the worker exits 3);
- the first failure logs one WARNING, the first success after it one INFO `recovered after N s`;
- anything else (bad input is dealt with before; a processing bug past the breaker) propagates.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pipeline.config import Settings
from pipeline.errors import FailureClass, FatalError, ProcessingBreakerOpen, classify
from pipeline.kafka_io import Outgoing, Publisher
from pipeline.records import WorkerState, utc_now
from pipeline.retry import Backoff, listening, wait_unless

T = TypeVar("T")


class StopRequested(Exception):
    """The worker was asked to stop while waiting to retry; nothing was committed."""


@dataclass
class Trouble:
    """An ongoing failure: since when, of which class, and why."""

    klass: FailureClass
    since: float
    reason: str
    dependency: str
    attempts: int = 0


class WorkerStatus:
    """What this worker is doing, in the compacted news.workers.v1 (key `<stage>/<host>/<pid>`): best effort,
    never blocking the stream. `status` and the audit read it to tell "held" from "balanced"."""

    def __init__(self, stage: str, settings: Settings, publisher: Publisher) -> None:
        self.stage, self.settings, self.publisher = stage, settings, publisher
        self.topic = settings.topic("workers")
        self.worker_id = f"{stage}/{socket.gethostname()}/{os.getpid()}"
        self.started_at = utc_now()
        self._last = float("-inf")

    def due(self) -> bool:
        """A heartbeat is due."""
        return time.monotonic() - self._last >= self.settings.heartbeat_s

    def publish(
        self, state: str, reason: str | None = None, dependency: str | None = None, since_s: float | None = None
    ) -> None:
        """Write the worker's state now; `since_s` is how long it has been in it (default: since start)."""
        self._last = time.monotonic()
        since = self.started_at if since_s is None else _iso_ago(since_s)
        record = WorkerState(
            stage=self.stage,
            worker=self.worker_id,
            state=state,
            reason=reason,
            dependency=dependency or None,
            since=since,
            heartbeat_s=self.settings.heartbeat_s,
        )
        self.publisher.post(Outgoing(self.topic, self.worker_id, record.to_wire()))

    def clear(self) -> None:
        """A clean stop: this worker no longer holds anything."""
        self.publisher.post(Outgoing(self.topic, self.worker_id, None))

    def supersede(self, states: dict[str, dict | None]) -> None:
        """A worker of this stage runs again: earlier ones of it that gave up no longer hold the stream."""
        for key, value in states.items():
            if value and value.get("stage") == self.stage and value.get("state") == "failed":
                self.publisher.post(Outgoing(self.topic, key, None))


class Guard:
    """Runs a worker's steps under the error policy; one per worker."""

    def __init__(
        self,
        stage: str,
        settings: Settings,
        stop: threading.Event,
        status: WorkerStatus,
        log,
        on_retry: Callable[[], None] = lambda: None,
    ) -> None:
        self.stage, self.settings, self.stop, self.status, self.log = stage, settings, stop, status, log
        self.on_retry = on_retry
        self.trouble: Trouble | None = None
        self.failed = False
        self.held_s = 0.0
        self._rng = random.Random()
        self._backoff = Backoff(settings.retry_backoff_initial_s, settings.retry_backoff_max_s)

    @property
    def held(self) -> bool:
        """Held by infrastructure right now."""
        return self.trouble is not None and self.trouble.klass is FailureClass.INFRASTRUCTURE

    def run(self, action: Callable[[], T]) -> T:
        """`action()`, retried or held as its failures' class says; returns what it returned."""
        while True:
            try:
                result = action()
            except Exception as exc:
                klass = classify(exc)
                if klass not in (FailureClass.TRANSIENT, FailureClass.INFRASTRUCTURE):
                    if isinstance(exc, ProcessingBreakerOpen):
                        self.fail(str(exc))
                    raise
                self._wait_out(exc, klass)
                continue
            if self.trouble is not None:
                self._recovered()
            return result

    def heartbeat(self) -> None:
        """Refresh this worker's state when due (also while held)."""
        if self.status.due():
            trouble = self.trouble
            if trouble is not None and trouble.klass is FailureClass.INFRASTRUCTURE:
                self.status.publish("held", trouble.reason, trouble.dependency, time.monotonic() - trouble.since)
            else:
                self.status.publish("running")

    def fail(self, reason: str) -> None:
        """Give up: say why, and leave `failed` in news.workers.v1 until a new worker of this stage runs."""
        self.failed = True
        self.log.error("stopping: " + reason)
        self.status.publish("failed", reason, self.trouble.dependency if self.trouble else None)
        self.status.publisher.flush(timeout_s=5)

    def _wait_out(self, exc: Exception, klass: FailureClass) -> None:
        """Note the failure (one line when it starts), back off, and give up when the policy says so."""
        now = time.monotonic()
        dependency = getattr(exc, "dependency", "")
        reason = str(exc)[:500] or type(exc).__name__
        if self.trouble is None or self.trouble.klass is not klass:
            self.trouble = Trouble(klass, now, reason, dependency)
            if klass is FailureClass.INFRASTRUCTURE:
                self.log.error(
                    "held: infrastructure or configuration failure; not dead-lettering anything",
                    error=reason,
                    dependency=dependency,
                    fatal_after_s=self.settings.fatal_after_s,
                )
                self.status.publish("held", reason, dependency, 0.0)
            else:
                self.log.warning("dependency unavailable, retrying with backoff", error=reason, dependency=dependency)
        trouble = self.trouble
        trouble.attempts += 1
        trouble.reason = reason
        self.on_retry()
        self.log.debug("retrying", error=reason, attempt=trouble.attempts)
        if klass is FailureClass.INFRASTRUCTURE:
            fatal = self.settings.fatal_after_s
            if fatal and now - trouble.since >= fatal:
                self.fail(f"held for {now - trouble.since:.0f}s (NEWSFLOW_FATAL_AFTER_S={fatal:g}): {reason}")
                raise FatalError(f"{self.stage}: held for {now - trouble.since:.0f}s by: {reason}") from exc
        elif self.settings.retry_max_attempts and trouble.attempts >= self.settings.retry_max_attempts:
            raise exc
        wait = self._backoff.delay(trouble.attempts - 1, self._rng)
        # When the failing service is not even listening, retry as soon as it listens again.
        down = [a for a in self._addresses(dependency) if not listening(a)]
        started = time.monotonic()
        stopped = wait_unless(self.stop, wait, back=down)
        if klass is FailureClass.INFRASTRUCTURE:
            self.held_s += time.monotonic() - started
            self.heartbeat()
        if stopped:
            raise StopRequested(f"{self.stage}: stopped while retrying; batch not committed") from exc

    def _recovered(self) -> None:
        trouble, self.trouble = self.trouble, None
        if trouble is None:
            return
        self.log.info(
            f"recovered after {time.monotonic() - trouble.since:.1f} s",
            dependency=trouble.dependency,
            failure=trouble.klass.value,
            attempts=trouble.attempts,
            error=trouble.reason[:300],
        )
        if trouble.klass is FailureClass.INFRASTRUCTURE:
            self.status.publish("running")

    def _addresses(self, dependency: str) -> list[str]:
        if dependency == "kafka":
            return [a.strip() for a in self.settings.bootstrap_servers.split(",") if a.strip()]
        if dependency == "elasticsearch":
            return [self.settings.es_url]
        return []


def _iso_ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

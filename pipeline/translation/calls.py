"""How the stage calls a provider: a deadline on every call, a request rate, backoff, and a breaker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from pipeline.retry import Backoff  # re-exported: the stage and its tests import it from here

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], None]
__all__ = ["Backoff", "CircuitBreaker", "DeadlineExceeded", "RateLimiter", "call_with_deadline", "socket_timeout"]


CALL_THREAD_NAME = "translate-call"
# How long past a call's deadline its HTTP requests may still wait on their socket: the deadline answers
# the caller first, and the thread it leaves behind ends by itself within this.
SOCKET_GRACE_S = 1.0


class DeadlineExceeded(TimeoutError):
    """The provider did not answer within the deadline."""


def socket_timeout(deadline_s: float) -> float:
    """The socket timeout for the HTTP requests of a call with this deadline: just past it."""
    return deadline_s + SOCKET_GRACE_S


def call_with_deadline(fn: Callable[[], T], timeout_s: float) -> T:
    """`fn()` in a daemon thread; raise `DeadlineExceeded` if it has not returned after `timeout_s`.

    The caller moves on at the deadline; the thread is left to finish. It ends by itself only if `fn`
    cannot block for ever: the provider client gives every request a socket timeout (`socket_timeout`),
    without which each hung call would keep one thread (a daemon, so it never held up the exit).
    """
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller as is
            done.set_exception(exc)

    threading.Thread(target=run, name=CALL_THREAD_NAME, daemon=True).start()
    try:
        return done.result(timeout=timeout_s)
    except TimeoutError:
        if done.done():  # finished in the instant between the timeout and this check
            return done.result()
        raise DeadlineExceeded(f"no answer within {timeout_s:g}s") from None


class RateLimiter:
    """At most `per_second` requests started per second, evenly spaced, shared by all threads."""

    def __init__(self, per_second: float | None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this caller's request slot comes."""
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)  # pacing requests is the point: this wait is the rate limit


class CircuitBreaker:
    """After `threshold` failures in a row, calls fail fast for `cooldown_s`: a dead provider costs no waiting."""

    def __init__(self, threshold: int = 5, cooldown_s: float = 60.0, clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self.last_error = ""
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        """Whether calls should be skipped now."""
        return self.threshold > 0 and self._clock() < self._open_until

    def record(self, ok: bool, error: str = "") -> None:
        """Note a call's outcome (a call that exhausted its retries counts as one failure)."""
        with self._lock:
            if ok:
                self._failures = 0
                return
            self._failures += 1
            self.last_error = error
            if self.threshold and self._failures >= self.threshold:
                self._open_until = self._clock() + self.cooldown_s
                self._failures = 0

"""Waiting well: exponential backoff with jitter, and a probe that cuts a wait short when a service is back."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of `initial_s * 2**n`, capped."""

    initial_s: float = 0.5
    max_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        ceiling = min(self.max_s, self.initial_s * 2**attempt)
        return ceiling * (0.5 + rng.random() / 2)


def listening(address: str, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections at `host:port` or at a URL's host and port."""
    if "://" in address:
        parts = urlsplit(address)
        host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
    else:
        host, _, port_text = address.rpartition(":")
        host, port = host.strip("[]") or "127.0.0.1", int(port_text)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_unless(stop: threading.Event, seconds: float, back: list[str] | None = None, slice_s: float = 1.0) -> bool:
    """Wait up to `seconds`, returning early when one of the `back` addresses listens again (a service that
    restarted); True when `stop` was set meanwhile."""
    remaining = seconds
    while remaining > 0:
        step = min(slice_s, remaining)
        if stop.wait(step):
            return True
        remaining -= step
        if back and remaining > 0 and all(listening(a) for a in back):
            return False
    return stop.is_set()

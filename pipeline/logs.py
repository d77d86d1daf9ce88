"""Structured logs: one JSON object per line on stderr, with `article_id` where there is one."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from typing import TextIO, cast

import structlog


class _CurrentStderr:
    """Whatever `sys.stderr` is at the time of writing (a captured or replaced stream is never kept)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


# Numbers and object addresses vary between repeats of one message ("Task <... object at 0x7fba51d014d0> ran for
# 0.185s"): both are folded so that the repeats share one template.
_DIGITS = re.compile(r"0x[0-9a-fA-F]+|\d+")


def template(message: str) -> str:
    """A message with its numbers and addresses folded: "failed 171 times" ~ "failed 172 times"."""
    return _DIGITS.sub("#", message)


class RateLimit(logging.Filter):
    """At most `burst` lines per `period_s` for each (logger, level, message template); the next line let
    through says how many were dropped. A broker restart makes kafka-python repeat itself hundreds of times."""

    def __init__(self, burst: int = 5, period_s: float = 60.0, clock=time.monotonic) -> None:
        super().__init__()
        self.burst, self.period_s, self.clock = burst, period_s, clock
        self._seen: dict[tuple, list] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, template(str(record.msg)))
        now = self.clock()
        with self._lock:
            window = self._seen.get(key)
            if window is None or now - window[0] >= self.period_s:
                suppressed = window[2] if window else 0
                self._seen[key] = [now, 1, 0]
                if len(self._seen) > 10_000:  # many distinct templates: forget the oldest windows
                    self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.period_s}
            else:
                window[1] += 1
                if window[1] > self.burst:
                    window[2] += 1
                    return False
                suppressed = 0
        if suppressed:
            record.suppressed = suppressed
        return True


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Set up structlog once, at the edge (CLI or DAG task)."""
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    # Libraries' stdlib logging (kafka-python, elasticsearch, urllib3) as the same JSON lines, warnings and up,
    # each repeated line at most a few times a minute.
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[
                structlog.stdlib.add_logger_name,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.stdlib.ExtraAdder(allow=["suppressed"]),
            ],
        )
    )
    handler.addFilter(RateLimit())
    root = logging.getLogger()
    if not root.handlers:  # like logging.basicConfig: a host that set up logging (Airflow, pytest) keeps its own
        root.addHandler(handler)
        root.setLevel(logging.WARNING)

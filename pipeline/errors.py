"""The error policy: every failure belongs to one class, and the class alone decides what happens to it.

| class | examples | what happens |
|---|---|---|
| bad input | undecodable, contract violation, per-document mapping refusal | DLQ at once |
| transient | broker unavailable, 429/5xx, timeouts | retry with backoff; no commit past it |
| per-document transient | one item's 429/5xx inside a bulk | bounded retries, then DLQ with the reason |
| infrastructure | 401/403, missing index/alias/topic, bad settings | never the DLQ: hold, say why, exit after FATAL_AFTER_S |
| processing bug | an exception in stage code | one article to the DLQ; a breaker stops the worker when many raise |

Stages, sinks and `kafka_io` raise `TransientError` or `InfrastructureError` (kafka_io and the
Elasticsearch sink turn their libraries' errors into these at their boundary); everything else that
escapes a stage is a processing bug. `classify()` is the one place that decides.
"""

from __future__ import annotations

from enum import StrEnum


class FailureClass(StrEnum):
    """What kind of failure something is; decides retry, hold, DLQ or stop."""

    BAD_INPUT = "bad_input"
    TRANSIENT = "transient"
    DOCUMENT_TRANSIENT = "document_transient"
    INFRASTRUCTURE = "infrastructure"
    PROCESSING = "processing"


class TransientError(Exception):
    """A dependency is unavailable for now (service down, 429, 5xx, timeout): retry the batch later."""

    def __init__(self, message: str, *, dependency: str = "") -> None:
        super().__init__(message)
        self.dependency = dependency


class InfrastructureError(Exception):
    """A dependency refuses us for a reason retrying alone will not fix (credentials, a missing index or
    topic, bad settings): hold the stream, tell the operator, never dead-letter the articles."""

    def __init__(self, message: str, *, dependency: str = "") -> None:
        super().__init__(message)
        self.dependency = dependency


class FatalError(Exception):
    """The worker gives up (infrastructure held for too long, or the processing breaker opened)."""


class ProcessingBreakerOpen(FatalError):
    """Too many recent articles made the stage raise: a bug, not bad input; the worker stops."""


# Errors that no isolation can help with: they say the process itself is in trouble.
_NOT_ISOLATABLE = (MemoryError, RecursionError, SystemError)


def classify(exc: BaseException) -> FailureClass:
    """The failure class of an exception raised while processing or delivering a batch."""
    if isinstance(exc, InfrastructureError):
        return FailureClass.INFRASTRUCTURE
    if isinstance(exc, TransientError):
        return FailureClass.TRANSIENT
    return FailureClass.PROCESSING


def isolatable(exc: BaseException) -> bool:
    """True when trying the articles one by one can tell a bad article from a broken process."""
    return isinstance(exc, Exception) and not isinstance(exc, _NOT_ISOLATABLE)


def http_status_class(status: int) -> FailureClass:
    """What an HTTP status from a dependency means for the request that got it."""
    if status in (401, 403):
        return FailureClass.INFRASTRUCTURE
    if status == 429 or status >= 500 or status in (408,):
        return FailureClass.TRANSIENT
    return FailureClass.BAD_INPUT

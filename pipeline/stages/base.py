"""What a stage is: a pure batch function from articles to results, plus its place in the flow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pipeline.errors import InfrastructureError, TransientError
from pipeline.records import Article


@dataclass(frozen=True, slots=True)
class Emit:
    """Send `article` to the topic `topic` (a topic key such as `detected`)."""

    topic: str
    article: Article


@dataclass(frozen=True, slots=True)
class Done:
    """The article reached a terminal state inside the stage (e.g. indexed); nothing to produce."""


@dataclass(frozen=True, slots=True)
class Reject:
    """The article cannot be processed: it goes to the DLQ with this reason."""

    reason: str
    error_class: str = "BadInput"
    kind: str = "bad_input"
    attempts: int = 1


Result = Emit | Done | Reject


class Stage(Protocol):
    """A step of the flow; the runner feeds it batches from `sources` and routes its results."""

    @property
    def name(self) -> str:
        """The stage's name: its consumer group and its entry in the registry."""
        ...

    @property
    def sources(self) -> tuple[str, ...]:
        """The topic keys it consumes."""
        ...

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """One result per article, in order."""
        ...


@runtime_checkable
class ReportsStats(Protocol):
    """A stage that keeps its own counters (requests, cache hits...); the runner logs them per batch."""

    @property
    def stats(self) -> object:
        """Counters (a dataclass or a mapping) logged after every batch."""
        ...


@runtime_checkable
class StatefulStage(Stage, Protocol):
    """A stage whose state lives in a compacted topic (key -> latest record; None deletes)."""

    @property
    def state_topic(self) -> str | None:
        """The topic key of its compacted state topic (None: it keeps no state in this configuration)."""
        ...

    def restore(self, items: Sequence[tuple[str, dict | None]]) -> None:
        """Apply state records, oldest first (from the topic at start, then as other workers write)."""
        ...

    def state_updates(self) -> list[tuple[str, dict | None]]:
        """State records to write with the current batch's outputs; drained on call."""
        ...


__all__ = [
    "Emit",
    "Done",
    "Reject",
    "Result",
    "Stage",
    "StatefulStage",
    "ReportsStats",
    "TransientError",
    "InfrastructureError",
]

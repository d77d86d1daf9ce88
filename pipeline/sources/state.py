"""What each source already gave: its state record in the compacted topic news.source-state.v1."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from pipeline.config import Settings

log = structlog.get_logger("newsflow.sources")


@dataclass(frozen=True)
class SourceState:
    """What a source already gave: item keys with when first seen, and HTTP validators per URL."""

    source: str
    seen: dict[str, str] = field(default_factory=dict)
    validators: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_wire(self) -> dict:
        """The state record (value of the compacted state topic, key = source name)."""
        return {
            "source": self.source,
            "seen": self.seen,
            "validators": self.validators,
            "updated_at": datetime.now(UTC).isoformat(),
        }

    @classmethod
    def from_wire(cls, data: dict) -> SourceState:
        """The inverse of `to_wire`."""
        return cls(
            source=data["source"], seen=dict(data.get("seen") or {}), validators=dict(data.get("validators") or {})
        )


def load_state(settings: Settings, source: str) -> SourceState:
    """The latest state of a source from the compacted topic (empty when it has none)."""
    from pipeline import kafka_io

    latest = kafka_io.latest_by_key(settings, settings.topic("source-state")).get(source)
    return SourceState.from_wire(latest) if latest else SourceState(source)

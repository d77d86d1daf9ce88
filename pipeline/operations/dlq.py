"""The dead-letter queue for operators: list its records, replay the originals to where they came from."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import structlog

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.kafka_io import Outgoing
from pipeline.records import DlqRecord

log = structlog.get_logger("newsflow.operations")


def dlq_records(settings: Settings) -> Iterator[tuple[int, int, DlqRecord]]:
    """Every DLQ record with its partition and offset."""
    for r in kafka_io.read_topic(settings, settings.topic("dlq")):
        yield r.partition, r.offset, DlqRecord.model_validate(orjson.loads(r.value))


def replay_dlq(
    settings: Settings, *, stage: str | None = None, error_class: str | None = None, dry_run: bool = False
) -> list[DlqRecord]:
    """Produce the original bytes of matching DLQ records back to the topic they came from.

    The DLQ keeps them (Kafka is append-only); an article that is then indexed counts as indexed in the audit.
    """
    chosen = [
        rec
        for _, _, rec in dlq_records(settings)
        if (stage is None or rec.stage == stage) and (error_class is None or rec.error.class_ == error_class)
    ]
    if chosen and not dry_run:
        kafka_io.produce_confirmed(
            settings, [Outgoing(rec.source.topic, rec.source.key, rec.payload.original()) for rec in chosen]
        )
    return chosen

"""The index step: enriched articles and duplicates into a document store (Elasticsearch) through a sink."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipeline.records import Article
from pipeline.stages.base import Done, Reject, Result


class Refused(Protocol):
    """Why the store did not take one document."""

    @property
    def reason(self) -> str: ...

    @property
    def error_class(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def attempts(self) -> int: ...


class DocumentSink(Protocol):
    """Writes articles by article_id; per article None (stored) or why it was refused.

    Raises TransientError when the store is unavailable and InfrastructureError when it refuses us.
    """

    def write(self, articles: Sequence[Article]) -> Sequence[Refused | None]:
        """Store the batch."""
        ...


class IndexStage:
    """Terminal step: an article is indexed, or refused (mapping, repeated failures) and sent to the DLQ."""

    name = "index"
    sources = ("enriched", "duplicates")

    def __init__(self, sink: DocumentSink) -> None:
        self.sink = sink

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Done per indexed article; Reject with the store's reason per refused one."""
        return [
            Done() if refused is None else Reject(refused.reason, refused.error_class, refused.kind, refused.attempts)
            for refused in self.sink.write(batch)
        ]

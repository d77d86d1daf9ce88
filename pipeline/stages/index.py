"""The index step: enriched articles and duplicates into Elasticsearch through the sink."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.records import Article
from pipeline.sinks.elasticsearch import ElasticsearchSink
from pipeline.stages.base import Done, Reject, Result


class IndexStage:
    """Terminal step: an article is indexed, or refused by the mapping and sent to the DLQ."""

    name = "index"
    sources = ("enriched", "duplicates")

    def __init__(self, sink: ElasticsearchSink) -> None:
        self.sink = sink

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Done per indexed article; Reject with Elasticsearch's reason per refused one."""
        return [
            Done() if error is None else Reject(error, "MappingError", "indexing") for error in self.sink.write(batch)
        ]

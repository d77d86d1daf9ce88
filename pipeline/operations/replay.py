"""`newsflow replay` and news_replay: a topic window into the next index version, the alias swapped when nothing was refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime

import orjson
import structlog
from elasticsearch import Elasticsearch

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import ContractError, Contracts
from pipeline.operations.reindex import Refused, restore_alias, write_index
from pipeline.records import Article
from pipeline.sinks.elasticsearch import ElasticsearchSink, IndexAdmin

log = structlog.get_logger("newsflow.operations")


REPLAY_SOURCES = {
    "enriched": ("enriched", "duplicates"),  # the index stage's inputs: finished records
    "raw": ("raw",),  # through the processing stages again, in this process
}


def _ms(value: str | datetime | None) -> int | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; give one (e.g. 2024-05-01T00:00:00Z)")
    return int(moment.timestamp() * 1000)


@dataclass
class ReplayReport:
    """What one replay did; `refused`: every record that is not in the new index (unreadable, or refused by it)."""

    source: str
    index: str
    previous: list[str]
    read: int = 0
    indexed: int = 0
    refused: list[Refused] = field(default_factory=list)
    swapped: bool = False
    swap_refused: bool = False  # the alias was kept on the previous index because of `refused`
    copied_back: int = 0  # documents the index workers wrote to the new index meanwhile, moved back with the alias

    def to_dict(self) -> dict:
        """For XCom and logs."""
        return {
            "source": self.source,
            "index": self.index,
            "previous": self.previous,
            "read": self.read,
            "indexed": self.indexed,
            "refused": [asdict(r) for r in self.refused],
            "swapped": self.swapped,
            "swap_refused": self.swap_refused,
            "copied_back": self.copied_back,
        }


def replay(
    settings: Settings,
    es: Elasticsearch,
    *,
    source: str = "enriched",
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    swap: bool = True,
    accept_loss: bool = False,
) -> ReplayReport:
    """Replay a topic window into the next index version, then point the alias at it.

    source `enriched` re-indexes the finished records (news.enriched.v1 + news.duplicates.v1);
    `raw` runs the window through the processing stages again first. When the window runs up to
    now and `swap` is set, the new index becomes the alias's write index before the replay starts
    (the old one stays readable), so what the index workers write meanwhile lands in it too; the
    swap then drops the old index from the alias in one atomic request (it is kept for rollback).
    A window that ends in the past gives an index of that window plus what is written after the swap.
    When a record could not be read or processed, or the new index refused it, swapping would make
    it vanish from search: unless `accept_loss`, the alias stays on (or goes back to, with what the
    index workers wrote meanwhile) the previous index, and the report lists them.
    """
    if source not in REPLAY_SOURCES:
        raise ValueError(f"source must be one of {', '.join(REPLAY_SOURCES)}, not {source!r}")
    since_ms, until_ms = _ms(since), _ms(until)
    admin = IndexAdmin(es, settings)
    admin.ensure()
    previous = list(admin.state().indices)
    previous_write = write_index(es, settings.index_alias)
    new = admin.next_index()
    es.indices.create(index=new)  # the template gives it the current mapping
    staged = swap and until_ms is None
    if staged:
        es.indices.update_aliases(
            actions=[
                *({"add": {"index": o, "alias": settings.index_alias, "is_write_index": False}} for o in previous),
                {"add": {"index": new, "alias": settings.index_alias, "is_write_index": True}},
            ]
        )
    report = ReplayReport(source, new, previous)
    sink = ElasticsearchSink(es, settings, target=new)
    contracts = Contracts()
    written: Counter[str] = Counter()  # successful writes per article: tells ours from the workers' in `new`
    try:
        for batch in _batches(_articles(settings, contracts, source, since_ms, until_ms, report), settings.batch_size):
            for article, refusal in zip(batch, sink.write(batch), strict=True):
                if refusal is None:
                    report.indexed += 1
                    written[article.article_id] += 1
                else:  # a str or the sink's refusal record: its str() is the reason
                    report.refused.append(Refused(article.article_id, str(refusal)))
                    log.warning(
                        "replayed article refused by the new index",
                        article_id=article.article_id,
                        error=str(refusal)[:300],
                    )
        es.indices.refresh(index=new)
    except BaseException:
        if staged:
            restore_alias(es, settings.index_alias, previous_write, new, written)
        raise
    if swap and report.refused and not accept_loss:
        report.swap_refused = True
        if staged:
            report.copied_back, lost = restore_alias(es, settings.index_alias, previous_write, new, written)
            report.refused += lost
    elif swap:
        admin.swap_alias(new)
        report.swapped = True
    log.info("replay", **report.to_dict())
    return report


def _articles(settings, contracts, source, since_ms, until_ms, report) -> Iterator[Article]:
    topics = REPLAY_SOURCES[source]
    if source == "raw":
        yield from _through_stages(settings, contracts, since_ms, until_ms, report)
        return
    for key in topics:
        for record in kafka_io.read_window(settings, settings.topic(key), since_ms, until_ms):
            report.read += 1
            try:
                yield Article.model_validate(contracts.validate(key, orjson.loads(record.value)))
            except (ContractError, ValueError) as exc:
                report.refused.append(_unreadable(record, exc))
                log.warning("replay skipped a record", topic=key, offset=record.offset, error=str(exc)[:300])


def _through_stages(settings, contracts, since_ms, until_ms, report) -> Iterator[Article]:
    """Raw records through detect → translate → dedup → enrich, stages built once, batch by batch."""
    from pipeline.entry import article_from_entry
    from pipeline.records import RawOrigin
    from pipeline.registry import build_stage, processing_names
    from pipeline.stages.base import Emit, Reject

    stages = [build_stage(name, settings) for name in processing_names()]
    consumed = {s for stage in stages for s in stage.sources}
    records = kafka_io.read_window(settings, settings.topic("raw"), since_ms, until_ms)
    for raw_batch in _batches(records, settings.batch_size):
        queues: dict[str, list[Article]] = {"raw": []}
        for record in raw_batch:
            report.read += 1
            try:
                obj = contracts.validate("raw", orjson.loads(record.value))
                key = record.key.decode("utf-8", "replace") if record.key else None
                origin = RawOrigin(
                    partition=record.partition, offset=record.offset, timestamp=record.timestamp, key=key
                )
                queues["raw"].append(article_from_entry(obj, origin))  # the open entry contract, as detect reads it
            except (ContractError, ValueError, TypeError) as exc:
                report.refused.append(_unreadable(record, exc))
        for stage in stages:
            batch = [a for s in stage.sources for a in queues.pop(s, [])]
            if not batch:
                continue
            for article, result in zip(batch, stage.process(batch), strict=True):
                if isinstance(result, Reject):
                    reason = f"{stage.name}: {result.error_class}: {result.reason}"
                    report.refused.append(Refused(article.article_id, reason))
                elif isinstance(result, Emit):
                    contracts.validate(result.topic, result.article.to_wire())
                    if result.topic in consumed:
                        queues.setdefault(result.topic, []).append(result.article)
                    else:
                        yield result.article
            if hasattr(stage, "state_updates"):
                stage.state_updates()  # in-memory replay: the shared state topic is not written


def _unreadable(record, exc: Exception) -> Refused:
    """A record the replay could not read, by its key (the article_id) or else its place in the topic."""
    where = f"{record.topic}:{record.partition}:{record.offset}"
    article_id = record.key.decode("utf-8", "replace") if record.key else where
    return Refused(article_id, f"unreadable record at {where}: {str(exc)[:300]}")


def _batches(items, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch

"""`newsflow reindex`: the next index version from the current one, the alias moved only when nothing was refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import structlog
from elasticsearch import Elasticsearch, helpers

from pipeline.config import Settings
from pipeline.sinks.elasticsearch import IndexAdmin

log = structlog.get_logger("newsflow.operations")


@dataclass(frozen=True)
class Refused:
    """A document that did not make it into a new index version, and why (Elasticsearch's reason, or the reader's)."""

    article_id: str
    reason: str


@dataclass
class ReindexReport:
    """What one reindex did."""

    index: str
    previous: list[str]
    copied: int = 0
    refused: list[Refused] = field(default_factory=list)
    swapped: bool = False
    copied_back: int = 0

    def to_dict(self) -> dict:
        """For `--json`, XCom and logs."""
        return asdict(self)


def reindex(settings: Settings, es: Elasticsearch, *, accept_loss: bool = False, on_progress=None) -> ReindexReport:
    """Build the next index version from the current one and move the alias to it; searches never stop.

    1. create `<alias>-v<N+1>` (the current template applies);
    2. make it the alias's write index while the old one stays readable, so documents the sink
       writes meanwhile land in the new index and are not lost;
    3. copy the old documents with `op_type=create`, which never overwrites a newer write;
    4. drop the old index from the alias in one atomic request (it is kept, for rollback).
    When the new index refused a document (its mapping) step 4 would make it vanish from search: unless
    `accept_loss`, the alias goes back to the old index instead (`restore_alias`), the new one is kept
    outside it for inspection, and the report lists the refused documents.
    Client-side scan + bulk: works on clusters without the reindex module (like the local one).
    """
    admin = IndexAdmin(es, settings)
    admin.ensure()
    old = list(admin.state().indices)
    old_write = write_index(es, settings.index_alias)
    new = admin.next_index()
    es.indices.create(index=new)
    es.indices.update_aliases(
        actions=[
            *({"add": {"index": o, "alias": settings.index_alias, "is_write_index": False}} for o in old),
            {"add": {"index": new, "alias": settings.index_alias, "is_write_index": True}},
        ]
    )
    report = ReindexReport(new, old)
    written: Counter[str] = Counter()
    try:
        for ok, item in helpers.streaming_bulk(
            es,
            (
                {"_op_type": "create", "_index": new, "_id": hit["_id"], "_source": hit["_source"]}
                for o in old
                for hit in helpers.scan(es, index=o, query={"query": {"match_all": {}}}, size=1000)
            ),
            chunk_size=settings.bulk_max_docs,
            max_chunk_bytes=settings.bulk_max_bytes,
            raise_on_error=False,
            raise_on_exception=True,
        ):
            result = item["create"]
            if ok:
                written[result["_id"]] += 1
                report.copied += 1
            elif result.get("status") != 409:  # 409: the sink already wrote a newer version here
                report.refused.append(Refused(result["_id"], _bulk_reason(result)))
            if on_progress:
                on_progress(1)
        es.indices.refresh(index=new)
    except BaseException:
        restore_alias(es, settings.index_alias, old_write, new, written)
        raise
    if report.refused and not accept_loss:
        report.copied_back, lost = restore_alias(es, settings.index_alias, old_write, new, written)
        report.refused += lost
        return report
    es.indices.update_aliases(actions=[{"remove": {"index": o, "alias": settings.index_alias}} for o in old])
    report.swapped = True
    return report


def write_index(es: Elasticsearch, alias: str) -> str | None:
    """The index the alias writes to now: the one marked so, or its only index."""
    if not es.indices.exists_alias(name=alias):
        return None
    indices = es.indices.get_alias(name=alias).body
    marked = [name for name, entry in indices.items() if entry["aliases"][alias].get("is_write_index")]
    return marked[0] if marked else (next(iter(indices)) if len(indices) == 1 else None)


def restore_alias(
    es: Elasticsearch, alias: str, old_write: str | None, new: str, written: Counter[str]
) -> tuple[int, list[Refused]]:
    """Take `new` out of the alias and make `old_write` its write index again, keeping what others wrote to `new`.

    While `new` was the write index the index workers wrote to it. A document whose version there is
    above the number of times this operation wrote it (`written`) has such a write: it is copied to
    `old_write`, unless a newer write landed there after the alias moved back (optimistic concurrency
    on `_seq_no`). Returns how many were copied back and the ones `old_write` refused.
    """
    actions: list[dict] = [{"remove": {"index": new, "alias": alias}}]
    if old_write:
        actions.append({"add": {"index": old_write, "alias": alias, "is_write_index": True}})
    es.indices.update_aliases(actions=actions)
    if not old_write:
        return 0, []
    es.indices.refresh(index=new)
    theirs = (
        hit
        for hit in helpers.scan(es, index=new, query={"query": {"match_all": {}}}, size=1000, version=True)
        if hit["_version"] > written[hit["_id"]]
    )
    copied, refused = 0, []
    for chunk in _chunks(theirs, 500):
        there = es.mget(index=old_write, ids=[hit["_id"] for hit in chunk], source=False)["docs"]
        moves = [
            {
                "_op_type": "index",
                "_index": old_write,
                "_id": hit["_id"],
                "_source": hit["_source"],
                "if_seq_no": doc["_seq_no"],
                "if_primary_term": doc["_primary_term"],
            }
            if doc.get("found")
            else {"_op_type": "create", "_index": old_write, "_id": hit["_id"], "_source": hit["_source"]}
            for hit, doc in zip(chunk, there, strict=True)
        ]
        for ok, item in helpers.streaming_bulk(es, moves, raise_on_error=False, raise_on_exception=True):
            result = next(iter(item.values()))
            if ok:
                copied += 1
            elif result.get("status") != 409:  # 409: a newer write reached the old index after the alias moved back
                refused.append(
                    Refused(
                        result["_id"], f"written to {new} meanwhile; {old_write} refused it: {_bulk_reason(result)}"
                    )
                )
    return copied, refused


def _bulk_reason(result: dict) -> str:
    error = result.get("error") or {}
    if isinstance(error, dict):
        return f"{error.get('type', result.get('status'))}: {error.get('reason', error)}"
    return str(error)


def _chunks(items, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

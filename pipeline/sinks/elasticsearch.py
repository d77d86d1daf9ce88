"""The only writer to Elasticsearch: the index template, versioned indices behind the alias, bulk indexing."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

import structlog
from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError, helpers

from pipeline.config import Settings
from pipeline.errors import FailureClass, InfrastructureError, TransientError, http_status_class
from pipeline.records import Article, utc_now
from pipeline.retry import Backoff

log = structlog.get_logger("newsflow.sink")

# Fields a duplicate keeps: enough to show it in a story cluster, not its full text again.
DUPLICATE_FIELDS = (
    "article_id",
    "url",
    "source",
    "title",
    "title_en",
    "published_at",
    "ingested_at",
    "origin",
    "language",
    "translation",
    "dedup",
    "pipeline",
)
_VERSION = re.compile(r"-v(\d+)$")


def client(settings: Settings) -> Elasticsearch:
    """An Elasticsearch 8 client from the settings."""
    return Elasticsearch(**settings.es_client_options())


def to_document(article: Article) -> dict:
    """The Elasticsearch document of an article: the record itself, a duplicate trimmed to its metadata."""
    doc = article.to_wire()
    if article.dedup is not None and article.dedup.is_duplicate:
        doc = {k: v for k, v in doc.items() if k in DUPLICATE_FIELDS}
    doc["indexed_at"] = utc_now()
    doc.setdefault("pipeline", {}).setdefault("stages", {})["index"] = doc["indexed_at"]
    return doc


@dataclass(frozen=True)
class IndexState:
    """Where the alias points."""

    alias: str
    indices: tuple[str, ...]
    template: bool


class IndexAdmin:
    """Template, versioned indices (`<alias>-v<N>`) and the alias in front of them."""

    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.alias = settings.index_alias
        self.shards = settings.index_shards
        self.replicas = settings.index_replicas

    def template_body(self) -> dict:
        """The index template, with the analysers this cluster supports."""
        spec = json.loads(files("pipeline.data").joinpath("index_template.json").read_text())
        analysis = spec["analysis"]
        full = self._has_language_analysers()
        settings = {
            "number_of_shards": self.shards,
            "number_of_replicas": self.replicas,
            "analysis": {"analyzer": analysis["full"]}
            if full
            else {"analyzer": analysis["fallback"], "filter": analysis["fallback_filters"]},
        }
        mappings = dict(spec["mappings"])
        mappings["_meta"] = {"analysers": "language" if full else "fallback (no analysis-common module)"}
        return {
            "index_patterns": [f"{self.alias}-v*"],
            "priority": 100,
            "template": {"settings": settings, "mappings": mappings},
            "_meta": {"managed_by": "newsflow"},
        }

    def _has_language_analysers(self) -> bool:
        """True when the cluster has the built-in `english` analyser (the analysis-common module)."""
        try:
            self.es.indices.analyze(analyzer="english", text="probe")
            return True
        except BadRequestError:
            return False

    def ensure(self) -> dict[str, str]:
        """Template, first index and alias; idempotent. Returns what it did."""
        done = {}
        self.es.indices.put_index_template(name=self.alias, **self.template_body())
        done["template"] = self.alias
        if self.es.indices.exists_alias(name=self.alias):
            done["alias"] = f"{self.alias} -> {', '.join(self.state().indices)} (exists)"
            return done
        index = f"{self.alias}-v1"
        if not self.es.indices.exists(index=index):
            self.es.indices.create(index=index, aliases={self.alias: {"is_write_index": True}})
        else:
            self.es.indices.put_alias(index=index, name=self.alias, is_write_index=True)
        done["alias"] = f"{self.alias} -> {index} (created)"
        return done

    def state(self) -> IndexState:
        """Indices behind the alias now."""
        has_template = self.es.indices.exists_index_template(name=self.alias).body
        if not self.es.indices.exists_alias(name=self.alias):
            return IndexState(self.alias, (), has_template)
        return IndexState(self.alias, tuple(sorted(self.es.indices.get_alias(name=self.alias).body)), has_template)

    def next_index(self) -> str:
        """Name of the next version, one above the highest existing."""
        existing = self.es.indices.get(index=f"{self.alias}-v*", ignore_unavailable=True, allow_no_indices=True).body
        versions = [int(m.group(1)) for name in existing if (m := _VERSION.search(name))]
        return f"{self.alias}-v{max(versions, default=0) + 1}"

    def swap_alias(self, new_index: str) -> None:
        """Point the alias at `new_index` in one atomic request."""
        actions: list[dict] = [{"remove": {"index": old, "alias": self.alias}} for old in self.state().indices]
        actions.append({"add": {"index": new_index, "alias": self.alias, "is_write_index": True}})
        self.es.indices.update_aliases(actions=actions)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why Elasticsearch did not take one document: the mapping refused it, or it kept failing."""

    reason: str
    error_class: str = "MappingError"
    kind: str = "indexing"
    attempts: int = 1

    def __str__(self) -> str:
        return self.reason


class ElasticsearchSink:
    """Bulk-indexes articles by `_id = article_id` through the alias; never switches itself off.

    Failures by class (pipeline/errors.py): a refused document (mapping) is a Refusal; one document's
    429/5xx is retried `document_max_attempts` times, then a Refusal; the whole request failing
    (unreachable, 429/5xx) is TransientError; 401/403 or a missing alias is InfrastructureError.
    Writes through the alias set `require_alias`, so a missing alias never auto-creates an index.
    """

    def __init__(self, es: Elasticsearch, settings: Settings, target: str | None = None, *, sleep=time.sleep) -> None:
        self.es = es
        self.target = target or settings.index_alias
        self.require_alias = target is None
        self.max_docs = settings.bulk_max_docs
        self.max_bytes = settings.bulk_max_bytes
        self.max_attempts = settings.index_document_max_attempts
        self.backoff = Backoff(settings.index_document_backoff_s, settings.retry_backoff_max_s)
        self._sleep = sleep
        self._rng = random.Random()
        # The refresh policy adapts to the load: a batch smaller than a full poll means the worker has caught
        # up, so one refresh makes the articles searchable now instead of at the next refresh_interval tick;
        # under backlog (full batches) the periodic refresh alone keeps indexing throughput up.
        self.refresh_below = settings.batch_size if settings.index_refresh_when_caught_up else 0
        self.refresh_every_s = settings.index_refresh_min_interval_s
        self._refreshed = 0.0

    def write(self, articles: Sequence[Article]) -> list[Refusal | None]:
        """Index the batch; per article None, or the Refusal that sends it to the DLQ."""
        outcome: dict[int, Refusal | None] = {}
        pending = list(range(len(articles)))
        attempts = dict.fromkeys(pending, 0)
        indexed_any = False
        last_error: dict[int, str] = {}
        while pending:
            retry = []
            for i, (status, error) in zip(pending, self._bulk([articles[i] for i in pending]), strict=True):
                attempts[i] += 1
                if status < 300:
                    outcome[i] = None
                    indexed_any = True
                    continue
                klass = _item_class(status, error)
                if klass is FailureClass.INFRASTRUCTURE:
                    raise InfrastructureError(
                        f"Elasticsearch refused writing to {self.target}: {status} {error}", dependency="elasticsearch"
                    )
                if klass is FailureClass.TRANSIENT:
                    last_error[i] = f"{status} {error}"
                    retry.append(i)
                    continue
                outcome[i] = Refusal(error, "MappingError", "indexing", attempts[i])
            exhausted = [i for i in retry if attempts[i] >= self.max_attempts]
            if exhausted and not indexed_any and len(articles) > 1 and len(exhausted) == len(retry) == len(pending):
                # Every document failed the same way: the cluster is in trouble, not one document.
                raise TransientError(
                    f"Elasticsearch answered {last_error[exhausted[0]]} for every document", dependency="elasticsearch"
                )
            for i in exhausted:
                log.warning(
                    "document failed repeatedly, sent to the DLQ",
                    article_id=articles[i].article_id,
                    attempts=attempts[i],
                    error=last_error[i][:300],
                )
                outcome[i] = Refusal(
                    f"Elasticsearch kept failing for this document after {attempts[i]} attempts: {last_error[i]}",
                    "DocumentRetriesExhausted",
                    "processing",
                    attempts[i],
                )
            pending = [i for i in retry if i not in outcome]
            if pending:
                self._sleep(self.backoff.delay(max(attempts[i] for i in pending) - 1, self._rng))
        if indexed_any and len(articles) < self.refresh_below:
            self._refresh_now()
        return [outcome[i] for i in range(len(articles))]

    def _refresh_now(self) -> None:
        """Make what was just indexed searchable (at most every `refresh_every_s`); a failure only delays it."""
        now = time.monotonic()
        if now - self._refreshed < self.refresh_every_s:
            return
        self._refreshed = now
        try:
            self.es.indices.refresh(index=self.target)
        except (ApiError, TransportError) as exc:  # the documents are stored: the periodic refresh shows them
            log.debug("refresh after a small batch failed", error=repr(exc)[:200])

    def _bulk(self, articles: Sequence[Article]) -> list[tuple[int, str]]:
        """One bulk round: (status, error text) per article, in order; whole-request failures raise."""
        actions = [
            {"_op_type": "index", "_index": self.target, "_id": a.article_id, "_source": to_document(a)}
            for a in articles
        ]
        by_id: dict[str, tuple[int, str]] = {}
        try:
            for ok, item in helpers.streaming_bulk(
                self.es,
                actions,
                chunk_size=self.max_docs,
                max_chunk_bytes=self.max_bytes,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=0,
                require_alias=self.require_alias or None,
            ):
                result = item.get("index", {})
                status = int(result.get("status", 0) or (200 if ok else 500))
                error = result.get("error") or {}
                text = (
                    ""
                    if ok
                    else (
                        f"{error.get('type', status)}: {error.get('reason', error)}"
                        if isinstance(error, dict)
                        else str(error)
                    )
                )
                by_id[result.get("_id")] = (status, text)
        except ApiError as exc:
            raise _request_error(exc, self.target) from exc
        except (TransportError, ConnectionError) as exc:
            raise TransientError(f"Elasticsearch unreachable: {exc}", dependency="elasticsearch") from exc
        return [by_id.get(a.article_id, (500, "no answer for this document in the bulk response")) for a in articles]


def _item_class(status: int, error: str) -> FailureClass:
    """The failure class of one bulk item's status."""
    if status == 404 or "index_not_found_exception" in error:
        return FailureClass.INFRASTRUCTURE  # the alias or index is gone: no document is at fault
    return http_status_class(status)


def _request_error(exc: ApiError, target: str) -> Exception:
    """The policy's exception for a whole bulk request that Elasticsearch answered with an error."""
    status = exc.meta.status
    klass = FailureClass.INFRASTRUCTURE if status == 404 else http_status_class(status)
    if klass is FailureClass.INFRASTRUCTURE:
        return InfrastructureError(
            f"Elasticsearch refused writing to {target}: {status} {exc}", dependency="elasticsearch"
        )
    if klass is FailureClass.TRANSIENT:
        return TransientError(f"Elasticsearch answered {status}: {exc}", dependency="elasticsearch")
    return exc

"""The only writer to Elasticsearch: the index template, versioned indices behind the alias, bulk indexing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

import structlog
from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError, helpers

from pipeline.config import Settings
from pipeline.records import Article, utc_now
from pipeline.stages.base import TransientError

log = structlog.get_logger("newsflow.sink")

# Fields a duplicate keeps: enough to show it in a story cluster, not its full text again.
DUPLICATE_FIELDS = (
    "article_id", "url", "source", "title", "title_en", "published_at", "ingested_at", "origin",
    "language", "translation", "dedup", "pipeline",
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
            "analysis": {"analyzer": analysis["full"]} if full
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
        actions = [{"remove": {"index": old, "alias": self.alias}} for old in self.state().indices]
        actions.append({"add": {"index": new_index, "alias": self.alias, "is_write_index": True}})
        self.es.indices.update_aliases(actions=actions)


class ElasticsearchSink:
    """Bulk-indexes articles by `_id = article_id` through the alias; never switches itself off."""

    def __init__(self, es: Elasticsearch, settings: Settings, target: str | None = None) -> None:
        self.es = es
        self.target = target or settings.index_alias
        self.max_docs = settings.bulk_max_docs
        self.max_bytes = settings.bulk_max_bytes

    def write(self, articles: Sequence[Article]) -> list[str | None]:
        """Index the batch; per article None or the reason it was refused (mapping errors).

        429s are retried by the bulk helper; connection errors, 5xx and 429s that persist raise
        TransientError so the runner retries the batch without committing.
        """
        actions = [
            {"_op_type": "index", "_index": self.target, "_id": a.article_id, "_source": to_document(a)}
            for a in articles
        ]
        errors: dict[str, str] = {}
        try:
            for ok, item in helpers.streaming_bulk(
                self.es,
                actions,
                chunk_size=self.max_docs,
                max_chunk_bytes=self.max_bytes,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=5,
                initial_backoff=1,
                max_backoff=30,
            ):
                if ok:
                    continue
                result = item["index"]
                status = int(result.get("status", 0))
                if status == 429 or status >= 500:
                    raise TransientError(f"Elasticsearch answered {status} for {result.get('_id')}")
                error = result.get("error", {})
                errors[result["_id"]] = f"{error.get('type', status)}: {error.get('reason', error)}"
        except (TransportError, ConnectionError) as exc:
            raise TransientError(f"Elasticsearch unreachable: {exc}") from exc
        except ApiError as exc:
            if exc.meta.status == 429 or exc.meta.status >= 500:
                raise TransientError(f"Elasticsearch answered {exc.meta.status}: {exc}") from exc
            raise
        return [errors.get(a.article_id) for a in articles]

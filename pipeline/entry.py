"""The public entry contract: what any producer may write to news.raw.v1, and how it becomes an Article.

An outside producer sends a JSON object with `text` and, optionally, `url`, `title`, `published` (or
`published_at`), `source` (a name or {name, domain}) and `article_id`, under any key or none. The first
stage computes the stable `article_id` when it is missing, keys every later topic by it, and keeps the
producer's key and the raw coordinates in `pipeline.raw`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.dates import parse_published
from pipeline.identity import article_id as compute_article_id
from pipeline.identity import canonical_url, source_domain, valid_article_id
from pipeline.records import Article, RawOrigin


class EntryError(ValueError):
    """A raw message that is JSON but cannot be an article; the message says which field and why."""


def article_from_entry(obj: dict, origin: RawOrigin) -> Article:
    """The Article for a raw message that already matched the raw contract."""
    url = obj.get("url") or None
    if url is not None:
        try:
            canonical_url(url)
        except ValueError as exc:
            raise EntryError(f"url: {exc}") from None
    given = obj.get("article_id")
    identity = valid_article_id(given) or compute_article_id(url, obj.get("title"), obj["text"])
    field = "published_at" if obj.get("published_at") is not None else "published"
    published = obj.get(field)
    try:
        published_at = parse_published(published) if isinstance(published, str) else None
    except (ValueError, OverflowError):
        published_at = None
    if published and published_at is None:
        raise EntryError(f"{field}: {published!r} is not a date (ISO 8601 or RFC 822) that can be represented")
    source = obj.get("source")
    if isinstance(source, str) or source is None:
        source = {"name": source, "domain": None}
    source = {"name": source.get("name"), "domain": source.get("domain") or source_domain(url)}
    ingested = obj.get("ingested_at")
    if not (isinstance(ingested, str) and _is_datetime(ingested)):
        ingested = _iso(origin.timestamp)
    pipeline = dict(obj.get("pipeline") or {}) if isinstance(obj.get("pipeline"), dict) else {}
    pipeline.setdefault("stages", {})
    pipeline["raw"] = origin.to_wire()
    # Unknown fields travel on (records are forward-compatible); a stage's own field from outside does not.
    extra = {k: v for k, v in obj.items() if k not in _ENTRY_FIELDS and k not in Article.model_fields}
    return Article.model_validate(
        {
            **extra,
            "article_id": identity,
            "url": url,
            "title": obj.get("title"),
            "text": obj["text"],
            "source": source,
            "published_at": published_at,
            "ingested_at": ingested,
            "origin": obj.get("origin"),
            "pipeline": pipeline,
        }
    )


_ENTRY_FIELDS = frozenset(
    {
        "article_id",
        "url",
        "title",
        "text",
        "published",
        "published_at",
        "source",
        "ingested_at",
        "origin",
        "pipeline",
    }
)


def _is_datetime(value: str) -> bool:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

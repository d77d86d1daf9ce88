"""Searching the index through the alias: one hit per story unless asked for every copy."""

from __future__ import annotations

from elasticsearch import NotFoundError

from pipeline.config import Settings
from pipeline.sinks.elasticsearch import client

# What the enrich, translate and dedup stages added, shown by `newsflow search --details`.
DETAILS = (
    "persons",
    "organizations",
    "places",
    "topics",
    "quotes",
    "figures",
    "dateline",
    "agencies",
    "translation",
    "dedup",
)


def search(settings: Settings, query: str, size: int = 10, include_duplicates: bool = False) -> list[dict]:
    """Top hits for a free-text query over the English and original title and text."""
    body: dict = {
        "query": {
            "bool": {
                "must": [
                    {
                        "multi_match": {
                            "query": query,
                            "fields": [
                                "title_en^3",
                                "title^3",
                                "text_clean^1.5",
                                "text_en",
                                "text",
                                "persons^2",
                                "places_names^2",
                            ],
                            "type": "best_fields",
                        }
                    }
                ],
                "must_not": [] if include_duplicates else [{"term": {"dedup.is_duplicate": True}}],
            }
        },
        "size": size,
        "_source": ["article_id", "title", "title_en", "source", "published_at", "language.code", "text", *DETAILS],
    }
    if not include_duplicates:
        body["collapse"] = {"field": "dedup.cluster_id"}
    try:
        response = client(settings).search(index=settings.index_alias, **body)
    except NotFoundError:
        return []
    hits = []
    for hit in response["hits"]["hits"]:
        s = hit["_source"]
        title = s.get("title_en") or s.get("title") or (s.get("text") or "").strip().split("\n", 1)[0]
        hits.append(
            {
                "article_id": hit["_id"],
                "score": hit["_score"] or 0.0,
                "title": title,
                "source": (s.get("source") or {}).get("name"),
                "published": s.get("published_at"),
                "language": (s.get("language") or {}).get("code", "und"),
                "details": {field: s.get(field) for field in DETAILS if s.get(field) not in (None, [], {})},
            }
        )
    return hits

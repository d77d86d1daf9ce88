"""The open entry contract: what an outside producer writes to news.raw.v1 becomes an Article."""

from __future__ import annotations

import pytest

from pipeline.contracts import Contracts
from pipeline.entry import EntryError, article_from_entry
from pipeline.identity import article_id
from pipeline.records import RawOrigin

ORIGIN = RawOrigin(partition=1, offset=42, timestamp=1_767_225_600_000, key="https://example.org/a?utm_source=x")


def test_a_scrapers_record_gets_its_id_source_and_dates() -> None:
    scraped = {
        "url": "https://Example.org/a?utm_source=x",
        "title": "Drones over Kyiv",
        "text": "Kyiv said ...",
        "published": "Tue, 02 Dec 2025 08:00:00 +0100",
        "source": "Example News",
        "lang": "en",
    }
    Contracts().validate("raw", scraped)
    article = article_from_entry(scraped, ORIGIN)
    assert article.article_id == article_id("https://example.org/a", None, "")
    assert article.source.name == "Example News" and article.source.domain == "example.org"
    assert article.published_at == "2025-12-02T07:00:00Z"
    assert article.ingested_at == "2026-01-01T00:00:00.000Z"  # the broker's timestamp: stable on re-delivery
    assert article.pipeline.raw == ORIGIN
    assert article.to_wire()["lang"] == "en", "unknown fields travel on"
    Contracts().validate(
        "detected",
        {**article.to_wire(), "language": {"code": "en", "confidence": 1.0, "mixed": False, "paragraphs": []}},
    )


def test_without_url_the_id_comes_from_title_and_text() -> None:
    article = article_from_entry({"title": "T", "text": "Body"}, ORIGIN)
    assert article.article_id == article_id(None, "T", "Body")
    assert article.url is None and article.source.domain is None


def test_a_given_article_id_is_kept() -> None:
    assert article_from_entry({"article_id": "0123456789abcdef", "text": "x"}, ORIGIN).article_id == "0123456789abcdef"


def test_a_stage_field_from_outside_does_not_pass() -> None:
    article = article_from_entry({"text": "x", "language": "en", "dedup": "yes"}, ORIGIN)
    assert article.language is None and article.dedup is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"text": "x", "published": "0001-01-01T00:00:00+01:00"}, "published"),
        ({"text": "x", "published": "last Tuesday"}, "published"),
        ({"text": "x", "url": "not a url"}, "url"),
    ],
)
def test_unusable_fields_are_named(record: dict, reason: str) -> None:
    with pytest.raises(EntryError, match=reason):
        article_from_entry(record, ORIGIN)

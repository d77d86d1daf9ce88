"""Every topic's schema is valid, every record type round-trips through its schema, bad messages are refused."""

from __future__ import annotations

import json

import pytest

from pipeline.config import TOPIC_KEYS, Settings
from pipeline.contracts import SCHEMAS_DIR, ContractError, Contracts
from pipeline.local import process_in_memory
from pipeline.records import Article, Dedup, DlqError, DlqPayload, DlqRecord, DlqSource, Language
from pipeline.sources.files import build_article


@pytest.fixture(scope="module")
def contracts() -> Contracts:
    return Contracts()


def _raw() -> Article:
    return build_article(
        text="Kiev is still advancing.\n\nForty settlements were recovered in the Kharkiv region.",
        title="The Kiev army pushes to the border",
        url="https://example.org/news/kiev?utm_source=x",
        published="2022-09-12T08:00:00+02:00",
        source_name="Example",
    )


def test_every_topic_has_a_checked_schema(contracts: Contracts) -> None:
    assert set(contracts.validators) == set(TOPIC_KEYS)
    for key in TOPIC_KEYS:
        assert (SCHEMAS_DIR / f"news.{key}.v1.json").exists()


def test_broken_schema_fails_at_start_up(tmp_path) -> None:
    for path in SCHEMAS_DIR.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    broken = json.loads((tmp_path / "news.raw.v1.json").read_text())
    broken["allOf"][1]["required"] = "article_id"  # must be an array
    (tmp_path / "news.raw.v1.json").write_text(json.dumps(broken))
    with pytest.raises(Exception, match="is not of type 'array'"):
        Contracts(tmp_path)


def test_raw_record_round_trips(contracts: Contracts) -> None:
    article = _raw()
    wire = contracts.validate("raw", article.to_wire())
    assert Article.model_validate(wire) == article
    assert wire["published_at"] == "2022-09-12T06:00:00Z"
    assert wire["source"] == {"name": "Example", "domain": "example.org"}


def test_every_stage_output_round_trips_through_its_schema(contracts: Contracts) -> None:
    outcome = process_in_memory([_raw()], Settings(), ["detect", "translate", "dedup", "enrich"], contracts)
    assert [topic for topic, _ in outcome.outputs] == ["enriched"]
    ((_, wire),) = outcome.outputs
    assert Article.model_validate(wire).to_wire() == wire


def test_duplicates_contract_requires_is_duplicate(contracts: Contracts) -> None:
    article = _raw()
    dup = article.stamped("dedup", dedup=Dedup(content_hash="h", cluster_id="c", is_duplicate=False))
    wire = dup.to_wire()
    for key in ("language", "translation", "title_en", "text_en"):
        wire.setdefault(key, None)
    wire["language"] = {"code": "en", "confidence": 1.0, "mixed": False, "paragraphs": []}
    wire["translation"] = {"status": "not_needed"}
    contracts.validate("unique", wire)
    with pytest.raises(ContractError, match="dedup/is_duplicate"):
        contracts.validate("duplicates", wire)


def test_dlq_record_round_trips(contracts: Contracts) -> None:
    raw = b"\xff\xfe not utf-8"
    record = DlqRecord(
        article_id=None,
        stage="detect",
        error=DlqError(class_="NotUtf8", message="not UTF-8 text", kind="bad_input"),
        source=DlqSource(topic="news.raw.v1", partition=2, offset=41),
        payload=DlqPayload.of(raw),
    )
    wire = contracts.validate("dlq", record.to_wire())
    assert wire["error"]["class"] == "NotUtf8"
    assert wire["payload"]["encoding"] == "base64"
    back = DlqRecord.model_validate(wire)
    assert back.payload.original() == raw
    assert DlqPayload.of("città".encode()).encoding == "utf-8"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n  "}, "text"),
        ({"article_id": "not-an-id"}, "article_id"),
        ({"source": 42}, "source"),
        ({"url": 7}, "url"),
    ],
)
def test_bad_raw_messages_are_refused_with_the_field_named(contracts: Contracts, change: dict, where: str) -> None:
    wire = {**_raw().to_wire(), **change}
    with pytest.raises(ContractError) as caught:
        contracts.validate("raw", wire)
    assert where in str(caught.value)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"published_at": "yesterday"}, "published_at"),
        ({"published_at": "2024-08-27T10:00:00"}, "published_at"),  # no offset
        ({"source": "Reuters"}, "source"),
        ({"article_id": None}, "article_id"),
    ],
)
def test_internal_topics_stay_strict(contracts: Contracts, change: dict, where: str) -> None:
    """The entry topic is open to outside producers; every later topic holds the full article shape."""
    detected = _raw().model_copy(update={"language": Language(code="en", confidence=0.99)})
    wire = {**detected.to_wire(), **change}
    with pytest.raises(ContractError) as caught:
        contracts.validate("detected", wire)
    assert where in str(caught.value)


def test_missing_text_is_refused(contracts: Contracts) -> None:
    wire = _raw().to_wire()
    del wire["text"]
    with pytest.raises(ContractError, match=r"must contain \['text'\] properties"):
        contracts.validate("raw", wire)

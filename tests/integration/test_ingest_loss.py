"""Nothing pulled is lost, against the real Kafka: bad input ends in the DLQ with its reason and bytes, a source's
state remembers only items that were produced, dead-lettered or reported, and `newsflow ingest` produces the good
lines of a dump while it reports every bad one."""

from __future__ import annotations

import json

import orjson
import pytest
from kafka.admin import NewTopic

from pipeline import kafka_io
from pipeline.cli import main
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.identity import article_id
from pipeline.records import DlqRecord
from pipeline.sources import SourceSpec, ingest_source, load_state
from tests.feed_server import FeedServer, Route
from tests.integration.conftest import read_json, settings_env

pytestmark = pytest.mark.integration

KHARKIV = "Ukrainian forces retake villages east of Kharkiv as Russian lines give way"
OUT_OF_RANGE = "0001-01-01T00:00:00+01:00"
LONG_URL = "https://dump.example/2022/09/" + "kherson-" * 600  # over the raw contract's 4096 characters


def _rss(*items: tuple[str, str, str]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate></item>" for t, link, d in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'.encode()


def _serve_sources(server: FeedServer) -> list[SourceSpec]:
    """A feed with a good page, a page down for now and an entry dated out of range; a dump with a good
    line, a line breaking the raw contract and a line whose text is not valid Unicode."""
    server.routes["/wire.xml"] = Route(
        body=_rss(
            (KHARKIV, "{base}/pages/kharkiv.html", "Tue, 13 Sep 2022 06:15:00 +0000"),
            ("Zaporizhzhia", "{base}/pages/zaporizhzhia.html", "Mon, 12 Sep 2022 18:02:00 +0000"),
            ("Kharkiv, dated wrongly", "{base}/pages/kharkiv-copy.html", OUT_OF_RANGE),
        ),
        content_type="application/rss+xml",
    )
    server.routes["/pages/kharkiv-copy.html"] = server.routes["/pages/kharkiv.html"]
    server.routes["/pages/zaporizhzhia.html"].status = 503
    lines = [
        json.dumps({"url": "https://dump.example/kherson", "title": "Kherson", "text": "Ukrainian officials said..."}),
        json.dumps({"url": LONG_URL, "title": "Too long", "text": "A body that is fine."}),
        '{"url": "https://dump.example/half", "title": "Half a pair", "text": "Kyiv \\ud800 said"}',
    ]
    server.routes["/dump.jsonl"] = Route(body=("\n".join(lines) + "\n").encode(), content_type="application/x-ndjson")
    return [
        SourceSpec("wire", "feed", url=server.url("/wire.xml")),
        SourceSpec("dump", "jsonl", url=server.url("/dump.jsonl")),
    ]


def _dlq(settings: Settings) -> list[DlqRecord]:
    contracts = Contracts()
    return [DlqRecord.model_validate(contracts.validate("dlq", body)) for body in read_json(settings, "dlq")]


def _raw(settings: Settings) -> list[tuple[str, dict]]:
    return [(r.key.decode(), orjson.loads(r.value)) for r in kafka_io.read_topic(settings, settings.topic("raw"))]


def test_bad_input_ends_in_the_dlq_and_the_state_holds_only_settled_items(settings) -> None:
    with FeedServer() as server:
        wire, dump = _serve_sources(server)
        page = {name: server.url(f"/pages/{name}.html") for name in ("kharkiv", "zaporizhzhia", "kharkiv-copy")}

        first = {spec.name: ingest_source(settings, spec).to_dict() for spec in (wire, dump)}

        raw = _raw(settings)
        assert sorted(body["url"] for _, body in raw) == [page["kharkiv"], "https://dump.example/kherson"]
        assert all(key == body["article_id"] for key, body in raw)
        dlq = {record.article_id: record for record in _dlq(settings)}
        assert set(dlq) == {
            article_id(page["kharkiv-copy"], None, ""),
            article_id(LONG_URL, None, ""),
            article_id("https://dump.example/half", None, ""),
        }
        for record in dlq.values():
            assert (record.stage, record.error.kind, record.source.topic) == (
                "ingest",
                "bad_input",
                settings.topic("raw"),
            )
        dated = dlq[article_id(page["kharkiv-copy"], None, "")]
        assert dated.error.class_ == "PublishedOutOfRange"
        assert dated.error.message == f"source wire: {page['kharkiv-copy']}: published '{OUT_OF_RANGE}' out of range"
        assert "rail junction that supplied Russian forces" in orjson.loads(dated.payload.original())["text"]
        too_long = dlq[article_id(LONG_URL, None, "")]
        assert too_long.error.class_ == "ContractError" and "url" in too_long.error.message
        assert orjson.loads(too_long.payload.original())["url"] == LONG_URL  # the bytes are kept
        half = dlq[article_id("https://dump.example/half", None, "")]
        assert half.error.class_ == "NotUnicode"
        assert json.loads(half.payload.original())["text"] == "Kyiv \ud800 said"
        assert (first["wire"]["produced"], first["wire"]["dead_lettered"]) == (1, {"published out of range": 1})
        assert first["wire"]["skipped"] == {"page unreachable": 1}
        assert (first["dump"]["produced"], first["dump"]["dead_lettered_total"]) == (1, 2)

        seen = load_state(settings, "wire").seen
        assert {article_id(page["kharkiv"], None, ""), article_id(page["kharkiv-copy"], None, "")} <= set(seen)
        assert article_id(page["zaporizhzhia"], None, "") not in seen  # down for now: the next run tries it
        assert len(load_state(settings, "dump").seen) == 3

        server.routes["/pages/zaporizhzhia.html"].status = 200
        second = {spec.name: ingest_source(settings, spec).to_dict() for spec in (wire, dump)}

    urls = sorted(body["url"] for _, body in _raw(settings))  # the raw topic has several partitions: no order
    assert urls == sorted([page["kharkiv"], page["zaporizhzhia"], "https://dump.example/kherson"]), (
        "lost or produced twice"
    )
    assert len(_dlq(settings)) == 3, "an item was dead-lettered twice"
    assert second["wire"]["already_seen"] == 2 and second["dump"]["not_modified"]
    assert article_id(page["zaporizhzhia"], None, "") in load_state(settings, "wire").seen


def test_the_state_is_not_saved_when_a_dead_letter_is_not_delivered(stack_settings, tmp_path) -> None:
    s = stack_settings.model_copy(update={"topic_prefix": f"noddlq{tmp_path.name[-6:]}."})
    admin = kafka_io.admin(s)
    try:
        admin.create_topics([NewTopic(name=s.topic("raw"), num_partitions=1, replication_factor=1)])  # no DLQ topic
    finally:
        admin.close()
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"url": LONG_URL, "text": "A body that is fine."}) + "\n")
    spec = SourceSpec("dump", "jsonl", path=str(dump))

    with pytest.raises(Exception, match="(?i)kafka|metadata|topic"):
        ingest_source(s, spec)

    assert load_state(s, "dump").seen == {}, "an item that reached neither topic was remembered as given"
    kafka_io.ensure_topics(s)
    report = ingest_source(s, spec).to_dict()
    assert report["dead_lettered"] == {"not a valid raw article": 1}
    assert [r.article_id for r in _dlq(s)] == [article_id(LONG_URL, None, "")]
    assert set(load_state(s, "dump").seen) == {article_id(LONG_URL, None, "")}


def test_cli_ingest_produces_the_good_lines_and_reports_every_bad_one(settings, monkeypatch, tmp_path, capsys) -> None:
    for name, value in settings_env(settings).items():
        if name.startswith("NEWSFLOW_"):
            monkeypatch.setenv(name, value)
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        "\n".join(
            [
                json.dumps(
                    {"url": "https://example.org/one", "title": "One", "text": "Kyiv said 653 drones were launched."}
                ),
                json.dumps({"url": "https://example.org/zero", "text": "Kyiv.", "published": OUT_OF_RANGE}),
                "{not json",
                json.dumps(
                    {
                        "url": "https://example.org/two",
                        "title": "Two",
                        "text": "Odesa port was hit.",
                        "published": "Tue, 13 Sep 2022 06:15:00 +0000",
                    }
                ),
            ]
        )
        + "\n"
    )

    code = main(["ingest", str(dump)])

    out, err = capsys.readouterr()
    assert code == 1
    assert f"skipped {dump}:2: published '{OUT_OF_RANGE}' out of range" in err
    assert f"skipped {dump}:3: not JSON" in err
    assert "produced 2 articles" in out and "skipped 2" in out
    raw = _raw(settings)
    assert sorted(body["url"] for _, body in raw) == ["https://example.org/one", "https://example.org/two"]
    assert {key for key, _ in raw} == {
        article_id("https://example.org/one", None, ""),
        article_id("https://example.org/two", None, ""),
    }
    assert [body["published_at"] for _, body in raw if body["url"].endswith("two")] == ["2022-09-13T06:15:00Z"]

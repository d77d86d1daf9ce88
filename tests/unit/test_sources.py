"""Sources: the sources file, RSS/Atom parsing, page extraction, bad sources, incremental state.

Feeds and pages are real documents (`tests/fixtures/feeds/`) served by a real HTTP server on a free port.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.identity import article_id
from pipeline.records import DlqRecord
from pipeline.sources import (
    FetchConfig,
    SourcesFileError,
    SourceSpec,
    SourceState,
    SourceUnavailable,
    UnknownEncoding,
    decode_html,
    deliveries,
    extract_article,
    http_client,
    load_sources,
    pull,
)
from tests.conftest import ROOT, SEEDS
from tests.feed_server import FeedServer, Route

CONFIG = FetchConfig(user_agent="newsflow-test/1.0 (+tests)", timeout_s=5.0)
BOILERPLATE = (
    "We use cookies",
    "Sign up for our newsletter",
    "All rights reserved",
    "Related stories",
    "Share on Facebook",
    "Advertisement",
    "Most read",
    "COMMENT-MARKER",
)


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


@pytest.fixture
def http():
    client = http_client(CONFIG)
    yield client
    client.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def feed(server, path="/feeds/rss.xml", **kw) -> SourceSpec:
    return SourceSpec(name="efm", kind="feed", url=server.url(path), **kw)


# -- RSS, Atom, pages ------------------------------------------------------------------------------


def test_rss_pages_become_articles_without_boilerplate(server, http) -> None:
    pulled = pull(feed(server), SourceState("efm"), http, CONFIG)

    by_title = {a.title: a for a in pulled.articles}
    assert set(by_title) == {
        "Ukrainian forces retake villages east of Kharkiv as Russian lines give way",
        "IAEA team warns of shelling near Zaporizhzhia nuclear plant",
    }
    kharkiv = by_title["Ukrainian forces retake villages east of Kharkiv as Russian lines give way"]
    assert kharkiv.article_id == article_id(server.url("/pages/kharkiv.html"), None, "")  # utm_* dropped
    assert kharkiv.published_at == "2022-09-13T06:15:00Z"
    assert kharkiv.source.name == "Eastern Front Monitor"
    assert kharkiv.origin == server.url("/feeds/rss.xml")
    assert "rail junction that supplied Russian forces" in kharkiv.text
    assert "investigators had begun documenting conditions" in kharkiv.text
    for junk in BOILERPLATE:
        assert junk not in kharkiv.text, junk
    znpp = by_title["IAEA team warns of shelling near Zaporizhzhia nuclear plant"]
    assert "\u201cWe are playing with fire,\u201d the agency\u2019s director general" in znpp.text  # windows-1252 page
    for article in pulled.articles:
        Contracts().validate("raw", article.to_wire())

    report = pulled.report.to_dict()
    assert (report["offered"], report["produced"]) == (5, 2)
    assert report["skipped"] == {"no article text": 1, "unknown encoding": 1, "page gone (HTTP 404)": 1}
    assert {h["user-agent"] for _, h in server.requests} == {CONFIG.user_agent}


def test_atom_entries_carry_their_own_text(server, http) -> None:
    pulled = pull(feed(server, "/feeds/atom.xml", fetch_pages=False), SourceState("efm"), http, CONFIG)

    assert [a.title for a in pulled.articles] == [
        "Grain corridor: three more ships leave Odesa despite air-raid alerts",
        "Mykolaiv: overnight strike damages a hotel and a grain terminal",
    ]
    grain = pulled.articles[0]
    assert grain.published_at == "2022-09-14T05:00:00Z"
    assert grain.source.name == "Black Sea Desk"
    assert grain.url == server.url("/blacksea/grain-corridor")
    assert "2.4 million tonnes" in grain.text and "<p>" not in grain.text
    assert pulled.report.skipped == {"no article text": 1}  # the gallery entry has twelve words
    assert not server.hits("/blacksea/grain-corridor")  # entry text used: the page is not fetched


def test_second_pull_is_conditional_and_gives_nothing(server, http) -> None:
    first = pull(feed(server), SourceState("efm"), http, CONFIG)
    second = pull(feed(server), first.state, http, CONFIG)

    assert second.articles == []
    assert second.report.not_modified
    assert server.hits("/feeds/rss.xml")[-1]["if-none-match"].startswith('"')
    assert len(server.hits("/pages/kharkiv.html")) == 1


def test_seen_ids_hold_when_the_server_ignores_validators(server, http) -> None:
    server.routes["/feeds/rss.xml"].conditional = False
    first = pull(feed(server), SourceState("efm"), http, CONFIG)
    second = pull(feed(server), first.state, http, CONFIG)

    assert len(first.articles) == 2
    assert second.articles == []
    assert second.report.already_seen == 5  # produced ones and pages skipped for good alike
    assert len(server.hits("/pages/video.html")) == 1


def test_a_new_entry_is_the_only_one_given(server, http) -> None:
    first = pull(feed(server), SourceState("efm"), http, CONFIG)
    route = server.routes["/feeds/rss.xml"]
    route.body = route.body.replace(
        b"<item>",
        b"""<item>
      <title>Kupiansk: the rail junction changes hands</title>
      <link>{base}/pages/kupiansk.html</link>
      <pubDate>Wed, 14 Sep 2022 09:00:00 +0000</pubDate>
    </item>
    <item>""",
        1,
    )
    server.routes["/pages/kupiansk.html"] = Route(
        body=server.routes["/pages/kharkiv.html"].body.replace(b"KHARKIV", b"KUPIANSK")
    )

    second = pull(feed(server), first.state, http, CONFIG)

    assert [a.title for a in second.articles] == ["Kupiansk: the rail junction changes hands"]
    assert second.report.already_seen == 5


def test_a_page_that_fails_for_now_is_tried_again_next_run(server, http) -> None:
    server.routes["/pages/zaporizhzhia.html"].status = 503
    first = pull(feed(server), SourceState("efm"), http, CONFIG)
    assert [a.title for a in first.articles] == [
        "Ukrainian forces retake villages east of Kharkiv as Russian lines give way"
    ]
    assert first.report.skipped["page unreachable"] == 1

    server.routes["/pages/zaporizhzhia.html"].status = 200
    second = pull(feed(server), first.state, http, CONFIG)

    assert [a.title for a in second.articles] == ["IAEA team warns of shelling near Zaporizhzhia nuclear plant"]


# -- bad sources -----------------------------------------------------------------------------------


def test_malformed_feed_is_skipped_with_a_reason(server, http) -> None:
    pulled = pull(feed(server, "/feeds/malformed.xml"), SourceState("efm"), http, CONFIG)

    assert pulled.articles == []
    assert pulled.report.skipped == {"malformed feed": 1}
    assert "not well-formed" in pulled.report.examples[0]["detail"]


def test_html_page_instead_of_a_feed_is_skipped(server, http) -> None:
    pulled = pull(feed(server, "/pages/video.html"), SourceState("efm"), http, CONFIG)

    assert pulled.articles == []
    assert sum(pulled.report.skipped.values()) == 1
    assert set(pulled.report.skipped) <= {"malformed feed", "not a feed"}


def test_unreachable_feed_raises(http) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/feed.xml"
    with pytest.raises(SourceUnavailable, match=r"source efm: cannot fetch .*feed\.xml: ConnectError"):
        pull(SourceSpec("efm", "feed", url=url), SourceState("efm"), http, CONFIG)


def test_feed_answering_5xx_raises(server, http) -> None:
    server.routes["/feeds/rss.xml"].status = 502
    with pytest.raises(SourceUnavailable, match="HTTP 502"):
        pull(feed(server), SourceState("efm"), http, CONFIG)


def test_every_page_unreachable_raises(server, http) -> None:
    for page in ("kharkiv", "zaporizhzhia", "video", "legacy"):
        server.routes[f"/pages/{page}.html"].status = 503
    server.routes["/pages/removed.html"] = Route(status=503)
    with pytest.raises(SourceUnavailable, match="all 5 new pages unreachable"):
        pull(feed(server), SourceState("efm"), http, CONFIG)


def test_missing_folder_raises(tmp_path) -> None:
    with pytest.raises(SourceUnavailable, match="does not exist"):
        pull(SourceSpec("gone", "folder", path=str(tmp_path / "nope")), SourceState("gone"), None, CONFIG)


# -- encodings and extraction ----------------------------------------------------------------------


def test_unknown_declared_charset_is_refused() -> None:
    with pytest.raises(UnknownEncoding, match="x-klingon-8"):
        decode_html(b"<html><p>text</p></html>", "text/html; charset=x-klingon-8")


def test_undeclared_legacy_bytes_are_detected() -> None:
    text = (
        "<html><head><title>Notizie</title></head><body><p>Il presidente ha detto che la città è pronta: "
        "“Non c’è più tempo”, ha aggiunto, perché la situazione è già difficile.</p><p>Le forze armate hanno "
        "già annunciato che l’offensiva continuerà nei prossimi giorni, più a sud.</p></body></html>"
    )
    assert decode_html(text.encode("cp1252"), "text/html") == text


def test_undeclared_binary_is_an_unknown_encoding() -> None:
    with pytest.raises(UnknownEncoding, match="no encoding recognised"):
        decode_html(b"\x00\x01\x02\xff\xfe\x80\x81" * 200, None)


def test_meta_charset_wins_when_the_header_has_none() -> None:
    body = '<html><head><meta charset="iso-8859-5"></head><body>Київ</body></html>'
    assert "Київ" not in decode_html(body.encode("utf-8"), "text/html")  # declared wrongly: read as declared
    assert "Київ" in decode_html(body.replace("iso-8859-5", "utf-8").encode("utf-8"), "text/html")


def test_a_page_of_navigation_has_no_article_text() -> None:
    html = (SEEDS.parent / "tests/fixtures/feeds/pages/video.html").read_text()
    assert extract_article(html, None, 200) is None


@hsettings(max_examples=50, deadline=None)
@given(body=st.binary(max_size=2000), content_type=st.one_of(st.none(), st.text(max_size=40)))
def test_decoding_arbitrary_bytes_gives_text_or_unknown_encoding(body: bytes, content_type: str | None) -> None:
    try:
        assert isinstance(decode_html(body, content_type), str)
    except UnknownEncoding:
        pass


@hsettings(max_examples=25, deadline=None)
@given(text=st.text(max_size=3000))
def test_extraction_of_arbitrary_text_is_none_or_long_enough(text: str) -> None:
    extracted = extract_article(f"<html><body><article><p>{text}</p></article></body></html>", None, 200)
    assert extracted is None or len(extracted.text) >= 200


# -- folders, dumps, limits, state -----------------------------------------------------------------


def test_seeds_folder_gives_its_five_articles_once(http) -> None:
    spec = SourceSpec("seeds", "folder", path=str(SEEDS))
    first = pull(spec, SourceState("seeds"), http, CONFIG)
    second = pull(spec, first.state, http, CONFIG)

    assert len(first.articles) == 5
    assert (second.report.offered, second.report.already_seen, len(second.articles)) == (5, 5, 0)


def test_jsonl_dump_over_http_counts_bad_lines(server, http) -> None:
    pulled = pull(SourceSpec("dump", "jsonl", url=server.url("/feeds/dump.jsonl")), SourceState("dump"), http, CONFIG)

    assert [a.url for a in pulled.articles] == ["https://dump.example/2022/09/kherson-counteroffensive"]
    assert pulled.report.skipped == {"not JSON": 1, "no text": 1}
    assert pulled.report.examples[0]["where"] == server.url("/feeds/dump.jsonl") + ":2"


def test_max_items_defers_the_rest_to_the_next_run() -> None:
    spec = SourceSpec("seeds", "folder", path=str(SEEDS), max_items=2)
    runs, state = [], SourceState("seeds")
    for _ in range(3):
        pulled = pull(spec, state, None, CONFIG)
        runs.append(len(pulled.articles))
        state = pulled.state
    assert runs == [2, 2, 1]


def test_state_forgets_only_what_the_source_no_longer_offers_after_the_window(http) -> None:
    spec = SourceSpec("seeds", "folder", path=str(SEEDS))
    now = datetime(2024, 6, 1, tzinfo=UTC)
    old = (now - timedelta(days=90)).isoformat().replace("+00:00", "Z")
    first = pull(spec, SourceState("seeds"), http, CONFIG, now=now - timedelta(days=90))
    stale = SourceState("seeds", {**first.state.seen, "gone000000000000": old, "recent0000000000": now.isoformat()})

    kept = pull(spec, stale, http, CONFIG, now=now).state.seen

    assert set(first.state.seen) <= set(kept)  # still offered: never given twice
    assert "gone000000000000" not in kept
    assert "recent0000000000" in kept
    wire = Contracts().validate(
        "source-state", pull(spec, stale, http, CONFIG, now=now).state.to_wire()
    )  # the topic's schema
    assert SourceState.from_wire(json.loads(json.dumps(wire))).seen == kept


# -- the sources file ------------------------------------------------------------------------------


def test_the_repository_sources_file_loads() -> None:
    specs = load_sources(ROOT / "sources.yaml")
    assert [(s.name, s.kind) for s in specs] == [("seeds", "folder")]
    assert specs[0].path == str(SEEDS)


def test_sources_file_in_json_and_round_trip(tmp_path) -> None:
    path = tmp_path / "sources.json"
    path.write_text(
        json.dumps(
            {
                "sources": [
                    {
                        "name": "wire",
                        "kind": "feed",
                        "url": "https://example.org/rss",
                        "publisher": "Wire",
                        "max_items": 5,
                    },
                    {"name": "watch", "kind": "urls", "urls": ["https://example.org/a"]},
                    {"name": "dump", "kind": "jsonl", "path": "dumps/x.jsonl"},
                ]
            }
        )
    )
    specs = load_sources(path)
    assert specs[2].path == str(tmp_path / "dumps" / "x.jsonl")
    assert [SourceSpec.from_dict(json.loads(json.dumps(s.to_dict()))) for s in specs] == specs


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "kind": "podcast"}, "kind 'podcast' must be one of"),
        ({"name": "x", "kind": "feed"}, r"\(x\): a feed needs `url`"),
        ({"name": "Bad Name", "kind": "feed", "url": "https://a"}, "name 'Bad Name' must be"),
        ({"name": "x", "kind": "feed", "url": "ftp://a"}, "is not an http"),
        ({"name": "x", "kind": "folder", "path": "s", "colour": "red"}, r"unknown keys \['colour'\]"),
        ({"name": "x", "kind": "jsonl", "path": "a", "url": "https://a"}, "exactly one of"),
    ],
)
def test_sources_file_errors_name_the_entry(tmp_path, entry, message) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(json.dumps({"sources": [entry]}))  # JSON is YAML
    with pytest.raises(SourcesFileError, match=message):
        load_sources(path)


def test_duplicate_source_names_are_refused(tmp_path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {name: a, kind: folder, path: x}\n  - {name: a, kind: folder, path: y}\n")
    with pytest.raises(SourcesFileError, match="'a' is used twice"):
        load_sources(path)


# -- every item settled: produced, dead-lettered, or reported --------------------------------------

KHARKIV_TITLE = "Ukrainian forces retake villages east of Kharkiv as Russian lines give way"
OUT_OF_RANGE = "0001-01-01T00:00:00+01:00"  # 31 Dec of year 0 in UTC: no datetime holds it


@pytest.fixture(scope="module")
def contracts() -> Contracts:
    return Contracts()


def _rss(*items: tuple[str, str, str]) -> bytes:
    """An RSS feed of (title, link, pubDate) items."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{date}</pubDate></item>" for t, link, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'.encode()


def _settle(pulled, spec, contracts, **settings):
    """deliveries() split by topic, the DLQ records parsed."""
    out = deliveries(pulled, spec, Settings(**settings), contracts)
    raw = [m for m in out if m.topic == "news.raw.v1"]
    dlq = [DlqRecord.model_validate(contracts.validate("dlq", m.value)) for m in out if m.topic == "news.dlq.v1"]
    assert len(raw) + len(dlq) == len(out)
    return raw, dlq


def test_an_item_breaking_the_raw_contract_is_dead_lettered_with_its_bytes(server, http, contracts) -> None:
    long_url = "https://dump.example/2022/09/" + "kherson-" * 600  # over the contract's 4096 characters
    good = {"url": "https://dump.example/a", "title": "Kherson", "text": "Ukrainian officials said on Monday..."}
    bad = {"url": long_url, "title": "Too long", "text": "A body that is fine."}
    server.routes["/dump.jsonl"] = Route(
        body=(json.dumps(good) + "\n" + json.dumps(bad) + "\n").encode(), content_type="application/x-ndjson"
    )
    spec = SourceSpec("dump", "jsonl", url=server.url("/dump.jsonl"))
    pulled = pull(spec, SourceState("dump"), http, CONFIG)

    raw, dlq = _settle(pulled, spec, contracts)

    assert [m.value["url"] for m in raw] == [good["url"]]
    (record,) = dlq
    bad_id = article_id(long_url, None, "")
    assert (record.stage, record.error.class_, record.error.kind) == ("ingest", "ContractError", "bad_input")
    assert record.article_id == bad_id and record.source.key == bad_id
    assert (record.source.topic, record.source.partition, record.source.offset) == ("news.raw.v1", -1, -1)
    assert record.error.message.startswith(f"source dump: {server.url('/dump.jsonl')}:2: not a valid raw article: ")
    assert "url" in record.error.message
    original = orjson.loads(record.payload.original())
    assert (original["url"], original["title"], original["text"]) == (long_url, "Too long", "A body that is fine.")
    assert pulled.report.to_dict()["produced"] == 1
    assert pulled.report.dead_lettered == {"not a valid raw article": 1}
    assert {article_id(good["url"], None, ""), bad_id} <= set(pulled.state.seen)  # saved once both are delivered


def test_text_that_is_not_unicode_is_dead_lettered_with_escapes(server, http, contracts) -> None:
    line = '{"url": "https://dump.example/s", "title": "Half a pair", "text": "Kyiv \\ud800 said"}\n'
    server.routes["/dump.jsonl"] = Route(body=line.encode(), content_type="application/x-ndjson")
    spec = SourceSpec("dump", "jsonl", url=server.url("/dump.jsonl"))

    raw, (record,) = _settle(pull(spec, SourceState("dump"), http, CONFIG), spec, contracts)

    assert raw == []
    assert record.error.class_ == "NotUnicode" and "surrogates not allowed" in record.error.message
    assert record.payload.encoding == "utf-8"
    assert json.loads(record.payload.original())["text"] == "Kyiv \ud800 said"  # the lone surrogate, exactly


def test_a_date_out_of_range_is_dead_lettered_and_a_page_down_for_now_is_not_remembered(
    server, http, contracts
) -> None:
    server.routes["/wire.xml"] = Route(
        body=_rss(
            (KHARKIV_TITLE, "{base}/pages/kharkiv.html", "Tue, 13 Sep 2022 06:15:00 +0000"),
            ("Zaporizhzhia", "{base}/pages/zaporizhzhia.html", "Mon, 12 Sep 2022 18:02:00 +0000"),
            ("Kharkiv, dated wrongly", "{base}/pages/kharkiv-copy.html", OUT_OF_RANGE),
        ),
        content_type="application/rss+xml",
    )
    server.routes["/pages/kharkiv-copy.html"] = server.routes["/pages/kharkiv.html"]
    server.routes["/pages/zaporizhzhia.html"].status = 503
    spec = SourceSpec("wire", "feed", url=server.url("/wire.xml"))
    key = {
        name: article_id(server.url(f"/pages/{name}.html"), None, "")
        for name in ("kharkiv", "zaporizhzhia", "kharkiv-copy")
    }

    first = pull(spec, SourceState("wire"), http, CONFIG)
    raw, (record,) = _settle(first, spec, contracts)

    assert [m.value["title"] for m in raw] == [KHARKIV_TITLE]
    assert record.error.class_ == "PublishedOutOfRange"
    assert f"kharkiv-copy.html: published '{OUT_OF_RANGE}' out of range" in record.error.message
    payload = orjson.loads(record.payload.original())
    assert payload["published"] == OUT_OF_RANGE and "rail junction that supplied Russian forces" in payload["text"]
    assert first.report.skipped == {"page unreachable": 1}
    assert first.report.dead_lettered == {"published out of range": 1}
    assert key["kharkiv"] in first.state.seen and key["kharkiv-copy"] in first.state.seen
    assert key["zaporizhzhia"] not in first.state.seen  # transient: tried again next run

    server.routes["/pages/zaporizhzhia.html"].status = 200
    second = pull(spec, first.state, http, CONFIG)
    raw, dlq = _settle(second, spec, contracts)

    assert [m.value["url"] for m in raw] == [server.url("/pages/zaporizhzhia.html")]
    assert dlq == [] and second.report.already_seen == 2


def test_an_article_too_large_for_kafka_is_reported_and_not_offered_again(contracts, tmp_path) -> None:
    dump = tmp_path / "big.jsonl"
    dump.write_text(
        json.dumps({"url": "https://dump.example/big", "text": "Kyiv. " * 400})
        + "\n"
        + json.dumps({"url": "https://dump.example/small", "text": "Kyiv."})
        + "\n"
    )
    spec = SourceSpec("big", "jsonl", path=str(dump))
    pulled = pull(spec, SourceState("big"), None, CONFIG)

    raw, dlq = _settle(pulled, spec, contracts, max_message_bytes=2048)

    assert [m.value["url"] for m in raw] == ["https://dump.example/small"] and dlq == []
    assert pulled.report.skipped == {"too large to produce": 1}
    assert "bytes is more than NEWSFLOW_MAX_MESSAGE_BYTES=2048" in pulled.report.examples[0]["detail"]
    assert pulled.report.to_dict()["produced"] == 1
    assert article_id("https://dump.example/big", None, "") in pulled.state.seen


def test_relative_and_unusable_links_do_not_stop_the_feed(server, http) -> None:
    server.routes["/wire.xml"] = Route(
        body=_rss(
            (KHARKIV_TITLE, "/pages/kharkiv.html", "Tue, 13 Sep 2022 06:15:00 +0000"),
            ("Bad port", "http://127.0.0.1:99999/pages/x.html", "Tue, 13 Sep 2022 06:15:00 +0000"),
        ),
        content_type="application/rss+xml",
    )

    pulled = pull(SourceSpec("wire", "feed", url=server.url("/wire.xml")), SourceState("wire"), http, CONFIG)

    assert [a.url for a in pulled.articles] == [server.url("/pages/kharkiv.html")]
    assert pulled.report.skipped == {"bad link": 1}
    assert (pulled.report.offered, pulled.report.produced) == (2, 1)

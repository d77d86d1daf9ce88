"""`import_saved_objects` against a local HTTP server that answers like Kibana's saved-objects API."""

from __future__ import annotations

import base64
import importlib.util
import json
import socket
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kibana.fields import referenced_fields
from pipeline.config import Settings
from pipeline.operations.kibana import (
    KibanaError,
    KibanaImportError,
    KibanaUnreachable,
    import_saved_objects,
    read_saved_objects,
)

ROOT = Path(__file__).resolve().parents[2]
NDJSON = ROOT / "kibana" / "saved_objects.ndjson"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass
class KibanaApiServer:
    """A real HTTP server speaking Kibana's saved-objects import API: records requests, answers with `status` and `answer(request)`."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    status: int = 200
    answer: object = None
    release: threading.Event = field(default_factory=threading.Event)
    hang: bool = False


@pytest.fixture
def kibana(request) -> KibanaApiServer:
    """A real HTTP server on a free loopback port; stopped in a finalizer even when the test fails."""
    fake = KibanaApiServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}  # HTTP header names are case-insensitive
            recorded = Recorded("POST", parts.path, parse_qs(parts.query), headers, self.rfile.read(length))
            fake.requests.append(recorded)
            if fake.hang:
                fake.release.wait(10)
                return
            payload = fake.answer(recorded) if callable(fake.answer) else fake.answer
            body = json.dumps(payload).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)

    request.addfinalizer(stop)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    fake.answer = success
    return fake


def uploaded_objects(recorded: Recorded) -> list[dict]:
    return [json.loads(line) for line in uploaded_file(recorded)[1].decode().splitlines() if line]


def uploaded_file(recorded: Recorded) -> tuple[str, bytes, str, str]:
    """(field name, file bytes, filename, part content type) of the single multipart part."""
    head = f"Content-Type: {recorded.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + recorded.body)
    assert message.is_multipart(), recorded.headers["content-type"]
    parts = list(message.iter_parts())
    assert len(parts) == 1
    part = parts[0]
    return (
        part.get_param("name", header="content-disposition"),
        part.get_payload(decode=True),
        part.get_filename(),
        part.get_content_type(),
    )


def success(recorded: Recorded) -> dict:
    """What Kibana answers when every object was imported."""
    objects = uploaded_objects(recorded)
    return {
        "success": True,
        "successCount": len(objects),
        "successResults": [
            {"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"].get("title")}} for o in objects
        ],
        "warnings": [],
    }


def test_import_sends_a_well_formed_request(kibana: KibanaApiServer) -> None:
    result = import_saved_objects(kibana.url, NDJSON, username="elastic", password="s3cret")

    assert len(kibana.requests) == 1
    sent = kibana.requests[0]
    assert sent.method == "POST"
    assert sent.path == "/api/saved_objects/_import"
    assert sent.query == {"overwrite": ["true"]}
    assert sent.headers["kbn-xsrf"]
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"elastic:s3cret").decode()
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    name, content, filename, content_type = uploaded_file(sent)
    assert (name, filename) == ("file", "saved_objects.ndjson")
    assert content_type == "application/ndjson"
    sent_objects = [json.loads(line) for line in content.decode().splitlines()]
    assert sent_objects == read_saved_objects(NDJSON)  # every object, unchanged, without the export summary
    assert result.success_count == len(sent_objects) == 14
    assert ("dashboard", "newsflow-dashboard", "News desk") in result.objects


def test_import_into_a_space_behind_a_base_path_with_an_api_key(kibana: KibanaApiServer) -> None:
    import_saved_objects(
        f"{kibana.url}/kibana/",
        NDJSON,
        api_key="ZW5jb2RlZDprZXk=",
        space="analysts",
        username="ignored",
        password="ignored",
        overwrite=False,
    )
    sent = kibana.requests[0]
    assert sent.path == "/kibana/s/analysts/api/saved_objects/_import"
    assert sent.query == {}
    assert sent.headers["authorization"] == "ApiKey ZW5jb2RlZDprZXk="


def test_secrets_from_settings_are_accepted(kibana: KibanaApiServer) -> None:
    secret = Settings(es_password="from-settings").es_password  # a pydantic SecretStr
    import_saved_objects(kibana.url, NDJSON, username="elastic", password=secret)
    assert kibana.requests[0].headers["authorization"] == "Basic " + base64.b64encode(b"elastic:from-settings").decode()


def test_a_non_default_alias_becomes_the_data_view_title(kibana: KibanaApiServer) -> None:
    import_saved_objects(kibana.url, NDJSON, index_alias="staging-news")
    data_views = [o for o in uploaded_objects(kibana.requests[0]) if o["type"] == "index-pattern"]
    assert [d["attributes"]["title"] for d in data_views] == ["staging-news"]
    assert "authorization" not in kibana.requests[0].headers


def test_objects_kibana_refuses_are_named_in_the_error(kibana: KibanaApiServer) -> None:
    kibana.answer = {
        "success": False,
        "successCount": 12,
        "errors": [
            {
                "id": "newsflow-lens-top-people",
                "type": "lens",
                "meta": {"title": "News: top people"},
                "error": {
                    "type": "missing_references",
                    "references": [{"type": "index-pattern", "id": "newsflow-news-articles"}],
                },
            },
            {
                "id": "newsflow-map-places",
                "type": "map",
                "meta": {"title": "News: map of places"},
                "error": {"type": "unknown", "message": "Unable to parse layerListJSON", "statusCode": 400},
            },
        ],
    }
    with pytest.raises(KibanaImportError) as caught:
        import_saved_objects(kibana.url, NDJSON)
    message = str(caught.value)
    assert "12 of 14" in message and "2 failed" in message
    assert (
        'lens newsflow-lens-top-people "News: top people": missing references index-pattern/newsflow-news-articles'
        in message
    )
    assert 'map newsflow-map-places "News: map of places": unknown: Unable to parse layerListJSON' in message
    assert len(caught.value.errors) == 2


def test_an_http_error_carries_kibanas_message_and_a_hint(kibana: KibanaApiServer) -> None:
    kibana.status = 401
    kibana.answer = {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "[security_exception] unable to authenticate user",
    }
    with pytest.raises(KibanaError, match=r"HTTP 401 .*unable to authenticate user.*check the Kibana username"):
        import_saved_objects(kibana.url, NDJSON, username="elastic", password="wrong")


def test_connection_refused_is_a_clear_error() -> None:
    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(
            KibanaUnreachable, match=r"cannot reach Kibana at http://127\.0\.0\.1:\d+/api/saved_objects/_import"
        ):
            import_saved_objects(url, NDJSON, timeout=5)


def test_a_kibana_that_does_not_answer_times_out(kibana: KibanaApiServer) -> None:
    kibana.hang = True
    with pytest.raises(KibanaUnreachable, match=r"did not answer within 0\.5s"):
        import_saved_objects(kibana.url, NDJSON, timeout=0.5)


def test_a_broken_file_fails_before_any_request(kibana: KibanaApiServer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ndjson"
    broken.write_text(NDJSON.read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(KibanaError, match=r"broken\.ndjson:2: not JSON"):
        import_saved_objects(kibana.url, broken)
    with pytest.raises(KibanaError, match="cannot read saved objects file"):
        import_saved_objects(kibana.url, tmp_path / "missing.ndjson")
    assert kibana.requests == []


# -- the committed objects ------------------------------------------------------------------------


def test_committed_objects_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("build_saved_objects", ROOT / "kibana" / "build_saved_objects.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert NDJSON.read_text(encoding="utf-8") == builder.render(), (
        "kibana/saved_objects.ndjson is out of date: run python kibana/build_saved_objects.py"
    )


def test_objects_are_complete_and_every_reference_resolves() -> None:
    objects = read_saved_objects(NDJSON)
    by_key = {(o["type"], o["id"]): o for o in objects}
    assert len(by_key) == len(objects), "duplicate ids"
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in by_key, f"{obj['id']} references missing {ref['type']}/{ref['id']}"
    (data_view,) = [o for o in objects if o["type"] == "index-pattern"]
    assert data_view["attributes"]["title"] == Settings().index_alias == "news-articles"
    assert data_view["attributes"]["timeFieldName"] == "published_at"
    searches = {
        o["attributes"]["title"]: json.loads(o["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        for o in objects
        if o["type"] == "search"
    }
    assert searches["News: one hit per story"]["query"]["query"] == "dedup.is_duplicate: false"
    assert (
        searches["News: Italian-origin articles"]["query"]["query"]
        == "language.code: it or translation.source_language: it"
    )
    assert searches["News: pending translations"]["query"]["query"] == "translation.status: pending"
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"] for r in dashboard["references"]}
    assert all(f"{p['panelIndex']}:{p['panelRefName']}" in names for p in panels)
    on_dashboard = {
        by_key[(r["type"], r["id"])]["attributes"]["title"]
        for r in dashboard["references"]
        if r["type"] != "index-pattern"
    }
    assert on_dashboard == {
        "News: articles over time by language",
        "News: articles over time by outlet",
        "News: top people",
        "News: top places",
        "News: top organisations",
        "News: map of places",
        "News: topics",
        "News: biggest story clusters",
        "News: latest quotes",
    }


def test_referenced_fields_finds_every_field_the_desk_uses() -> None:
    fields = referenced_fields(NDJSON)
    aggregated = {f for f, use in fields.items() if use["aggregated"]}
    assert aggregated >= {
        "published_at",
        "language.code",
        "source.name",
        "persons",
        "organizations",
        "places_names",
        "places.location",
        "topics.name",
        "dedup.cluster_id",
        "title_en.keyword",
        "translation.status",
    }
    assert set(fields) - aggregated >= {
        "dedup.is_duplicate",
        "translation.source_language",
        "quotes.speaker",
        "quotes.text",
        "title_en",
    }
    assert "___records___" not in fields and "doc_count" not in fields


# -- the CLI ------------------------------------------------------------------------------------------


def test_cli_import_uses_the_settings_and_lists_what_was_imported(kibana: KibanaApiServer, monkeypatch, capsys) -> None:
    from pipeline.cli import main

    monkeypatch.setenv("NEWSFLOW_KIBANA_URL", kibana.url)
    monkeypatch.setenv("NEWSFLOW_KIBANA_USERNAME", "elastic")
    monkeypatch.setenv("NEWSFLOW_KIBANA_PASSWORD", "from-env")
    monkeypatch.setenv("NEWSFLOW_KIBANA_SPACE", "desk")
    monkeypatch.setenv("NEWSFLOW_INDEX_ALIAS", "news-staging")

    assert main(["kibana", "import"]) == 0

    sent = kibana.requests[0]
    assert sent.path == "/s/desk/api/saved_objects/_import"
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"elastic:from-env").decode()
    views = [o for o in uploaded_objects(sent) if o["type"] == "index-pattern"]
    assert views and all(v["attributes"]["title"] == "news-staging" for v in views)
    assert "News desk" in capsys.readouterr().out


def test_cli_import_without_kibana_is_a_clear_error(monkeypatch, capsys) -> None:
    import socket

    from pipeline.cli import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    monkeypatch.setenv("NEWSFLOW_KIBANA_URL", f"http://127.0.0.1:{port}")
    assert main(["kibana", "import"]) == 1
    assert "kibana import failed" in capsys.readouterr().err

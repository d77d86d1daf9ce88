"""A real HTTP server on a free loopback port serving the feed fixtures (`tests/fixtures/feeds/`).

`{base}` in a served document becomes the server's own address, so feeds link to pages on it.
It answers conditional requests (ETag / Last-Modified -> 304) like a real outlet, records every
request, and lets a test override or remove a path.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
LAST_MODIFIED = "Tue, 13 Sep 2022 07:40:00 GMT"
CONTENT_TYPES = {
    "/feeds/rss.xml": "application/rss+xml; charset=utf-8",
    "/feeds/atom.xml": "application/atom+xml; charset=utf-8",
    "/feeds/malformed.xml": "application/rss+xml",
    "/pages/legacy.html": "text/html; charset=x-klingon-8",  # a charset no codec knows
    "/pages/zaporizhzhia.html": "text/html",  # the page declares windows-1252 in a <meta>
    "/feeds/dump.jsonl": "application/x-ndjson",
}


@dataclass
class Route:
    """What a path answers."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    conditional: bool = True
    original: bytes | None = None  # the body as first served: a changed body is newer than LAST_MODIFIED

    def __post_init__(self) -> None:
        if self.original is None:
            self.original = self.body


@dataclass
class FeedServer:
    """Serves the fixtures; `url(path)` gives absolute URLs; `requests` lists (path, headers)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(path)
                if route is None:
                    self._answer(404, b"not found", "text/plain")
                    return
                body = route.body.replace(b"{base}", server.base.encode())
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                # RFC 9110: If-None-Match, when sent, decides alone; If-Modified-Since only without it.
                if self.headers.get("If-None-Match") is not None:
                    fresh = self.headers.get("If-None-Match") == etag
                else:
                    fresh = self.headers.get("If-Modified-Since") == LAST_MODIFIED and route.body == route.original
                if route.conditional and route.status == 200 and fresh:
                    self._answer(304, b"", None, etag)
                    return
                self._answer(route.status, body, route.content_type, etag if route.conditional else None)

            def _answer(self, status: int, body: bytes, content_type: str | None, etag: str | None = None) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", LAST_MODIFIED)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        for file in FEEDS.rglob("*"):
            if file.is_file():
                path = "/" + ("feeds/" if file.parent == FEEDS else "pages/") + file.name
                default = "application/xml" if file.suffix == ".xml" else "text/html; charset=utf-8"
                self.routes.setdefault(
                    path, Route(body=file.read_bytes(), content_type=CONTENT_TYPES.get(path, default))
                )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="feed-server", daemon=True
        )

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.base + path

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of every request made for `path`."""
        return [headers for p, headers in self.requests if p == path]

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

"""A loopback HTTP proxy in front of the real Elasticsearch that can turn into the failures production brings.

- `deny(status)`: every request is answered 401 (expired credentials) or 403, as a secured cluster does.
- `poison(ids)`: in a `_bulk`, the items for these document ids are not forwarded and come back as
  503 (`unavailable_shards_exception`), while the rest of the bulk is indexed for real.
- `allow()`: a plain pass-through again.
Everything else is forwarded byte for byte, headers included (the client checks `X-Elastic-Product`).
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (the pipeline's client on shutdown) is not an error of the proxy."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


@dataclass
class ElasticsearchProxy:
    """Start with `start()`, stop with `stop()`; `url` is what the pipeline is pointed at."""

    upstream: str
    denied: int = 0
    poisoned: set[str] = field(default_factory=set)
    requests: int = 0
    poison_answers: int = 0
    _server: _Server | None = None

    def start(self) -> ElasticsearchProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.requests += 1
                if proxy.denied:
                    self._answer(
                        proxy.denied,
                        {
                            "error": {"type": "security_exception", "reason": "unable to authenticate user [newsflow]"},
                            "status": proxy.denied,
                        },
                        {"WWW-Authenticate": 'Basic realm="security"'},
                    )
                    return
                poisoned = []
                if proxy.poisoned and "/_bulk" in self.path and body:
                    body, poisoned = _strip(body, proxy.poisoned)
                    proxy.poison_answers += len(poisoned)
                    if not body.strip():
                        items = [_poison_item(a) for _, a in poisoned]
                        self._answer(200, {"took": 1, "errors": True, "items": items})
                        return
                status, headers, data = proxy._forward(self.command, self.path, dict(self.headers), body)
                if poisoned and status == 200:
                    answer = json.loads(data)
                    for position, action in poisoned:
                        answer["items"].insert(position, _poison_item(action))
                    answer["errors"] = True
                    data = json.dumps(answer).encode()
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, status: int, body: dict, extra: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Elastic-Product", "Elasticsearch")
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def deny(self, status: int = 401) -> None:
        self.denied = status

    def allow(self) -> None:
        self.denied = 0
        self.poisoned = set()

    def poison(self, ids) -> None:
        self.poisoned = set(ids)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _forward(self, method: str, path: str, headers: dict, body: bytes):
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            headers = {k: v for k, v in headers.items() if k.lower() not in _HOP}
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


def _strip(body: bytes, ids: set[str]) -> tuple[bytes, list[tuple[int, dict]]]:
    """The bulk body without the actions on `ids`, and (position, action) of each one removed."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    kept: list[bytes] = []
    removed: list[tuple[int, dict]] = []
    i = position = 0
    while i < len(lines):
        action = json.loads(lines[i])
        ((op, meta),) = action.items()
        has_source = op != "delete"
        pair = lines[i : i + (2 if has_source else 1)]
        if meta.get("_id") in ids:
            removed.append((position, {op: meta}))
        else:
            kept.extend(pair)
        i += len(pair)
        position += 1
    return (b"\n".join(kept) + b"\n") if kept else b"", removed


def _poison_item(action: dict) -> dict:
    ((op, meta),) = action.items()
    return {
        op: {
            "_index": meta.get("_index"),
            "_id": meta.get("_id"),
            "status": 503,
            "error": {"type": "unavailable_shards_exception", "reason": "[drill] primary shard is not active"},
        }
    }

"""A real HTTP server on a free loopback port that speaks LibreTranslate's `POST /translate`.

Like LibreTranslate it reads `q`, `source`, `target`, `format` and `api_key` from a JSON body, a form
body or the query string (deep-translator sends the query string), and answers
`{"translatedText": ...}`. It records every request with its arrival time, can answer late, can hold
requests until a number of them are in flight at once, and can be told to fail the next requests with a
status or to hang past the client's deadline.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def shout(text: str) -> str:
    """The default 'translation': upper case, so a test can tell translated text from the original."""
    return text.upper()


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    at: float  # time.monotonic() on arrival
    q: str
    source: str
    target: str
    format: str
    api_key: str | None


@dataclass
class Fault:
    """An answer other than a translation for one request: an HTTP error status or a hang."""

    status: int = 500
    hang_s: float = 0.0  # hold the request this long before answering (past the client's deadline)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients at once in the benchmark


@dataclass
class LibreTranslateServer:
    """Start with `start()`, stop with `stop()` (also releases any request it is holding)."""

    translate: Callable[[str], str] = shout
    latency_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)  # consumed one per request, first first
    max_in_flight: int = 0  # the most requests it was answering at once
    # When set, each request waits until this many were in flight at once (or `hold_timeout_s` passed):
    # concurrency is then observed by construction, not by how fast the machine happens to be.
    hold_until_in_flight: int = 0
    hold_timeout_s: float = 4.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._peak = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._in_flight = 0

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:43210`."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def in_flight(self) -> int:
        """Requests received and not answered yet (a held one counts until the server stops)."""
        with self._lock:
            return self._in_flight

    @property
    def texts(self) -> list[str]:
        """The `q` of every request, in arrival order."""
        with self._lock:
            return [r.q for r in self.received]

    def start(self) -> LibreTranslateServer:
        """Listen on a free port and serve in a daemon thread."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, *_args) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="libre-server", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and release held requests."""
        self._stopping.set()
        with self._peak:
            self._peak.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request the way LibreTranslate does."""
        arrived = time.monotonic()
        split = urlsplit(handler.path)
        if split.path != "/translate":
            return self._reply(handler, 404, {"error": "Not Found"})
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if body:
            if (handler.headers.get("Content-Type") or "").startswith("application/json"):
                params.update(json.loads(body))
            else:
                params.update({k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
        if not params.get("q"):
            return self._reply(handler, 400, {"error": "Invalid request: missing q parameter"})
        with self._lock:
            self.received.append(
                Received(
                    arrived,
                    params["q"],
                    params.get("source", ""),
                    params.get("target", ""),
                    params.get("format", "text"),
                    params.get("api_key"),
                )
            )
            fault = self.faults.pop(0) if self.faults else None
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._peak.notify_all()
        try:
            self._answer(handler, params["q"], fault)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, handler: BaseHTTPRequestHandler, q: str, fault: Fault | None) -> None:
        """A fault, or the translation after the configured hold and latency."""
        if self.hold_until_in_flight:
            self._wait_for_peak()
        if fault is not None:
            if fault.hang_s:
                self._stopping.wait(fault.hang_s)  # the simulated hang; released at stop
            return self._reply(handler, fault.status, {"error": f"simulated {fault.status}"})
        if self.latency_s:
            self._stopping.wait(self.latency_s)  # the simulated service time
        self._reply(handler, 200, {"translatedText": self.translate(q)})

    def _wait_for_peak(self) -> None:
        """Hold this request until `hold_until_in_flight` requests were in flight at once, or the hold times out."""
        with self._peak:
            self._peak.wait_for(
                lambda: self.max_in_flight >= self.hold_until_in_flight or self._stopping.is_set(),
                timeout=self.hold_timeout_s,
            )

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up at its deadline

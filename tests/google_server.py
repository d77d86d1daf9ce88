"""A real HTTP server on a free loopback port that answers like Google Translate's mobile page (`GET /m`).

deep-translator's `GoogleTranslator` GETs `<base>?tl=..&sl=..&q=..` and takes the text of
`<div class="result-container">` (or the older `<div class="t0">`) out of the HTML. This server answers
in that format, recording every request, and can be told to answer the next requests otherwise: an HTTP
error status, a consent or captcha page, a page whose result element was renamed, an empty result, or
no answer until after the client's deadline.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATH = "/m"
HOLD_S = 3600.0  # "never answers": held until the server stops


def shout(text: str) -> str:
    """The default 'translation': upper case, so a test can tell translated text from the original."""
    return text.upper()


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    q: str
    sl: str
    tl: str


@dataclass(frozen=True)
class Reply:
    """A scripted answer for one request: a status, a kind of page, and how long to hold it first."""

    status: int = 200
    page: str = "result"  # result | consent | captcha | renamed | empty | error
    hold_s: float = 0.0


TOO_MANY_REQUESTS = Reply(429, "error")
UNAVAILABLE = Reply(503, "error")
CONSENT = Reply(page="consent")
CAPTCHA = Reply(page="captcha")
RENAMED = Reply(page="renamed")
EMPTY = Reply(page="empty")
SILENT = Reply(hold_s=HOLD_S)


def result_page(translated: str, result_class: str = "result-container") -> str:
    """The mobile page with a translation, its result element under the class deep-translator looks for."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>Google Translate</title></head>'
        '<body><div class="root-container"><div class="header"><a href="/m">Google Translate</a></div>'
        '<form action="/m" class="input-container"><input type="hidden" name="sl" value="it">'
        '<textarea name="q" class="input-field"></textarea></form>'
        f'<div class="{result_class}">{html.escape(translated, quote=False)}</div>'
        '<div class="footer">Google - Privacy &amp; Terms</div></div></body></html>'
    )


CONSENT_PAGE = (
    "<!DOCTYPE html><html><head><title>Before you continue</title></head><body>"
    '<div class="consent-bump"><h1>Before you continue to Google</h1>'
    "<p>We use cookies and data to deliver and maintain Google services.</p>"
    '<form action="https://consent.google.com/save" method="POST"><input type="hidden" name="set_eom" value="true">'
    "<button>Reject all</button><button>Accept all</button></form></div></body></html>"
)
CAPTCHA_PAGE = (
    "<!DOCTYPE html><html><head><title>https://translate.google.com/m</title></head><body>"
    '<div id="infoDiv">Our systems have detected unusual traffic from your computer network. '
    "This page checks to see if it's really you sending the requests, and not a robot.</div>"
    '<form id="captcha-form" action="index" method="post"><div class="g-recaptcha" data-sitekey="x"></div>'
    "</form></body></html>"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


@dataclass
class GoogleTranslateServer:
    """Start with `start()`, stop with `stop()` (also releases any request it is holding)."""

    translate: Callable[[str], str] = shout
    received: list[Received] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # every translation sent back, in order
    replies: list[Reply] = field(default_factory=list)  # consumed one per request, first first

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._held = 0

    @property
    def url(self) -> str:
        """The page's URL, e.g. `http://127.0.0.1:43210/m` (what `base_url` replaces Google's with)."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    @property
    def held(self) -> int:
        """Requests being held unanswered right now."""
        with self._lock:
            return self._held

    def start(self) -> GoogleTranslateServer:
        """Listen on a free port and serve in a daemon thread."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def log_message(self, *_args) -> None:
                pass

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="google-server", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and release held requests."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request the way the mobile page does, or as scripted."""
        split = urlsplit(handler.path)
        if split.path != PATH:
            return _send(handler, 404, "<html><body>Not Found</body></html>")
        params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:  # recorded and counted as held at once: a test sees both or neither
            self.received.append(Received(params.get("q", ""), params.get("sl", ""), params.get("tl", "")))
            reply = self.replies.pop(0) if self.replies else Reply()
            self._held += bool(reply.hold_s)
        if reply.hold_s:
            self._hold(reply.hold_s)
        status, page = self._page(reply, params.get("q", ""))
        _send(handler, status, page)

    def _hold(self, seconds: float) -> None:
        """Keep the request unanswered (the simulated silence); released at stop."""
        try:
            self._stopping.wait(seconds)
        finally:
            with self._lock:
                self._held -= 1

    def _page(self, reply: Reply, q: str) -> tuple[int, str]:
        """The status and HTML of a scripted reply."""
        if reply.page == "consent":
            return reply.status, CONSENT_PAGE
        if reply.page == "captcha":
            return reply.status, CAPTCHA_PAGE
        if reply.page == "error":
            return reply.status, f"<html><body><h1>Error {reply.status}</h1></body></html>"
        translated = "" if reply.page == "empty" else self.translate(q)
        with self._lock:
            self.answered.append(translated)
        return reply.status, result_page(
            translated, "translation-box" if reply.page == "renamed" else "result-container"
        )


def _send(handler: BaseHTTPRequestHandler, status: int, page: str) -> None:
    """Write an HTML answer; a client that gave up at its deadline is no error."""
    data = page.encode("utf-8")
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass

"""Sources to raw articles for news_ingest: the sources file, HTTP fetching, feeds, extraction, incremental state.

A source is a seeds folder, an RSS/Atom feed, a list of page URLs or a JSONL dump (file or URL).
`pull()` is pure apart from the HTTP client it is handed: spec + previous state in, articles + report +
next state out. `ingest_source()` adds Kafka: it reads the state, produces the articles with confirmed
delivery, then writes the new state.

Failure policy: a source that cannot be reached (feed, dump, folder) raises `SourceUnavailable`, so the
Airflow task fails and is retried; a page that cannot be fetched for now is left for the next run; anything
that is not an article (malformed feed, a page with no article text, an unknown encoding, a page that is
gone) is skipped and counted by reason. An item that is an article but bad input (it breaks the raw
contract, its date cannot be represented, its text is not valid Unicode) goes to news.dlq.v1 with stage
`ingest`, the reason and its bytes. An item is remembered as given only when its outcome is final:
produced or dead-lettered (both confirmed before the state is saved), or skipped for good with its reason.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import orjson
import structlog

from pipeline.config import Settings
from pipeline.identity import article_id
from pipeline.ingest import Skipped, build_article, read_paths
from pipeline.records import Article, DlqError, DlqPayload, DlqRecord, DlqSource

log = structlog.get_logger("newsflow.sources")

KINDS = ("folder", "feed", "urls", "jsonl")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_KEYS = {"name", "kind", "url", "path", "urls", "publisher", "fetch_pages", "lenient", "max_items"}
# feedparser flags these as "bozo" although the feed parsed fine.
_BENIGN_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
STATE_TOPIC = "news.source-state.v1"


class SourcesFileError(ValueError):
    """The sources file cannot be used; the message names the entry and what is wrong."""


class SourceUnavailable(Exception):
    """The source itself could not be reached: the task fails and Airflow retries it."""


# -- the sources file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    """One entry of the sources file."""

    name: str
    kind: str
    url: str | None = None
    path: str | None = None
    urls: tuple[str, ...] = ()
    publisher: str | None = None
    fetch_pages: bool = True
    lenient: bool = False
    max_items: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready, to hand a spec to a mapped Airflow task."""
        return {**self.__dict__, "urls": list(self.urls)}

    @classmethod
    def from_dict(cls, data: dict) -> SourceSpec:
        """The inverse of `to_dict`."""
        return cls(**{**data, "urls": tuple(data.get("urls") or ())})


def load_sources(path: Path) -> list[SourceSpec]:
    """Every source in a YAML or JSON sources file; relative paths are resolved against the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesFileError(f"cannot read the sources file {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".json":
            document = orjson.loads(text)
        else:
            import yaml

            document = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is the same problem for the operator
        raise SourcesFileError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    entries = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SourcesFileError(f"{path}: expected a top-level `sources:` list")
    specs, names = [], set()
    for number, entry in enumerate(entries, start=1):
        spec = _spec(entry, f"{path}: source #{number}", path.parent)
        if spec.name in names:
            raise SourcesFileError(f"{path}: source name {spec.name!r} is used twice")
        names.add(spec.name)
        specs.append(spec)
    return specs


def _spec(entry: object, where: str, base: Path) -> SourceSpec:
    if not isinstance(entry, dict):
        raise SourcesFileError(f"{where}: expected a mapping with name and kind")
    unknown = set(entry) - _KEYS
    if unknown:
        raise SourcesFileError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}")
    name, kind = entry.get("name"), entry.get("kind")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourcesFileError(f"{where}: name {name!r} must be lower-case letters, digits, '.', '_' or '-'")
    where = f"{where} ({name})"
    if kind not in KINDS:
        raise SourcesFileError(f"{where}: kind {kind!r} must be one of {', '.join(KINDS)}")
    url, raw_path, urls = entry.get("url"), entry.get("path"), entry.get("urls") or []
    resolved = str((base / raw_path).resolve()) if raw_path else None
    if kind == "feed" and not url:
        raise SourcesFileError(f"{where}: a feed needs `url`")
    if kind == "folder" and not raw_path:
        raise SourcesFileError(f"{where}: a folder needs `path`")
    if kind == "jsonl" and bool(url) == bool(raw_path):
        raise SourcesFileError(f"{where}: a jsonl dump needs exactly one of `url` or `path`")
    if kind == "urls":
        if not isinstance(urls, list) or (not urls and not raw_path):
            raise SourcesFileError(f"{where}: a URL list needs `urls: [...]` or `path` to a file of URLs")
    for candidate in [url, *urls]:
        if candidate is not None and not (isinstance(candidate, str) and candidate.startswith(("http://", "https://"))):
            raise SourcesFileError(f"{where}: {candidate!r} is not an http(s) URL")
    max_items = entry.get("max_items")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        raise SourcesFileError(f"{where}: max_items must be a positive integer")
    return SourceSpec(
        name=name, kind=kind, url=url, path=resolved, urls=tuple(urls), publisher=entry.get("publisher"),
        fetch_pages=bool(entry.get("fetch_pages", True)), lenient=bool(entry.get("lenient", False)),
        max_items=max_items,
    )


# -- configuration, report, state ----------------------------------------------------------------


@dataclass(frozen=True)
class FetchConfig:
    """How sources are fetched; built once from the settings."""

    user_agent: str = "newsflow/0.1"
    timeout_s: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    max_items: int = 200
    min_text_chars: int = 200
    state_window_days: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchConfig:
        """The fetch settings (`NEWSFLOW_SOURCES_*`)."""
        return cls(
            user_agent=settings.sources_user_agent,
            timeout_s=settings.sources_timeout_s,
            max_bytes=settings.sources_max_bytes,
            max_items=settings.sources_max_items,
            min_text_chars=settings.sources_min_text_chars,
            state_window_days=settings.sources_state_window_days,
        )


@dataclass
class SourceReport:
    """What one pull did: items offered, produced, already given before, skips and dead letters by reason."""

    source: str
    kind: str
    offered: int = 0
    produced: int = 0
    already_seen: int = 0
    deferred: int = 0
    not_modified: bool = False
    skipped: Counter = field(default_factory=Counter)
    dead_lettered: Counter = field(default_factory=Counter)
    examples: list[dict] = field(default_factory=list)

    def skip(self, where: str, reason: str, detail: str = "") -> None:
        """Count a skipped item under its reason; keep the first few as examples for the log."""
        self.skipped[reason] += 1
        if len(self.examples) < 20:
            self.examples.append({"where": where, "reason": reason, "detail": detail[:300]})
        log.warning("item skipped", source=self.source, where=where, reason=reason, detail=detail[:300])

    def dead_letter(self, where: str, reason: str, detail: str = "") -> None:
        """Count an item sent to the DLQ under its reason; keep the first few as examples for the log."""
        self.dead_lettered[reason] += 1
        if len(self.examples) < 20:
            self.examples.append({"where": where, "reason": reason, "detail": detail[:300], "dlq": True})
        log.warning("item dead-lettered", source=self.source, where=where, reason=reason, detail=detail[:300])

    def to_dict(self) -> dict:
        """JSON-ready (Airflow XCom, logs)."""
        return {
            "source": self.source, "kind": self.kind, "offered": self.offered, "produced": self.produced,
            "already_seen": self.already_seen, "deferred": self.deferred, "not_modified": self.not_modified,
            "skipped": dict(self.skipped), "skipped_total": sum(self.skipped.values()),
            "dead_lettered": dict(self.dead_lettered), "dead_lettered_total": sum(self.dead_lettered.values()),
            "examples": self.examples,
        }


@dataclass(frozen=True)
class SourceState:
    """What a source already gave: item keys with when first seen, and HTTP validators per URL."""

    source: str
    seen: dict[str, str] = field(default_factory=dict)
    validators: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_wire(self) -> dict:
        """The state record (value of the compacted state topic, key = source name)."""
        return {"source": self.source, "seen": self.seen, "validators": self.validators, "updated_at": _now().isoformat()}

    @classmethod
    def from_wire(cls, data: dict) -> SourceState:
        """The inverse of `to_wire`."""
        return cls(source=data["source"], seen=dict(data.get("seen") or {}), validators=dict(data.get("validators") or {}))


@dataclass(frozen=True)
class Rejected:
    """An item that is bad input: where it came from, why, and its content (a raw-entry JSON object) for the DLQ."""

    where: str
    reason: str
    error_class: str
    article_id: str | None
    content: dict
    dead_letter: bool = True  # False: too large even for the DLQ, so only reported


@dataclass
class Pulled:
    """The result of one pull: new articles, items rejected as bad input, the report, and the state to save
    once the articles are produced and the rejected items dead-lettered (the state already counts them as given)."""

    articles: list[Article]
    report: SourceReport
    state: SourceState
    rejected: list[Rejected] = field(default_factory=list)


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """A response body read within the size limit."""

    url: str
    status: int
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None


class FetchError(Exception):
    """A request failed; `transient` when trying later may succeed (network, timeout, 429, 5xx)."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


def http_client(config: FetchConfig):
    """An httpx client with the timeouts, the user agent and redirects followed."""
    import httpx

    return httpx.Client(
        timeout=httpx.Timeout(config.timeout_s), follow_redirects=True, max_redirects=5,
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


def fetch(http, url: str, config: FetchConfig, validators: dict[str, str] | None = None) -> Fetched:
    """GET `url` (conditionally when validators are given); raises FetchError on failure or a non-2xx/304 status."""
    import httpx

    headers = {}
    if validators:
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Fetched(str(response.url), 304, b"", None, validators.get("etag") if validators else None,
                               validators.get("last_modified") if validators else None)
            if response.status_code == 429 or response.status_code >= 500:
                raise FetchError(f"HTTP {response.status_code} from {url}", transient=True, status=response.status_code)
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} from {url}", transient=False, status=response.status_code)
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > config.max_bytes:
                    raise FetchError(f"{url} is larger than {config.max_bytes} bytes", transient=False)
                chunks.append(chunk)
            return Fetched(
                str(response.url), response.status_code, b"".join(chunks), response.headers.get("content-type"),
                response.headers.get("etag"), response.headers.get("last-modified"),
            )
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {config.timeout_s}s fetching {url} ({type(exc).__name__})", transient=True) from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}", transient=True) from exc


# -- decoding and extraction ---------------------------------------------------------------------


class UnknownEncoding(ValueError):
    """The page's bytes cannot be turned into text with any known encoding."""


def decode_html(body: bytes, content_type: str | None) -> str:
    """Page bytes as text: the declared charset (HTTP header, then <meta>), else UTF-8, else a detected one."""
    declared = _charset_of(content_type)
    if declared is None:
        match = _META_CHARSET.search(body[:4096])
        declared = match.group(1).decode("ascii", "replace") if match else None
    if declared:
        try:
            codec = codecs.lookup(declared)
        except LookupError:
            raise UnknownEncoding(f"declared charset {declared!r} is not a known encoding") from None
        return body.decode(codec.name, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    if best is None or best.encoding is None:
        raise UnknownEncoding("no charset declared, not UTF-8, and no encoding recognised")
    return str(best)


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value.strip(' "\''):
            return value.strip(' "\'')
    return None


@dataclass(frozen=True)
class Extracted:
    """The article in a page: main text without boilerplate, and what metadata the page gives."""

    text: str
    title: str | None
    date: str | None


def extract_article(html: str, url: str | None, min_chars: int) -> Extracted | None:
    """Main text of a page with trafilatura (reader comments excluded); None when there is no article text."""
    import trafilatura

    result = trafilatura.extract(
        html, url=url, include_comments=False, output_format="json", with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if not result:
        return None
    data = orjson.loads(result)
    text = (data.get("text") or "").strip()
    if len(text) < min_chars:
        return None
    return Extracted(text=text, title=data.get("title") or None, date=data.get("date") or None)


# -- pulling -------------------------------------------------------------------------------------


class _Pull:
    """The bookkeeping of one pull: offered keys, seen keys, produced articles, skips."""

    def __init__(self, spec: SourceSpec, state: SourceState, config: FetchConfig, now: datetime) -> None:
        self.spec, self.config, self.now = spec, config, now
        self.report = SourceReport(spec.name, spec.kind)
        self.old_seen = dict(state.seen)
        self.new_seen: dict[str, str] = {}
        self.offered: set[str] = set()
        self.validators = dict(state.validators)
        self.articles: list[Article] = []
        self.rejected: list[Rejected] = []
        self.max_items = spec.max_items or config.max_items

    def is_new(self, key: str) -> bool:
        """Count an offered item; False when it was given before, or when this run's quota is used (next run)."""
        self.report.offered += 1
        self.offered.add(key)
        if key in self.old_seen or key in self.new_seen:
            self.report.already_seen += 1
            return False
        if len(self.articles) >= self.max_items:
            self.report.deferred += 1
            return False
        return True

    def done(self, key: str) -> None:
        """The item reached a final outcome (skipped for good, or to be produced or dead-lettered before the
        state is saved): do not offer it again."""
        self.new_seen[key] = self.now.isoformat().replace("+00:00", "Z")

    def produce(self, key: str, article: Article) -> None:
        self.articles.append(article)
        self.report.produced += 1
        self.done(key)

    def reject(self, key: str, rejected: Rejected) -> None:
        """The item is bad input: it goes to the DLQ with the articles."""
        self.rejected.append(rejected)
        self.done(key)

    def result(self) -> Pulled:
        cutoff = (self.now - timedelta(days=self.config.state_window_days)).isoformat().replace("+00:00", "Z")
        # Keep what the source still offers (so it is never given twice) and what is recent; forget the rest.
        seen = {k: v for k, v in self.old_seen.items() if k in self.offered or v >= cutoff}
        seen.update(self.new_seen)
        return Pulled(self.articles, self.report, SourceState(self.spec.name, seen, self.validators), self.rejected)


def pull(spec: SourceSpec, state: SourceState, http, config: FetchConfig, now: datetime | None = None) -> Pulled:
    """New articles of one source since `state`; raises SourceUnavailable when the source cannot be reached."""
    job = _Pull(spec, state, config, now or _now())
    {"folder": _pull_local, "jsonl": _pull_jsonl, "feed": _pull_feed, "urls": _pull_urls}[spec.kind](job, http)
    return job.result()


def _pull_local(job: _Pull, http=None, path: Path | None = None, origin_url: str | None = None) -> None:
    path = path or Path(job.spec.path)
    if not path.exists():
        raise SourceUnavailable(f"source {job.spec.name}: {path} does not exist")
    for item in read_paths([path]):
        if isinstance(item, Skipped):
            where = item.where if origin_url is None else item.where.replace(str(path), origin_url)
            job.report.skip(where, _reason_key(item.reason), item.reason)
            continue
        if job.spec.publisher and not item.source.name:
            item = item.model_copy(update={"source": item.source.model_copy(update={"name": job.spec.publisher})})
        if origin_url:
            item = item.model_copy(update={"origin": item.origin.replace(str(path), origin_url)})
        if job.is_new(item.article_id):
            job.produce(item.article_id, item)


def _pull_jsonl(job: _Pull, http) -> None:
    if job.spec.path:
        _pull_local(job)
        return
    fetched = _fetch_source(job, http, job.spec.url)
    if fetched is None:
        return
    with tempfile.TemporaryDirectory(prefix="newsflow-dump-") as tmp:
        dump = Path(tmp) / "dump.jsonl"
        dump.write_bytes(fetched.body)
        _pull_local(job, path=dump, origin_url=job.spec.url)


def _fetch_source(job: _Pull, http, url: str) -> Fetched | None:
    """The source's own document, conditionally; None when not modified; SourceUnavailable when unreachable."""
    try:
        fetched = fetch(http, url, job.config, job.validators.get(url))
    except FetchError as exc:
        raise SourceUnavailable(f"source {job.spec.name}: {exc}") from exc
    if fetched.status == 304:
        job.report.not_modified = True
        log.info("source not modified", source=job.spec.name, url=url)
        return None
    job.validators[url] = {k: v for k, v in (("etag", fetched.etag), ("last_modified", fetched.last_modified)) if v}
    return fetched


def _pull_feed(job: _Pull, http) -> None:
    import feedparser

    fetched = _fetch_source(job, http, job.spec.url)
    if fetched is None:
        return
    parsed = feedparser.parse(fetched.body, response_headers={"content-type": fetched.content_type or "application/xml"})
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and type(problem).__name__ in _BENIGN_BOZO:
        problem = None
    if problem is not None and not (job.spec.lenient and parsed.entries):
        job.report.skip(job.spec.url, "malformed feed", f"{type(problem).__name__}: {problem}")
        job.validators.pop(job.spec.url, None)  # fetch it again next time: the outlet may fix it
        return
    if not parsed.get("version") and not parsed.entries:
        job.report.skip(job.spec.url, "not a feed", f"content-type {fetched.content_type!r}, no RSS/Atom root")
        job.validators.pop(job.spec.url, None)
        return
    publisher = job.spec.publisher or parsed.feed.get("title") or None
    transient = 0
    for entry in parsed.entries:
        link = urljoin(fetched.url, entry["link"]) if entry.get("link") else None  # relative links: the feed's base
        title = (entry.get("title") or "").strip() or None
        published = entry.get("published") or entry.get("updated")
        if job.spec.fetch_pages and link:
            key = _item_key(job, link, None, "", f"{job.spec.url}#{title}")
            if key is None or not job.is_new(key):
                continue
            outcome = _page(job, http, link)
            if outcome is None:
                transient += 1
                continue
            if isinstance(outcome, str):  # a permanent skip, already counted
                job.done(key)
                continue
            text, page_title, page_date = outcome.text, outcome.title, outcome.date
        else:
            body = _entry_html(entry)
            extracted = extract_article(body, link, job.config.min_text_chars) if body else None
            text = extracted.text if extracted else _plain(body)
            if not link and not text:
                job.report.offered += 1
                job.report.skip(f"{job.spec.url}#{title}", "no article text", "entry has neither link nor content")
                continue
            key = _item_key(job, link, title, text, f"{job.spec.url}#{title}")
            if key is None or not job.is_new(key):
                continue
            if len(text) < job.config.min_text_chars:
                job.report.skip(link or f"{job.spec.url}#{title}", "no article text", "entry content too short")
                job.done(key)
                continue
            page_title, page_date = None, None
        fields = dict(text=text, title=title or page_title, url=link, published=published or page_date,
                      source_name=publisher, origin=job.spec.url)
        _produce_or_reject(job, key, link or f"{job.spec.url}#{title}", fields)
    if transient:
        job.validators.pop(job.spec.url, None)  # fetch the whole feed next run, so those pages are tried again
    _raise_when_all_unreachable(job, transient)


def _pull_urls(job: _Pull, http) -> None:
    urls = list(job.spec.urls)
    if job.spec.path:
        try:
            lines = Path(job.spec.path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SourceUnavailable(f"source {job.spec.name}: cannot read {job.spec.path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise SourceUnavailable(f"source {job.spec.name}: {job.spec.path} is not UTF-8 text: {exc.reason}") from None
        urls += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    transient = 0
    for url in urls:
        key = _item_key(job, url, None, "", url)
        if key is None or not job.is_new(key):
            continue
        outcome = _page(job, http, url)
        if outcome is None:
            transient += 1
            continue
        if isinstance(outcome, str):
            job.done(key)
            continue
        fields = dict(text=outcome.text, title=outcome.title, url=url, published=outcome.date,
                      source_name=job.spec.publisher, origin=url)
        _produce_or_reject(job, key, url, fields)
    _raise_when_all_unreachable(job, transient)


def _item_key(job: _Pull, url: str | None, title: str | None, text: str, where: str) -> str | None:
    """The item's article id, or None (counted as offered and skipped) when its link cannot be identified."""
    try:
        return article_id(url, title, text)
    except ValueError as exc:  # not an absolute URL, a port out of range, text that is not Unicode
        job.report.offered += 1
        job.report.skip(where, "bad link" if url else "bad item", f"{(url or '')[:200]!r}: {exc}")
        return None


def _produce_or_reject(job: _Pull, key: str, where: str, fields: dict) -> None:
    """The item as an article, or, when it cannot be one as given (a date out of range), a rejected item."""
    try:
        article = build_article(**fields)
    except ValueError as exc:
        content = {"url": fields["url"], "title": fields["title"], "text": fields["text"],
                   "published": fields["published"], "source": fields["source_name"], "origin": fields["origin"]}
        job.reject(key, Rejected(where, str(exc), type(exc).__name__, key, content))
        return
    job.produce(key, article)


def _page(job: _Pull, http, url: str) -> Extracted | str | None:
    """The article of a page; a skip reason (counted) when it has none; None when it could not be fetched now."""
    try:
        fetched = fetch(http, url, job.config)
    except FetchError as exc:
        if exc.transient:
            job.report.skip(url, "page unreachable", f"{exc} (tried again next run)")
            return None
        reason = "page too large" if exc.status is None else f"page gone (HTTP {exc.status})"
        job.report.skip(url, reason, str(exc))
        return reason
    kind = (fetched.content_type or "text/html").split(";")[0].strip().lower()
    if kind not in ("text/html", "application/xhtml+xml", "text/plain", ""):
        job.report.skip(url, "not an HTML page", f"content-type {kind}")
        return "not an HTML page"
    try:
        html = decode_html(fetched.body, fetched.content_type)
    except UnknownEncoding as exc:
        job.report.skip(url, "unknown encoding", str(exc))
        return "unknown encoding"
    extracted = extract_article(html, fetched.url, job.config.min_text_chars)
    if extracted is None:
        job.report.skip(url, "no article text", f"less than {job.config.min_text_chars} characters of main text")
        return "no article text"
    return extracted


def _raise_when_all_unreachable(job: _Pull, transient: int) -> None:
    """Every new page failed for a reason that may pass: the site is down, so fail the task and let it retry."""
    if transient and transient == job.report.offered - job.report.already_seen - job.report.deferred and not job.articles:
        raise SourceUnavailable(f"source {job.spec.name}: all {transient} new pages unreachable")


def _entry_html(entry) -> str:
    contents = entry.get("content") or []
    for content in contents:
        if content.get("value"):
            return content["value"]
    return entry.get("summary") or ""


def _plain(html: str) -> str:
    if not html.strip():
        return ""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises several types for junk; junk has no text
        return ""
    return "\n".join(t.strip() for t in root.itertext() if t.strip())


def _reason_key(reason: str) -> str:
    """The class of a skip reason, for counting: `not JSON: Expecting value ...` -> `not JSON`."""
    return re.split(r":| \(", reason, maxsplit=1)[0].strip() or reason


def _now() -> datetime:
    return datetime.now(UTC)


# -- state in Kafka and the ingest step ----------------------------------------------------------


def state_validator():
    """The JSON Schema of state records (`schemas/news.source-state.v1.json`), checked and compiled."""
    import json

    import fastjsonschema
    from jsonschema import Draft202012Validator

    from pipeline.contracts import SCHEMAS_DIR

    def is_datetime(value: str) -> bool:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
        except ValueError:
            return False

    schema = json.loads((SCHEMAS_DIR / "news.source-state.v1.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return fastjsonschema.compile(schema, formats={"date-time": is_datetime})


def state_topic(settings: Settings) -> str:
    """The compacted topic holding each source's state (key = source name)."""
    return f"{settings.topic_prefix}{STATE_TOPIC}"


def ensure_state_topic(settings: Settings) -> str:
    """Create the compacted state topic when missing; idempotent. Returns 'created' or 'exists'."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    from pipeline import kafka_io

    topic = state_topic(settings)
    client = kafka_io.admin(settings)
    try:
        if topic in set(client.list_topics()):
            return "exists"
        try:
            client.create_topics([NewTopic(
                name=topic, num_partitions=1, replication_factor=settings.replication_factor,
                topic_configs={"cleanup.policy": "compact", "max.message.bytes": str(settings.max_message_bytes + 64 * 1024)},
            )])
        except TopicAlreadyExistsError:
            return "exists"
        return "created"
    finally:
        client.close()


def load_state(settings: Settings, source: str) -> SourceState:
    """The latest state of a source from the compacted topic (empty when it has none)."""
    from pipeline import kafka_io

    latest: dict | None = None
    for record in kafka_io.read_topic(settings, state_topic(settings)):
        if record.key is not None and record.key.decode("utf-8", "replace") == source:
            latest = None if record.value is None else orjson.loads(record.value)
    return SourceState.from_wire(latest) if latest else SourceState(source)


class NotProducible(ValueError):
    """An article that cannot go to news.raw.v1 as it is; `error_class` names the kind of problem."""

    def __init__(self, error_class: str, reason: str, *, dead_letter: bool = True) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.dead_letter = dead_letter  # False: too large for any Kafka message, so it can only be reported


def raw_message(article: Article, contracts, max_bytes: int) -> dict:
    """The article's news.raw.v1 message; NotProducible when it breaks the contract, is not valid Unicode
    (a lone surrogate cannot be encoded) or is larger than a Kafka message may be."""
    from pipeline.contracts import ContractError

    wire = article.to_wire()
    try:
        contracts.validate("raw", wire)
    except ContractError as exc:
        raise NotProducible("ContractError", f"not a valid raw article: {exc}") from None
    try:
        size = len(orjson.dumps(wire))
    except TypeError as exc:  # orjson.JSONEncodeError: e.g. "str is not valid UTF-8: surrogates not allowed"
        raise NotProducible("NotUnicode", f"not valid Unicode text: {exc}") from None
    if size > max_bytes:
        raise NotProducible("TooLarge", f"{size} bytes is more than NEWSFLOW_MAX_MESSAGE_BYTES={max_bytes}",
                            dead_letter=False)
    return wire


def deliveries(pulled: Pulled, spec: SourceSpec, settings: Settings, contracts) -> list:
    """The messages that settle every pulled item: its raw article, or its DLQ record when it is bad input.

    An item too large even for the DLQ is reported with its reason instead. So every item the pull's
    state counts as given is produced, dead-lettered or reported once these messages are delivered.
    """
    from pipeline.kafka_io import Outgoing

    report, raw = pulled.report, settings.topic("raw")
    outgoing, rejected = [], list(pulled.rejected)
    for article in pulled.articles:
        where = (article.origin if spec.kind in ("folder", "jsonl") else article.url) or article.article_id
        try:
            outgoing.append(Outgoing(raw, article.article_id, raw_message(article, contracts, settings.max_message_bytes)))
        except NotProducible as exc:
            report.produced -= 1
            rejected.append(Rejected(where, str(exc), exc.error_class, article.article_id, article.to_wire(),
                                     dead_letter=exc.dead_letter))
    for item in rejected:
        if not item.dead_letter:
            report.skip(item.where, "too large to produce", item.reason)
            continue
        record = _dead_letter(item, spec, settings, contracts)
        if record is None:
            report.skip(item.where, "too large for the DLQ", item.reason)
            continue
        outgoing.append(Outgoing(settings.topic("dlq"), item.article_id, record))
        report.dead_letter(item.where, _DLQ_REASONS.get(item.error_class) or _reason_key(item.reason), item.reason)
    return outgoing


_DLQ_REASONS = {
    "ContractError": "not a valid raw article", "NotUnicode": "not valid Unicode",
    "PublishedOutOfRange": "published out of range",
}


def _dead_letter(item: Rejected, spec: SourceSpec, settings: Settings, contracts) -> dict | None:
    """The DLQ record of a rejected item (stage `ingest`), or None when it would be too large for Kafka.

    It never reached a topic: `source` names the raw topic it was meant for (where `newsflow dlq replay`
    sends it) at partition and offset -1. The payload is the item as a raw-entry JSON object; content
    that is not valid Unicode is kept with JSON escapes (ASCII), which hold lone surrogates exactly.
    """
    payload = _json_bytes(item.content)
    message = _safe_text(f"source {spec.name}: {item.where}: {item.reason}")
    record = DlqRecord(
        article_id=item.article_id, stage="ingest",
        error=DlqError(class_=item.error_class, message=message, kind="bad_input"),
        source=DlqSource(topic=settings.topic("raw"), partition=-1, offset=-1, key=item.article_id),
        payload=DlqPayload.of(payload),
    )
    wire = contracts.validate("dlq", record.to_wire())
    return wire if len(orjson.dumps(wire)) <= settings.max_message_bytes else None


def _json_bytes(content: dict) -> bytes:
    try:
        return orjson.dumps(content)
    except TypeError:
        import json

        return json.dumps(content, ensure_ascii=True).encode("ascii")


def _safe_text(text: str) -> str:
    """Text that any JSON encoder takes: lone surrogates (from undecodable file names, say) as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def ingest_source(settings: Settings, spec: SourceSpec, http=None) -> SourceReport:
    """Pull one source, produce its new articles to news.raw.v1 and its bad input to news.dlq.v1, confirmed;
    then save its state.

    The state is written only after every message is acknowledged: a crash in between re-produces
    them next run, which downstream stages absorb (idempotent by article_id). An item that could not be
    fetched for now is not in the state, so the next run tries it again.
    """
    from pipeline import kafka_io
    from pipeline.contracts import Contracts
    from pipeline.kafka_io import Outgoing

    config = FetchConfig.from_settings(settings)
    ensure_state_topic(settings)
    state = load_state(settings, spec.name)
    own_client = http is None
    http = http or http_client(config)
    try:
        pulled = pull(spec, state, http, config)
    finally:
        if own_client:
            http.close()
    outgoing = deliveries(pulled, spec, settings, Contracts())
    producer = kafka_io.producer(settings)
    try:
        for start in range(0, len(outgoing), 500):
            kafka_io.send_confirmed(producer, outgoing[start : start + 500])
        kafka_io.send_confirmed(producer, [Outgoing(state_topic(settings), spec.name, state_validator()(pulled.state.to_wire()))])
    finally:
        producer.close()
    report = pulled.report
    log.info("source pulled", **{k: v for k, v in report.to_dict().items() if k != "examples"})
    return report


def summarise(reports: Iterable[dict]) -> dict:
    """Totals over the per-source reports of one run."""
    totals = Counter()
    skipped = Counter()
    for report in reports:
        for key in ("offered", "produced", "already_seen", "dead_lettered_total"):
            totals[key] += report.get(key, 0)
        skipped.update(report.get("skipped", {}))
    return {**totals, "skipped": dict(skipped), "skipped_total": sum(skipped.values())}

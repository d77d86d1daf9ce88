"""One pull of one source: spec + previous state + an HTTP client in; new articles, rejected items, a report and the next state out."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import structlog

from pipeline.identity import article_id
from pipeline.records import Article
from pipeline.sources.extract import Extracted, UnknownEncoding, decode_html, entry_html, extract_article, plain_text
from pipeline.sources.fetch import FetchConfig, Fetched, FetchError, SourceUnavailable, fetch
from pipeline.sources.files import Skipped, build_article, read_paths
from pipeline.sources.spec import SourceSpec
from pipeline.sources.state import SourceState

log = structlog.get_logger("newsflow.sources")

# feedparser flags these as "bozo" although the feed parsed fine.
_BENIGN_BOZO = ("CharacterEncodingOverride", "NonXMLContentType")


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
            "source": self.source,
            "kind": self.kind,
            "offered": self.offered,
            "produced": self.produced,
            "already_seen": self.already_seen,
            "deferred": self.deferred,
            "not_modified": self.not_modified,
            "skipped": dict(self.skipped),
            "skipped_total": sum(self.skipped.values()),
            "dead_lettered": dict(self.dead_lettered),
            "dead_lettered_total": sum(self.dead_lettered.values()),
            "examples": self.examples,
        }


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


def _required_url(job: _Pull) -> str:
    """The source's URL; the sources file requires one for feeds and remote dumps."""
    if not job.spec.url:
        raise SourceUnavailable(f"source {job.spec.name}: no url")
    return job.spec.url


def _pull_local(job: _Pull, http=None, path: Path | None = None, origin_url: str | None = None) -> None:
    path = path or Path(job.spec.path or "")
    if not path.exists():
        raise SourceUnavailable(f"source {job.spec.name}: {path} does not exist")
    for item in read_paths([path]):
        if isinstance(item, Skipped):
            where = item.where if origin_url is None else item.where.replace(str(path), origin_url)
            job.report.skip(where, reason_key(item.reason), item.reason)
            continue
        if job.spec.publisher and not item.source.name:
            item = item.model_copy(update={"source": item.source.model_copy(update={"name": job.spec.publisher})})
        if origin_url:
            item = item.model_copy(update={"origin": (item.origin or "").replace(str(path), origin_url)})
        if job.is_new(item.article_id):
            job.produce(item.article_id, item)


def _pull_jsonl(job: _Pull, http) -> None:
    if job.spec.path:
        _pull_local(job)
        return
    url = _required_url(job)
    fetched = _fetch_source(job, http, url)
    if fetched is None:
        return
    with tempfile.TemporaryDirectory(prefix="newsflow-dump-") as tmp:
        dump = Path(tmp) / "dump.jsonl"
        dump.write_bytes(fetched.body)
        _pull_local(job, path=dump, origin_url=url)


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

    url = _required_url(job)
    fetched = _fetch_source(job, http, url)
    if fetched is None:
        return
    parsed = feedparser.parse(
        fetched.body, response_headers={"content-type": fetched.content_type or "application/xml"}
    )
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if problem is not None and type(problem).__name__ in _BENIGN_BOZO:
        problem = None
    if problem is not None and not (job.spec.lenient and parsed.entries):
        job.report.skip(url, "malformed feed", f"{type(problem).__name__}: {problem}")
        job.validators.pop(url, None)  # fetch it again next time: the outlet may fix it
        return
    if not parsed.get("version") and not parsed.entries:
        job.report.skip(url, "not a feed", f"content-type {fetched.content_type!r}, no RSS/Atom root")
        job.validators.pop(url, None)
        return
    publisher = job.spec.publisher or parsed.feed.get("title") or None
    transient = 0
    for entry in parsed.entries:
        link = urljoin(fetched.url, entry["link"]) if entry.get("link") else None  # relative links: the feed's base
        title = (entry.get("title") or "").strip() or None
        published = entry.get("published") or entry.get("updated")
        if job.spec.fetch_pages and link:
            key = _item_key(job, link, None, "", f"{url}#{title}")
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
            body = entry_html(entry)
            extracted = extract_article(body, link, job.config.min_text_chars) if body else None
            text = extracted.text if extracted else plain_text(body)
            if not link and not text:
                job.report.offered += 1
                job.report.skip(f"{url}#{title}", "no article text", "entry has neither link nor content")
                continue
            key = _item_key(job, link, title, text, f"{url}#{title}")
            if key is None or not job.is_new(key):
                continue
            if len(text) < job.config.min_text_chars:
                job.report.skip(link or f"{url}#{title}", "no article text", "entry content too short")
                job.done(key)
                continue
            page_title, page_date = None, None
        fields = dict(
            text=text,
            title=title or page_title,
            url=link,
            published=published or page_date,
            source_name=publisher,
            origin=url,
        )
        _produce_or_reject(job, key, link or f"{url}#{title}", fields)
    if transient:
        job.validators.pop(url, None)  # fetch the whole feed next run, so those pages are tried again
    _raise_when_all_unreachable(job, transient)


def _pull_urls(job: _Pull, http) -> None:
    urls = list(job.spec.urls)
    if job.spec.path:
        try:
            lines = Path(job.spec.path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise SourceUnavailable(f"source {job.spec.name}: cannot read {job.spec.path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise SourceUnavailable(
                f"source {job.spec.name}: {job.spec.path} is not UTF-8 text: {exc.reason}"
            ) from None
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
        fields = dict(
            text=outcome.text,
            title=outcome.title,
            url=url,
            published=outcome.date,
            source_name=job.spec.publisher,
            origin=url,
        )
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
        content = {
            "url": fields["url"],
            "title": fields["title"],
            "text": fields["text"],
            "published": fields["published"],
            "source": fields["source_name"],
            "origin": fields["origin"],
        }
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
    if (
        transient
        and transient == job.report.offered - job.report.already_seen - job.report.deferred
        and not job.articles
    ):
        raise SourceUnavailable(f"source {job.spec.name}: all {transient} new pages unreachable")


def reason_key(reason: str) -> str:
    """The class of a skip reason, for counting: `not JSON: Expecting value ...` -> `not JSON`."""
    return re.split(r":| \(", reason, maxsplit=1)[0].strip() or reason


def _now() -> datetime:
    return datetime.now(UTC)

"""translate: foreign articles (and the foreign paragraphs of mixed ones) into the target language.

Every article goes on to `translated`, whatever the provider does: `translated`, `not_needed`, or
`pending` with the error (indexed untranslated, re-tried later by the re-translation DAG). The
originals (`title`, `text`) are never changed; English goes in `title_en` / `text_en`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from structlog.typing import FilteringBoundLogger

from pipeline.config import Settings
from pipeline.records import Article, Translation
from pipeline.stages.base import Emit, Result
from pipeline.translation.cache import TranslationCache
from pipeline.translation.calls import Backoff, CircuitBreaker, RateLimiter, call_with_deadline, socket_timeout
from pipeline.translation.chunking import (
    PACK_SEPARATOR,
    Paragraph,
    Segment,
    pack,
    render,
    segments,
    split_text,
    strip_parts,
    unpack,
)
from pipeline.translation.providers import (
    DeepTranslatorClient,
    TranslationFailed,
    Translator,
    UnsupportedLanguage,
    is_timeout,
    is_transient,
    provider_spec,
)

UNDETERMINED = "und"
ANY = "*"


@dataclass(frozen=True)
class TranslateConfig:
    """What to translate and how hard to try."""

    source_languages: frozenset[str] | None = frozenset({"it"})  # None: every language but the target
    target: str = "en"
    concurrency: int = 4  # requests in flight at once
    call_timeout_s: float = 20.0  # deadline of one provider call
    max_attempts: int = 4  # per request, the first included
    backoff: Backoff = field(default_factory=Backoff)
    batch_budget_s: float = 240.0  # no new request after this: stays under Kafka's 300 s poll interval
    breaker_threshold: int = 5  # failed requests in a row before the provider is skipped...
    breaker_cooldown_s: float = 60.0  # ...for this long (articles go on as pending)
    paragraph_min_confidence: float = 0.90  # a paragraph's own language counts from this confidence
    lead_lag_threshold: int = 0  # consumer lag above which only title + lead are translated; 0 = never
    lead_paragraphs: int = 3

    def translates(self, code: str) -> bool:
        """Whether text in language `code` is sent for translation."""
        if code in (UNDETERMINED, self.target):
            return False
        return self.source_languages is None or code in self.source_languages


def parse_languages(spec: str | Iterable[str]) -> frozenset[str] | None:
    """`"it,de"` or `["it"]` as a set; `"*"` (every non-target language) as None."""
    codes = [c.strip().lower() for c in (spec.split(",") if isinstance(spec, str) else spec) if c.strip()]
    if ANY in codes:
        return None
    if not codes:
        raise ValueError("no source language to translate from: give codes such as 'it' or '*'")
    return frozenset(codes)


@dataclass
class TranslateStats:
    """Counters since the stage was built (requests are HTTP calls, attempts included)."""

    requests: int = 0
    retries: int = 0
    timeouts: int = 0
    failed_requests: int = 0
    skipped_requests: int = 0  # not sent: breaker open or batch budget spent
    cache_hits: int = 0
    cache_misses: int = 0
    chars_sent: int = 0
    translated: int = 0
    not_needed: int = 0
    pending: int = 0
    lead_only: int = 0


@dataclass(frozen=True, slots=True)
class _Part:
    """A piece of one title or paragraph sent on its own: the words, and the blanks kept around them."""

    source: str
    lead: str
    core: str
    trail: str


@dataclass
class _Plan:
    """What one article needs."""

    article: Article
    code: str  # the document's language
    source: str | None  # reported as translation.source_language
    segments: list[Segment]
    title: list[_Part] | None = None  # None: the title is copied (target language) or absent
    paragraphs: dict[int, list[_Part]] = field(default_factory=dict)
    lead_until: int | None = None  # lead scope: paragraphs from this index on are left out
    jobs: set[tuple[str, str]] = field(default_factory=set)

    def parts(self) -> list[_Part]:
        """Every part, title first, in text order."""
        return [*(self.title or []), *(p for parts in self.paragraphs.values() for p in parts)]


@dataclass
class _Outcome:
    """What one request job produced."""

    translations: dict[tuple[str, str], str]  # (source, text) -> translation
    error: str | None = None
    ms: float = 0.0


class _RequestFailed(Exception):
    """A request gave up: retries exhausted, a permanent error, the breaker or the batch budget."""


class TranslateStage:
    """Translates a batch with bounded concurrency, a request rate, a cache and a deadline on every call."""

    name = "translate"
    sources = ("detected",)

    def __init__(
        self,
        translator: Translator,
        cache: TranslationCache,
        limiter: RateLimiter,
        config: TranslateConfig | None = None,
        *,
        lag: Callable[[], int] = lambda: 0,
        breaker: CircuitBreaker | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        log: FilteringBoundLogger | None = None,
    ) -> None:
        self.translator = translator
        self.cache = cache
        self.limiter = limiter
        self.config = config or TranslateConfig()
        self.lag = lag
        self.breaker = breaker or CircuitBreaker(self.config.breaker_threshold, self.config.breaker_cooldown_s, clock)
        self.stats = TranslateStats()
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self.log = log or structlog.get_logger("newsflow.translate")

    @property
    def breaker_open(self) -> bool:
        """Whether provider calls are being skipped now (the metrics' translation breaker)."""
        return self.breaker.is_open()

    # -- the batch ----------------------------------------------------------------------------

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Every article goes on to `translated`, in order; failures become `pending`, never a drop."""
        cfg = self.config
        lead = bool(cfg.lead_lag_threshold) and self.lag() > cfg.lead_lag_threshold
        plans = [self._plan(article, lead) for article in batch]
        translations = self._from_cache(plans)
        jobs = self._jobs(plans, translations)
        outcomes = self._run(jobs)
        for outcome in outcomes.values():
            translations.update(outcome.translations)
        return [Emit("translated", self._finish(plan, translations, outcomes)) for plan in plans]

    def _plan(self, article: Article, lead: bool) -> _Plan:
        """Which parts of an article to send, from its document and paragraph languages."""
        cfg = self.config
        language = article.language
        code = language.code if language else UNDETERMINED
        plan = _Plan(article, code, code, segments(article.text))
        if code == cfg.target and not (language and language.mixed):
            return plan
        if not cfg.translates(code) and code != cfg.target:
            return plan  # undetermined, or a language the desk does not translate
        judged = {p.index: p for p in (language.paragraphs if language else [])}
        default = code  # a paragraph too short to judge is in the document's language
        for segment in plan.segments:
            if not isinstance(segment, Paragraph):
                continue
            if lead and cfg.translates(code) and segment.index >= cfg.lead_paragraphs:
                plan.lead_until = cfg.lead_paragraphs
                break
            own = judged.get(segment.index)
            source = (
                own.code
                if own and own.code != UNDETERMINED and own.confidence >= cfg.paragraph_min_confidence
                else default
            )
            if cfg.translates(source):
                plan.paragraphs[segment.index] = self._parts(segment.core, source)
        if cfg.translates(code) and article.title and article.title.strip():
            plan.title = self._parts(article.title, code)
        if code == cfg.target and plan.paragraphs:
            # A mixed target-language article: report the language most of the sent text is in.
            sizes: dict[str, int] = {}
            for part in plan.parts():
                sizes[part.source] = sizes.get(part.source, 0) + len(part.core)
            plan.source = max(sizes, key=sizes.__getitem__)
        return plan

    def _parts(self, text: str, source: str) -> list[_Part]:
        """A title or paragraph cut under the provider's limit at sentence boundaries."""
        return [
            _Part(source, *strip_parts(piece)) for piece in split_text(text, self.translator.max_chars) if piece.strip()
        ]

    def _from_cache(self, plans: list[_Plan]) -> dict[tuple[str, str], str]:
        """Cached translations of every part of the batch, by (source, text)."""
        wanted: dict[str, set[str]] = {}
        for plan in plans:
            for part in plan.parts():
                wanted.setdefault(part.source, set()).add(part.core)
        found: dict[tuple[str, str], str] = {}
        hits = misses = 0
        for source, texts in wanted.items():
            cached = self.cache.get_many(self.translator.name, source, self.config.target, texts)
            found.update({(source, text): tr for text, tr in cached.items()})
            hits += len(cached)
            misses += len(texts) - len(cached)
        with self._lock:
            self.stats.cache_hits += hits
            self.stats.cache_misses += misses
        return found

    def _jobs(self, plans: list[_Plan], done: dict[tuple[str, str], str]) -> dict[tuple[str, str], list[str]]:
        """Requests for what the cache did not have: an article's parts of one language packed together."""
        jobs: dict[tuple[str, str], list[str]] = {}
        for plan in plans:
            by_source: dict[str, list[str]] = {}
            for part in plan.parts():
                texts = by_source.setdefault(part.source, [])
                if (part.source, part.core) not in done and part.core not in texts:
                    texts.append(part.core)
            for source, texts in by_source.items():
                for group in pack(texts, self.translator.max_chars):
                    cores = [texts[i] for i in group]
                    key = (source, PACK_SEPARATOR.join(cores))
                    jobs.setdefault(key, cores)  # the same text twice in a batch is sent once
                    plan.jobs.add(key)
        return jobs

    def _run(self, jobs: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], _Outcome]:
        """Every job, at most `concurrency` at a time."""
        if not jobs:
            return {}
        started = self._clock()
        workers = max(1, min(self.config.concurrency, len(jobs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="translate") as pool:
            futures = {key: pool.submit(self._job, key[0], cores, started) for key, cores in jobs.items()}
            return {key: future.result() for key, future in futures.items()}

    # -- one request job ----------------------------------------------------------------------

    def _job(self, source: str, cores: list[str], started: float) -> _Outcome:
        """Translate packed texts in one request (one each if the provider merged the breaks); cache them."""
        t0 = time.perf_counter()
        got: dict[str, str] = {}
        error = None
        try:
            if len(cores) == 1:
                got[cores[0]] = self._request(source, cores[0], started)
            else:
                parts = unpack(self._request(source, PACK_SEPARATOR.join(cores), started), len(cores))
                if parts is None:  # the provider merged the paragraph breaks: one request per text
                    for core in cores:
                        got[core] = self._request(source, core, started)
                else:
                    got.update(zip(cores, parts, strict=True))
        except _RequestFailed as exc:
            error = str(exc)
        if got:
            self.cache.put_many(self.translator.name, source, self.config.target, got)
        ms = (time.perf_counter() - t0) * 1000
        return _Outcome({(source, core): tr for core, tr in got.items()}, error, ms)

    def _request(self, source: str, text: str, started: float) -> str:
        """One text through the provider with retries; raises `_RequestFailed` when it gives up."""
        cfg = self.config
        target = cfg.target
        for attempt in range(cfg.max_attempts):
            if self.breaker.is_open():
                self._count(skipped_requests=1)
                raise _RequestFailed(f"not sent: provider failing ({self.breaker.last_error})")
            if self._clock() - started > cfg.batch_budget_s:
                self._count(skipped_requests=1)
                raise _RequestFailed(f"not sent: batch time budget of {cfg.batch_budget_s:g}s spent")
            self.limiter.acquire()
            self._count(requests=1, chars_sent=len(text))
            try:
                translated = call_with_deadline(
                    lambda: self.translator.translate(text, source, target), cfg.call_timeout_s
                )
                if not translated.strip():
                    raise TranslationFailed(f"{self.translator.name} returned an empty translation")
            except Exception as exc:
                error = f"{type(exc).__name__}: {str(exc).strip() or 'no message'}"[:500]
                self._count(timeouts=int(is_timeout(exc)))
                last = attempt + 1 >= cfg.max_attempts
                if last or not is_transient(exc):
                    self._count(failed_requests=1)
                    if not isinstance(exc, UnsupportedLanguage):  # one language, not the provider's health
                        self.breaker.record(False, error)
                    raise _RequestFailed(f"{error} (after {attempt + 1} attempt{'s' * bool(attempt)})") from exc
                self._count(retries=1)
                self._sleep(cfg.backoff.delay(attempt, self._rng))
                continue
            self.breaker.record(True)
            return translated.strip()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _count(self, **increments: int) -> None:
        """Add to the stats from any thread."""
        with self._lock:
            for name, n in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + n)

    # -- the result of one article ------------------------------------------------------------

    def _finish(
        self, plan: _Plan, translations: dict[tuple[str, str], str], outcomes: dict[tuple[str, str], _Outcome]
    ) -> Article:
        """The article with its English fields and translation status."""
        cfg = self.config
        article = plan.article
        parts = plan.parts()
        base = Translation(status="not_needed", source_language=plan.source, target_language=cfg.target)
        if not parts:
            self._count(not_needed=1)
            is_target = plan.code == cfg.target
            return article.stamped(
                self.name,
                translation=base,
                title_en=article.title if is_target else None,
                text_en=article.text if is_target else None,
            )
        scope = "lead" if plan.lead_until is not None else "full"
        errors = [outcomes[key].error for key in sorted(plan.jobs) if outcomes[key].error]
        missing = [p for p in parts if (p.source, p.core) not in translations]
        provider = self.translator.name
        if missing:
            self._count(pending=1)
            error = errors[0] if errors else "not translated"
            self.log.warning(
                "translation pending",
                article_id=article.article_id,
                provider=provider,
                source_language=plan.source,
                error=error,
            )
            pending = base.model_copy(update=dict(status="pending", provider=provider, scope=scope, error=error))
            return article.stamped(self.name, translation=pending, title_en=None, text_en=None)

        def english(part_list: list[_Part]) -> str:
            return "".join(p.lead + translations[(p.source, p.core)] + p.trail for p in part_list)

        title_en = (
            english(plan.title) if plan.title is not None else (article.title if plan.code == cfg.target else None)
        )
        pieces = []
        for segment in plan.segments:
            if isinstance(segment, Paragraph):
                if plan.lead_until is not None and segment.index >= plan.lead_until:
                    break
                own = plan.paragraphs.get(segment.index)
                pieces.append(render(segment, english(own) if own else None))
            else:
                pieces.append(segment)
        text_en = "".join(pieces).rstrip() if plan.lead_until is not None else "".join(pieces)
        ms = round(sum(outcomes[key].ms for key in plan.jobs), 1)
        chars = sum(len(p.core) for p in parts)
        done = base.model_copy(update=dict(status="translated", provider=provider, chars=chars, ms=ms, scope=scope))
        if scope == "lead":
            # The full text is owed: `pending` puts the article in the re-translation pass's query.
            done = done.model_copy(update=dict(status="pending"))
            self._count(lead_only=1, pending=1)
        else:
            self._count(translated=1)
        return article.stamped(self.name, translation=done, title_en=title_en, text_en=text_en)


def build_translate_stage(settings: Settings, *, lag: Callable[[], int] = lambda: 0) -> TranslateStage:
    """A ready translate stage from the settings (`NEWSFLOW_TRANSLATE_*`); credentials come from them too."""
    key = settings.translate_api_key
    api_key = key.get_secret_value() if key is not None else None
    provider, target = settings.translate_provider, settings.translate_target
    base_url, region, email = settings.translate_base_url, settings.translate_region, settings.translate_email
    deepl_free_api, max_chars = settings.translate_deepl_free_api, settings.translate_max_chars
    call_timeout_s, requests_per_second = settings.translate_call_timeout_s, settings.translate_requests_per_second
    cache_path = settings.translate_cache_path or Path(settings.cache_dir) / "translations.sqlite"
    sources = parse_languages(settings.translate_source_languages)
    client = DeepTranslatorClient(
        provider,
        api_key=api_key,
        base_url=base_url,
        region=region,
        deepl_free_api=deepl_free_api,
        email=email,
        max_chars=max_chars,
        timeout_s=socket_timeout(call_timeout_s),
    )
    for source in sorted(sources or ()):
        client.check(source, target)  # an unsupported language fails at start-up, not per article
    rate = provider_spec(provider).requests_per_second if requests_per_second is None else requests_per_second
    config = TranslateConfig(
        source_languages=sources,
        target=target,
        concurrency=settings.translate_concurrency,
        call_timeout_s=call_timeout_s,
        max_attempts=settings.translate_max_attempts,
        backoff=Backoff(settings.translate_backoff_initial_s, settings.translate_backoff_max_s),
        batch_budget_s=settings.translate_batch_budget_s,
        breaker_threshold=settings.translate_breaker_threshold,
        breaker_cooldown_s=settings.translate_breaker_cooldown_s,
        lead_lag_threshold=settings.translate_lead_lag_threshold,
        lead_paragraphs=settings.translate_lead_paragraphs,
    )
    return TranslateStage(client, TranslationCache(cache_path), RateLimiter(rate or None), config, lag=lag)

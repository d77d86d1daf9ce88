"""translate: against a real HTTP server on loopback that speaks LibreTranslate's protocol (no internet).

The server's "translation" is upper case, so translated text is recognisable and its order checkable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.contracts import Contracts
from pipeline.records import Article, Language, ParagraphLanguage
from pipeline.sources.files import build_article
from pipeline.stages.base import Emit
from pipeline.stages.detect import DetectStage, build_detector
from pipeline.stages.translate import TranslateConfig, TranslateStage, parse_languages
from pipeline.translation.cache import TranslationCache
from pipeline.translation.calls import Backoff, RateLimiter
from tests.conftest import wait_for
from tests.stage_settings import translate_stage as build_translate_stage
from tests.translate_server import Fault, LibreTranslateServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "translate"
LONG_TITLE = "Maltempo, allerta rossa in Emilia-Romagna: migliaia di sfollati"


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[LibreTranslateServer]:
    """A fresh LibreTranslate-speaking server; stopped even when the test fails."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # requests must not route loopback through a proxy
    srv = LibreTranslateServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def detect() -> DetectStage:
    """The real detect stage as assembled (langdetect for documents, lingua for paragraphs)."""
    return DetectStage(build_detector("langdetect"), paragraph_detector=build_detector("lingua"))


@pytest.fixture(scope="module")
def contracts() -> Contracts:
    return Contracts()


def make_stage(server: LibreTranslateServer, tmp_path: Path, **overrides) -> TranslateStage:
    """A libre stage pointed at the test server, quick to give up."""
    options = dict(
        provider="libre",
        base_url=server.url,
        api_key="test-key",
        cache_path=tmp_path / "translations.sqlite3",
        requests_per_second=0,
        call_timeout_s=5.0,
        max_attempts=3,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
    )
    return build_translate_stage(**{**options, **overrides})


def detected(detect: DetectStage, text: str, title: str | None = None, url: str = "https://example.it/a") -> Article:
    """A raw article as it leaves the detect stage."""
    [result] = detect.process([build_article(text=text, title=title, url=url)])
    assert isinstance(result, Emit)
    return result.article


def with_language(
    text: str,
    code: str,
    title: str | None = None,
    url: str = "https://example.it/x",
    paragraphs: list[tuple[int, str, float]] = (),
    mixed: bool = False,
) -> Article:
    """An article with a language set by hand (for cases the detector is not the point of)."""
    language = Language(
        code=code,
        confidence=0.99 if code != "und" else 0.0,
        mixed=mixed,
        detector="manual",
        paragraphs=[ParagraphLanguage(index=i, code=c, confidence=p) for i, c, p in paragraphs],
    )
    return build_article(text=text, title=title, url=url).model_copy(update={"language": language})


def translate(stage: TranslateStage, articles: list[Article], contracts: Contracts) -> list[Article]:
    """Run the stage and check what every output promises: one per input, in order, valid, originals kept."""
    results = stage.process(articles)
    assert len(results) == len(articles)
    out = []
    for article, result in zip(articles, results, strict=True):
        assert isinstance(result, Emit) and result.topic == "translated"
        got = result.article
        assert got.article_id == article.article_id
        assert (got.title, got.text) == (article.title, article.text)  # originals never change
        assert "translate" in got.pipeline.stages and "translate" not in got.pipeline.placeholders
        contracts.validate("translated", got.to_wire())
        out.append(got)
    return out


def test_long_italian_article_is_chunked_at_sentences_and_reassembled_in_order(
    server: LibreTranslateServer, tmp_path: Path, detect: DetectStage, contracts: Contracts
) -> None:
    text = (FIXTURES / "italian_long.txt").read_text()
    assert len(text) >= 12_000
    article = detected(detect, text, LONG_TITLE)
    assert article.language.code == "it"

    # One request at a time, so the server sees them in the order they were cut.
    [got] = translate(make_stage(server, tmp_path, concurrency=1), [article], contracts)

    assert got.text_en == text.upper()  # every paragraph, every blank line, in order
    assert got.title_en == LONG_TITLE.upper()
    t = got.translation
    assert (t.status, t.provider, t.source_language, t.target_language, t.scope) == (
        "translated",
        "libre",
        "it",
        "en",
        "full",
    )
    paragraphs = [p for p in text.split("\n") if p.strip()]
    # Characters sent: the blank between the two halves of the long paragraph is kept, not sent.
    assert t.chars == len(LONG_TITLE) + sum(len(p) for p in paragraphs) - 1
    assert t.ms is not None and t.ms > 0

    received = server.received
    assert len(received) >= 6
    assert all(len(r.q) <= 2000 for r in received)  # the libre limit (the text travels in the URL)
    assert {(r.source, r.target, r.format, r.api_key) for r in received} == {("it", "en", "text", "test-key")}
    # The server saw the title and the paragraphs in order; the 2,044-character paragraph went in two
    # pieces cut after a sentence.
    pieces = [piece for r in received for piece in r.q.split("\n\n")]
    assert " ".join(pieces) == " ".join([LONG_TITLE, *paragraphs])
    long_paragraph = next(p for p in paragraphs if len(p) > 2000)
    halves = [p for p in pieces if p in long_paragraph]
    assert len(halves) == 2 and halves[0][-1] in '.!?"”' and halves[0] + " " + halves[1] == long_paragraph


def test_mixed_article_sends_only_its_italian_paragraphs(
    server: LibreTranslateServer, tmp_path: Path, detect: DetectStage, contracts: Contracts
) -> None:
    text = (FIXTURES / "mixed_en_it.txt").read_text()
    title = "Drones hit Odesa region overnight"
    article = detected(detect, text, title)
    assert article.language.code == "en" and article.language.mixed

    [got] = translate(make_stage(server, tmp_path), [article], contracts)

    paragraphs = [p for p in text.split("\n") if p.strip()]
    italian = [paragraphs[1], paragraphs[3]]
    assert [piece for q in server.texts for piece in q.split("\n\n")] == italian
    expected = text
    for paragraph in italian:
        expected = expected.replace(paragraph, paragraph.upper())
    assert got.text_en == expected
    assert got.title_en == title  # the English title is copied, not sent
    assert (got.translation.status, got.translation.source_language) == ("translated", "it")
    assert got.translation.chars == sum(len(p) for p in italian)


def test_second_run_makes_zero_requests(
    server: LibreTranslateServer, tmp_path: Path, detect: DetectStage, contracts: Contracts
) -> None:
    article = detected(detect, (FIXTURES / "italian_long.txt").read_text(), LONG_TITLE)
    [first] = translate(make_stage(server, tmp_path), [article], contracts)
    sent = len(server.received)
    assert sent > 0

    again = make_stage(server, tmp_path)  # a restarted worker: same cache file, new process state
    second, _ = translate(again, [article, article], contracts)  # a re-delivery, twice

    assert len(server.received) == sent
    assert again.stats.requests == 0 and again.stats.cache_misses == 0 and again.stats.cache_hits > 0
    assert second.text_en == first.text_en and second.title_en == first.title_en
    assert second.translation.status == "translated" and second.translation.ms == 0


def test_same_text_twice_in_one_batch_is_sent_once(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    text = "Il consiglio comunale ha approvato il bilancio con ventidue voti favorevoli e otto contrari."
    a = with_language(text, "it", url="https://example.it/1")
    b = with_language(text, "it", url="https://example.it/2")
    out = translate(make_stage(server, tmp_path), [a, b], contracts)
    assert len(server.received) == 1
    assert [o.text_en for o in out] == [text.upper()] * 2


@pytest.mark.parametrize("statuses", [[500, 500, 500], [429, 503, 502]])
def test_server_errors_are_retried_then_pending(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts, statuses: list[int]
) -> None:
    server.faults = [Fault(status) for status in statuses]
    article = with_language("La Camera ha approvato il decreto sulle alluvioni.", "it", "Decreto approvato")
    stage = make_stage(server, tmp_path, max_attempts=3)

    [got] = translate(stage, [article], contracts)

    assert len(server.received) == 3
    assert stage.stats.retries == 2
    t = got.translation
    assert (t.status, t.provider, t.source_language) == ("pending", "libre", "it")
    assert "after 3 attempts" in t.error and "ServerException" in t.error
    assert got.title_en is None and got.text_en is None


def test_errors_then_success_is_translated(server: LibreTranslateServer, tmp_path: Path, contracts: Contracts) -> None:
    server.faults = [Fault(500), Fault(429)]
    article = with_language("La Camera ha approvato il decreto sulle alluvioni.", "it")
    stage = make_stage(server, tmp_path, max_attempts=3)
    [got] = translate(stage, [article], contracts)
    assert len(server.received) == 3
    assert got.translation.status == "translated" and got.text_en == article.text.upper()


def test_timeouts_are_retried_then_pending(server: LibreTranslateServer, tmp_path: Path, contracts: Contracts) -> None:
    server.faults = [Fault(200, hang_s=3600.0), Fault(200, hang_s=3600.0)]  # held until the server stops
    article = with_language("Il treno regionale è rimasto fermo per tre ore a causa di un guasto.", "it")
    stage = make_stage(server, tmp_path, call_timeout_s=0.3, max_attempts=2)

    [got] = translate(stage, [article], contracts)

    # The deadline answered, not the server, which holds both requests until it stops (wait for them:
    # an abandoned attempt's request may reach it after the stage returned).
    assert stage.stats.timeouts == 2
    assert got.translation.status == "pending" and "DeadlineExceeded" in got.translation.error
    wait_for(lambda: server.in_flight == 2, timeout_s=10.0, what="both attempts held by the server")
    assert len(server.received) == 2


def test_permanent_error_is_not_retried(server: LibreTranslateServer, tmp_path: Path, contracts: Contracts) -> None:
    server.faults = [Fault(403)]  # a wrong API key: retrying cannot help
    article = with_language("Il sindaco ha firmato l'ordinanza di evacuazione.", "it")
    [got] = translate(make_stage(server, tmp_path), [article], contracts)
    assert len(server.received) == 1
    assert got.translation.status == "pending" and "AuthorizationException" in got.translation.error
    assert "test-key" not in got.translation.error  # deep-translator puts the key in its message


def test_provider_down_is_pending_without_leaking_the_key(tmp_path: Path, contracts: Contracts) -> None:
    down = LibreTranslateServer().start()
    url = down.url
    down.stop()  # nothing listens there any more: connection refused
    stage = build_translate_stage(
        provider="libre",
        base_url=url,
        api_key="s3cr3t/key",
        cache_path=":memory:",
        requests_per_second=0,
        max_attempts=2,
        backoff_initial_s=0.01,
    )
    [got] = translate(stage, [with_language("Il porto è rimasto chiuso per il vento.", "it")], contracts)
    assert got.translation.status == "pending" and "ConnectionError" in got.translation.error
    assert "s3cr3t" not in got.translation.error and stage.stats.retries == 1


def test_failing_provider_trips_the_breaker(server: LibreTranslateServer, tmp_path: Path, contracts: Contracts) -> None:
    server.faults = [Fault(500)] * 10
    articles = [
        with_language(f"Notizia numero {n}: il fiume è esondato nella notte.", "it", url=f"https://example.it/{n}")
        for n in range(6)
    ]
    stage = make_stage(server, tmp_path, max_attempts=1, concurrency=1, breaker_threshold=2)
    out = translate(stage, articles, contracts)
    assert len(server.received) == 2  # then the provider is skipped for the cooldown
    assert all(o.translation.status == "pending" for o in out)
    assert sum("not sent: provider failing" in o.translation.error for o in out) == 4


def test_request_rate_is_respected(server: LibreTranslateServer, tmp_path: Path, contracts: Contracts) -> None:
    rate = 8.0
    articles = [
        with_language(
            f"Seduta numero {n} del consiglio regionale, rinviata per il maltempo.", "it", url=f"https://example.it/{n}"
        )
        for n in range(12)
    ]
    stage = make_stage(server, tmp_path, requests_per_second=rate, concurrency=4)
    assert stage.limiter.interval == pytest.approx(1 / rate)  # the setting reaches the stage's limiter
    # The same limiter on a clock that stands still, its waits recorded: each wait is the slot a request
    # was given, so the schedule the four threads shared is exact whatever the machine's load.
    waits: list[float] = []
    stage.limiter = RateLimiter(rate, clock=lambda: 0.0, sleep=waits.append)
    translate(stage, articles, contracts)

    assert len(server.received) == 12
    # Every request but the first waited for a slot of its own, 1/rate apart: no second holds more than `rate`.
    assert sorted(waits) == pytest.approx([n / rate for n in range(1, 12)])


def test_requests_run_concurrently_up_to_the_bound(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    server.hold_until_in_flight = 3  # the first requests wait for each other: three at once, or a 4 s hold
    articles = [
        with_language(f"Articolo {n}: la protezione civile ha diramato l'allerta.", "it", url=f"https://example.it/{n}")
        for n in range(8)
    ]
    translate(make_stage(server, tmp_path, concurrency=3), articles, contracts)
    assert len(server.received) == 8
    assert server.max_in_flight == 3


def test_target_language_article_makes_no_request(
    server: LibreTranslateServer, tmp_path: Path, detect: DetectStage, contracts: Contracts
) -> None:
    text = (FIXTURES / "english.txt").read_text()
    article = detected(detect, text, "Ukraine says it recaptured a village in the south")
    stage = make_stage(server, tmp_path)
    [got] = translate(stage, [article], contracts)
    assert server.received == [] and stage.stats.cache_hits + stage.stats.cache_misses == 0
    assert (got.translation.status, got.translation.source_language) == ("not_needed", "en")
    assert got.title_en == got.title and got.text_en == text  # English goes in the English fields as is


@pytest.mark.parametrize(
    "article",
    [
        with_language("Die Regierung hat am Dienstag ein neues Gesetz beschlossen.", "de"),
        with_language("…", "und"),
    ],
    ids=["not-a-source-language", "undetermined"],
)
def test_articles_outside_the_source_set_are_not_needed(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts, article: Article
) -> None:
    [got] = translate(make_stage(server, tmp_path), [article], contracts)
    assert server.received == []
    assert got.translation.status == "not_needed" and got.text_en is None and got.title_en is None


def test_article_without_language_is_not_needed(server: LibreTranslateServer, tmp_path: Path) -> None:
    article = build_article(text="Nessuna lingua rilevata per questo articolo.", title=None, url="https://example.it/n")
    [result] = make_stage(server, tmp_path).process([article])
    assert result.article.translation.status == "not_needed" and server.received == []


def test_language_the_provider_lacks_is_pending_without_a_request(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    article = with_language("Уряд ухвалив нове рішення щодо енергетики та відновлення мереж.", "uk")
    stage = make_stage(server, tmp_path, source_languages="*", breaker_threshold=1)
    [got] = translate(stage, [article], contracts)
    assert server.received == [] and not stage.breaker.is_open()
    assert got.translation.status == "pending" and "does not translate uk -> en" in got.translation.error


def test_any_language_mode_translates_every_non_target_language(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    article = with_language("Die Regierung hat am Dienstag ein neues Gesetz beschlossen.", "de", "Neues Gesetz")
    [got] = translate(make_stage(server, tmp_path, source_languages="*"), [article], contracts)
    assert [r.source for r in server.received] == ["de"]
    assert got.translation.status == "translated" and got.translation.source_language == "de"


def test_quoted_paragraph_in_another_language_keeps_its_own_source(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    text = (
        "Il ministro ha parlato a lungo con i giornalisti davanti a Palazzo Chigi.\n"
        '"We will not leave anyone behind," the commissioner told reporters in Brussels.\n'
        "Sì."
    )
    article = with_language(text, "it", paragraphs=[(0, "it", 0.99), (1, "en", 0.98)])
    [got] = translate(make_stage(server, tmp_path), [article], contracts)
    lines = got.text_en.split("\n")
    assert lines == [lines[0].upper(), text.split("\n")[1], "SÌ."]  # the short line goes with the document


def test_provider_that_merges_paragraph_breaks_gets_one_request_per_paragraph(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    server.translate = lambda q: " ".join(q.split()).upper()  # loses the blank lines between paragraphs
    text = "Primo paragrafo dell'articolo.\n\nSecondo paragrafo dell'articolo.\n\nTerzo."
    [got] = translate(make_stage(server, tmp_path), [with_language(text, "it")], contracts)
    assert len(server.received) == 1 + 3
    assert got.text_en == text.upper()


def test_lead_fast_path_under_backlog(server: LibreTranslateServer, tmp_path: Path, contracts: Contracts) -> None:
    text = "Primo paragrafo.\n\nSecondo paragrafo.\n\nTerzo paragrafo.\n\nQuarto paragrafo."
    article = with_language(text, "it", "Titolo")
    stage = make_stage(server, tmp_path, lead_lag_threshold=1000, lead_paragraphs=2, lag=lambda: 5000)

    [got] = translate(stage, [article], contracts)

    assert server.texts == ["Titolo\n\nPrimo paragrafo.\n\nSecondo paragrafo."]
    assert got.title_en == "TITOLO" and got.text_en == "PRIMO PARAGRAFO.\n\nSECONDO PARAGRAFO."
    # The full text is owed: `pending` puts it in the re-translation pass.
    assert (got.translation.status, got.translation.scope, got.translation.error) == ("pending", "lead", None)


@pytest.mark.parametrize("threshold,lag", [(1000, 10), (0, 10**9)], ids=["lag-below-threshold", "default-off"])
def test_lead_fast_path_off(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts, threshold: int, lag: int
) -> None:
    text = "Primo paragrafo.\n\nSecondo paragrafo.\n\nTerzo paragrafo.\n\nQuarto paragrafo."
    stage = make_stage(server, tmp_path, lead_lag_threshold=threshold, lead_paragraphs=2, lag=lambda: lag)
    [got] = translate(stage, [with_language(text, "it")], contracts)
    assert (got.translation.status, got.translation.scope) == ("translated", "full")
    assert got.text_en == text.upper()


def test_whitespace_and_odd_text_survive_exactly(
    server: LibreTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    text = "\n\n   Riga con spazi intorno.   \n\t\n«Virgolette» e trattini — 12,5 % in più…  \r\nFine\n"
    [got] = translate(make_stage(server, tmp_path), [with_language(text, "it")], contracts)
    assert got.text_en == text.upper()


def test_backoff_grows_exponentially_with_jitter(tmp_path: Path, server: LibreTranslateServer) -> None:
    from pipeline.translation.providers import DeepTranslatorClient

    server.faults = [Fault(503)] * 4
    waits: list[float] = []
    stage = TranslateStage(
        DeepTranslatorClient("libre", api_key="k", base_url=server.url),
        TranslationCache(":memory:"),
        RateLimiter(None),
        TranslateConfig(max_attempts=5, backoff=Backoff(0.1, 0.3)),
        sleep=waits.append,
        rng=random.Random(7),
    )
    [result] = stage.process([with_language("Testo da tradurre.", "it")])
    assert result.article.translation.status == "translated"
    assert len(waits) == 4
    for attempt, wait in enumerate(waits):
        ceiling = min(0.3, 0.1 * 2**attempt)
        assert ceiling / 2 <= wait <= ceiling


def test_rate_limiter_spaces_requests() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.acquire()
    assert slept == pytest.approx([0.25, 0.5, 0.75])


def test_settings_errors_are_clear(tmp_path: Path) -> None:
    cache = tmp_path / "c.sqlite3"
    with pytest.raises(ValueError, match="unknown translation provider"):
        build_translate_stage(provider="babelfish", cache_path=cache)
    with pytest.raises(ValueError, match="needs a base URL"):
        build_translate_stage(provider="libre", api_key="k", cache_path=cache)
    with pytest.raises(ValueError, match="needs an API key"):
        build_translate_stage(provider="deepl", cache_path=cache)
    with pytest.raises(Exception, match="xx"):
        build_translate_stage(provider="google", source_languages="xx", cache_path=cache)
    assert parse_languages("it, DE") == frozenset({"it", "de"}) and parse_languages("*") is None


def test_every_provider_builds_offline(tmp_path: Path) -> None:
    for provider in ("google", "mymemory"):
        assert build_translate_stage(provider=provider, cache_path=tmp_path / "c.sqlite3").translator.name == provider
    stage = build_translate_stage(provider="deepl", api_key="k", cache_path=tmp_path / "c.sqlite3")
    assert stage.translator.max_chars == 2000

"""translate with `google`, the provider every new user gets: against a loopback server answering like Google's page.

deep-translator scrapes `translate.google.com/m`; `base_url` points it at `tests.google_server` instead
(no internet). The server's "translation" is upper case, so translated text is recognisable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import CapturingLogger

from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.records import Article, Language
from pipeline.registry import build_stage
from pipeline.sources.files import build_article
from pipeline.stages.base import Emit
from pipeline.stages.detect import DetectStage, build_detector
from pipeline.stages.translate import TranslateStage
from pipeline.translation.calls import CALL_THREAD_NAME
from pipeline.translation.providers import DeepTranslatorClient
from tests.conftest import wait_for
from tests.google_server import (
    CAPTCHA,
    CONSENT,
    EMPTY,
    RENAMED,
    SILENT,
    TOO_MANY_REQUESTS,
    UNAVAILABLE,
    GoogleTranslateServer,
    Reply,
)
from tests.stage_settings import translate_stage as build_translate_stage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ITALIAN = (FIXTURES / "articles" / "italian.txt").read_text()
ITALIAN_LONG = (FIXTURES / "translate" / "italian_long.txt").read_text()
TITLE = "Kiev avanza verso il confine russo"


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleTranslateServer]:
    """A fresh Google-page server; stopped even when the test fails."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # requests must not route loopback through a proxy
    srv = GoogleTranslateServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def contracts() -> Contracts:
    return Contracts()


@pytest.fixture(scope="module")
def italian() -> Article:
    """The Italian fixture article as it leaves the real detect stage."""
    detect = DetectStage(build_detector("langdetect"), paragraph_detector=build_detector("lingua"))
    [result] = detect.process([build_article(text=ITALIAN, title=TITLE, url="https://example.it/kiev")])
    assert isinstance(result, Emit) and result.article.language.code == "it"
    return result.article


def make_stage(server: GoogleTranslateServer, tmp_path: Path, **overrides) -> TranslateStage:
    """A google stage pointed at the test server, quick to give up, its warnings captured."""
    options = dict(
        provider="google",
        base_url=server.url,
        cache_path=tmp_path / "translations.sqlite3",
        requests_per_second=0,
        call_timeout_s=5.0,
        max_attempts=3,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        breaker_threshold=100,
    )
    stage = build_translate_stage(**{**options, **overrides})
    stage.log = CapturingLogger()  # structlog's recorder: every call with its method name and fields
    return stage


def translate(stage: TranslateStage, articles: list[Article], contracts: Contracts) -> list[Article]:
    """Run the stage and check what every output promises, whatever the provider did."""
    results = stage.process(articles)
    assert len(results) == len(articles)
    out = []
    for article, result in zip(articles, results, strict=True):
        assert isinstance(result, Emit) and result.topic == "translated"
        got = result.article
        assert got.article_id == article.article_id and (got.title, got.text) == (article.title, article.text)
        contracts.validate("translated", got.to_wire())
        t = got.translation
        if t.status == "translated":
            assert got.text_en and got.text_en.strip() and t.error is None
        else:
            assert t.status == "pending" and t.error and got.text_en is None and got.title_en is None
        out.append(got)
    return out


def pending_warnings(stage: TranslateStage) -> list[dict]:
    """The WARNING lines the stage logged for pending articles."""
    return [c.kwargs for c in stage.log.calls if c.method_name == "warning" and c.args == ("translation pending",)]


def italian_news(n: int) -> Article:
    """A short Italian article of its own (a distinct text, so a distinct request)."""
    language = Language(code="it", confidence=0.99, mixed=False, detector="manual", paragraphs=[])
    article = build_article(
        text=f"Notizia numero {n}: il fiume è esondato nella notte e la strada è chiusa.",
        title=None,
        url=f"https://example.it/{n}",
    )
    return article.model_copy(update={"language": language})


# -- a good answer ------------------------------------------------------------------------------


def test_italian_article_is_translated_with_what_the_page_returned(
    server: GoogleTranslateServer, tmp_path: Path, italian: Article, contracts: Contracts
) -> None:
    stage = make_stage(server, tmp_path)
    [got] = translate(stage, [italian], contracts)

    t = got.translation
    assert (t.status, t.provider, t.source_language, t.target_language, t.scope) == (
        "translated",
        "google",
        "it",
        "en",
        "full",
    )
    # One request: the title and the paragraphs packed, as Google's page got them and answered.
    [request] = server.received
    paragraphs = [p for p in ITALIAN.split("\n") if p.strip()]
    assert (request.sl, request.tl) == ("it", "en")
    assert request.q.split("\n\n") == [TITLE, *paragraphs]
    [answer] = server.answered
    assert answer.split("\n\n") == [got.title_en, *(p for p in got.text_en.split("\n") if p.strip())]
    assert got.text_en == ITALIAN.upper() and got.title_en == TITLE.upper()  # the original's layout kept
    assert pending_warnings(stage) == []


def test_long_article_goes_in_pieces_under_googles_limit_and_comes_back_in_order(
    server: GoogleTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    language = Language(code="it", confidence=0.99, mixed=False, detector="manual", paragraphs=[])
    article = build_article(text=ITALIAN_LONG, title=TITLE, url="https://example.it/long").model_copy(
        update={"language": language}
    )
    [got] = translate(make_stage(server, tmp_path, concurrency=1), [article], contracts)
    assert got.translation.status == "translated" and got.text_en == ITALIAN_LONG.upper()
    assert len(server.received) >= 3 and all(len(r.q) < 5000 for r in server.received)


def test_transient_errors_then_a_page_is_translated(
    server: GoogleTranslateServer, tmp_path: Path, italian: Article, contracts: Contracts
) -> None:
    server.replies = [TOO_MANY_REQUESTS, UNAVAILABLE]
    stage = make_stage(server, tmp_path)
    [got] = translate(stage, [italian], contracts)
    assert len(server.received) == 3 and stage.stats.retries == 2
    assert got.translation.status == "translated" and got.text_en == ITALIAN.upper()


def test_settings_point_google_at_the_base_url(
    server: GoogleTranslateServer, tmp_path: Path, italian: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_TRANSLATE_PROVIDER", "google")
    monkeypatch.setenv("NEWSFLOW_TRANSLATE_BASE_URL", server.url)
    monkeypatch.setenv("NEWSFLOW_TRANSLATE_CACHE_PATH", str(tmp_path / "settings.sqlite3"))
    stage = build_stage("translate", Settings())
    [result] = stage.process([italian])
    assert result.article.translation.status == "translated" and len(server.received) == 1


def test_text_without_letters_is_not_sent(server: GoogleTranslateServer) -> None:
    client = DeepTranslatorClient("google", base_url=server.url, timeout_s=5.0)
    assert client.translate("… — ***", "it", "en") == "… — ***"  # deep-translator would return None for it
    assert server.received == []


# -- failure modes: every one ends `pending` with its reason, a warning, and no exception ---------


@pytest.mark.parametrize(
    "replies,requests,reason",
    [
        (
            [TOO_MANY_REQUESTS] * 3,
            3,
            "ProviderHTTPError: google answered HTTP 429 (Too Many Requests) (after 3 attempts)",
        ),
        ([UNAVAILABLE] * 3, 3, "ProviderHTTPError: google answered HTTP 503 (Service Unavailable) (after 3 attempts)"),
        ([Reply(403, "error")], 1, "ProviderHTTPError: google answered HTTP 403 (Forbidden) (after 1 attempt)"),
        ([CONSENT], 1, "NoTranslationInAnswer: google answered HTTP 200 with a consent page, not a translation"),
        ([CAPTCHA], 1, "NoTranslationInAnswer: google answered HTTP 200 with a captcha page, not a translation"),
        ([RENAMED], 1, "NoTranslationInAnswer: google answered HTTP 200 with no translation element"),
        ([EMPTY] * 3, 3, "TranslationFailed: google returned an empty translation (after 3 attempts)"),
    ],
    ids=["429", "503", "403", "consent-page", "captcha-page", "result-element-renamed", "empty-result"],
)
def test_failure_is_pending_with_its_reason(
    server: GoogleTranslateServer,
    tmp_path: Path,
    italian: Article,
    contracts: Contracts,
    replies: list[Reply],
    requests: int,
    reason: str,
) -> None:
    server.replies = list(replies)
    stage = make_stage(server, tmp_path)

    [got] = translate(stage, [italian], contracts)

    t = got.translation
    assert (t.status, t.provider, t.source_language) == ("pending", "google", "it")
    assert t.error.startswith(reason)
    assert ITALIAN[:40] not in t.error  # deep-translator's TranslationNotFound carries the text sent
    assert len(server.received) == requests  # 429, 5xx and empty answers retried; the rest cannot improve
    assert stage.stats.retries == requests - 1
    assert pending_warnings(stage) == [
        dict(article_id=italian.article_id, provider="google", source_language="it", error=t.error)
    ]


def test_timeout_is_pending_and_the_stage_did_not_wait_for_the_answer(
    server: GoogleTranslateServer, tmp_path: Path, italian: Article, contracts: Contracts
) -> None:
    server.replies = [SILENT, SILENT]  # held until the server stops
    stage = make_stage(server, tmp_path, call_timeout_s=0.3, max_attempts=2)

    [got] = translate(stage, [italian], contracts)

    # The deadline answered, not the server, which holds both requests until it stops (wait for them:
    # an abandoned attempt's request may reach it after the stage returned).
    assert got.translation.status == "pending" and "DeadlineExceeded" in got.translation.error
    assert stage.stats.timeouts == 2 and server.answered == []
    wait_for(lambda: server.held == 2, timeout_s=10.0, what="both attempts held by the server")
    assert [w["article_id"] for w in pending_warnings(stage)] == [italian.article_id]


def test_calls_that_never_answer_leave_no_thread_behind(
    server: GoogleTranslateServer, tmp_path: Path, contracts: Contracts
) -> None:
    def live() -> int:
        return sum(t.name == CALL_THREAD_NAME or t.name.startswith("translate_") for t in threading.enumerate())

    calls = 6
    baseline = live()
    server.replies = [SILENT] * calls
    stage = make_stage(server, tmp_path, call_timeout_s=0.2, max_attempts=1, concurrency=3)

    out = translate(stage, [italian_news(n) for n in range(calls)], contracts)

    assert [o.translation.status for o in out] == ["pending"] * calls and stage.stats.timeouts == calls
    # Each call's thread ends by itself at its socket timeout, while the server still holds every request.
    wait_for(lambda: live() <= baseline, timeout_s=15.0, what=f"translate threads back to {baseline}")
    assert len(server.received) == calls and server.held == calls

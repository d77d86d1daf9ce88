"""Translation providers through deep-translator, behind a small interface the stage is given.

What deep-translator 1.11 does that this module works around (read in its source):
- no timeout on any request (`requests.get/post` without `timeout`, and no option to pass one): the
  caller enforces a deadline (`pipeline.translation.calls.call_with_deadline`), and `_TimedRequests`
  gives every request of a call a socket timeout, so a call abandoned at its deadline ends by itself;
- errors that drop what happened: `RequestError` keeps no HTTP status and `TranslationNotFound` keeps
  the text sent instead of the page received; `_TimedRequests` notes the last answer of a call, from
  which `ProviderHTTPError` and `NoTranslationInAnswer` say what it was;
- Google is a scraped web page whose URL is a class constant: a `base_url` replaces it (a mirror, a
  test server);
- a translator object keeps the text in `self._url_params` during `translate()`, so one object must
  not serve two threads at once: objects are lent from a pool, one call at a time;
- API keys default to environment variables read when the module is imported: every key is passed
  explicitly here, so nothing is read from the environment;
- LibreTranslate and DeepL get the text in the URL query string: their `max_chars` stays small;
- `ServerException` keeps only a message, not the status code: the code is recovered from the message.
"""

from __future__ import annotations

import importlib
import queue
import sys
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from importlib import resources
from types import ModuleType
from typing import Any, Protocol
from urllib.parse import quote, quote_plus

import requests


class Translator(Protocol):
    """Translates one text; raises on failure (the stage decides what is worth a retry)."""

    name: str
    max_chars: int

    def translate(self, text: str, source: str, target: str) -> str:
        """`text` in `target`; the text is already under `max_chars` and has no surrounding blanks."""
        ...


@dataclass(frozen=True)
class ProviderSpec:
    """A provider's entry in `pipeline/data/translation_providers.toml`."""

    name: str
    class_name: str
    max_chars: int
    needs_key: bool
    requests_per_second: float


@cache
def provider_specs() -> dict[str, ProviderSpec]:
    """Every supported provider by name."""
    raw = tomllib.loads(resources.files("pipeline.data").joinpath("translation_providers.toml").read_text())
    return {
        name: ProviderSpec(
            name, entry["class"], int(entry["max_chars"]), bool(entry["needs_key"]), float(entry["requests_per_second"])
        )
        for name, entry in raw.items()
    }


def provider_spec(name: str) -> ProviderSpec:
    """The spec of a provider, or a clear error naming the supported ones."""
    specs = provider_specs()
    if name not in specs:
        raise ValueError(f"unknown translation provider {name!r}: use one of {', '.join(specs)}")
    return specs[name]


@dataclass
class _HttpCall:
    """One client call as its HTTP requests see it: their socket timeout, and the last answer."""

    timeout_s: float | None
    response: requests.Response | None = None


_CALL: ContextVar[_HttpCall | None] = ContextVar("newsflow_translate_call", default=None)


class _TimedRequests:
    """`requests` as a deep-translator provider module sees it: a client's calls get a timeout, answers are noted.

    deep-translator calls the module functions `requests.get/post` with no `timeout` and has no option to
    pass one, so a silent server would hold the calling thread for good. The one place to add it is the
    name `requests` in the provider's module, replaced once by this proxy. Inside a client's call (the
    context variable `_CALL` is set) it adds that call's socket timeout and keeps the answer; outside one
    it passes everything through untouched, so any other user of deep-translator sees no difference.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(requests, name)  # `requests.exceptions` and the rest, as they are

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """`requests.get` with the current call's timeout."""
        return self._send(requests.get, url, kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """`requests.post` with the current call's timeout."""
        return self._send(requests.post, url, kwargs)

    @staticmethod
    def _send(method: Any, url: str, kwargs: dict[str, Any]) -> requests.Response:
        """One request, timed and noted when it belongs to a client's call."""
        call = _CALL.get()
        if call is None:
            return method(url, **kwargs)
        kwargs.setdefault("timeout", call.timeout_s)
        call.response = method(url, **kwargs)
        return call.response


def _time_requests(module_name: str) -> None:
    """Give a deep-translator module `_TimedRequests` in place of `requests` (once; idempotent)."""
    module = sys.modules[module_name]
    if isinstance(getattr(module, "requests", None), ModuleType):
        module.requests = _TimedRequests()  # type: ignore[attr-defined]


class DeepTranslatorClient:
    """One deep-translator provider, safe to call from many threads."""

    def __init__(
        self,
        provider: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        region: str | None = None,
        deepl_free_api: bool = True,
        email: str | None = None,
        max_chars: int | None = None,
        timeout_s: float | None = None,
    ) -> None:
        spec = provider_spec(provider)
        if spec.needs_key and not api_key:
            raise ValueError(f"translation provider {provider!r} needs an API key")
        if provider == "libre" and not base_url:
            raise ValueError("translation provider 'libre' needs a base URL (e.g. http://127.0.0.1:5000)")
        self.name = provider
        self.max_chars = min(max_chars or spec.max_chars, spec.max_chars)
        self._class = getattr(importlib.import_module("deep_translator"), spec.class_name)
        _time_requests(self._class.__module__)
        self.timeout_s = timeout_s  # socket timeout of each HTTP request; None: wait for ever
        self._options = _options(provider, api_key, base_url, region, deepl_free_api, email)
        self._page_url = base_url if provider == "google" else None
        self._idle: dict[tuple[str, str], queue.SimpleQueue] = {}
        # deep-translator puts the key in messages ("Unauthorized access with the api key ...") and in
        # query strings that requests repeats in its errors.
        self._secrets = [s for s in {api_key, quote_plus(api_key or ""), quote(api_key or "")} if s]

    def translate(self, text: str, source: str, target: str) -> str:
        """One request with this client's socket timeout; a non-empty text, or an exception saying what came back."""
        if not any(ch.isalnum() for ch in text):
            return text  # nothing to translate ("…", "***"); Google would echo it and deep-translator return None
        call = _HttpCall(self.timeout_s)
        token = _CALL.set(call)
        try:
            result = self._translate(text, source, target)
        except Exception as exc:
            _scrub(exc, self._secrets)  # errors end up in `translation.error`, on a topic and in the index
            explained = self._explained(exc, call.response)
            if explained is exc:
                raise
            raise explained from exc
        finally:
            _CALL.reset(token)
        if not isinstance(result, str):
            raise TranslationFailed(f"{self.name} returned no text ({type(result).__name__})")
        if not result.strip():
            raise TranslationFailed(f"{self.name} returned an empty translation")
        return result

    def _translate(self, text: str, source: str, target: str) -> Any:
        """deep-translator's answer; the translator object is returned to the pool only when the call completed."""
        idle = self._idle.setdefault((source, target), queue.SimpleQueue())
        try:
            translator = idle.get_nowait()
        except queue.Empty:
            # Built lazily, inside the caller's deadline: Microsoft's constructor itself makes a request.
            translator = self._build(source, target)
        result = translator.translate(text)
        idle.put(translator)
        return result

    def _explained(self, exc: Exception, response: requests.Response | None) -> Exception:
        """deep-translator's error made specific from the answer it dropped, or the error itself."""
        name = type(exc).__name__
        if name in ("RequestError", "TooManyRequests") and response is not None and response.status_code >= 300:
            return ProviderHTTPError(self.name, response.status_code)
        if name == "TranslationNotFound":  # its message is the text sent, not what came back
            return NoTranslationInAnswer(_no_translation(self.name, response))
        return exc

    def check(self, source: str, target: str) -> None:
        """Fail now when the provider does not know a language (offline for all but microsoft)."""
        if self.name != "microsoft":
            self._build(source, target)

    def _build(self, source: str, target: str) -> Any:
        """A deep-translator object for one language pair; `UnsupportedLanguage` when it knows neither code nor name."""
        try:
            translator = self._class(source=self._language(source), target=self._language(target), **self._options)
        except Exception as exc:
            if type(exc).__name__ in ("LanguageNotSupportedException", "InvalidSourceOrTargetLanguage"):
                raise UnsupportedLanguage(f"{self.name} does not translate {source} -> {target}") from exc
            raise
        if self._page_url:
            # GoogleTranslator passes its constant URL to the base class itself, so it cannot be an argument.
            translator._base_url = self._page_url
        return translator

    def _language(self, code: str) -> str:
        """The provider's name for an ISO 639-1 code: MyMemory wants a name ("italian" -> it-IT)."""
        if self.name == "mymemory":
            from deep_translator.constants import GOOGLE_LANGUAGES_TO_CODES

            names = {c: n for n, c in GOOGLE_LANGUAGES_TO_CODES.items()}
            return names.get(code, code)
        return code


def _options(
    provider: str,
    api_key: str | None,
    base_url: str | None,
    region: str | None,
    deepl_free_api: bool,
    email: str | None,
) -> dict[str, Any]:
    """Constructor arguments of each deep-translator class (only what the caller passed in)."""
    if provider == "libre":
        # deep-translator appends "translate" to the base URL as it is.
        return {"api_key": api_key, "custom_url": (base_url or "").rstrip("/") + "/", "use_free_api": False}
    if provider == "deepl":
        return {"api_key": api_key, "use_free_api": deepl_free_api}
    if provider == "microsoft":
        return {"api_key": api_key, **({"region": region} if region else {})}
    if provider == "mymemory":
        return {"email": email} if email else {}
    return {}


def _scrub(exc: BaseException, secrets: list[str]) -> None:
    """Replace every secret in an exception's message with `***`, in place."""

    def clean(value: object) -> object:
        text = str(value)  # requests wraps a urllib3 error that carries the URL with the key in it
        if not any(secret in text for secret in secrets):
            return value
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    exc.args = tuple(clean(a) for a in exc.args)
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        setattr(exc, "message", clean(message))  # noqa: B010 - deep-translator's exceptions keep their text here


_CAPTCHA_MARKERS = ("g-recaptcha", "captcha-form", "google.com/sorry/")
_CONSENT_MARKERS = ("consent.google.",)


def _no_translation(provider: str, response: requests.Response | None) -> str:
    """What a provider answered instead of a translation, as far as its page tells."""
    if response is None:
        return f"{provider} gave no translation"
    # Markers of Google's own pages (its form and script names, where they live), not words a translation has.
    page = f"{response.url}\n{response.text}".lower()
    if any(marker in page for marker in _CAPTCHA_MARKERS):
        what = "a captcha page"
    elif any(marker in page for marker in _CONSENT_MARKERS):
        what = "a consent page"
    else:
        what = "no translation element (has the page's format changed?)"
    return f"{provider} answered HTTP {response.status_code} with {what}, not a translation"


class TranslationFailed(Exception):
    """The provider answered, but with no usable translation."""


class NoTranslationInAnswer(TranslationFailed):
    """The provider answered a page without a translation (consent, captcha, a changed format): retrying cannot help."""


class ProviderHTTPError(Exception):
    """The provider answered an HTTP error status (deep-translator's `RequestError` keeps none)."""

    def __init__(self, provider: str, status: int) -> None:
        super().__init__(f"{provider} answered HTTP {status} ({_phrase(status)})")
        self.status = status


class UnsupportedLanguage(ValueError):
    """The provider does not translate this language pair (a configuration matter, not provider health)."""


# deep-translator's ServerException messages back to the HTTP status they stand for.
_SERVER_MESSAGES = {
    "ERR_BAD_REQUEST": 400,
    "ERR_KEY_INVALID": 401,
    "ERR_KEY_BLOCKED": 402,
    "ERR_DAILY_REQ_LIMIT_EXCEEDED": 403,
    "ERR_DAILY_CHAR_LIMIT_EXCEEDED": 404,
    "ERR_TEXT_TOO_LONG": 413,
    "ERR_TOO_MANY_REQUESTS": 429,
    "ERR_UNPROCESSABLE_TEXT": 422,
    "ERR_INTERNAL_SERVER_ERROR": 500,
    "ERR_LANG_NOT_SUPPORTED": 501,
    "ERR_SERVICE_NOT_AVAIBLE": 503,
}
# Errors that a later attempt can fix: the service or the network failing for now.
_TRANSIENT_NAMES = {
    "TooManyRequests",
    "RequestError",
    "TranslationFailed",
    "ConnectionError",
    "Timeout",
    "ConnectTimeout",
    "ReadTimeout",
    "ChunkedEncodingError",
    "ContentDecodingError",
    "SSLError",
    "ProxyError",
    "JSONDecodeError",
    "RemoteDisconnected",
}


def _phrase(status: int) -> str:
    """The reason phrase of an HTTP status ("Too Many Requests")."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "non-standard status"


def is_transient(exc: BaseException) -> bool:
    """Whether a failed call is worth another attempt: timeouts, 429, 5xx and network errors."""
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    if isinstance(exc, ProviderHTTPError):
        return exc.status == 429 or exc.status >= 500
    if isinstance(exc, NoTranslationInAnswer):
        return False  # a consent or captcha page, or a changed format, is the same page next time
    name = type(exc).__name__
    if name == "ServerException":
        status = _SERVER_MESSAGES.get(str(exc.args[0]) if exc.args else "")
        # An unlisted status ("API server error") is most often a gateway's 502/504.
        return status is None or status == 429 or status >= 500
    return name in _TRANSIENT_NAMES


def is_timeout(exc: BaseException) -> bool:
    """Whether a failed call ran out of time: our deadline, or a request's socket timeout."""
    return isinstance(exc, TimeoutError | requests.exceptions.Timeout)

"""Translation providers through deep-translator, behind a small interface the stage is given.

What deep-translator 1.11 does that this module works around (read in its source):
- no timeout on any request (`requests.get/post` without `timeout`): the caller enforces a deadline
  (`pipeline.translation.calls.call_with_deadline`);
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
import tomllib
from urllib.parse import quote, quote_plus
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol


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
        name: ProviderSpec(name, entry["class"], int(entry["max_chars"]), bool(entry["needs_key"]),
                           float(entry["requests_per_second"]))
        for name, entry in raw.items()
    }


def provider_spec(name: str) -> ProviderSpec:
    """The spec of a provider, or a clear error naming the supported ones."""
    specs = provider_specs()
    if name not in specs:
        raise ValueError(f"unknown translation provider {name!r}: use one of {', '.join(specs)}")
    return specs[name]


class DeepTranslatorClient:
    """One deep-translator provider, safe to call from many threads."""

    def __init__(self, provider: str, *, api_key: str | None = None, base_url: str | None = None,
                 region: str | None = None, deepl_free_api: bool = True, email: str | None = None,
                 max_chars: int | None = None) -> None:
        spec = provider_spec(provider)
        if spec.needs_key and not api_key:
            raise ValueError(f"translation provider {provider!r} needs an API key")
        if provider == "libre" and not base_url:
            raise ValueError("translation provider 'libre' needs a base URL (e.g. http://127.0.0.1:5000)")
        self.name = provider
        self.max_chars = min(max_chars or spec.max_chars, spec.max_chars)
        self._class = getattr(importlib.import_module("deep_translator"), spec.class_name)
        self._options = _options(provider, api_key, base_url, region, deepl_free_api, email)
        self._idle: dict[tuple[str, str], queue.SimpleQueue] = {}
        # deep-translator puts the key in messages ("Unauthorized access with the api key ...") and in
        # query strings that requests repeats in its errors.
        self._secrets = [s for s in {api_key, quote_plus(api_key or ""), quote(api_key or "")} if s]

    def translate(self, text: str, source: str, target: str) -> str:
        """One request; the translator object is returned to the pool only when the call completed."""
        idle = self._idle.setdefault((source, target), queue.SimpleQueue())
        try:
            translator = idle.get_nowait()
        except queue.Empty:
            # Built lazily, inside the caller's deadline: Microsoft's constructor itself makes a request.
            translator = self._build(source, target)
        try:
            result = translator.translate(text)
        except Exception as exc:
            _scrub(exc, self._secrets)  # errors end up in `translation.error`, on a topic and in the index
            raise
        idle.put(translator)
        if not isinstance(result, str):
            raise TranslationFailed(f"{self.name} returned no text ({type(result).__name__})")
        return result

    def check(self, source: str, target: str) -> None:
        """Fail now when the provider does not know a language (offline for all but microsoft)."""
        if self.name != "microsoft":
            self._build(source, target)

    def _build(self, source: str, target: str) -> Any:
        """A deep-translator object for one language pair; `UnsupportedLanguage` when it knows neither code nor name."""
        try:
            return self._class(source=self._language(source), target=self._language(target), **self._options)
        except Exception as exc:
            if type(exc).__name__ in ("LanguageNotSupportedException", "InvalidSourceOrTargetLanguage"):
                raise UnsupportedLanguage(f"{self.name} does not translate {source} -> {target}") from exc
            raise

    def _language(self, code: str) -> str:
        """The provider's name for an ISO 639-1 code: MyMemory wants a name ("italian" -> it-IT)."""
        if self.name == "mymemory":
            from deep_translator.constants import GOOGLE_LANGUAGES_TO_CODES

            names = {c: n for n, c in GOOGLE_LANGUAGES_TO_CODES.items()}
            return names.get(code, code)
        return code


def _options(provider: str, api_key: str | None, base_url: str | None, region: str | None,
             deepl_free_api: bool, email: str | None) -> dict[str, Any]:
    """Constructor arguments of each deep-translator class (only what the caller passed in)."""
    if provider == "libre":
        # deep-translator appends "translate" to the base URL as it is.
        return {"api_key": api_key, "custom_url": base_url.rstrip("/") + "/", "use_free_api": False}
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
    if isinstance(getattr(exc, "message", None), str):
        exc.message = clean(exc.message)


class TranslationFailed(Exception):
    """The provider answered, but with no usable translation."""


class UnsupportedLanguage(ValueError):
    """The provider does not translate this language pair (a configuration matter, not provider health)."""


# deep-translator's ServerException messages back to the HTTP status they stand for.
_SERVER_MESSAGES = {
    "ERR_BAD_REQUEST": 400, "ERR_KEY_INVALID": 401, "ERR_KEY_BLOCKED": 402,
    "ERR_DAILY_REQ_LIMIT_EXCEEDED": 403, "ERR_DAILY_CHAR_LIMIT_EXCEEDED": 404, "ERR_TEXT_TOO_LONG": 413,
    "ERR_TOO_MANY_REQUESTS": 429, "ERR_UNPROCESSABLE_TEXT": 422, "ERR_INTERNAL_SERVER_ERROR": 500,
    "ERR_LANG_NOT_SUPPORTED": 501, "ERR_SERVICE_NOT_AVAIBLE": 503,
}
# Errors that a later attempt can fix: the service, the network or the page scrape failing for now.
_TRANSIENT_NAMES = {
    "TooManyRequests", "RequestError", "TranslationNotFound", "TranslationFailed",
    "ConnectionError", "Timeout", "ConnectTimeout", "ReadTimeout", "ChunkedEncodingError",
    "ContentDecodingError", "SSLError", "ProxyError", "JSONDecodeError", "RemoteDisconnected",
}


def is_transient(exc: BaseException) -> bool:
    """Whether a failed call is worth another attempt: timeouts, 429, 5xx, network and scrape errors."""
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    name = type(exc).__name__
    if name == "ServerException":
        status = _SERVER_MESSAGES.get(str(exc.args[0]) if exc.args else "")
        # An unlisted status ("API server error") is most often a gateway's 502/504.
        return status is None or status == 429 or status >= 500
    return name in _TRANSIENT_NAMES

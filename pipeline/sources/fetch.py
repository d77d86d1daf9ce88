"""HTTP fetching for the sources: one client with a timeout and a user agent, conditional requests, size limits."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from pipeline.config import Settings

log = structlog.get_logger("newsflow.sources")


class SourceUnavailable(Exception):
    """The source itself could not be reached: the task fails and Airflow retries it."""


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
        timeout=httpx.Timeout(config.timeout_s),
        follow_redirects=True,
        max_redirects=5,
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
                return Fetched(
                    str(response.url),
                    304,
                    b"",
                    None,
                    validators.get("etag") if validators else None,
                    validators.get("last_modified") if validators else None,
                )
            if response.status_code == 429 or response.status_code >= 500:
                raise FetchError(f"HTTP {response.status_code} from {url}", transient=True, status=response.status_code)
            if response.status_code >= 400:
                raise FetchError(
                    f"HTTP {response.status_code} from {url}", transient=False, status=response.status_code
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > config.max_bytes:
                    raise FetchError(f"{url} is larger than {config.max_bytes} bytes", transient=False)
                chunks.append(chunk)
            return Fetched(
                str(response.url),
                response.status_code,
                b"".join(chunks),
                response.headers.get("content-type"),
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    except httpx.TimeoutException as exc:
        raise FetchError(
            f"timed out after {config.timeout_s}s fetching {url} ({type(exc).__name__})", transient=True
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}", transient=True) from exc

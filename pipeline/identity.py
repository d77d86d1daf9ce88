"""Stable article ids: from the canonical URL, or from the normalised title and body."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from importlib.resources import files
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": "80", "https": "443"}
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _tracking_rules() -> tuple[frozenset[str], tuple[str, ...]]:
    """Exact names and prefixes of tracking parameters, from the data file."""
    names, prefixes = set(), []
    for line in files("pipeline.data").joinpath("tracking_params.txt").read_text().splitlines():
        line = line.strip().lower()
        if not line or line.startswith("#"):
            continue
        if line.endswith("*"):
            prefixes.append(line[:-1])
        else:
            names.add(line)
    return frozenset(names), tuple(prefixes)


def is_tracking_param(name: str) -> bool:
    """True for parameters such as utm_source or fbclid."""
    names, prefixes = _tracking_rules()
    lowered = name.lower()
    return lowered in names or lowered.startswith(prefixes)


def canonical_url(url: str) -> str:
    """Lower-cased scheme and host, no default port, no fragment, no tracking parameters, no trailing slash."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = host if port is None or str(port) == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k))
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def normalise_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the form two copies of one text share."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def article_id(url: str | None, title: str | None, text: str) -> str:
    """The id every topic, the dedup state and Elasticsearch use for one article."""
    if url:
        return _digest(canonical_url(url))
    return _digest(normalise_text(title or "") + "\n\n" + normalise_text(text))


def source_domain(url: str | None) -> str | None:
    """Registered host of a URL without `www.`, for `source.domain`."""
    if not url:
        return None
    host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    return host.removeprefix("www.") or None


_ID = re.compile(r"^[0-9a-f]{16}$")


def valid_article_id(value: object) -> str | None:
    """`value` when it has the shape of an article id, else None."""
    return value if isinstance(value, str) and _ID.match(value) else None

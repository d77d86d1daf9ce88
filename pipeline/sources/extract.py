"""From bytes to article text: charset sniffing, trafilatura extraction, feed entry HTML to plain text."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import orjson
import structlog

log = structlog.get_logger("newsflow.sources")

# -- decoding and extraction ---------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


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
        if key.lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
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
        html,
        url=url,
        include_comments=False,
        output_format="json",
        with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if not result:
        return None
    data = orjson.loads(result)
    text = (data.get("text") or "").strip()
    if len(text) < min_chars:
        return None
    return Extracted(text=text, title=data.get("title") or None, date=data.get("date") or None)


def entry_html(entry) -> str:
    """The richest HTML a feed entry carries: its content, else its summary."""
    contents = entry.get("content") or []
    for content in contents:
        if content.get("value"):
            return content["value"]
    return entry.get("summary") or ""


def plain_text(html: str) -> str:
    """The visible text of an HTML fragment, one line per text node."""
    if not html.strip():
        return ""
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises several types for junk; junk has no text
        return ""
    return "\n".join(t.strip() for t in root.itertext() if t.strip())

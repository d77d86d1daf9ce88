"""Sources to raw articles: a seeds folder (text files plus a manifest) and JSONL dumps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from pipeline.identity import article_id, source_domain
from pipeline.records import Article, Source, utc_now

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that is not an article, with where it was and why."""

    where: str
    reason: str


def read_paths(paths: list[Path]) -> Iterator[Article | Skipped]:
    """Every article in the given files and folders, in a stable order."""
    for path in paths:
        if not path.exists():
            yield Skipped(str(path), "no such file or folder")
        elif path.is_dir():
            manifest = _manifest(path)
            for child in sorted(path.iterdir()):
                if child.suffix == ".txt":
                    yield _from_text_file(child, manifest.get(child.name, {}))
                elif child.suffix == ".jsonl":
                    yield from _from_jsonl(child)
        elif path.suffix == ".jsonl":
            yield from _from_jsonl(path)
        elif path.suffix == ".txt":
            yield _from_text_file(path, _manifest(path.parent).get(path.name, {}))
        else:
            yield Skipped(str(path), "not a .txt article, a .jsonl dump or a folder of them")


def build_article(
    *, text: str, title: str | None = None, url: str | None = None, published: str | None = None,
    source_name: str | None = None, domain: str | None = None, origin: str | None = None,
) -> Article:
    """A raw article with its stable id; originals are kept exactly as given."""
    return Article(
        article_id=article_id(url, title, text),
        url=url,
        source=Source(name=source_name, domain=domain or source_domain(url)),
        title=title,
        text=text,
        published_at=parse_published(published),
        ingested_at=utc_now(),
        origin=origin,
    )


def parse_published(value: str | None) -> str | None:
    """An RFC 3339 timestamp from ISO 8601 or RFC 822 input; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _from_text_file(path: Path, meta: dict) -> Article | Skipped:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Skipped(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    if not text.strip():
        return Skipped(str(path), "empty file")
    source = meta.get("source") or {}
    return build_article(
        text=text,
        title=meta.get("title"),
        url=meta.get("url"),
        published=meta.get("published_at"),
        source_name=source.get("name"),
        domain=source.get("domain"),
        origin=str(path),
    )


def _from_jsonl(path: Path) -> Iterator[Article | Skipped]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield Skipped(where, f"not JSON: {exc}")
                continue
            if not isinstance(obj, dict):
                yield Skipped(where, "not a JSON object")
                continue
            text = obj.get("text")
            if not isinstance(text, str) or not text.strip():
                yield Skipped(where, "no text")
                continue
            source = obj.get("source")
            name, domain = (source.get("name"), source.get("domain")) if isinstance(source, dict) else (source, None)
            try:
                yield build_article(
                    text=text, title=obj.get("title"), url=obj.get("url"),
                    published=obj.get("published") or obj.get("published_at"),
                    source_name=name, domain=domain, origin=where,
                )
            except ValueError as exc:
                yield Skipped(where, str(exc))

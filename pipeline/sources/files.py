"""Files to raw articles: a seeds folder (text files plus a manifest), `.txt` files and JSONL dumps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.dates import published_timestamp
from pipeline.identity import article_id, source_domain
from pipeline.records import Article, Source, utc_now

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that is not an article, with where it was and why."""

    where: str
    reason: str


def read_paths(paths: list[Path]) -> Iterator[Article | Skipped]:
    """Every article in the given files and folders, in a stable order; anything else as Skipped with a reason."""
    for path in paths:
        if not path.exists():
            yield Skipped(str(path), "no such file or folder")
        elif path.is_dir():
            manifest, problem = _manifest(path)
            if problem:
                yield Skipped(str(path / MANIFEST), problem)
            for child in sorted(path.iterdir()):
                if child.suffix == ".txt":
                    yield (
                        _from_text_file(child, manifest)
                        if not problem
                        else Skipped(str(child), f"no metadata: {MANIFEST} unreadable")
                    )
                elif child.suffix == ".jsonl":
                    yield from _from_jsonl(child)
        elif path.suffix == ".jsonl":
            yield from _from_jsonl(path)
        elif path.suffix == ".txt":
            manifest, problem = _manifest(path.parent)
            yield (
                _from_text_file(path, manifest)
                if not problem
                else Skipped(str(path), f"no metadata: {path.parent / MANIFEST} unreadable ({problem})")
            )
        else:
            yield Skipped(str(path), "not a .txt article, a .jsonl dump or a folder of them")


def build_article(
    *,
    text: str,
    title: str | None = None,
    url: str | None = None,
    published: str | None = None,
    source_name: str | None = None,
    domain: str | None = None,
    origin: str | None = None,
) -> Article:
    """A raw article with its stable id; originals are kept exactly as given.

    Raises ValueError (PublishedOutOfRange, an unusable URL) for input that cannot be an article as given.
    """
    return Article(
        article_id=article_id(url, title, text),
        url=url,
        source=Source(name=source_name, domain=domain or source_domain(url)),
        title=title,
        text=text,
        published_at=published_timestamp(published),
        ingested_at=utc_now(),
        origin=origin,
    )


def _manifest(folder: Path) -> tuple[dict, str | None]:
    """The folder's manifest (file name -> metadata), or what is wrong with it."""
    path = folder / MANIFEST
    if not path.exists():
        return {}, None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return {}, f"manifest not readable JSON: {exc}"
    if not isinstance(manifest, dict):
        return {}, "manifest is not a JSON object of file name -> metadata"
    return manifest, None


def _from_text_file(path: Path, manifest: dict) -> Article | Skipped:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Skipped(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        return Skipped(where, f"cannot read: {exc.strerror}")
    if not text.strip():
        return Skipped(where, "empty file")
    meta = manifest.get(path.name, {})
    if not isinstance(meta, dict):
        return Skipped(where, f"{MANIFEST} entry is {_json_type(meta)}, not an object")
    source = meta.get("source") or {}
    if not isinstance(source, dict):
        return Skipped(where, f"{MANIFEST} source is {_json_type(source)}, not an object")
    problem = _not_a_string(meta, ("title", "url", "published_at")) or _not_a_string(
        source, ("name", "domain"), "source."
    )
    if problem:
        return Skipped(where, f"{MANIFEST} {problem}")
    return _build(
        where,
        text=text,
        title=meta.get("title"),
        url=meta.get("url"),
        published=meta.get("published_at"),
        source_name=source.get("name"),
        domain=source.get("domain"),
        origin=where,
    )


def _from_jsonl(path: Path) -> Iterator[Article | Skipped]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Skipped(str(path), f"cannot read: {exc.strerror}")
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield Skipped(where, f"not JSON: {exc}")
                continue
            except RecursionError:
                yield Skipped(where, "not JSON: nested too deeply")
                continue
            if not isinstance(obj, dict):
                yield Skipped(where, "not a JSON object")
                continue
            text = obj.get("text")
            if not isinstance(text, str) or not text.strip():
                yield Skipped(where, "no text")
                continue
            source = obj.get("source")
            if source is not None and not isinstance(source, str | dict):
                yield Skipped(where, f"source is {_json_type(source)}, not a name or an object")
                continue
            source = source if isinstance(source, dict) else {"name": source}
            published = obj.get("published") or obj.get("published_at")
            problem = (
                _not_a_string(obj, ("url", "title"))
                or _not_a_string({"published": published}, ("published",))
                or _not_a_string(source, ("name", "domain"), "source.")
            )
            if problem:
                yield Skipped(where, problem)
                continue
            yield _build(
                where,
                text=text,
                title=obj.get("title"),
                url=obj.get("url"),
                published=published,
                source_name=source.get("name"),
                domain=source.get("domain"),
                origin=where,
            )


def _build(where: str, **fields) -> Article | Skipped:
    try:
        return build_article(**fields)
    except ValueError as exc:  # an unusable URL, a date out of range, text that is not Unicode
        return Skipped(where, str(exc))


def _not_a_string(obj: dict, names: tuple[str, ...], prefix: str = "") -> str | None:
    """What is wrong with the first of `names` that is present but neither a string nor null."""
    for name in names:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            return f"{prefix}{name} is {_json_type(value)}, not a string"
    return None


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "an array"}
    return names.get(type(value), type(value).__name__)

"""The sources file: what each source is (a seeds folder, a feed, a list of page URLs, a JSONL dump), validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import orjson

KINDS = ("folder", "feed", "urls", "jsonl")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_KEYS = {"name", "kind", "url", "path", "urls", "publisher", "fetch_pages", "lenient", "max_items"}


class SourcesFileError(ValueError):
    """The sources file cannot be used; the message names the entry and what is wrong."""


# -- the sources file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSpec:
    """One entry of the sources file."""

    name: str
    kind: str
    url: str | None = None
    path: str | None = None
    urls: tuple[str, ...] = ()
    publisher: str | None = None
    fetch_pages: bool = True
    lenient: bool = False
    max_items: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready, to hand a spec to a mapped Airflow task."""
        return {**self.__dict__, "urls": list(self.urls)}

    @classmethod
    def from_dict(cls, data: dict) -> SourceSpec:
        """The inverse of `to_dict`."""
        return cls(**{**data, "urls": tuple(data.get("urls") or ())})


def load_sources(path: Path) -> list[SourceSpec]:
    """Every source in a YAML or JSON sources file; relative paths are resolved against the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesFileError(f"cannot read the sources file {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".json":
            document = orjson.loads(text)
        else:
            import yaml

            document = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is the same problem for the operator
        raise SourcesFileError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    entries = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SourcesFileError(f"{path}: expected a top-level `sources:` list")
    specs, names = [], set()
    for number, entry in enumerate(entries, start=1):
        spec = _spec(entry, f"{path}: source #{number}", path.parent)
        if spec.name in names:
            raise SourcesFileError(f"{path}: source name {spec.name!r} is used twice")
        names.add(spec.name)
        specs.append(spec)
    return specs


def _spec(entry: object, where: str, base: Path) -> SourceSpec:
    if not isinstance(entry, dict):
        raise SourcesFileError(f"{where}: expected a mapping with name and kind")
    unknown = set(entry) - _KEYS
    if unknown:
        raise SourcesFileError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(_KEYS)}")
    name, kind = entry.get("name"), entry.get("kind")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourcesFileError(f"{where}: name {name!r} must be lower-case letters, digits, '.', '_' or '-'")
    where = f"{where} ({name})"
    if kind not in KINDS:
        raise SourcesFileError(f"{where}: kind {kind!r} must be one of {', '.join(KINDS)}")
    url, raw_path, urls = entry.get("url"), entry.get("path"), entry.get("urls") or []
    resolved = str((base / raw_path).resolve()) if raw_path else None
    if kind == "feed" and not url:
        raise SourcesFileError(f"{where}: a feed needs `url`")
    if kind == "folder" and not raw_path:
        raise SourcesFileError(f"{where}: a folder needs `path`")
    if kind == "jsonl" and bool(url) == bool(raw_path):
        raise SourcesFileError(f"{where}: a jsonl dump needs exactly one of `url` or `path`")
    if kind == "urls":
        if not isinstance(urls, list) or (not urls and not raw_path):
            raise SourcesFileError(f"{where}: a URL list needs `urls: [...]` or `path` to a file of URLs")
    for candidate in [url, *urls]:
        if candidate is not None and not (isinstance(candidate, str) and candidate.startswith(("http://", "https://"))):
            raise SourcesFileError(f"{where}: {candidate!r} is not an http(s) URL")
    max_items = entry.get("max_items")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        raise SourcesFileError(f"{where}: max_items must be a positive integer")
    return SourceSpec(
        name=name,
        kind=kind,
        url=url,
        path=resolved,
        urls=tuple(urls),
        publisher=entry.get("publisher"),
        fetch_pages=bool(entry.get("fetch_pages", True)),
        lenient=bool(entry.get("lenient", False)),
        max_items=max_items,
    )

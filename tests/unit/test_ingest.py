"""Sources to raw articles: the seeds folder and JSONL dumps, bad lines skipped with reasons."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.ingest import Skipped, parse_published, read_paths
from pipeline.records import Article


def test_seeds_folder_gives_five_articles_with_manifest_metadata(seeds_dir: Path) -> None:
    items = list(read_paths([seeds_dir]))
    assert all(isinstance(i, Article) for i in items)
    assert len(items) == 5
    by_origin = {Path(a.origin).name: a for a in items}
    efe = by_origin["002_41f31c8c25c6216b.txt"]
    assert efe.title == "Russia attacks Ukraine with drones, Putin seeks more Minsk support"
    assert efe.published_at == "2022-12-19T00:00:00Z"
    assert efe.url.startswith("https://seeds.newsflow.invalid/")
    assert efe.text == (seeds_dir / "002_41f31c8c25c6216b.txt").read_text()  # original kept verbatim
    assert len({a.article_id for a in items}) == 5


def test_seed_ids_are_stable(seeds_dir: Path) -> None:
    first = sorted(a.article_id for a in read_paths([seeds_dir]))
    second = sorted(a.article_id for a in read_paths([seeds_dir]))
    assert first == second


def test_jsonl_dump_with_bad_lines(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    lines = [
        json.dumps({"url": "https://example.org/a", "title": "A", "text": "Body A", "published": "Mon, 19 Dec 2022 10:00:00 GMT", "source": "Example"}),
        "{not json",
        json.dumps({"url": "https://example.org/b", "title": "B", "text": "   "}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"title": "No URL", "text": "Body C", "source": {"name": "EFE", "domain": "efe.com"}}),
        json.dumps({"url": "/relative", "text": "Body D"}),
    ]
    dump.write_text("\n".join(lines) + "\n")
    items = list(read_paths([dump]))
    articles = [i for i in items if isinstance(i, Article)]
    skipped = {i.where.rsplit(":", 1)[1]: i.reason for i in items if isinstance(i, Skipped)}
    assert [a.title for a in articles] == ["A", "No URL"]
    assert articles[0].published_at == "2022-12-19T10:00:00Z"
    assert articles[0].source.name == "Example" and articles[0].source.domain == "example.org"
    assert articles[1].source.domain == "efe.com"
    assert skipped["2"].startswith("not JSON")
    assert skipped["3"] == "no text"
    assert skipped["4"] == "not a JSON object"
    assert "not an absolute URL" in skipped["7"]


def test_missing_path_is_reported(tmp_path: Path) -> None:
    (item,) = list(read_paths([tmp_path / "nope.jsonl"]))
    assert isinstance(item, Skipped)


def test_parse_published() -> None:
    assert parse_published("2024-08-27") == "2024-08-27T00:00:00Z"
    assert parse_published("2024-08-27T12:00:00+02:00") == "2024-08-27T10:00:00Z"
    assert parse_published("not a date") is None
    assert parse_published(None) is None

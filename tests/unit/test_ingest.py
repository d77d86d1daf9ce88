"""Sources to raw articles: the seeds folder and JSONL dumps, bad lines skipped with reasons; `newsflow ingest`."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.cli import main
from pipeline.dates import PublishedOutOfRange, parse_published, published_timestamp
from pipeline.records import Article
from pipeline.sources.files import Skipped, read_paths


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
        json.dumps(
            {
                "url": "https://example.org/a",
                "title": "A",
                "text": "Body A",
                "published": "Mon, 19 Dec 2022 10:00:00 GMT",
                "source": "Example",
            }
        ),
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
    assert parse_published("") is None and parse_published("   ") is None


# -- dates that cannot be represented ------------------------------------------------------------

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
        "0000-06-01",  # year 0
        "Mon, 01 Jan 99999999999999999999 00:00:00 +0000",
        "Fri, 01 Jan 12345 00:00:00 +0000",
    ],
)
def test_a_date_that_cannot_be_represented_is_out_of_range(value: str) -> None:
    assert parse_published(value) is None
    with pytest.raises(PublishedOutOfRange, match=r"^published '.*' out of range$"):
        published_timestamp(value)


def test_dates_at_the_edges_that_can_be_represented() -> None:
    assert parse_published("0001-01-01T00:00:00-01:00") == "0001-01-01T01:00:00Z"
    assert parse_published("9999-12-31T23:59:59.5+00:00") == "9999-12-31T23:59:59.500000Z"
    assert parse_published("Tue, 13 Sep 2022 06:15:00 +0000") == "2022-09-13T06:15:00Z"
    assert published_timestamp("yesterday") is None  # unreadable is not out of range: the article keeps going


def _iso(moment: datetime, offset_minutes: int) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{moment.isoformat()}{sign}{hours:02d}:{minutes:02d}"


DATES = st.one_of(
    st.text(max_size=60),
    st.builds(_iso, st.datetimes(), st.integers(-23 * 60 - 59, 23 * 60 + 59)),  # every year 1-9999, any offset
    st.builds(lambda d: format_datetime(d), st.datetimes(min_value=datetime(1900, 1, 1))),  # RFC 822
    st.from_regex(r"\A[0-9]{1,25}-[0-9]{1,3}-[0-9]{1,3}(T[0-9:]{1,12})?([+-][0-9:]{1,8}|Z)?\Z"),
    st.from_regex(r"\A(Mon, )?[0-9]{1,3} (Jan|Feb|Dec) [0-9]{1,25} [0-9:]{1,9}( [+-][0-9]{4}| GMT)?\Z"),
)


@hsettings(max_examples=400, deadline=None)
@given(value=DATES)
@example("0001-01-01T00:00:00+01:00")
@example("Mon, 01 Jan 0001 00:00:00 +2359")
def test_parse_published_never_raises(value: str) -> None:
    result = parse_published(value)
    assert result is None or (
        RFC3339_UTC.fullmatch(result) and datetime.fromisoformat(result).utcoffset().total_seconds() == 0
    )
    try:
        strict = published_timestamp(value)
    except PublishedOutOfRange as exc:
        assert result is None and str(exc).endswith("out of range")
    else:
        assert strict == result


# -- bad lines, each reported by file:line -------------------------------------------------------


def test_every_bad_line_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    lines = [
        {"url": "https://example.org/1", "text": "Kyiv.", "published": "0001-01-01T00:00:00+01:00"},
        {"url": 7, "text": "Kyiv."},
        {"url": "https://example.org/3", "title": ["a"], "text": "Kyiv."},
        {"url": "https://example.org/4", "text": "Kyiv.", "published": 20220913},
        {"url": "https://example.org/5", "text": "Kyiv.", "source": 5},
        {"url": "https://example.org/6", "text": "Kyiv.", "source": {"name": {"x": 1}}},
        {"url": "http://example.org:99999/7", "text": "Kyiv."},
        {"url": "https://example.org/8", "text": "Kyiv.", "published": "2022-09-13T06:15:00Z", "source": "EFE"},
    ]
    dump.write_text("\n".join(json.dumps(line) for line in lines) + "\n" + "[" * 100_000 + "\n")

    items = list(read_paths([dump]))

    reasons = {i.where.rsplit(":", 1)[1]: i.reason for i in items if isinstance(i, Skipped)}
    assert reasons == {
        "1": "published '0001-01-01T00:00:00+01:00' out of range",
        "2": "url is a number, not a string",
        "3": "title is an array, not a string",
        "4": "published is a number, not a string",
        "5": "source is a number, not a name or an object",
        "6": "source.name is an object, not a string",
        "7": "Port out of range 0-65535",
        "9": "not JSON: nested too deeply",
    }
    (good,) = [i for i in items if isinstance(i, Article)]
    assert (good.url, good.published_at, good.source.name) == ("https://example.org/8", "2022-09-13T06:15:00Z", "EFE")


def test_a_broken_manifest_skips_its_folder_with_the_reason(seeds_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "one.txt").write_text((next(seeds_dir.glob("*.txt"))).read_text())
    (folder / "manifest.json").write_text('{"one.txt": {"title": ')

    items = list(read_paths([folder]))

    assert [type(i) for i in items] == [Skipped, Skipped]
    assert items[0].where.endswith("manifest.json") and items[0].reason.startswith("manifest not readable JSON")
    assert items[1].where.endswith("one.txt") and items[1].reason == "no metadata: manifest.json unreadable"


# -- `newsflow ingest`, through the real CLI -----------------------------------------------------


def test_cli_ingest_reports_every_bad_line_and_exits_1(tmp_path: Path, capsys) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        "\n".join(
            [
                json.dumps({"url": "https://example.org/good-1", "title": "Good", "text": "Kyiv said 653 drones."}),
                json.dumps(
                    {
                        "url": "https://example.org/zero",
                        "title": "Year zero",
                        "text": "Kyiv.",
                        "published": "0001-01-01T00:00:00+01:00",
                    }
                ),
                "{not json",
                json.dumps({"url": "https://example.org/" + "x" * 5000, "text": "Too long a URL for the contract."}),
                '{"url": "https://example.org/s", "text": "Kyiv \\ud800 said"}',
                json.dumps({"url": "https://example.org/good-2", "title": "[bold]Also good[/bold]", "text": "Odesa."}),
                json.dumps(
                    {
                        "url": "https://example.org/markup",
                        "text": "Kyiv.",  # a reason that looks like console markup
                        "published": "Mon, 01 Jan 99999999999999999999 00:00:00 [/red]",
                    }
                ),
            ]
        )
        + "\n"
    )

    code = main(["ingest", "--dry-run", str(dump)])

    out, err = capsys.readouterr()
    assert code == 1
    assert "would produce 2 articles to news.raw.v1; skipped 5" in out
    skipped = {
        line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("skipped ")
    }
    assert set(skipped) == {f"skipped {dump}:{n}" for n in (2, 3, 4, 5, 7)}
    assert skipped[f"skipped {dump}:2"] == "published '0001-01-01T00:00:00+01:00' out of range"
    assert skipped[f"skipped {dump}:3"].startswith("not JSON")
    assert (
        skipped[f"skipped {dump}:4"].startswith("not a valid raw article: raw: ")
        and "url" in skipped[f"skipped {dump}:4"]
    )
    assert skipped[f"skipped {dump}:5"].startswith("not valid Unicode text")
    assert skipped[f"skipped {dump}:7"] == "published 'Mon, 01 Jan 99999999999999999999 00:00:00 [/red]' out of range"


def test_cli_ingest_of_good_input_exits_0(seeds_dir: Path, capsys) -> None:
    assert main(["ingest", "--dry-run", str(seeds_dir)]) == 0
    assert "would produce 5 articles to news.raw.v1; skipped 0" in capsys.readouterr().out

"""CLI tables print what they are given literally: text in square brackets is data, not rich markup."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from pipeline.cli.output import _details, dlq_row, refused_table, search_row, swap_refused_message
from pipeline.operations.reindex import Refused
from pipeline.records import DlqError, DlqPayload, DlqRecord, DlqSource

REASON = "failed to parse field [source.name] of type [keyword] in document with id 'a1b2'"


def _render(*renderables) -> str:
    out = io.StringIO()
    console = Console(file=out, width=400, color_system=None)
    for r in renderables:
        console.print(r)
    return out.getvalue()


def _table(*rows) -> Table:
    table = Table()
    for _ in rows[0]:
        table.add_column()
    for row in rows:
        table.add_row(*row)
    return table


def test_a_dlq_reason_in_square_brackets_is_printed_as_it_is() -> None:
    record = DlqRecord(
        article_id="a1b2",
        stage="index",
        error=DlqError(class_="MappingError", message=REASON, kind="indexing"),
        source=DlqSource(topic="news.enriched.v1", partition=0, offset=7, key="a1b2"),
        payload=DlqPayload.of(b"{}"),
    )

    out = _render(_table(dlq_row(0, 3, record)))

    assert REASON[:80] in out
    assert "[source.name]" in out and "news.enriched.v1:0:7" in out


def test_search_hits_print_titles_and_sources_with_brackets() -> None:
    hit = {
        "score": 1.5,
        "title": "[live] Kyiv under [bold]attack[/bold]",
        "source": "[wire] agency",
        "published": None,
        "language": "en",
        "article_id": "a1",
        "details": {"persons": ["[red]Zelensky"], "dedup": {"cluster_id": "c[1]"}},
    }

    out = _render(_table(search_row(hit)), _details(hit))

    assert "[live] Kyiv under [bold]attack[/bold]" in out
    assert "[wire] agency" in out
    assert "people: [red]Zelensky" in out and "story: c[1]" in out


def test_refused_documents_are_listed_with_their_reasons() -> None:
    out = _render(
        refused_table([Refused("a1b2", REASON), Refused("t:0:9", "unreadable record at t:0:9: [oops]")], "news-v2"),
        swap_refused_message("news", "news-v2", ["news-v1"], 3, "reindex"),
    )

    assert "2 documents not in news-v2" in out
    assert REASON in out and "[oops]" in out
    flat = " ".join(out.split())
    assert "news still points at news-v1" in flat
    assert "The new index news-v2 was kept" in flat and "--accept-loss" in flat

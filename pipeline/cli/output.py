"""What the commands print: rich tables and panels, every value shown literally (never read as markup)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

# A worker that gave up (held by infrastructure past NEWSFLOW_FATAL_AFTER_S, or its processing breaker
# opened) exits with this, so a supervisor restarts it and an operator can tell it from a crash.
EXIT_FATAL = 3

# Wide tables when piped (CI logs, files); the terminal's width otherwise.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def search_row(hit: dict) -> list[Text]:
    """One row of `newsflow search`, every cell literal (a title like `[LIVE] Kyiv` is not markup)."""
    cells = (
        f"{hit['score']:.2f}",
        hit["title"][:70],
        hit["source"] or "-",
        hit["published"] or "-",
        hit["language"],
        hit["article_id"],
    )
    return [Text(cell) for cell in cells]


def _details(hit: dict):
    """What the stages found in one hit, as a small panel."""
    from rich.markup import escape
    from rich.panel import Panel

    d = hit["details"]
    places = [f"{p['name']} ({p.get('country') or '?'})" for p in d.get("places", [])]
    quotes = [f"{q.get('speaker') or 'unattributed'}: \u201c{q['text'][:90]}\u201d" for q in d.get("quotes", [])[:3]]
    dateline = d.get("dateline") or {}
    lines = [
        ("people", ", ".join(d.get("persons", []))),
        ("organisations", ", ".join(d.get("organizations", []))),
        ("places", ", ".join(places)),
        ("topics", ", ".join(t["name"] for t in d.get("topics", []))),
        ("figures", "; ".join(f["text"] for f in d.get("figures", [])[:6])),
        ("quotes", "\n  ".join(quotes)),
        (
            "dateline",
            " ".join(
                filter(None, ["/".join(dateline.get("places") or []), dateline.get("date"), dateline.get("agency")])
            ),
        ),
        ("agencies", ", ".join(d.get("agencies", []))),
        ("translation", (d.get("translation") or {}).get("status", "")),
        ("story", (d.get("dedup") or {}).get("cluster_id", "")),
    ]
    body = "\n".join(f"[bold]{k}[/bold]: {escape(v)}" for k, v in lines if v)
    return Panel(body or "(nothing extracted)", title=Text(hit["title"][:90]), title_align="left")


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


def dlq_row(partition: int, offset: int, rec) -> list[Text]:
    """One row of `newsflow dlq list`, every cell literal (a reason like `failed to parse field [source.name]` is not markup)."""
    cells = (
        f"{partition}:{offset}",
        rec.stage,
        rec.error.class_,
        rec.error.message[:80],
        rec.article_id or "-",
        f"{rec.source.topic}:{rec.source.partition}:{rec.source.offset}",
    )
    return [Text(cell) for cell in cells]


def refused_table(refused, index: str) -> Table:
    """The documents a new index version does not have, and why, printed literally."""
    table = Table(title=Text(f"{len(refused)} documents not in {index}"))
    table.add_column("article_id", no_wrap=True)
    table.add_column("reason")
    for r in refused:
        table.add_row(Text(r.article_id), Text(r.reason))
    return table


def swap_refused_message(alias: str, new: str, previous: list[str], copied_back: int, command: str) -> Text:
    """What an operator reads when a reindex or replay kept the alias because documents were refused."""
    moved = f"; the {copied_back} documents written to it meanwhile were copied back" if copied_back else ""
    return Text(
        f"refused to swap the alias: the documents above are not in {new}, and would vanish from search. "
        f"{alias} still points at {', '.join(previous) or 'nothing'}. The new index {new} was kept, outside the "
        f"alias, for inspection{moved} (delete it when done). Fix the cause and run `newsflow {command}` again, "
        f"or run it with --accept-loss to swap anyway and drop those documents from search.",
        style="red",
    )


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )

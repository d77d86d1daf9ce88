"""`newsflow`: wires the settings, stages, runner and sink together."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pipeline import logs
from pipeline.config import Settings

# A worker that gave up (held by infrastructure past NEWSFLOW_FATAL_AFTER_S, or its processing breaker
# opened) exits with this, so a supervisor restarts it and an operator can tell it from a crash.
EXIT_FATAL = 3

# Wide tables when piped (CI logs, files); the terminal's width otherwise.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsflow` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = Settings()
    except ValidationError as exc:
        for problem in exc.errors():
            name = "NEWSFLOW_" + "_".join(str(p) for p in problem["loc"]).upper()
            err.print("[red]invalid configuration:[/red] "
                      + escape(f"{name}: {problem['msg']} (got {problem.get('input')!r})"))
        return 2
    logs.configure(settings.log_level, settings.log_format)
    from elasticsearch import ConnectionError as EsConnectionError
    from pipeline.kafka_io import UNREACHABLE

    from pipeline.registry import StageConfigError

    try:
        return args.handler(args, settings) or 0
    except KeyboardInterrupt:
        return 130
    except UNREACHABLE:
        err.print(f"[red]cannot reach Kafka at {settings.bootstrap_servers}[/red] — is the stack up? (`newsflow stack up`)")
        return 1
    except EsConnectionError:
        err.print(f"[red]cannot reach Elasticsearch at {settings.es_url}[/red] — is the stack up? (`newsflow stack up`)")
        return 1
    except StageConfigError as exc:
        err.print(f"[red]invalid configuration:[/red] {exc}")
        return 2


# -- stack -------------------------------------------------------------------------------------


def cmd_stack(args, settings: Settings) -> int:
    from pipeline.localstack import airflow as airflow_local
    from pipeline.localstack.stack import SERVICES, LocalStack, StackError

    stack = LocalStack(settings)
    services = tuple(args.service) if args.service else SERVICES
    airflow_home = airflow_local.home_of(settings)
    # Airflow is opt-in on `up`; `down` and `status` include it whenever it was started.
    known = airflow_local.status(airflow_home) if args.action != "up" and not args.service else None
    with_airflow = args.with_airflow or bool(known and known.url)
    try:
        if args.action == "up":
            stack.up(services)
            if with_airflow:
                airflow_local.up(settings, airflow_home, say=lambda line: err.print(line))
        elif args.action == "down":
            stopped = []
            if with_airflow:
                stopped += [f"airflow {p}" for p in airflow_local.down(airflow_home, say=lambda line: err.print(line))]
            stopped += stack.down(services)
            console.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
            return 0
    except (StackError, airflow_local.AirflowLocalError) as exc:
        err.print(f"[red]stack {args.action} failed:[/red] {exc}")
        return 1
    statuses = stack.status()
    airflow = None
    if with_airflow:
        airflow = known if args.action == "status" and known else airflow_local.status(airflow_home)
    if args.json:
        out = [s.__dict__ for s in statuses]
        if airflow is not None:
            out.append({"name": "airflow", **airflow.to_dict()})
        print(json.dumps(out, indent=2))
    else:
        table = Table(title=f"newsflow local stack ({stack.dir})")
        for column in ("service", "version", "address", "pid", "health", "log"):
            table.add_column(column)
        for s in statuses:
            health = "[green]healthy[/green]" if s.healthy else f"[red]{s.detail}[/red]"
            table.add_row(s.name, s.version, s.address, str(s.pid or "-"), health, s.log)
        if airflow is not None:
            from importlib.metadata import version

            for c in airflow.components:
                health = "[green]healthy[/green]" if c.healthy else ("running" if c.running else "[red]not running[/red]")
                address = f"{airflow.url} (login {airflow.username} / {airflow.password})" if c.name == "api-server" else ""
                table.add_row(f"airflow {c.name}", version("apache-airflow"), address, str(c.pid or "-"), health, c.log)
        console.print(table)
    if args.action == "status" and not args.strict:
        return 0
    healthy = all(s.healthy for s in statuses if s.name in services)
    return 0 if healthy and (airflow is None or airflow.healthy) else 1


# -- init / ingest -----------------------------------------------------------------------------


def cmd_init(args, settings: Settings) -> int:
    from pipeline import kafka_io
    from pipeline.sinks.elasticsearch import IndexAdmin, client

    topics = kafka_io.ensure_topics(settings)
    done = IndexAdmin(client(settings), settings).ensure()
    table = Table(title="newsflow init")
    table.add_column("what")
    table.add_column("name")
    table.add_column("state")
    for name, state in topics.items():
        table.add_row("topic", name, state)
    table.add_row("index template", done["template"], "put")
    table.add_row("alias", settings.index_alias, done["alias"])
    console.print(table)
    return 0


def cmd_ingest(args, settings: Settings) -> int:
    from rich.markup import escape

    from pipeline import kafka_io
    from pipeline.contracts import Contracts
    from pipeline.sources.files import Skipped, read_paths
    from pipeline.kafka_io import Outgoing
    from pipeline.sources import NotProducible, raw_message

    contracts = Contracts()
    items = list(read_paths([Path(p) for p in args.paths]))
    articles = [i for i in items if not isinstance(i, Skipped)]
    skipped = [i for i in items if isinstance(i, Skipped)]
    valid = []
    for article in articles:
        try:
            message = raw_message(article, contracts, settings.max_message_bytes)
        except NotProducible as exc:  # breaks the contract, not valid Unicode, too large for Kafka
            skipped.append(Skipped(article.origin or article.article_id, str(exc)))
            continue
        valid.append(Outgoing(settings.topic("raw"), article.article_id, message))
    for s in skipped:  # every bad input, by file:line for dumps; escaped: the reasons quote the input
        err.print(f"[yellow]skipped[/yellow] {escape(s.where)}: {escape(s.reason)}", soft_wrap=True)
    if valid and not args.dry_run:
        producer = kafka_io.producer(settings)
        try:
            with _progress() as progress:
                task = progress.add_task("producing to " + settings.topic("raw"), total=len(valid))
                for start in range(0, len(valid), 500):
                    chunk = valid[start : start + 500]
                    kafka_io.send_confirmed(producer, chunk)
                    progress.advance(task, len(chunk))
        finally:
            producer.close()
    verb = "would produce" if args.dry_run else "produced"
    console.print(f"{verb} {len(valid)} articles to {settings.topic('raw')}; skipped {len(skipped)}")
    return 1 if skipped else 0


# -- run / worker ------------------------------------------------------------------------------


def _workers(names: Sequence[str], settings: Settings, stop: threading.Event):
    from pipeline.registry import build_stage
    from pipeline.contracts import Contracts
    from pipeline.runner import StageWorker

    contracts = Contracts()
    return [StageWorker(build_stage(n, settings), settings, contracts, stop=stop) for n in names]


def cmd_run(args, settings: Settings) -> int:
    from pipeline.registry import names as stage_names
    from pipeline.runner import FatalError, StopRequested, install_signal_handlers, run_workers

    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        workers = _workers(stage_names(), settings, stop)
    except FatalError as exc:
        err.print(Text(f"stopped: {exc}", style="red"))
        return EXIT_FATAL
    started = time.monotonic()
    fatal = None
    try:
        with _progress() as progress:
            tasks = {w.stage.name: progress.add_task(f"{w.stage.name:<9}", total=None) for w in workers}
            drained = run_workers(
                workers, stop, follow=args.follow, timeout_s=args.timeout,
                on_progress=lambda w, n: progress.advance(tasks[w.stage.name], n),
            )
    except StopRequested as exc:
        err.print(f"[yellow]{exc}[/yellow]")
        drained = True
    except FatalError as exc:
        err.print(Text(f"stopped: {exc}", style="red"))
        fatal = exc
    finally:
        for w in workers:
            w.close()
    table = Table(title=f"newsflow run ({time.monotonic() - started:.1f}s)")
    for column in ("stage", "consumed", "produced", "dlq", "retries", "held s"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    for w in workers:
        c = w.counters
        table.add_row(w.stage.name, str(c.consumed), str(c.produced), str(c.dlq), str(c.retries), f"{c.held_s:.0f}")
    console.print(table)
    if fatal is not None:
        return EXIT_FATAL
    if not drained:
        err.print(f"[red]not drained within {args.timeout}s[/red]")
        return 1
    return 0


def cmd_worker(args, settings: Settings) -> int:
    from pipeline.runner import FatalError, StopRequested, install_signal_handlers, run_workers

    stop = threading.Event()
    install_signal_handlers(stop)
    code = 0
    try:
        (worker,) = _workers([args.stage], settings, stop)
    except FatalError as exc:  # held at start (e.g. its state topic missing) for longer than allowed
        err.print(Text(f"stopped: {exc}", style="red"))
        return EXIT_FATAL
    try:
        run_workers([worker], stop, follow=not args.until_drained)
    except StopRequested as exc:
        err.print(f"[yellow]{exc}[/yellow]")
    except FatalError as exc:
        err.print(Text(f"stopped: {exc}", style="red"))
        code = EXIT_FATAL
    finally:
        worker.close()
    c = worker.counters
    console.print(f"{args.stage}: consumed {c.consumed}, produced {c.produced}, dlq {c.dlq}, retries {c.retries}, "
                  f"held {c.held_s:.0f}s")
    return code


# -- process (no Kafka, no Elasticsearch) ------------------------------------------------------


def cmd_process(args, settings: Settings) -> int:
    from pipeline.registry import processing_names
    from pipeline.sources.files import Skipped, read_paths
    from pipeline.local import process_in_memory

    items = list(read_paths([Path(args.path)]))
    articles = [i for i in items if not isinstance(i, Skipped)]
    for s in items:
        if isinstance(s, Skipped):
            err.print(f"[yellow]skipped[/yellow] {s.where}: {s.reason}")
    outcome = process_in_memory(articles, settings, processing_names())
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as handle:
        for topic, record in outcome.outputs:
            handle.write(json.dumps({"topic": topic, **record}, ensure_ascii=False) + "\n")
    for article_id, stage, reason in outcome.rejected:
        err.print(f"[yellow]rejected[/yellow] {article_id} at {stage}: {reason}")
    console.print(
        f"{len(outcome.outputs)} records written to {out} "
        f"({', '.join(f'{t}: {n}' for t, n in outcome.counts().items()) or 'none'}); rejected {len(outcome.rejected)}"
    )
    return 1 if outcome.rejected or len(articles) < len(items) else 0


# -- search / audit ----------------------------------------------------------------------------


def cmd_search(args, settings: Settings) -> int:
    from pipeline.search import search

    hits = search(settings, args.query, size=args.size, include_duplicates=args.all)
    table = Table(title=Text(f"{len(hits)} hits for {args.query!r} in {settings.index_alias}"))
    for column in ("score", "title", "source", "published", "lang", "article_id"):
        table.add_column(column)
    for h in hits:
        table.add_row(*search_row(h))
    console.print(table)
    if args.details:
        for h in hits:
            console.print(_details(h))
    return 0


def search_row(hit: dict) -> list[Text]:
    """One row of `newsflow search`, every cell literal (a title like `[LIVE] Kyiv` is not markup)."""
    cells = (f"{hit['score']:.2f}", hit["title"][:70], hit["source"] or "-", hit["published"] or "-", hit["language"],
             hit["article_id"])
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
        ("dateline", " ".join(filter(None, ["/".join(dateline.get("places") or []), dateline.get("date"), dateline.get("agency")]))),
        ("agencies", ", ".join(d.get("agencies", []))),
        ("translation", (d.get("translation") or {}).get("status", "")),
        ("story", (d.get("dedup") or {}).get("cluster_id", "")),
    ]
    body = "\n".join(f"[bold]{k}[/bold]: {escape(v)}" for k, v in lines if v)
    return Panel(body or "(nothing extracted)", title=Text(hit["title"][:90]), title_align="left")


def cmd_audit(args, settings: Settings) -> int:
    from pipeline.operations.audit import compute_ledger

    ledger = compute_ledger(settings, window_s=args.window, settle_s=args.settle)
    if args.json:
        print(json.dumps(ledger.to_dict(), indent=2))
        return ledger.exit_code
    table = Table(title=f"audit ledger: raw messages from {ledger.since} to {ledger.until}")
    table.add_column("terminal state")
    table.add_column("articles", justify="right")
    table.add_row("indexed as unique", str(ledger.unique))
    table.add_row("indexed as duplicate", str(ledger.duplicates))
    table.add_row("DLQ: bad input", str(ledger.dlq_bad_input))
    table.add_row("DLQ: processing", str(ledger.dlq_processing))
    table.add_row("in flight (younger than the settle margin)", str(ledger.in_flight if not ledger.holds else 0))
    table.add_row("held by infrastructure", str(ledger.held))
    table.add_row("overdue: in no terminal state", str(ledger.overdue if not ledger.holds else 0))
    table.add_row("[bold]raw[/bold]", str(ledger.raw))
    console.print(table)
    if ledger.expired_before:
        console.print(Text(f"raw messages before {ledger.expired_before} were deleted by retention: the window starts there"))
    for hold in ledger.holds:
        err.print(Text(f"HELD: {hold.stage} ({hold.worker}) {hold.state} since {hold.since}: {hold.reason}", style="red"))
    verdict = ledger.verdict
    if verdict == "balanced":
        console.print("[green]balanced[/green]: every raw message of the window is in exactly one terminal state")
    elif verdict == "in_flight":
        console.print(f"[green]balanced so far[/green]: {ledger.in_flight} raw messages younger than the settle margin are in flight")
    elif verdict == "held":
        err.print(f"[red]HELD[/red]: {ledger.held} raw messages wait behind a worker held by infrastructure; nothing "
                  "was dead-lettered for it. Fix the cause (credentials, index, topics); the workers resume by themselves.")
    else:
        err.print(Text(f"NOT balanced: {ledger.overdue} raw messages older than the settle margin are in no terminal "
                       f"state (first: {', '.join(ledger.missing[:5])}). Is every stage worker running?", style="red"))
    return ledger.exit_code


def cmd_status(args, settings: Settings) -> int:
    from pipeline.sinks.elasticsearch import client
    from pipeline.operations.status import pipeline_status

    status = pipeline_status(settings, client(settings))
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
        return status.exit_code
    table = Table(title="newsflow status")
    for column in ("stage", "consumer lag", "out last minute", "DLQ", "workers"):
        table.add_column(column, justify="left" if column in ("stage", "workers") else "right")
    for row in status.stages:
        workers = ", ".join(f"{n} {state}" for state, n in sorted(row.workers.items())) or "none reporting"
        table.add_row(row.stage, str(row.lag), _or_dash(row.produced_last_minute), str(row.dlq_total), Text(workers))
    if status.stages:
        console.print(table)
    for part, why in status.unreachable.items():
        err.print(Text(f"UNREACHABLE {part}: {why}", style="red"))
    if "elasticsearch" not in status.unreachable:
        console.print(
            f"Elasticsearch {status.index_alias} -> {', '.join(status.indices) or '(no index)'}: {status.indexed} documents; "
            f"newest published {_age(status.newest_published_age_s)} ago, newest indexed {_age(status.newest_indexed_age_s)} ago"
        )
    for row in status.stages:
        for held in row.held:
            err.print(Text(f"HELD {row.stage}: {held}", style="red"))
    if status.ledger is not None:
        ledger = status.ledger
        colour = {"balanced": "green", "in_flight": "green", "held": "red", "gaps": "red"}[ledger.verdict]
        console.print(f"ledger ({ledger.since} to now): {ledger.summary()} [{colour}]{ledger.verdict}[/{colour}]")
    return status.exit_code


def _or_dash(value) -> str:
    return "-" if value is None else str(value)


def cmd_dlq(args, settings: Settings) -> int:
    from pipeline.operations.dlq import dlq_records, replay_dlq

    if args.action == "list":
        table = Table(title=f"{settings.topic('dlq')}")
        for column in ("offset", "stage", "error", "message", "article_id", "source"):
            table.add_column(column)
        for partition, offset, rec in dlq_records(settings):
            if (args.stage and rec.stage != args.stage) or (args.error_class and rec.error.class_ != args.error_class):
                continue
            table.add_row(*dlq_row(partition, offset, rec))
        console.print(table)
        return 0
    replayed = replay_dlq(settings, stage=args.stage, error_class=args.error_class, dry_run=args.dry_run)
    verb = "would replay" if args.dry_run else "replayed"
    console.print(f"{verb} {len(replayed)} DLQ records to their source topics")
    return 0


def dlq_row(partition: int, offset: int, rec) -> list[Text]:
    """One row of `newsflow dlq list`, every cell literal (a reason like `failed to parse field [source.name]` is not markup)."""
    cells = (f"{partition}:{offset}", rec.stage, rec.error.class_, rec.error.message[:80], rec.article_id or "-",
             f"{rec.source.topic}:{rec.source.partition}:{rec.source.offset}")
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


def cmd_reindex(args, settings: Settings) -> int:
    from pipeline.operations.reindex import reindex
    from pipeline.sinks.elasticsearch import client

    es = client(settings)
    with _progress() as progress:
        task = progress.add_task("copying documents", total=es.count(index=settings.index_alias)["count"])
        report = reindex(settings, es, accept_loss=args.accept_loss, on_progress=lambda n: progress.advance(task, n))
    if report.refused:
        err.print(refused_table(report.refused, report.index))
    if not report.swapped:
        err.print(swap_refused_message(settings.index_alias, report.index, report.previous, report.copied_back, "reindex"))
        return 1
    console.print(Text(
        f"{settings.index_alias} -> {report.index} ({report.copied} documents copied from "
        f"{', '.join(report.previous) or 'nothing'}; old kept)"
        + (f"; {len(report.refused)} refused documents left out (--accept-loss)" if report.refused else "")
    ))
    return 0


# -- plumbing ----------------------------------------------------------------------------------


def cmd_retranslate(args, settings: Settings) -> int:
    from pipeline.operations.retranslate import retranslate
    from pipeline.sinks.elasticsearch import client

    report = retranslate(settings, client(settings), args.max or settings.retranslate_max_articles)
    console.print(f"pending translations found: {report.pending}; sent back to {settings.topic('detected')}: "
                  f"{report.resent}" + (f"; skipped: {dict(report.skipped)}" if report.skipped else ""))
    console.print("the translate, dedup, enrich and index workers take them from there (`newsflow run` or the workers)")
    return 0


def cmd_replay(args, settings: Settings) -> int:
    from pipeline.operations.replay import replay
    from pipeline.sinks.elasticsearch import client

    report = replay(settings, client(settings), source=args.source, since=args.since, until=args.until,
                    swap=not args.no_swap, accept_loss=args.accept_loss)
    console.print_json(data=report.to_dict())
    if report.refused:
        err.print(refused_table(report.refused, report.index))
    if report.swap_refused:
        err.print(swap_refused_message(settings.index_alias, report.index, report.previous, report.copied_back, "replay"))
        return 1
    return 0


def cmd_kibana(args, settings: Settings) -> int:
    from pipeline.operations.kibana import KibanaError, import_saved_objects

    url = settings.kibana_url or "http://127.0.0.1:5601"
    try:
        result = import_saved_objects(
            url, args.file, username=settings.kibana_username, password=settings.kibana_password,
            api_key=settings.kibana_api_key, space=settings.kibana_space, index_alias=settings.index_alias,
        )
    except KibanaError as exc:
        err.print(f"[red]kibana import failed:[/red] {exc}")
        return 1
    table = Table(title=f"imported into {url}: {result.success_count} saved objects")
    for column in ("type", "id", "title"):
        table.add_column(column)
    for row in result.objects:
        table.add_row(*row)
    console.print(table)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}")
    return 0


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description="Streaming news ingestion pipeline.")
    sub = parser.add_subparsers(metavar="COMMAND")

    p = sub.add_parser("stack", help="the local Kafka and Elasticsearch (no Docker)")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--json", action="store_true", help="machine-readable status")
    p.add_argument("--strict", action="store_true", help="status exits 1 unless every service is healthy")
    p.add_argument("--service", action="append", choices=["kafka", "elasticsearch"], help="only this service (repeatable)")
    p.add_argument("--with-airflow", action="store_true", help="also run Airflow 3 (api-server/UI, scheduler, dag-processor, triggerer) on dags/")
    p.set_defaults(handler=cmd_stack)

    p = sub.add_parser("init", help="create topics, index template, versioned index and alias (idempotent)")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("ingest", help="produce articles from a seeds folder, .txt files or JSONL dumps to news.raw.v1")
    p.add_argument("paths", nargs="+")
    p.add_argument("--dry-run", action="store_true", help="read and validate, produce nothing")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("run", help="host every stage worker in one process until the topics are drained")
    p.add_argument("--follow", action="store_true", help="keep going after the topics are drained")
    p.add_argument("--timeout", type=float, default=None, help="give up (exit 1) after this many seconds")
    p.set_defaults(handler=cmd_run)

    from pipeline.registry import names as stage_names

    p = sub.add_parser("worker", help="run one stage as a member of its consumer group")
    p.add_argument("stage", choices=stage_names())
    p.add_argument("--until-drained", action="store_true", help="exit when its input topics are drained")
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser("process", help="run the stage functions in-process on files (no Kafka, no Elasticsearch)")
    p.add_argument("path")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=cmd_process)

    p = sub.add_parser("search", help="top hits from Elasticsearch, one per story")
    p.add_argument("query")
    p.add_argument("--size", type=int, default=10)
    p.add_argument("--all", action="store_true", help="include duplicates")
    p.add_argument("--details", action="store_true", help="also show what the stages found: people, places, topics, quotes, figures")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("status", help="per stage: lag, last-minute throughput, DLQ, workers (held?); index; ledger "
                                      "(exit 2: a part unreachable, 3: a worker held)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("dlq", help="list the dead-letter queue, or replay records to their source topic")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("--stage", help="only records from this stage")
    p.add_argument("--error-class", help="only records with this error class (e.g. MappingError)")
    p.add_argument("--dry-run", action="store_true", help="replay: show how many, produce nothing")
    p.set_defaults(handler=cmd_dlq)

    p = sub.add_parser("reindex", help="build the next index version from the current one, then move the alias "
                                       "(kept when the new index refuses a document: exit 1)")
    p.add_argument("--accept-loss", action="store_true",
                   help="move the alias even when the new index refused documents (they are listed)")
    p.set_defaults(handler=cmd_reindex)

    p = sub.add_parser("retranslate", help="send articles indexed with translation.status=pending back through translate")
    p.add_argument("--max", type=int, default=None, help="at most this many (default NEWSFLOW_RETRANSLATE_MAX_ARTICLES)")
    p.set_defaults(handler=cmd_retranslate)

    p = sub.add_parser("replay", help="rebuild the index from a topic window into the next index version, then swap the alias")
    p.add_argument("--source", choices=["enriched", "raw"], default="enriched",
                   help="enriched: re-index news.enriched.v1 + duplicates; raw: run news.raw.v1 through the stages again")
    p.add_argument("--since", default=None, help="ISO 8601 with a zone (broker timestamps); default: the whole retention")
    p.add_argument("--until", default=None, help="ISO 8601 with a zone; default: now")
    p.add_argument("--no-swap", action="store_true", help="build the new index version but leave the alias alone")
    p.add_argument("--accept-loss", action="store_true",
                   help="swap even when records could not be read or the new index refused them (they are listed; "
                        "otherwise the alias is kept and the exit code is 1)")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("kibana", help="import the saved objects (data view, searches, dashboard) into Kibana")
    p.add_argument("action", choices=["import"])
    p.add_argument("--file", default=str(Path(__file__).resolve().parent.parent / "kibana" / "saved_objects.ndjson"))
    p.set_defaults(handler=cmd_kibana)

    p = sub.add_parser("audit", help="reconcile a window of raw messages: unique + duplicates + DLQ + in flight/held "
                                     "(exit 1: gaps, 2: held by infrastructure)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--window", type=float, default=None, help="seconds back from now (default NEWSFLOW_AUDIT_WINDOW_S)")
    p.add_argument("--settle", type=float, default=None,
                   help="raw messages younger than this many seconds are in flight, not gaps (default NEWSFLOW_AUDIT_SETTLE_S)")
    p.set_defaults(handler=cmd_audit)
    return parser


if __name__ == "__main__":
    sys.exit(main())

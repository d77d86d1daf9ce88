"""Commands that move articles: init, ingest, run, worker, process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table
from rich.text import Text

from pipeline.cli.output import EXIT_FATAL, _progress, console, err
from pipeline.config import Settings


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
    from pipeline.kafka_io import Outgoing
    from pipeline.sources import NotProducible, raw_message
    from pipeline.sources.files import Skipped, read_paths

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


def _workers(names: Sequence[str], settings: Settings, stop: threading.Event):
    from pipeline.contracts import Contracts
    from pipeline.registry import build_stage, freeze_loaded
    from pipeline.runner import StageWorker

    contracts = Contracts()
    stages = [build_stage(n, settings) for n in names]
    freeze_loaded()
    return [StageWorker(stage, settings, contracts, stop=stop) for stage in stages]


def cmd_run(args, settings: Settings) -> int:
    """Every stage until the topics are drained: one process per worker (default), or all in this one."""
    if args.in_process:
        return _run_in_process(args, settings)
    from pipeline.registry import names as stage_names
    from pipeline.runner import install_signal_handlers
    from pipeline.supervisor import WorkersSpecError, parse_workers, run_processes

    spec = ",".join([settings.run_workers, *(args.workers or [])])
    try:
        plan = parse_workers(spec, stage_names(), settings.partitions)
    except WorkersSpecError as exc:
        err.print(Text(f"invalid --workers: {exc}", style="red"))
        return 2
    stop = threading.Event()
    install_signal_handlers(stop)
    started = time.monotonic()
    progress = _progress()  # started once the workers are forked: its refresh thread must not exist then
    tasks = {name: progress.add_task(_label(name, n), total=None) for name, n in plan.items()}
    try:
        outcome = run_processes(
            settings,
            plan,
            stop,
            follow=args.follow,
            timeout_s=args.timeout,
            on_start=progress.start,
            on_progress=lambda name, n: progress.advance(tasks[name], n),
        )
    finally:
        progress.stop()
    table = _run_table(started, [(_label(name, t.processes), t) for name, t in outcome.totals.items()])
    console.print(table)
    for failure in outcome.failures:
        err.print(Text(f"stopped: {failure}", style="red"))
    if outcome.stopped_by_signal:
        err.print("[yellow]stopped by signal: batches finished and committed[/yellow]")
    if outcome.fatal:
        return EXIT_FATAL
    if outcome.failures:
        return 1
    if not outcome.drained:
        err.print(f"[red]not drained within {args.timeout}s[/red]")
        return 1
    return 0


def _label(name: str, processes: int) -> str:
    return f"{name} ×{processes}" if processes > 1 else name


def _run_table(started: float, rows) -> Table:
    """The final table of a run: one row per stage (summed over its processes)."""
    table = Table(title=f"newsflow run ({time.monotonic() - started:.1f}s)")
    for column in ("stage", "consumed", "produced", "dlq", "retries", "held s"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    for label, c in rows:
        table.add_row(label, str(c.consumed), str(c.produced), str(c.dlq), str(c.retries), f"{c.held_s:.0f}")
    return table


def _run_in_process(args, settings: Settings) -> int:
    """Every stage worker stepped in turn in this process (`--in-process`: one core, easiest to debug)."""
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
                workers,
                stop,
                follow=args.follow,
                timeout_s=args.timeout,
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
    console.print(_run_table(started, [(w.stage.name, w.counters) for w in workers]))
    if fatal is not None:
        return EXIT_FATAL
    if not drained:
        err.print(f"[red]not drained within {args.timeout}s[/red]")
        return 1
    return 0


def cmd_worker(args, settings: Settings) -> int:
    from pipeline import metrics
    from pipeline.runner import FatalError, StopRequested, install_signal_handlers, run_workers

    try:  # first, so the endpoint answers while a stateful stage restores its state
        port = metrics.serve(settings)
    except OSError as exc:
        err.print(f"[red]invalid configuration:[/red] NEWSFLOW_METRICS_PORT={settings.metrics_port}: {exc}")
        return 2
    if port is not None:
        err.print(f"{args.stage}: metrics on port {port} (/metrics)")
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
    console.print(
        f"{args.stage}: consumed {c.consumed}, produced {c.produced}, dlq {c.dlq}, retries {c.retries}, "
        f"held {c.held_s:.0f}s"
    )
    return code


def cmd_process(args, settings: Settings) -> int:
    from pipeline.local import process_in_memory
    from pipeline.registry import processing_names
    from pipeline.sources.files import Skipped, read_paths

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

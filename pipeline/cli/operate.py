"""Commands operators use: search, status, audit, dlq, reindex, replay, retranslate, kibana import."""

from __future__ import annotations

import json

from rich.table import Table
from rich.text import Text

from pipeline.cli.output import (
    _age,
    _details,
    _or_dash,
    _progress,
    console,
    dlq_row,
    err,
    refused_table,
    search_row,
    swap_refused_message,
)
from pipeline.config import Settings


def cmd_search(args, settings: Settings) -> int:
    from pipeline.operations.search import search

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
        console.print(
            Text(f"raw messages before {ledger.expired_before} were deleted by retention: the window starts there")
        )
    for hold in ledger.holds:
        err.print(
            Text(f"HELD: {hold.stage} ({hold.worker}) {hold.state} since {hold.since}: {hold.reason}", style="red")
        )
    verdict = ledger.verdict
    if verdict == "balanced":
        console.print("[green]balanced[/green]: every raw message of the window is in exactly one terminal state")
    elif verdict == "in_flight":
        console.print(
            f"[green]balanced so far[/green]: {ledger.in_flight} raw messages younger than the settle margin are in flight"
        )
    elif verdict == "held":
        err.print(
            f"[red]HELD[/red]: {ledger.held} raw messages wait behind a worker held by infrastructure; nothing "
            "was dead-lettered for it. Fix the cause (credentials, index, topics); the workers resume by themselves."
        )
    else:
        err.print(
            Text(
                f"NOT balanced: {ledger.overdue} raw messages older than the settle margin are in no terminal "
                f"state (first: {', '.join(ledger.missing[:5])}). Is every stage worker running?",
                style="red",
            )
        )
    return ledger.exit_code


def cmd_status(args, settings: Settings) -> int:
    from pipeline.operations.status import pipeline_status
    from pipeline.sinks.elasticsearch import client

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
        err.print(
            swap_refused_message(settings.index_alias, report.index, report.previous, report.copied_back, "reindex")
        )
        return 1
    console.print(
        Text(
            f"{settings.index_alias} -> {report.index} ({report.copied} documents copied from "
            f"{', '.join(report.previous) or 'nothing'}; old kept)"
            + (f"; {len(report.refused)} refused documents left out (--accept-loss)" if report.refused else "")
        )
    )
    return 0


def cmd_retranslate(args, settings: Settings) -> int:
    from pipeline.operations.retranslate import retranslate
    from pipeline.sinks.elasticsearch import client

    report = retranslate(settings, client(settings), args.max or settings.retranslate_max_articles)
    console.print(
        f"pending translations found: {report.pending}; sent back to {settings.topic('detected')}: "
        f"{report.resent}" + (f"; skipped: {dict(report.skipped)}" if report.skipped else "")
    )
    console.print("the translate, dedup, enrich and index workers take them from there (`newsflow run` or the workers)")
    return 0


def cmd_replay(args, settings: Settings) -> int:
    from pipeline.operations.replay import replay
    from pipeline.sinks.elasticsearch import client

    report = replay(
        settings,
        client(settings),
        source=args.source,
        since=args.since,
        until=args.until,
        swap=not args.no_swap,
        accept_loss=args.accept_loss,
    )
    console.print_json(data=report.to_dict())
    if report.refused:
        err.print(refused_table(report.refused, report.index))
    if report.swap_refused:
        err.print(
            swap_refused_message(settings.index_alias, report.index, report.previous, report.copied_back, "replay")
        )
        return 1
    return 0


def cmd_kibana(args, settings: Settings) -> int:
    from pipeline.operations.kibana import KibanaError, import_saved_objects

    url = settings.kibana_url or "http://127.0.0.1:5601"
    try:
        result = import_saved_objects(
            url,
            args.file,
            username=settings.kibana_username,
            password=settings.kibana_password,
            api_key=settings.kibana_api_key,
            space=settings.kibana_space,
            index_alias=settings.index_alias,
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

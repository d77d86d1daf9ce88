"""`newsflow`: the command line. Wires the settings, the stage registry, the runner and the operations together.

| module | commands |
|---|---|
| `stream` | init, ingest, run, worker, process |
| `operate` | search, status, audit, dlq, reindex, replay, retranslate, kibana |
| `stack` | stack up/down/status (the local stack) |
| `output` | how results are printed |
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pydantic import ValidationError
from rich.markup import escape

from pipeline import logs
from pipeline.cli.operate import (
    cmd_audit,
    cmd_dlq,
    cmd_kibana,
    cmd_reindex,
    cmd_replay,
    cmd_retranslate,
    cmd_search,
    cmd_status,
)
from pipeline.cli.output import err
from pipeline.cli.stack import cmd_stack
from pipeline.cli.stream import cmd_ingest, cmd_init, cmd_process, cmd_run, cmd_worker
from pipeline.config import PROJECT_ROOT, Settings

__all__ = ["main"]


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
            err.print(
                "[red]invalid configuration:[/red] "
                + escape(f"{name}: {problem['msg']} (got {problem.get('input')!r})")
            )
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
        err.print(
            f"[red]cannot reach Kafka at {settings.bootstrap_servers}[/red] — is the stack up? (`newsflow stack up`)"
        )
        return 1
    except EsConnectionError:
        err.print(
            f"[red]cannot reach Elasticsearch at {settings.es_url}[/red] — is the stack up? (`newsflow stack up`)"
        )
        return 1
    except StageConfigError as exc:
        err.print(f"[red]invalid configuration:[/red] {exc}")
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description="Streaming news ingestion pipeline.")
    sub = parser.add_subparsers(metavar="COMMAND")

    p = sub.add_parser("stack", help="the local Kafka and Elasticsearch (no Docker)")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--json", action="store_true", help="machine-readable status")
    p.add_argument("--strict", action="store_true", help="status exits 1 unless every service is healthy")
    p.add_argument(
        "--service", action="append", choices=["kafka", "elasticsearch"], help="only this service (repeatable)"
    )
    p.add_argument(
        "--with-airflow",
        action="store_true",
        help="also run Airflow 3 (api-server/UI, scheduler, dag-processor, triggerer) on dags/",
    )
    p.set_defaults(handler=cmd_stack)

    p = sub.add_parser("init", help="create topics, index template, versioned index and alias (idempotent)")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("ingest", help="produce articles from a seeds folder, .txt files or JSONL dumps to news.raw.v1")
    p.add_argument("paths", nargs="+")
    p.add_argument("--dry-run", action="store_true", help="read and validate, produce nothing")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser(
        "run", help="run every stage, each in its own process (several for enrich), until the topics are drained"
    )
    p.add_argument("--follow", action="store_true", help="keep going after the topics are drained")
    p.add_argument("--timeout", type=float, default=None, help="give up (exit 1) after this many seconds")
    p.add_argument(
        "--workers",
        action="append",
        metavar="STAGE=N",
        help="processes for a stage, e.g. enrich=2 (repeatable or comma-separated; N may be 'auto'); "
        "adds to NEWSFLOW_RUN_WORKERS",
    )
    p.add_argument(
        "--in-process", action="store_true", help="host every stage in this one process (one core; for debugging)"
    )
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
    p.add_argument(
        "--details",
        action="store_true",
        help="also show what the stages found: people, places, topics, quotes, figures",
    )
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser(
        "status",
        help="per stage: lag, last-minute throughput, DLQ, workers (held?); index; ledger "
        "(exit 2: a part unreachable, 3: a worker held)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("dlq", help="list the dead-letter queue, or replay records to their source topic")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("--stage", help="only records from this stage")
    p.add_argument("--error-class", help="only records with this error class (e.g. MappingError)")
    p.add_argument("--dry-run", action="store_true", help="replay: show how many, produce nothing")
    p.set_defaults(handler=cmd_dlq)

    p = sub.add_parser(
        "reindex",
        help="build the next index version from the current one, then move the alias "
        "(kept when the new index refuses a document: exit 1)",
    )
    p.add_argument(
        "--accept-loss",
        action="store_true",
        help="move the alias even when the new index refused documents (they are listed)",
    )
    p.set_defaults(handler=cmd_reindex)

    p = sub.add_parser(
        "retranslate", help="send articles indexed with translation.status=pending back through translate"
    )
    p.add_argument(
        "--max", type=int, default=None, help="at most this many (default NEWSFLOW_RETRANSLATE_MAX_ARTICLES)"
    )
    p.set_defaults(handler=cmd_retranslate)

    p = sub.add_parser(
        "replay", help="rebuild the index from a topic window into the next index version, then swap the alias"
    )
    p.add_argument(
        "--source",
        choices=["enriched", "raw"],
        default="enriched",
        help="enriched: re-index news.enriched.v1 + duplicates; raw: run news.raw.v1 through the stages again",
    )
    p.add_argument(
        "--since", default=None, help="ISO 8601 with a zone (broker timestamps); default: the whole retention"
    )
    p.add_argument("--until", default=None, help="ISO 8601 with a zone; default: now")
    p.add_argument("--no-swap", action="store_true", help="build the new index version but leave the alias alone")
    p.add_argument(
        "--accept-loss",
        action="store_true",
        help="swap even when records could not be read or the new index refused them (they are listed; "
        "otherwise the alias is kept and the exit code is 1)",
    )
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser("kibana", help="import the saved objects (data view, searches, dashboard) into Kibana")
    p.add_argument("action", choices=["import"])
    p.add_argument("--file", default=str(PROJECT_ROOT / "kibana" / "saved_objects.ndjson"))
    p.set_defaults(handler=cmd_kibana)

    p = sub.add_parser(
        "audit",
        help="reconcile a window of raw messages: unique + duplicates + DLQ + in flight/held "
        "(exit 1: gaps, 2: held by infrastructure)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--window", type=float, default=None, help="seconds back from now (default NEWSFLOW_AUDIT_WINDOW_S)")
    p.add_argument(
        "--settle",
        type=float,
        default=None,
        help="raw messages younger than this many seconds are in flight, not gaps (default NEWSFLOW_AUDIT_SETTLE_S)",
    )
    p.set_defaults(handler=cmd_audit)
    return parser

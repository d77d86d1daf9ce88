"""`newsflow stack`: the local Kafka, Elasticsearch and Airflow (tooling; no worker imports it)."""

from __future__ import annotations

import json

from rich.table import Table

from pipeline.cli.output import console, err
from pipeline.config import Settings


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
                health = (
                    "[green]healthy[/green]" if c.healthy else ("running" if c.running else "[red]not running[/red]")
                )
                address = (
                    f"{airflow.url} (login {airflow.username} / {airflow.password})" if c.name == "api-server" else ""
                )
                table.add_row(f"airflow {c.name}", version("apache-airflow"), address, str(c.pid or "-"), health, c.log)
        console.print(table)
    if args.action == "status" and not args.strict:
        return 0
    healthy = all(s.healthy for s in statuses if s.name in services)
    return 0 if healthy and (airflow is None or airflow.healthy) else 1

"""`newsflow run` in one process against `newsflow run` with a process per worker, on the 524 real corpus articles,
with the libraries' floor measured in the same run.

Starts a private stack on free ports and a LibreTranslate-protocol server on loopback answering at once (no
translation service is reachable here). Each round runs the whole chain twice on fresh topics, index and
translation cache: once with every stage in this process (`newsflow run --in-process`), once as one process per
worker with the default plan (NEWSFLOW_RUN_WORKERS, `enrich=auto`: one per core). Both times are wall times of
the whole job, building the stages (models) included, from the raw articles sitting in `news.raw.v1` to every
topic drained and every article searchable. Rounds alternate the order, so neither mode profits from warm caches.
The floor is bench_chain_real's: five Kafka hops, `helpers.bulk`, langdetect + lingua, datasketch and spaCy
`nlp.pipe` alone, one after another in one process. Writes benchmarks/results/run_processes.json.

    python benchmarks/bench_run_processes.py [--rounds 2] [--workers enrich=2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_chain import bulk_alone, kafka_hop, scoped  # noqa: E402
from benchmarks.bench_chain_real import (  # noqa: E402
    CORPUS,
    corpus_articles,
    corpus_bench_settings,
    detect_libraries,
    minhash_lsh,
    spacy_alone,
)
from pipeline import kafka_io, logs  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.contracts import Contracts  # noqa: E402
from pipeline.enrichment.model import load_model  # noqa: E402
from pipeline.kafka_io import Outgoing  # noqa: E402
from pipeline.localstack.stack import LocalStack  # noqa: E402
from pipeline.operations.audit import compute_ledger  # noqa: E402
from pipeline.registry import build_stage  # noqa: E402
from pipeline.registry import names as stage_names  # noqa: E402
from pipeline.runner import StageWorker, run_workers  # noqa: E402
from pipeline.sinks.elasticsearch import client  # noqa: E402
from pipeline.stages.enrich import shared_tables  # noqa: E402
from pipeline.supervisor import parse_workers, run_processes  # noqa: E402

console = Console()


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def in_process(settings: Settings, total: int) -> float:
    """Every stage in this process, stepped in turn (what `newsflow run --in-process` does)."""
    stop = threading.Event()
    progress = _progress(total)
    t0 = time.perf_counter()
    workers = [StageWorker(build_stage(n, settings), settings, Contracts(), stop=stop) for n in stage_names()]
    with progress:
        tasks = {w.stage.name: progress.add_task(f"in-process {w.stage.name:<9}", total=total) for w in workers}
        drained = run_workers(
            workers, stop, timeout_s=1800, on_progress=lambda w, n: progress.advance(tasks[w.stage.name], n)
        )
    for w in workers:
        w.close()
    took = time.perf_counter() - t0
    assert drained, "the in-process chain did not drain"
    return took


def processes(settings: Settings, plan: dict[str, int], total: int) -> float:
    """One process per worker (what `newsflow run` does)."""
    progress = _progress(total)
    tasks = {name: progress.add_task(f"processes  {name} ×{n}", total=total) for name, n in plan.items()}
    t0 = time.perf_counter()
    try:
        outcome = run_processes(
            settings,
            plan,
            threading.Event(),
            timeout_s=1800,
            on_start=progress.start,
            on_progress=lambda name, n: progress.advance(tasks[name], n),
        )
    finally:
        progress.stop()
    took = time.perf_counter() - t0
    assert outcome.drained and not outcome.failures, outcome
    return took


def checked(settings: Settings, n: int) -> tuple[int, int]:
    """Every article searchable and the ledger balanced; returns (unique, duplicates)."""
    es = client(settings)
    es.indices.refresh(index=settings.index_alias)
    assert es.count(index=settings.index_alias)["count"] == n
    ledger = compute_ledger(settings, es, settle_s=0)
    assert ledger.balanced and ledger.raw == n, ledger.to_dict()
    return ledger.unique, ledger.duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", default=None, help="plan for the multi-process run (default: the setting)")
    parser.add_argument("--partitions", type=int, default=None, help="partitions per topic (default: the setting)")
    args = parser.parse_args()
    logs.configure("WARNING")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not CORPUS.exists():
        sys.exit(f"corpus not found at {CORPUS}")
    from tests.translate_server import LibreTranslateServer

    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-processes-"))
    server = LibreTranslateServer().start()
    base = corpus_bench_settings(workdir, server.url, **({"partitions": args.partitions} if args.partitions else {}))
    plan = parse_workers(args.workers or base.run_workers, stage_names(), base.partitions)
    stack = LocalStack(base, say=lambda m: console.print(f"[dim]{m}[/dim]"))
    times: dict[str, list[float]] = {"in_process": [], "processes": []}
    outcomes: dict[str, set] = {"in_process": set(), "processes": set()}
    try:
        stack.up()
        items = corpus_articles()
        n = len(items)
        for round_ in range(args.rounds):
            order = ["in_process", "processes"] if round_ % 2 == 0 else ["processes", "in_process"]
            for mode in order:
                # Each mode loads the models and tables itself: in-process when it builds the stages,
                # the multi-process parent before it forks. Nothing cached from the previous mode helps.
                load_model.cache_clear()
                shared_tables.cache_clear()
                s = scoped(base).model_copy(
                    update={"translate_cache_path": workdir / f"translations-{mode}-{round_}.sqlite"}
                )
                kafka_io.send_confirmed(
                    kafka_io.producer(s), [Outgoing(s.topic("raw"), a.article_id, a.to_wire()) for a in items]
                )
                took = in_process(s, n) if mode == "in_process" else processes(s, plan, n)
                outcomes[mode].add(checked(s, n))
                times[mode].append(took)
                console.print(f"round {round_ + 1}: {mode} {took:.1f} s")

        probe = scoped(base)
        kafka_io.send_confirmed(
            kafka_io.producer(probe), [Outgoing(probe.topic("raw"), a.article_id, a.to_wire()) for a in items]
        )
        in_process(probe, n)  # the documents and texts the floor's libraries work on, from a real run
        unique = [orjson.loads(r.value) for r in kafka_io.read_topic(probe, probe.topic("unique"))]
        translated = [orjson.loads(r.value) for r in kafka_io.read_topic(probe, probe.topic("translated"))]
        es = client(probe)
        docs = [
            h["_source"]
            for h in es.search(index=probe.index_alias, size=10_000, query={"match_all": {}})["hits"]["hits"]
        ]
        produce_s, consume_s = kafka_hop(scoped(base), [Outgoing("", a.article_id, a.to_wire()) for a in items])
        parts = {
            "kafka: 5 hops": 5 * (produce_s + consume_s),
            "helpers.bulk": bulk_alone(scoped(base), docs),
            "langdetect + lingua (detect's work)": detect_libraries(items),
            "datasketch MinHash + LSH (dedup's index)": minhash_lsh(
                [t.get("text_en") or t["text"] for t in translated], base.dedup_num_perm
            ),
            "spaCy nlp.pipe (enrich's NER)": spacy_alone(
                [(u.get("title_en") or "") + "\n\n" + (u.get("text_en") or u["text"]) for u in unique], base
            ),
        }
    finally:
        stack.down()
        server.stop()
        shutil.rmtree(stack.es_base(), ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    assert len(outcomes["in_process"] | outcomes["processes"]) == 1, f"the modes decided differently: {outcomes}"
    floor_s = sum(parts.values())
    single = statistics.mean(times["in_process"])
    multi = statistics.mean(times["processes"])
    result = {
        "articles": n,
        "corpus": str(CORPUS),
        "unique_duplicates": list(next(iter(outcomes["processes"]))),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "plan": plan,
        "partitions": base.partitions,
        "batch_size": base.batch_size,
        "batch_target_s": base.batch_target_s,
        "rounds": args.rounds,
        "what": "wall time of the whole job incl. building the stages, raw in Kafka -> drained and searchable",
        "in_process_s": [round(t, 2) for t in times["in_process"]],
        "processes_s": [round(t, 2) for t in times["processes"]],
        "floor_parts_s": {k: round(v, 3) for k, v in parts.items()},
        "floor_s": round(floor_s, 2),
        "in_process_vs_floor": round(floor_s / single, 3),
        "processes_vs_floor": round(floor_s / multi, 3),
        "speedup_processes_vs_in_process": round(single / multi, 3),
        "target_speedup": 1.6,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = ROOT / "benchmarks" / "results" / "run_processes.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"newsflow run, {n} corpus articles, {os.cpu_count()} cores")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("vs floor", justify="right")
    for name, secs in parts.items():
        table.add_row(name, f"{secs:.2f}", "")
    table.add_row("floor: the libraries and hops alone, one core", f"{floor_s:.2f}", "1.00")
    table.add_row("run --in-process (mean)", f"{single:.2f}", f"{floor_s / single:.2f}")
    plan_text = ", ".join(f"{k}={v}" for k, v in plan.items() if v > 1) or "one each"
    table.add_row(f"run, a process per worker ({plan_text}) (mean)", f"{multi:.2f}", f"{floor_s / multi:.2f}")
    console.print(table)
    console.print(f"processes vs in-process: {single / multi:.2f}x (target 1.6x); written to {out}")


if __name__ == "__main__":
    main()

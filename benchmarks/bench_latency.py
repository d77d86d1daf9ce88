"""Latency from `news.raw.v1` to searchable in Elasticsearch, at a steady rate below capacity and at twice it.

Starts a private stack on free ports and a LibreTranslate-protocol server on loopback, then three phases, each on
fresh topics and a fresh index with its own `newsflow run --follow` (the main job: a process per worker):
1. capacity: the 524 real corpus articles at once; capacity = articles / (first produced -> last searchable);
2. steady: articles produced one by one at half the capacity for `--steady-s` seconds;
3. backlog: the corpus produced at twice the capacity (a backlog builds up and drains).
Each phase starts after one warm-up article went all the way through (the workers have joined their groups and
loaded their models). An article's latency is from the broker's append time (its produce acknowledgement) to
the moment a watcher polling Elasticsearch every 50 ms first finds it (what an analyst searching would see).
Per stage, the unique articles' `pipeline.stages` timestamps say where the time went.
Writes benchmarks/results/latency.json.

    python benchmarks/bench_latency.py [--steady-s 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_chain import scoped  # noqa: E402
from benchmarks.bench_chain_real import CORPUS, corpus_articles, corpus_bench_settings  # noqa: E402
from pipeline import kafka_io, logs  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.localstack.stack import LocalStack  # noqa: E402
from pipeline.sinks.elasticsearch import client  # noqa: E402
from pipeline.sources.files import build_article  # noqa: E402

console = Console()
WATCH_EVERY_S = 0.05
STAGES = ("detect", "translate", "dedup", "enrich", "index")


class Watcher(threading.Thread):
    """Polls Elasticsearch for the articles produced and not seen yet; notes when each first becomes searchable."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True, name="searchable-watcher")
        self.es = client(settings)
        self.alias = settings.index_alias
        self.pending: dict[str, float] = {}  # article_id -> entered (epoch s), until found
        self.entered: dict[str, float] = {}
        self.latency: dict[str, float] = {}
        self.seen_at: dict[str, float] = {}
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def expect(self, article_id: str, entered: float) -> None:
        with self.lock:
            self.pending[article_id] = entered
            self.entered[article_id] = entered

    def run(self) -> None:
        while not self.halt.is_set():
            with self.lock:
                ids = list(self.pending)
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                hits = self.es.search(
                    index=self.alias, query={"ids": {"values": chunk}}, size=len(chunk), source=False
                )["hits"]["hits"]
                now = time.time()
                with self.lock:
                    for hit in hits:
                        entered = self.pending.pop(hit["_id"], None)
                        if entered is not None:
                            self.latency[hit["_id"]] = now - entered
                            self.seen_at[hit["_id"]] = now
            self.halt.wait(WATCH_EVERY_S)

    def done(self, n: int) -> bool:
        with self.lock:
            return len(self.latency) >= n


def start_run(settings: Settings, log_path: Path) -> subprocess.Popen:
    """`newsflow run --follow` with these settings, in its own process group."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}, **settings.environment()}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--follow"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_path.open("w"),
        start_new_session=True,
    )


def stop_run(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def produce_paced(settings: Settings, articles, rate: float | None, watcher: Watcher, label: str) -> None:
    """Produce the articles one by one at `rate` per second (None: all at once), telling the watcher."""
    producer = kafka_io.producer(settings, linger_ms=0)
    topic = settings.topic("raw")
    t0 = time.monotonic()
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(label, total=len(articles))
        futures = []
        for i, article in enumerate(articles):
            if rate:
                due = t0 + i / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing the feed, not waiting for a result
            future = producer.send(topic, key=article.article_id.encode(), value=_wire(article))
            if rate:
                _acknowledged(future, article.article_id, watcher)
            else:
                futures.append((future, article.article_id))
            bar.advance(task)
        for future, article_id in futures:
            _acknowledged(future, article_id, watcher)
    producer.close()


def _wire(article) -> bytes:
    import orjson

    return orjson.dumps(article.to_wire())


def _acknowledged(future, article_id: str, watcher: Watcher) -> None:
    meta = future.get(timeout=30)
    entered = meta.timestamp / 1000 if meta.timestamp and meta.timestamp > 0 else time.time()
    watcher.expect(article_id, entered)


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.1)


def phase(base: Settings, workdir: Path, name: str, articles, rate: float | None) -> dict:
    """One phase on fresh topics and index with its own `newsflow run --follow`; returns its figures."""
    s = scoped(base)
    proc = start_run(s, workdir / f"run-{name}.log")
    watcher = Watcher(s)
    watcher.start()
    try:
        warm = build_article(
            text="Warm-up.\n\nA short note that goes through every stage before the measured feed starts.",
            title=f"Warm-up {name}",
            url=f"https://bench.example/warm-up/{name}",
        )
        produce_paced(s, [warm], None, watcher, f"{name}: warm-up")
        wait_until(lambda: watcher.done(1), 300, "the warm-up article to be searchable")
        produce_paced(s, articles, rate, watcher, f"{name}: feed at {rate:.1f}/s" if rate else f"{name}: feed")
        wait_until(lambda: watcher.done(len(articles) + 1), 1800, f"{name}: every article searchable")
    finally:
        watcher.halt.set()
        stop_run(proc)
    latencies = np.array([watcher.latency[a.article_id] for a in articles])
    first = min(watcher.entered[a.article_id] for a in articles)
    last = max(watcher.seen_at[a.article_id] for a in articles)
    return {
        "articles": len(articles),
        "rate_per_s": round(rate, 2) if rate else None,
        "articles_per_s": round(len(articles) / (last - first), 2),
        "p50_s": round(float(np.percentile(latencies, 50)), 3),
        "p95_s": round(float(np.percentile(latencies, 95)), 3),
        "p99_s": round(float(np.percentile(latencies, 99)), 3),
        "max_s": round(float(latencies.max()), 3),
        "stages_p50_s": stage_breakdown(s, [a.article_id for a in articles]),
    }


def stage_breakdown(settings: Settings, ids: list[str]) -> dict[str, float]:
    """Median time spent before each stage's stamp, from the unique articles' `pipeline.stages` timestamps."""
    es = client(settings)
    spans: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for start in range(0, len(ids), 1000):
        hits = es.search(
            index=settings.index_alias,
            query={"ids": {"values": ids[start : start + 1000]}},
            size=1000,
            source=["pipeline"],
        )["hits"]["hits"]
        for hit in hits:
            info = hit["_source"].get("pipeline") or {}
            stamps, raw = info.get("stages") or {}, info.get("raw")
            if raw is None or not all(stage in stamps for stage in STAGES):
                continue  # duplicates keep only their metadata
            previous = raw["timestamp"] / 1000
            for stage in STAGES:
                at = datetime.fromisoformat(stamps[stage].replace("Z", "+00:00")).timestamp()
                spans[stage].append(at - previous)
                previous = at
    return {stage: round(float(np.median(values)), 3) for stage, values in spans.items() if values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steady-s", type=float, default=60.0, help="how long the steady phase feeds")
    args = parser.parse_args()
    logs.configure("WARNING")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not CORPUS.exists():
        sys.exit(f"corpus not found at {CORPUS}")
    from tests.translate_server import LibreTranslateServer

    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-latency-"))
    server = LibreTranslateServer().start()
    base = corpus_bench_settings(workdir, server.url)
    stack = LocalStack(base, say=lambda m: console.print(f"[dim]{m}[/dim]"))
    results: dict[str, dict] = {}
    try:
        stack.up()
        corpus = corpus_articles()
        results["capacity"] = phase(base, workdir, "capacity", corpus, None)
        capacity = results["capacity"]["articles_per_s"]
        steady_n = min(len(corpus), max(20, int(args.steady_s * capacity / 2)))
        results["steady_half_capacity"] = phase(base, workdir, "steady", corpus[:steady_n], capacity / 2)
        results["backlog_twice_capacity"] = phase(base, workdir, "backlog", corpus, capacity * 2)
    finally:
        stack.down()
        server.stop()
        shutil.rmtree(stack.es_base(), ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    result = {
        "corpus": str(CORPUS),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {
            "run_workers": base.run_workers,
            "batch_size": base.batch_size,
            "poll_timeout_ms": base.poll_timeout_ms,
        },
        "what": "seconds from the raw message's append to the article being found by a search; "
        "`newsflow run --follow` with a process per worker",
        **results,
        "target": "p95 <= 3 s at half capacity",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = ROOT / "benchmarks" / "results" / "latency.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title="raw -> searchable")
    for column in ("phase", "rate /s", "through /s", "p50 s", "p95 s", "p99 s", "max s"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for name, r in results.items():
        table.add_row(
            name,
            str(r["rate_per_s"] or "all at once"),
            str(r["articles_per_s"]),
            f"{r['p50_s']:.2f}",
            f"{r['p95_s']:.2f}",
            f"{r['p99_s']:.2f}",
            f"{r['max_s']:.2f}",
        )
    console.print(table)
    console.print(f"written to {out}")


if __name__ == "__main__":
    main()

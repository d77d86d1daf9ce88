"""The whole chain raw -> Elasticsearch on 5,000 seed-built articles, against raw library ceilings in the same run.

Starts a private stack on free ports (downloads cached), measures, writes benchmarks/results/chain.json, stops it.
Ceilings: kafka-python produce (acks=all) + consume of the same messages, one hop; `helpers.bulk` of the
same documents. The chain makes five Kafka hops (raw, detected, translated, unique, enriched) and one bulk.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from elasticsearch import helpers
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import kafka_io, logs  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.contracts import Contracts  # noqa: E402
from pipeline.kafka_io import Outgoing  # noqa: E402
from pipeline.local import process_in_memory  # noqa: E402
from pipeline.localstack.stack import LocalStack, private_settings  # noqa: E402
from pipeline.records import Article  # noqa: E402
from pipeline.registry import build_stage, processing_names  # noqa: E402
from pipeline.registry import names as stage_names  # noqa: E402
from pipeline.runner import StageWorker, run_workers  # noqa: E402
from pipeline.sinks.elasticsearch import IndexAdmin, client, to_document  # noqa: E402
from pipeline.sources.files import build_article  # noqa: E402

N = 5000
console = Console()


def articles(n: int):
    texts = [p.read_text() for p in sorted((ROOT / "seeds").glob("*.txt"))]
    return [
        build_article(
            text=f"Update {i}.\n\n{texts[i % len(texts)]}", title=f"Report {i}", url=f"https://bench.example/{i}"
        )
        for i in range(n)
    ]


def scoped(base: Settings) -> Settings:
    tag = uuid.uuid4().hex[:8]
    s = base.model_copy(update={"topic_prefix": f"b{tag}.", "index_alias": f"bench-{tag}", "group_prefix": f"b{tag}"})
    kafka_io.ensure_topics(s)
    IndexAdmin(client(s), s).ensure()
    return s


def kafka_hop(settings: Settings, messages: list[Outgoing]) -> tuple[float, float]:
    """kafka-python alone: produce with acks=all and confirm, then consume everything with a group."""
    topic = settings.topic("raw")
    producer = kafka_io.producer(settings)
    t0 = time.perf_counter()
    kafka_io.send_confirmed(producer, [Outgoing(topic, m.key, m.value) for m in messages])
    produce_s = time.perf_counter() - t0
    producer.close()
    consumer = kafka_io.consumer(settings, f"{settings.group_prefix}.ceiling", [topic])
    seen = 0
    t0 = time.perf_counter()
    while seen < len(messages):
        for records in consumer.poll(timeout_ms=500, max_records=settings.batch_size).values():
            seen += len(records)
        consumer.commit()
    consume_s = time.perf_counter() - t0
    consumer.close()
    return produce_s, consume_s


def bulk_alone(settings: Settings, docs: list[dict]) -> float:
    """helpers.bulk alone: the same documents, the same bounds, into the same kind of index."""
    es = client(settings)
    actions = [{"_index": settings.index_alias, "_id": d["article_id"], "_source": d} for d in docs]
    t0 = time.perf_counter()
    helpers.bulk(es, actions, chunk_size=settings.bulk_max_docs, max_chunk_bytes=settings.bulk_max_bytes)
    took = time.perf_counter() - t0
    es.indices.refresh(index=settings.index_alias)
    assert es.count(index=settings.index_alias)["count"] == len(docs)
    return took


def runner_stage(name: str, settings: Settings):
    """The pass-through stage of that name, the real index sink: this benchmark measures the runner and the
    hops; each stage's own logic is measured against its library by its own benchmark."""
    from tests import placeholders

    passthrough = {
        "detect": placeholders.PassThroughDetect,
        "translate": placeholders.PassThroughTranslate,
        "dedup": placeholders.PassThroughDedup,
        "enrich": placeholders.PassThroughEnrich,
    }
    return passthrough[name]() if name in passthrough else build_stage(name, settings)


def chain(settings: Settings, messages: list[Outgoing], build=runner_stage) -> float:
    """Produce the raw articles, then every stage worker (built by `build`) in one process until drained."""
    stop = threading.Event()
    contracts = Contracts()
    workers = [StageWorker(build(n, settings), settings, contracts, stop=stop) for n in stage_names()]
    t0 = time.perf_counter()
    kafka_io.send_confirmed(kafka_io.producer(settings), messages)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        tasks = {w.stage.name: progress.add_task(f"{w.stage.name:<9}", total=len(messages)) for w in workers}
        assert run_workers(
            workers, stop, timeout_s=1800, on_progress=lambda w, n: progress.advance(tasks[w.stage.name], n)
        )
    took = time.perf_counter() - t0
    for w in workers:
        w.close()
    es = client(settings)
    es.indices.refresh(index=settings.index_alias)
    assert es.count(index=settings.index_alias)["count"] == len(messages)
    return took


def main() -> None:
    logs.configure("WARNING")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below: stop the stack
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    base = private_settings(workdir, log_level="WARNING")
    stack = LocalStack(base, say=lambda m: console.print(f"[dim]{m}[/dim]"))
    try:
        stack.up()
        items = articles(N)
        messages = [Outgoing("", a.article_id, a.to_wire()) for a in items]
        enriched = process_in_memory(items, base, processing_names(), build=runner_stage).outputs
        docs = [to_document(Article.model_validate(w)) for _, w in enriched]

        produce_s, consume_s = kafka_hop(scoped(base), messages)
        bulk_s = bulk_alone(scoped(base), docs)
        s = scoped(base)
        chain_s = chain(s, [Outgoing(s.topic("raw"), m.key, m.value) for m in messages])
    finally:
        stack.down()
        shutil.rmtree(stack.es_base(), ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    hop_s = produce_s + consume_s
    floor_s = 5 * hop_s + bulk_s
    result = {
        "articles": N,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "stages": "pass-through placeholders for detect/translate/dedup/enrich (the runner's cost); real index",
        "kafka_produce_s": round(produce_s, 3),
        "kafka_consume_s": round(consume_s, 3),
        "kafka_hop_s": round(hop_s, 3),
        "bulk_s": round(bulk_s, 3),
        "ceiling_floor_s": round(floor_s, 3),
        "chain_s": round(chain_s, 3),
        "chain_articles_per_s": round(N / chain_s, 1),
        "hop_articles_per_s": round(N / hop_s, 1),
        "bulk_docs_per_s": round(N / bulk_s, 1),
        "chain_vs_ceiling": round(floor_s / chain_s, 3),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = ROOT / "benchmarks" / "results" / "chain.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"chain raw -> Elasticsearch, {N} articles")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("articles/s", justify="right")
    for name, secs in [
        ("kafka-python produce+consume, one hop", hop_s),
        ("helpers.bulk alone", bulk_s),
        ("floor: 5 hops + bulk", floor_s),
        ("newsflow chain (5 stages + index)", chain_s),
    ]:
        table.add_row(name, f"{secs:.2f}", f"{N / secs:.0f}")
    console.print(table)
    console.print(f"chain reaches {result['chain_vs_ceiling']:.2f} of the raw-library floor; written to {out}")


if __name__ == "__main__":
    main()

"""Dedup state (issue 14): bytes per article with 100k articles in the window, and how long a restarted dedup
worker takes to be ready with 1M articles in the window.

Each part runs in its own process, so that its memory and its start-up are its own:
- `size`: 100k synthetic articles (300-900 words drawn from a 43k-word vocabulary with Zipf frequencies: the seed
  articles' words first, then made-up words; a title line; a fifth of the sentences quoted) are fingerprinted and
  stored through `DedupStore.add`, as the stage stores an article it decided. The store's memory is measured as the
  tracemalloc and RSS growth over the fill and as its arrays' bytes, and the state records as their JSON bytes
  (the compact record, and the full form it replaces). The members are kept as the restart part's material.
- `restart`: a private Kafka (the local stack's, Kafka only) and a state topic; a 1M-member snapshot written by the
  stage's own snapshot writer (the 100k real-text members tiled 10x with fresh ids, content hashes and MinHash
  values, so every array has its real size) covering a 20k-record prefix of the topic; then a tail of 100k state
  records produced after it (NEWSFLOW_DEDUP_SNAPSHOT_EVERY_RECORDS: the most a restart replays; 90k new members,
  10k evictions). A fresh `python` process then builds the dedup stage and a `StageWorker`, whose
  `_restore_state` loads the snapshot and replays the tail through `StateTail`: the time from the process' start
  to a ready worker. Twice; the same worker with no snapshot (the fallback: the whole topic replayed) gives the
  per-record replay cost, extrapolated to a 1M-record topic.
Writes benchmarks/results/dedup_state.json. About 10 minutes on 2 shared cores; `--quick` runs 10k / 100k.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.config import Settings  # noqa: E402
from pipeline.dedup.fingerprint import contains, distinct  # noqa: E402
from pipeline.dedup.members import Signature  # noqa: E402
from pipeline.dedup.snapshot import read_snapshot, write_snapshot  # noqa: E402
from pipeline.logs import configure  # noqa: E402
from pipeline.stages.deduplicate import build_dedup_stage  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "dedup_state.json"
WINDOW = 100_000
RESTART_MEMBERS = 1_000_000
TAIL = 100_000  # the default NEWSFLOW_DEDUP_SNAPSHOT_EVERY_RECORDS
PREFIX = 20_000
START = 1_735_689_600.0  # 2025-01-01T00:00:00Z
console = Console(stderr=True)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- synthetic articles ------------------------------------------------------------------------------------


class Texts:
    """Articles of 300-900 words: seed words by their frequency in the seeds, then ~42k made-up words (Zipf)."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = np.random.default_rng(seed)
        counts: dict[str, int] = {}
        for path in sorted((ROOT / "seeds").glob("*.txt")):
            for word in re.findall(r"[A-Za-z']+", path.read_text(encoding="utf-8").lower()):
                counts[word] = counts.get(word, 0) + 1
        known = sorted(counts, key=lambda w: (-counts[w], w))
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        syllables = ["".join(self.rng.choice(letters, int(self.rng.integers(2, 4)))) for _ in range(3_000)]
        made = {"".join(self.rng.choice(syllables, int(self.rng.integers(1, 4)))) for _ in range(60_000)}
        self.vocabulary = np.array(known + sorted(made - set(known)))
        weights = 1.0 / np.arange(1, self.vocabulary.size + 1) ** 1.05
        self.cumulative = np.cumsum(weights / weights.sum())

    def one(self) -> str:
        """One article: a title line, then paragraphs of 2-4 sentences of 8-30 words, a fifth of them quoted."""
        rng = self.rng
        count = int(rng.integers(300, 901))
        words = self.vocabulary[np.searchsorted(self.cumulative, rng.random(count))].tolist()
        title, at, paragraphs = " ".join(words[:8]).capitalize(), 8, []
        while at < count:
            sentences = []
            for _ in range(int(rng.integers(2, 5))):
                length = int(rng.integers(8, 31))
                sentence = " ".join(words[at : at + length])
                at += length
                if not sentence:
                    break
                sentences.append(
                    f"“{sentence.capitalize()},” he said." if rng.random() < 0.2 else sentence.capitalize() + "."
                )
            paragraphs.append(" ".join(sentences))
        return title + "\n\n" + "\n\n".join(paragraphs)


def full_record_bytes(record: dict, shingles: np.ndarray, quoted: np.ndarray, lead: np.ndarray, minhash) -> int:
    """Bytes of the record as written before issue 14: the whole shingle set in parts, the MinHash as numbers."""
    import base64

    def pack(values: np.ndarray) -> str:
        return base64.b64encode(values.astype("<u4").tobytes()).decode("ascii")

    rest = shingles[~contains(distinct(np.concatenate([quoted, lead])), shingles)]
    old = {k: v for k, v in record.items() if k not in ("sketch", "samples", "lead_quoted")}
    old.update(minhash=minhash.tolist(), shingles=pack(rest), lead=pack(lead))
    if quoted.size:
        old["quoted_shingles"] = pack(quoted)
    return len(orjson.dumps(old))


# -- part 1: size ------------------------------------------------------------------------------------------


def part_size(count: int, workdir: Path) -> dict:
    """Store `count` synthetic articles; memory and record bytes; the members saved for `restart`.

    The texts are fingerprinted first (untraced: tracemalloc would slow the fingerprinting tenfold and count its
    garbage), each as the compact member `DedupStore.add` keeps; then an empty store is filled with them twice, once
    for the RSS growth and once under tracemalloc."""
    fp = build_dedup_stage(Settings(dedup_snapshot=False)).fingerprinter
    texts = Texts()
    members, full_bytes, words, shingles_n = [], [], [], []
    began = time.perf_counter()
    with progress() as bar:
        task = bar.add_task(f"fingerprint {count:,} articles", total=count)
        for n in range(count):
            print_ = fp.of(texts.one())
            signature = Signature(
                article_id=f"{n:016x}",
                content_hash=print_.content_hash,
                cluster_id=f"{n:016x}",
                is_duplicate=False,
                duplicate_of=None,
                similarity=None,
                method=None,
                matched_id=None,
                published=START + n * 25.92,  # 100k over 30 days
                ingested=START + n * 25.92,
                revision=0,
                word_count=print_.word_count,
                shingles=print_.shingles,
                minhash=print_.minhash,
                shingling=fp.shingling,
                minhash_scheme=fp.minhash_scheme,
                quoted=print_.quoted,
                lead=print_.lead,
                lead_size=print_.lead_size,
            )
            members.append(signature.compact())
            words.append(print_.word_count)
            shingles_n.append(print_.shingles.size)
            if n % 20 == 0:
                full_bytes.append(
                    full_record_bytes(
                        members[-1].to_state_record(), print_.shingles, print_.quoted, print_.lead, print_.minhash
                    )
                )
            if n % 500 == 499:
                bar.advance(task, 500)
    fingerprint_s = time.perf_counter() - began

    def fill(what: str):
        store = build_dedup_stage(Settings(dedup_snapshot=False)).store
        with progress() as bar:
            task = bar.add_task(what, total=count)
            for n, member in enumerate(members):
                store.add(member)
                if n % 1_000 == 999:
                    bar.advance(task, 1_000)
        return store

    gc.collect()
    rss_base = rss_bytes()
    began = time.perf_counter()
    store = fill(f"store {count:,} (RSS)")
    add_s = time.perf_counter() - began
    gc.collect()
    rss = rss_bytes() - rss_base
    arrays_bytes = store.nbytes()
    postings = {name: p.nbytes() for name, p in store._postings().items()}
    columns = {name: a.nbytes for name, a in store._col.items()}
    heap = store._heap.nbytes
    records = [len(orjson.dumps(r)) for r in store.records()]
    write_snapshot(store, workdir / "members.npz", {"topic": "size", "kafka": "", "offsets": {}})
    store.compact()
    compacted = store.nbytes()
    del store
    gc.collect()
    tracemalloc.start()
    traced_base = tracemalloc.get_traced_memory()[0]
    store = fill(f"store {count:,} (tracemalloc)")
    gc.collect()
    traced, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(store) == count  # measured while it was alive
    record_bytes = np.array(records)
    per = 1 / count
    return {
        "articles": count,
        "words_mean": round(float(np.mean(words)), 1),
        "words_min_max": [int(np.min(words)), int(np.max(words))],
        "shingles_mean": round(float(np.mean(shingles_n)), 1),
        "fingerprint_us_per_article": round(fingerprint_s * per * 1e6, 1),
        "store_add_us_per_article": round(add_s * per * 1e6, 1),
        "memory_bytes_per_article": {
            "tracemalloc": round((traced - traced_base) * per),
            "tracemalloc_peak": round((traced_peak - traced_base) * per),
            "rss": round(rss * per),
            "arrays_with_capacity": round(arrays_bytes * per),
            "arrays_compacted": round(compacted * per),
        },
        "arrays_bytes_per_article_by_part": {
            "minhash": round(columns["minhash"] * per),
            "other_columns": round((sum(columns.values()) - columns["minhash"]) * per),
            "heap (sketch, lead, samples)": round(heap * per),
            **{f"postings_{name}": round(size * per) for name, size in postings.items()},
        },
        "state_record_bytes": {
            "mean": round(float(record_bytes.mean())),
            "p95": round(float(np.percentile(record_bytes, 95))),
            "max": int(record_bytes.max()),
            "full_form_mean_before": round(float(np.mean(full_bytes))),
        },
    }


# -- decisions --------------------------------------------------------------------------------------------


def part_decisions() -> dict | None:
    """The labelled pairs of benchmarks/eval_deduplicate.py decided with the compact store, against the figures of
    the last evaluation (results/deduplicate_eval.json, made with the whole shingle sets before issue 14)."""
    from benchmarks import eval_deduplicate as evaluation

    loaded = evaluation.load_corpus()
    if loaded is None or not evaluation.OUT.exists():
        return None
    ordered, corpus_pairs = loaded
    hard = [json.loads(line) for line in evaluation.GOLDEN.read_text(encoding="utf-8").splitlines()]
    rows = evaluation.labelled_rows({d["id"]: d for d in ordered}, corpus_pairs, hard)
    with console.status(f"the {len(rows)} labelled pairs, pairwise and in one stream"):
        decisions = evaluation.pairwise(rows)
        stream = evaluation.stream(ordered, rows)
    before = json.loads(evaluation.OUT.read_text(encoding="utf-8"))

    def brief(summary: dict) -> dict:
        return {
            k: {m: v[m] for m in ("precision", "recall", "false_merges", "missed")}
            for k, v in summary.items()
            if isinstance(v, dict) and "precision" in v
        }

    def decided(rows_: list[dict]) -> list[tuple]:
        return [(d["a"], d["b"], d["merged"], d["method"], d["similarity"]) for d in rows_]

    return {
        "pairs": len(rows),
        "every_pairwise_decision_and_similarity_unchanged": decided(decisions) == decided(before["decisions"]),
        "pairwise": {"before": brief(before["pairwise"]), "after": brief(evaluation.summary(decisions))},
        "stream": {"before": brief(before["stream"]), "after": brief(stream)},
    }


# -- part 2: restart ---------------------------------------------------------------------------------------


def tiled(arrays: dict[str, np.ndarray], copies: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The store's arrays `copies` times over, with fresh ids, content hashes and MinHash values (postings left out:
    the store rebuilds them from the columns)."""
    n = arrays["col.ids"].shape[0]
    total = n * copies
    out = {name: np.tile(a, (copies,) + (1,) * (a.ndim - 1)) for name, a in arrays.items() if name.startswith("col.")}
    ids = (np.arange(total, dtype=np.uint64) + np.uint64(1)) * np.uint64(
        0x9E3779B97F4A7C15
    )  # distinct (odd multiplier)
    out["col.ids"] = out["col.cluster"] = ids
    out["col.content"] = rng.integers(0, 2**63, (total, 4), dtype=np.uint64)
    out["col.minhash"] ^= np.repeat(
        rng.integers(0, 2**32, (copies, 1, arrays["col.minhash"].shape[1]), dtype=np.uint64).astype(np.uint32),
        n,
        axis=1,
    ).reshape(total, -1)
    shift = np.repeat(np.arange(copies, dtype=np.float64) * 0.1, n)
    out["col.ingested"] = out["col.ingested"] + shift
    out["col.published"] = out["col.published"] + shift
    heap = arrays["heap"]
    out["heap"] = np.tile(heap, copies)
    out["col.heap_start"] = out["col.heap_start"] + np.repeat(np.arange(copies, dtype=np.int64) * heap.size, n)
    out["clock"] = arrays["clock"]
    return out


def restart_worker() -> None:
    """(In a fresh process.) Build the dedup stage and a StageWorker from the environment's settings: the time to
    a ready worker, and what `_restore_state` logged."""
    from pipeline.contracts import Contracts
    from pipeline.registry import build_stage
    from pipeline.runner import StageWorker

    configure("INFO")
    settings = Settings()
    began = time.perf_counter()
    stage = build_stage("dedup", settings)
    built = time.perf_counter()
    worker = StageWorker(stage, settings, Contracts())
    ready = time.perf_counter()
    tail = worker._state
    result = {
        "ready_at": time.time(),
        "build_stage_s": round(built - began, 2),
        "worker_restore_s": round(ready - built, 2),
        "members": len(stage.store),
        "snapshot": tail.snapshot if tail else None,
        "fallback": tail.fallback if tail else None,
        "rss_bytes": rss_bytes(),
    }
    print(json.dumps(result), flush=True)
    os._exit(0)  # no close: a clean close would write a new snapshot (2.4 GB) the next run must not see


def run_child(args: list[str], env: dict[str, str]) -> tuple[dict, list[dict]]:
    """Run this script's restart-worker part; (its result, its log events)."""
    started = time.time()
    done = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["ready_after_process_start_s"] = round(result.pop("ready_at") - started, 2)
    events = []
    for line in done.stderr.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return result, events


def part_restart(copies: int, tail_records: int, workdir: Path) -> dict:
    """A 1M snapshot and a 100k tail on a real Kafka; a fresh worker restored from them, and without the snapshot."""
    from pipeline import kafka_io
    from pipeline.kafka_io import Outgoing
    from pipeline.localstack.stack import LocalStack, private_settings

    base = private_settings(workdir / "stack", log_level="WARNING", topic_prefix="bench.")
    settings = base.model_copy(update={"dedup_snapshot_dir": workdir / "snapshots"})
    stack = LocalStack(settings, say=lambda m: console.print(f"[dim]{m}[/dim]"))
    rng = np.random.default_rng(5)
    try:
        stack.up(("kafka",))
        kafka_io.ensure_topics(settings)
        topic = settings.topic("dedup-state")

        source = build_dedup_stage(Settings(dedup_snapshot=False)).store
        read_snapshot(source, workdir / "members.npz", "size", "")
        members = [source._member(r) for r in range(0, len(source))]
        arrays = source.arrays()

        # The prefix (covered by the snapshot) and the tail: compact records of fresh ids, and evictions.
        def record(member, number: int) -> tuple[str, dict]:
            key = f"{number:016x}"
            return key, {**member.to_state_record(), "article_id": key, "cluster_id": key}

        prefix = [record(members[i % len(members)], 2**62 + i) for i in range(PREFIX)]
        evicted = int(tail_records * 0.1)
        tail = [record(members[i % len(members)], 2**62 + PREFIX + i) for i in range(tail_records - evicted)]
        tail += [
            (f"{int(i):016x}", None)
            for i in (np.arange(evicted, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        ]
        del members
        with progress() as bar:
            task = bar.add_task("produce prefix", total=len(prefix))
            kafka_io.produce_confirmed(
                settings, [Outgoing(topic, k, v) for k, v in prefix], on_progress=lambda n: bar.advance(task, n)
            )
        offsets = _end_offsets(settings, topic)

        began = time.perf_counter()
        writer = build_dedup_stage(settings)
        writer.store.load_arrays(tiled(arrays, copies, rng), postings=())
        del arrays, source
        built_s = time.perf_counter() - began
        assert writer.checkpoint is not None
        began = time.perf_counter()
        writer.checkpoint.save_snapshot(topic, offsets)
        write_s = time.perf_counter() - began
        snapshot_path = writer.checkpoint.path(topic)
        window = len(writer.store)
        del writer
        gc.collect()

        with progress() as bar:
            task = bar.add_task(f"produce tail {len(tail):,}", total=len(tail))
            kafka_io.produce_confirmed(
                settings, [Outgoing(topic, k, v) for k, v in tail], on_progress=lambda n: bar.advance(task, n)
            )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")},
            **settings.model_copy(update={"log_level": "INFO"}).environment(),
        }
        runs, events = [], []
        for _ in range(2):
            with console.status(f"restart with a snapshot of {window:,} + a tail of {len(tail):,}"):
                result, logged = run_child(["--part", "restart-worker"], env)
            runs.append(result)
            events = logged
        restored = [e for e in events if e.get("event") == "state restored"]
        empty = workdir / "empty"
        with console.status(f"restart without a snapshot: the whole topic ({PREFIX + len(tail):,} records)"):
            fallback, fallback_events = run_child(
                ["--part", "restart-worker"], {**env, "NEWSFLOW_DEDUP_SNAPSHOT_DIR": str(empty)}
            )
        replayed = [e for e in fallback_events if e.get("event") == "state restored"][0]
        per_record = replayed["seconds"] / replayed["records"]
        return {
            "window_members": window,
            "tail_records": len(tail),
            "tail_evictions": evicted,
            "snapshot": {
                "bytes": snapshot_path.stat().st_size,
                "bytes_per_member": round(snapshot_path.stat().st_size / window),
                "write_s": round(write_s, 2),
                "covers_offsets": offsets,
            },
            "store_built_for_the_benchmark_s": round(built_s, 1),
            "restart_with_snapshot": runs,
            "restart_log": restored[0] if restored else None,
            "ready_s": min(r["ready_after_process_start_s"] for r in runs),
            "restart_without_snapshot": {
                **fallback,
                "replayed_records": replayed["records"],
                "replay_us_per_record": round(per_record * 1e6, 1),
                "extrapolated_full_replay_of_1m_records_s": round(per_record * RESTART_MEMBERS, 1),
            },
        }
    finally:
        stack.down()
        shutil.rmtree(workdir / "stack", ignore_errors=True)


def _end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    from pipeline import kafka_io
    from pipeline.kafka_io import TopicPartition

    client = kafka_io.consumer(settings, None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(client.partitions_for_topic(topic))]
        return {tp.partition: offset for tp, offset in client.end_offsets(partitions).items()}
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["restart-worker"])
    parser.add_argument("--quick", action="store_true", help="10k articles, a 100k window at restart (not written)")
    args = parser.parse_args()
    if args.part == "restart-worker":
        restart_worker()
        return
    configure("WARNING")  # the parent's own log lines (snapshot written) stay off stdout
    window, copies = (10_000, 10) if args.quick else (WINDOW, RESTART_MEMBERS // WINDOW)
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-dedup-state-"))
    began = time.perf_counter()
    try:
        decisions = part_decisions()
        size = part_size(window, workdir)
        console.print(f"size: {json.dumps(size['memory_bytes_per_article'])}, records {size['state_record_bytes']}")
        restart = part_restart(copies, TAIL if not args.quick else 10_000, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "note": (
            "one run on a shared 2-core machine; the restart is timed in a fresh process, page cache warm (the "
            "snapshot was just written)"
        ),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "decisions_on_the_labelled_pairs": decisions,
        "size_100k": size,
        "restart_1m": restart,
        "done_when": {
            "memory_bytes_per_article_le_3072": size["memory_bytes_per_article"]["tracemalloc"] <= 3072
            and size["memory_bytes_per_article"]["rss"] <= 3072,
            "state_record_bytes_mean": size["state_record_bytes"]["mean"],
            "restart_ready_le_30_s": restart["ready_s"] <= 30,
        },
        "seconds": round(time.perf_counter() - began, 1),
    }
    if not args.quick:
        OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

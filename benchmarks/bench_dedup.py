"""Per-article cost of the dedup stage with 10k and 100k articles in its window, against datasketch alone.

Each side runs in its own process so that its memory can be read as an RSS difference:
- `stage`: DedupStage.process (normalise, hash, shingles, quotations and lead, MinHash, LSH + sample candidates,
  exact confirmation with the shared lead, state record) on 400 synthetic articles, after the store was filled
  with 10k, then 100k, signatures;
- `datasketch`: MinHash (sha1 per 5-word shingle, `update_batch`, shared permutations) + MinHashLSH query +
  insert, same LSH bands, on the same 400 texts after the same fill.
The fill is synthetic signatures (random shingle hashes, 3 % drawn from a pool of stock phrases; a fifth of them
marked quoted and 32 as the lead, as the corpus averages), the
measured articles are seed text with half its words replaced (plus 10 % typo'd copies of earlier ones).
Writes benchmarks/results/dedup_bench.json. About 2-3 minutes on 2 shared cores; `--quick` stops at 10k.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.dedup.layout import lsh_bands  # noqa: E402
from pipeline.dedup.members import Signature  # noqa: E402
from pipeline.records import Article  # noqa: E402
from tests.stage_settings import dedup_stage as build_dedup_stage  # noqa: E402 - settings by short name

OUT = ROOT / "benchmarks" / "results" / "dedup_bench.json"
SIZES = (10_000, 100_000)
MEASURED = 400
BATCH = 20
REPEATS = 3  # per size; the median is reported
START = 1_735_689_600.0  # 2025-01-01T00:00:00Z


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fill_shingles(seed: int = 7) -> Iterator[np.ndarray]:
    """Shingle-hash sets of synthetic articles, endless: ~500 shingles each, 3 % from a pool of stock phrases."""
    rng = np.random.default_rng(seed)
    stock = rng.integers(0, 1 << 32, 5_000, dtype=np.uint64).astype(np.uint32)
    while True:
        size = int(np.clip(rng.normal(500, 200), 50, 2_000))
        own = rng.integers(0, 1 << 32, size, dtype=np.uint64).astype(np.uint32)
        common = stock[rng.integers(0, stock.size, max(1, size // 33))]
        yield np.unique(np.concatenate([own, common]))


def measured_texts(count: int = MEASURED, seed: int = 11) -> list[str]:
    """Seed text with half its words replaced by other seed words; every tenth a typo'd copy of an earlier one."""
    rng = np.random.default_rng(seed)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    words = [re.findall(r"\S+", s) for s in seeds]
    vocabulary = np.array(sorted({w for ws in words for w in ws}))
    texts: list[str] = []
    for i in range(count):
        if i % 10 == 9:
            source = texts[int(rng.integers(0, len(texts)))].split(" ")
            for j in rng.integers(0, len(source), max(1, len(source) // 40)):
                source[j] = source[j][::-1]
            texts.append(" ".join(source))
            continue
        base = words[int(rng.integers(0, len(words)))]
        replaced = np.where(
            rng.random(len(base)) < 0.5, vocabulary[rng.integers(0, vocabulary.size, len(base))], np.array(base)
        )
        texts.append(" ".join(replaced.tolist()))
    return texts


def measured_articles(offset: int, at: float) -> list[Article]:
    """The measured texts as articles with fresh ids, ingested after the fill."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    return [Article(article_id=f"{offset + i:016x}", text=t, ingested_at=stamp) for i, t in enumerate(measured_texts())]


def run_stage(sizes: tuple[int, ...], settings: dict) -> dict:
    """Fill a dedup stage's store and time `process` at each size."""
    stage = build_dedup_stage(**settings)
    fp = stage.fingerprinter
    gc.collect()
    base = rss_bytes()
    fill = fill_shingles()  # drawn after the baseline, as the store fills: it keeps these sets
    fill_rng = np.random.default_rng(13)
    bands = lsh_bands(settings.get("lsh_threshold", 0.3), fp.num_perm)
    out: dict = {"settings": settings, "lsh_bands_rows": list(bands)}
    filled, fill_seconds = 0, 0.0
    for size in sizes:
        began = time.perf_counter()
        for i in range(filled, size):
            shingles = next(fill)
            # As the corpus averages: a fifth of the shingles only quoted, 32 starting the lead.
            quoted = shingles[fill_rng.random(shingles.size) < 0.2]
            lead = np.sort(fill_rng.choice(shingles, size=min(32, shingles.size), replace=False))
            stage.store.add(
                Signature(
                    article_id=f"{i:016x}",
                    content_hash=f"{i:064x}",
                    cluster_id=f"{i:016x}",
                    is_duplicate=False,
                    duplicate_of=None,
                    similarity=None,
                    method=None,
                    matched_id=None,
                    published=START + i,
                    ingested=START + i,
                    revision=0,
                    word_count=int(shingles.size) + 4,
                    shingles=shingles,
                    minhash=fp.signature(shingles),
                    shingling=fp.shingling,
                    minhash_scheme=fp.minhash_scheme,
                    quoted=quoted,
                    lead=lead,
                    lead_size=32,
                )
            )
        fill_seconds += time.perf_counter() - began
        filled = size
        gc.collect()
        memory = rss_bytes() - base
        articles = measured_articles(10**9 + size, START + size + 3_600)
        timings = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            results = []
            for j in range(0, len(articles), BATCH):
                results += stage.process(articles[j : j + BATCH])
                stage.state_updates()
            timings.append((time.perf_counter() - began) / len(articles))
            records = [stage.store.lookup(a.article_id) for a in articles[:50]]
            record_bytes = float(np.mean([len(orjson.dumps(s.to_state_record())) for s in records]))
            for article in articles:  # the next repeat and size see the same texts as new: forget them
                stage.store.remove(article.article_id)
        out[str(size)] = {
            "per_article_us": round(float(np.median(timings)) * 1e6, 1),
            "duplicates_found": sum(r.topic == "duplicates" for r in results),
            "rss_bytes": memory,
            "rss_bytes_per_article": round(memory / size),
            "fill_us_per_signature": round(fill_seconds / size * 1e6, 1),
            "state_record_bytes": round(record_bytes),
        }
    snapshot = [r for _, r in zip(range(10_000), stage.store.records(), strict=False)]
    began = time.perf_counter()
    build_dedup_stage(**settings).rebuild(snapshot)
    out["rebuild_us_per_record"] = round((time.perf_counter() - began) / len(snapshot) * 1e6, 1)
    return out


def run_datasketch(sizes: tuple[int, ...], settings: dict) -> dict:
    """The same fill and texts through datasketch alone: MinHash(update_batch) + MinHashLSH query/insert."""
    from datasketch import MinHash, MinHashLSH

    num_perm = settings.get("num_perm", 128)
    fingerprinter = build_dedup_stage(**settings).fingerprinter  # signs the fill exactly as the stage does
    permutations = MinHash(num_perm=num_perm, seed=1, scheme="affine32").permutations
    # Signed before the baseline is read: datasketch keeps band keys, not the sets or the signatures.
    fill = fill_shingles()
    values = np.stack([fingerprinter.signature(next(fill)) for _ in range(max(sizes))])
    texts = measured_texts()
    gc.collect()
    base = rss_bytes()
    lsh = MinHashLSH(num_perm=num_perm, params=lsh_bands(settings.get("lsh_threshold", 0.3), num_perm))
    out: dict = {}
    filled = 0
    for size in sizes:
        for i in range(filled, size):
            lsh.insert(
                f"{i:016x}",
                MinHash(num_perm=num_perm, hashvalues=values[i], permutations=permutations, scheme="affine32"),
                check_duplication=False,
            )
        filled = size
        gc.collect()
        memory = rss_bytes() - base
        keys = [f"{10**9 + size + i:016x}" for i in range(len(texts))]
        timings = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            for key, text in zip(keys, texts, strict=True):
                tokens = text.lower().split()
                minhash = MinHash(num_perm=num_perm, permutations=permutations, scheme="affine32")
                minhash.update_batch([" ".join(tokens[i : i + 5]).encode() for i in range(max(1, len(tokens) - 4))])
                lsh.query(minhash)
                lsh.insert(key, minhash, check_duplication=False)
            timings.append((time.perf_counter() - began) / len(texts))
            for key in keys:
                lsh.remove(key)
        out[str(size)] = {
            "per_article_us": round(float(np.median(timings)) * 1e6, 1),
            "rss_bytes": memory,
            "rss_bytes_per_article": round(memory / size),
        }
    return out


def in_subprocess(part: str, sizes: tuple[int, ...], settings: dict) -> dict:
    """One side of the comparison in a fresh interpreter, so its RSS is its own."""
    command = [
        sys.executable,
        __file__,
        "--part",
        part,
        "--sizes",
        ",".join(map(str, sizes)),
        "--settings",
        json.dumps(settings),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["stage", "datasketch"])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--settings", default="{}", help="JSON keyword arguments for build_dedup_stage")
    parser.add_argument("--quick", action="store_true", help="10k only")
    args = parser.parse_args()
    sizes = (SIZES[0],) if args.quick else tuple(int(s) for s in args.sizes.split(","))
    settings = json.loads(args.settings)
    if args.part == "stage":
        print(json.dumps(run_stage(sizes, settings)))
        return
    if args.part == "datasketch":
        print(json.dumps(run_datasketch(sizes, settings)))
        return
    began = time.perf_counter()
    stage = in_subprocess("stage", sizes, settings)
    datasketch = in_subprocess("datasketch", sizes, settings)
    result = {
        "note": "median of 3 passes over 400 articles per size, on a shared 2-core machine: compare sides, not runs",
        "measured_articles": MEASURED,
        "batch": BATCH,
        "stage": stage,
        "datasketch_alone": datasketch,
        "ratio_stage_to_datasketch": {
            str(s): round(stage[str(s)]["per_article_us"] / datasketch[str(s)]["per_article_us"], 2) for s in sizes
        },
        "seconds": round(time.perf_counter() - began, 1),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if not args.quick and not json.loads(args.settings):
        OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

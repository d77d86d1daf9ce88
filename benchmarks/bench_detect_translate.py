"""The detect and translate stages against the raw libraries and a local provider, in one run.

detect: the stage as assembled (langdetect for the document, lingua for each paragraph) and with lingua
for both, against langdetect alone and lingua alone (document only) on the same documents, same run;
the ratios are what to compare (the machine is shared and noisy).
translate: 200 Italian articles through the stage against a local LibreTranslate-speaking server that
answers in 0 ms and in 200 ms, in batches of 100 like the runner; with enough requests in flight the
time is about requests x latency / concurrency, not requests x latency.

Documents: ../shared/corpus/articles.jsonl (read, never copied into the repo); when it is absent, the
test fixtures stand in and the output says so. Writes benchmarks/results/detect_translate.json.
About a minute on 2 shared cores; `--quick` uses fewer documents.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import Article, Language  # noqa: E402
from pipeline.sources.files import build_article  # noqa: E402
from pipeline.stages.detect import DEFAULT_LANGUAGES, DetectStage, build_detector  # noqa: E402
from tests.stage_settings import translate_stage as build_translate_stage  # noqa: E402 - settings by short name
from tests.translate_server import LibreTranslateServer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
FIXTURES = ROOT / "tests" / "fixtures" / "translate"
OUT = ROOT / "benchmarks" / "results" / "detect_translate.json"
BATCH = 100
REPEATS = 3


def load_documents(quick: bool) -> tuple[list[dict], str]:
    """Labelled documents (`title`, `text`, `lang`) and where they came from."""
    if CORPUS.exists():
        docs = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
        return (docs[:150] if quick else docs), f"corpus {CORPUS.name} ({len(docs)} articles)"
    print(f"NOTE: {CORPUS} is absent: measuring on the test fixtures instead (small, not representative)")
    docs = [
        {"title": None, "text": p.read_text(), "lang": "it" if "italian" in p.name else "en"}
        for p in sorted(FIXTURES.glob("*.txt"))
    ]
    return docs * 20, "test fixtures (corpus absent)"


def timed(fn: Callable[[], object]) -> float:
    """Median wall seconds of `REPEATS` runs."""
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def bench_detect(docs: list[dict]) -> dict:
    """docs/s of the stage configurations and of the libraries alone, on the same documents."""
    from langdetect import DetectorFactory, detect_langs
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    DetectorFactory.seed = 0  # deterministic, as in the stage
    wholes = ["\n".join(filter(None, [d.get("title"), d["text"]])) for d in docs]
    articles = [
        build_article(text=d["text"], title=d.get("title"), url=f"https://bench.example/{i}")
        for i, d in enumerate(docs)
    ]
    lingua = LanguageDetectorBuilder.from_iso_codes_639_1(
        *[getattr(IsoCode639_1, c.upper()) for c in DEFAULT_LANGUAGES]
    ).build()
    assembled = DetectStage(build_detector("langdetect"), paragraph_detector=build_detector("lingua"))
    all_lingua = DetectStage(build_detector("lingua"), paragraph_detector=build_detector("lingua"))
    assembled.process(articles[:5])  # load lingua's models outside the timing
    all_lingua.process(articles[:5])

    def stage_run(stage: DetectStage) -> Callable[[], object]:
        return lambda: [stage.process(articles[i : i + BATCH]) for i in range(0, len(articles), BATCH)]

    seconds = {
        "langdetect alone (document)": timed(lambda: [detect_langs(w) for w in wholes]),
        "lingua alone (document)": timed(lambda: [lingua.compute_language_confidence_values(w) for w in wholes]),
        "lingua alone, parallel API (document)": timed(
            lambda: lingua.compute_language_confidence_values_in_parallel(wholes)
        ),
        "stage: langdetect + lingua paragraphs (assembled)": timed(stage_run(assembled)),
        "stage: lingua + lingua paragraphs": timed(stage_run(all_lingua)),
    }
    base = seconds["langdetect alone (document)"]
    paragraphs = sum(len([p for p in d["text"].split("\n") if p.strip()]) for d in docs)
    return {
        "documents": len(docs),
        "paragraphs": paragraphs,
        "rows": {
            name: {
                "seconds": round(s, 3),
                "docs_per_s": round(len(docs) / s, 1),
                "vs_langdetect_alone": round(base / s, 2),
            }
            for name, s in seconds.items()
        },
    }


def italian_articles(docs: list[dict], count: int, max_chars: int) -> list[Article]:
    """`count` distinct Italian articles of at most `max_chars` (one request each), cut from the documents."""
    paragraphs = [p.strip() for d in docs if d["lang"] == "it" for p in d["text"].split("\n") if len(p.strip()) > 80]
    if not paragraphs:
        paragraphs = [p for p in (FIXTURES / "italian_long.txt").read_text().split("\n") if p.strip()]
    articles: list[Article] = []
    i = 0
    while len(articles) < count:
        body: list[str] = []
        while len("\n\n".join(body + [paragraphs[i % len(paragraphs)]])) <= max_chars:
            body.append(paragraphs[i % len(paragraphs)])
            i += 1
        body = body or [paragraphs[i % len(paragraphs)][:max_chars]]
        if i >= len(paragraphs):  # reused paragraphs: numbered so no two requests are the same text
            body[0] = f"{len(articles)}. {body[0]}"[:max_chars]
        article = build_article(text="\n\n".join(body), title=None, url=f"https://bench.example/it/{len(articles)}")
        articles.append(article.model_copy(update={"language": Language(code="it", confidence=1.0, detector="bench")}))
        i += 1
    return articles


def bench_translate(docs: list[dict], concurrency: int) -> dict:
    """Wall time of 200 articles against the local server at 0 and 200 ms, and a cached re-run."""
    rows = {}
    articles = italian_articles(docs, 200, 1_800)
    for latency in (0.0, 0.2):
        server = LibreTranslateServer(latency_s=latency).start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                stage = build_translate_stage(
                    provider="libre",
                    base_url=server.url,
                    api_key="bench",
                    cache_path=Path(tmp) / "cache.sqlite3",
                    concurrency=concurrency,
                    requests_per_second=0,
                )
                t0 = time.perf_counter()
                results = [r for i in range(0, len(articles), BATCH) for r in stage.process(articles[i : i + BATCH])]
                took = time.perf_counter() - t0
                statuses = {r.article.translation.status for r in results}
                requests = len(server.received)
                t1 = time.perf_counter()
                for i in range(0, len(articles), BATCH):
                    stage.process(articles[i : i + BATCH])
                cached = time.perf_counter() - t1
        finally:
            server.stop()
        expected = requests * latency / concurrency
        rows[f"{int(latency * 1000)} ms"] = {
            "articles": len(articles),
            "requests": requests,
            "concurrency": concurrency,
            "statuses": sorted(statuses),
            "seconds": round(took, 2),
            "articles_per_s": round(len(articles) / took, 1),
            "expected_s": round(expected, 2),
            "serial_s": round(requests * latency, 2),
            "max_in_flight": server.max_in_flight,
            "cached_rerun_s": round(cached, 3),
            "cached_rerun_requests": len(server.received) - requests,
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="150 documents for detect")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    docs, origin = load_documents(args.quick)
    detect = bench_detect(docs)
    translate = bench_translate(docs, args.concurrency)
    results = {"documents": origin, "detect": detect, "translate": translate}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")

    print(
        f"\ndetect — {detect['documents']} documents, {detect['paragraphs']} paragraphs ({origin}); median of {REPEATS}"
    )
    print(f"{'configuration':52} {'docs/s':>8} {'x langdetect alone':>19}")
    for name, row in detect["rows"].items():
        print(f"{name:52} {row['docs_per_s']:>8} {row['vs_langdetect_alone']:>19}")
    print(f"\ntranslate — {args.concurrency} in flight, local LibreTranslate-speaking server")
    print(
        f"{'latency':8} {'articles':>8} {'requests':>8} {'seconds':>8} {'expected':>9} {'serial':>8} {'cached re-run':>14}"
    )
    for name, row in translate.items():
        print(
            f"{name:8} {row['articles']:>8} {row['requests']:>8} {row['seconds']:>8} {row['expected_s']:>9} "
            f"{row['serial_s']:>8} {row['cached_rerun_s']:>13}s"
        )
    print(f"\nwritten to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""The whole chain with its real stages on the 524 real corpus articles, against the raw libraries doing the
same work in the same run.

Starts a private stack on free ports and a LibreTranslate-protocol server on loopback answering at once (no
translation service is reachable here; its cost is not what is measured), runs detect -> translate -> dedup ->
enrich -> index as five workers in one process until drained, then times, on the same documents:
- kafka-python: produce (acks=all) + consume of the raw messages, one hop (the chain makes five);
- `helpers.bulk` of the indexed documents;
- langdetect (seeded) on every title + text, lingua on every paragraph of real length (what detect does);
- datasketch: MinHash of every English text's 5-word shingles, LSH query + insert (what dedup's index does);
- spaCy `nlp.pipe` (same model, NER only, same batch size) on the English texts of the unique articles.
floor = 5 hops + bulk + the four libraries; ratio = floor / chain. Writes benchmarks/results/chain_real.json.
The corpus is read in place (../shared/corpus/articles.jsonl), never copied into the repository.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_chain import bulk_alone, chain, kafka_hop, scoped  # noqa: E402
from pipeline import kafka_io, logs  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.kafka_io import Outgoing  # noqa: E402
from pipeline.localstack.stack import LocalStack, private_settings  # noqa: E402
from pipeline.registry import build_stage  # noqa: E402
from pipeline.sinks.elasticsearch import client  # noqa: E402
from pipeline.sources.files import build_article  # noqa: E402
from tests.translate_server import LibreTranslateServer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"
console = Console()
_WORDS = re.compile(r"\w+", re.UNICODE)


def corpus_articles() -> list:
    rows = [orjson.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        build_article(text=r["text"], title=r.get("title"), url=r.get("url") or f"https://corpus.example/{r['id']}")
        for r in rows
        if (r.get("text") or "").strip()
    ]


def detect_libraries(articles) -> float:
    """langdetect on every document, lingua on every paragraph of 40+ characters, as the stage asks them."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    codes = [getattr(IsoCode639_1, c.upper()) for c in Settings().detector_languages.split(",")]
    lingua = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
    t0 = time.perf_counter()
    for a in articles:
        d = factory.create()
        d.append(f"{a.title or ''}\n{a.text}")
        try:
            d.get_probabilities()
        except LangDetectException:
            pass
        for paragraph in re.split(r"\n\s*", a.text):
            if len(paragraph) >= 40:
                lingua.compute_language_confidence_values(paragraph)
    return time.perf_counter() - t0


def minhash_lsh(texts: list[str], num_perm: int = 128) -> float:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.3, num_perm=num_perm)
    t0 = time.perf_counter()
    for i, text in enumerate(texts):
        words = _WORDS.findall(text.lower())
        shingles = {" ".join(words[j : j + 5]).encode() for j in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=num_perm)
        m.update_batch(list(shingles))
        lsh.query(m)
        lsh.insert(str(i), m)
    return time.perf_counter() - t0


def spacy_alone(texts: list[str], settings: Settings) -> float:
    from pipeline.enrichment.model import load_model

    nlp = load_model(settings.enrich_model)
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=settings.enrich_batch_size):
        pass
    return time.perf_counter() - t0


def corpus_bench_settings(workdir: Path, translate_url: str, **overrides) -> Settings:
    """A private stack in `workdir`, translation by the loopback LibreTranslate-protocol server at `translate_url`
    with no rate limit: the settings every corpus benchmark runs the real stages with."""
    return private_settings(
        workdir,
        log_level="WARNING",
        translate_provider="libre",
        translate_base_url=translate_url,
        translate_api_key="bench",
        translate_cache_path=workdir / "translations.sqlite",
        translate_requests_per_second=0,
        **overrides,
    )


def main() -> None:
    logs.configure("WARNING")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not CORPUS.exists():
        sys.exit(f"corpus not found at {CORPUS}")
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-real-"))
    server = LibreTranslateServer().start()
    base = corpus_bench_settings(workdir, server.url)
    stack = LocalStack(base, say=lambda m: console.print(f"[dim]{m}[/dim]"))
    try:
        stack.up()
        items = corpus_articles()
        s = scoped(base)
        chain_s = chain(s, [Outgoing(s.topic("raw"), a.article_id, a.to_wire()) for a in items], build=build_stage)
        unique = [orjson.loads(r.value) for r in kafka_io.read_topic(s, s.topic("unique"))]
        duplicates = len(list(kafka_io.read_topic(s, s.topic("duplicates"))))
        es_client = client(s)
        es_client.indices.refresh(index=s.index_alias)
        docs = [
            h["_source"]
            for h in es_client.search(index=s.index_alias, size=10_000, query={"match_all": {}})["hits"]["hits"]
        ]
        english = [(u.get("title_en") or "") + "\n\n" + (u.get("text_en") or u["text"]) for u in unique]
        translated = [orjson.loads(r.value) for r in kafka_io.read_topic(s, s.topic("translated"))]
        dedup_texts = [t.get("text_en") or t["text"] for t in translated]

        produce_s, consume_s = kafka_hop(scoped(base), [Outgoing("", a.article_id, a.to_wire()) for a in items])
        bulk_s = bulk_alone(scoped(base), docs)
        detect_s = detect_libraries(items)
        dedup_s = minhash_lsh(dedup_texts, base.dedup_num_perm)
        spacy_s = spacy_alone(english, base)
    finally:
        stack.down()
        server.stop()
        shutil.rmtree(stack.es_base(), ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    hop_s = produce_s + consume_s
    parts = {
        "kafka: 5 hops": 5 * hop_s,
        "helpers.bulk": bulk_s,
        "langdetect + lingua (detect's work)": detect_s,
        "datasketch MinHash + LSH (dedup's index)": dedup_s,
        "spaCy nlp.pipe (enrich's NER)": spacy_s,
    }
    floor_s = sum(parts.values())
    n = len(items)
    result = {
        "articles": n,
        "corpus": str(CORPUS),
        "unique": len(unique),
        "duplicates": duplicates,
        "indexed": len(docs),
        "translation_requests": len(server.received),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "stages": "real: detect (langdetect + lingua paragraphs), translate (libre protocol, local server, 0 ms), "
        "dedup, enrich (spaCy NER), index",
        "floor_parts_s": {k: round(v, 3) for k, v in parts.items()},
        "floor_s": round(floor_s, 3),
        "chain_s": round(chain_s, 3),
        "chain_articles_per_s": round(n / chain_s, 2),
        "chain_vs_floor": round(floor_s / chain_s, 3),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = ROOT / "benchmarks" / "results" / "chain_real.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    table = Table(title=f"real chain raw -> Elasticsearch, {n} corpus articles")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    for name, secs in [*parts.items(), ("floor: the libraries and hops alone", floor_s), ("newsflow chain", chain_s)]:
        table.add_row(name, f"{secs:.2f}")
    console.print(table)
    console.print(f"the real chain reaches {result['chain_vs_floor']:.2f} of its libraries' floor; written to {out}")


if __name__ == "__main__":
    main()

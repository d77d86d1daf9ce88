"""Precision and recall of the dedup stage (pipeline/stages/deduplicate.py) per kind of labelled pair.

Reads ../shared/corpus/{articles,pairs}.jsonl in place (never copied into the repository: most licences are
unstated) and says so when they are absent. Two measurements at the default settings:
- pairwise: a fresh stage sees the pair's first article, then the second; merged = second is a duplicate;
- stream: one stage sees all 524 articles in corpus order; merged = both end in the same cluster (the other
  522 articles are distractors, as in production).
Plus sweeps of the similarity threshold, the LSH threshold and the MinHash seed (pairwise). Writes benchmarks/results/deduplicate_eval.json.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.records import Article  # noqa: E402
from pipeline.stages.deduplicate import build_dedup_stage  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "benchmarks" / "results" / "deduplicate_eval.json"
POSITIVE = ("duplicate", "near_duplicate")
INGESTED = "2025-01-01T00:00:00Z"


def corpus_article(doc: dict, position: int) -> Article:
    """A corpus document as an article; ids are synthetic (the corpus ids are not 16-hex article ids)."""
    return Article(article_id=f"{position:016x}", text=doc["text"], title=doc.get("title"), ingested_at=INGESTED)


def kind(pair: dict) -> str:
    """The pair's label, with hard negatives (same story, written independently) apart."""
    if pair["label"] == "different" and pair.get("same_story"):
        return "different_same_story"
    return pair["label"]


def scores(rows: list[tuple[str, bool]]) -> dict:
    """Precision, recall and per-kind counts from (kind, merged) rows."""
    counts = Counter(rows)
    kinds = sorted({k for k, _ in rows})
    tp = sum(n for (k, merged), n in counts.items() if merged and not k.startswith("different"))
    fp = sum(n for (k, merged), n in counts.items() if merged and k.startswith("different"))
    fn = sum(n for (k, merged), n in counts.items() if not merged and not k.startswith("different"))
    per_kind = {}
    for k in kinds:
        merged, apart = counts[(k, True)], counts[(k, False)]
        share = merged / (merged + apart) if k in POSITIVE else apart / (merged + apart)
        per_kind[k] = {"pairs": merged + apart, "merged": merged, "kept_apart": apart,
                       ("recall" if k in POSITIVE else "kept_apart_share"): round(share, 4)}
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None, "per_kind": per_kind}


def pairwise(docs: dict, pairs: list[dict], **settings) -> tuple[dict, list[dict]]:
    """Each pair alone in a fresh stage."""
    rows, decisions = [], []
    for pair in pairs:
        stage = build_dedup_stage(**settings)
        first, second = corpus_article(docs[pair["a_id"]], 1), corpus_article(docs[pair["b_id"]], 2)
        stage.process([first])
        dedup = stage.process([second])[0].article.dedup
        rows.append((kind(pair), dedup.is_duplicate))
        decisions.append({"a": pair["a_id"], "b": pair["b_id"], "kind": kind(pair), "merged": dedup.is_duplicate,
                          "method": dedup.method, "similarity": dedup.similarity})
    return scores(rows), decisions


def stream(ordered: list[dict], pairs: list[dict]) -> dict:
    """Every corpus article through one stage; a pair is merged when both share a cluster."""
    stage = build_dedup_stage()
    articles = [corpus_article(doc, i) for i, doc in enumerate(ordered)]
    results = stage.process(articles)
    cluster = {doc["id"]: r.article.dedup.cluster_id for doc, r in zip(ordered, results, strict=True)}
    rows = [(kind(p), cluster[p["a_id"]] == cluster[p["b_id"]]) for p in pairs]
    out = scores(rows)
    duplicates = sum(r.article.dedup.is_duplicate for r in results)
    out["articles"] = len(articles)
    out["decided_duplicate"] = duplicates
    return out


def main() -> None:
    if not (CORPUS / "pairs.jsonl").exists() or not (CORPUS / "articles.jsonl").exists():
        print(f"corpus not found at {CORPUS}: nothing evaluated (it is not part of the repository)")
        return
    ordered = [json.loads(line) for line in (CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = {d["id"]: d for d in ordered}
    pairs = [json.loads(line) for line in (CORPUS / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    defaults, decisions = pairwise(docs, pairs)
    sweep = {str(t): {k: v for k, v in pairwise(docs, pairs, threshold=t)[0].items() if k != "per_kind"}
             for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)}
    # The LSH threshold only decides who is a candidate: too high and embedded copies (Jaccard 0.1-0.2) are missed.
    lsh_sweep = {str(t): {k: v for k, v in pairwise(docs, pairs, lsh_threshold=t)[0].items() if k != "per_kind"}
                 for t in (0.1, 0.2, 0.3, 0.5)}
    # One MinHash seed can be lucky: recall over ten seeds, with and without the sampled-shingle candidates.
    seed_sweep = {}
    for label, extra in (("default", {}), ("without_shingle_samples", {"sample_one_in": 0})):
        recalls = [pairwise(docs, pairs, seed=seed, **extra)[0]["recall"] for seed in range(1, 11)]
        seed_sweep[label] = {"recall_mean": round(sum(recalls) / len(recalls), 4), "recall_min": min(recalls)}
    result = {
        "corpus": str(CORPUS),
        "settings": "build_dedup_stage defaults: threshold 0.5, lsh_threshold 0.3, 1-in-32 shingle samples, "
                    "128 perms, 5-word shingles",
        "pairs": len(pairs),
        "pairwise": defaults,
        "stream": stream(ordered, pairs),
        "threshold_sweep_pairwise": sweep,
        "lsh_threshold_sweep_pairwise": lsh_sweep,
        "permutation_seed_sweep_pairwise": seed_sweep,
        "decisions": decisions,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "decisions"}, indent=2))


if __name__ == "__main__":
    main()

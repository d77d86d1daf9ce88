"""Language detection accuracy on the shared labelled corpus (documents of 300+ characters), both detectors.

Reads ../shared/corpus/articles.jsonl (never copied into the repo); writes results/language_accuracy.json.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.stages.detect import DetectStage, build_detector  # noqa: E402


class _NoParagraphs:
    """Document-level accuracy only: skip per-paragraph work."""

    name = "none"

    def probabilities(self, text: str) -> dict[str, float]:
        return {}


CORPUS = ROOT.parent / "shared" / "corpus" / "articles.jsonl"


def main() -> None:
    if not CORPUS.exists():
        print(f"corpus not found at {CORPUS}: nothing to evaluate")
        return
    docs = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    docs = [d for d in docs if len(d["text"]) >= 300]
    results = {"documents": len(docs), "labels": dict(Counter(d["lang"] for d in docs)), "detectors": {}}
    for name in ("langdetect", "lingua"):
        stage = DetectStage(build_detector(name), paragraph_detector=_NoParagraphs())
        confusion: Counter[tuple[str, str]] = Counter()
        t0 = time.perf_counter()
        wrong = []
        for d in docs:
            got = stage.detect(d.get("title"), d["text"]).code
            confusion[(d["lang"], got)] += 1
            if got != d["lang"]:
                wrong.append({"id": d["id"], "label": d["lang"], "got": got})
        took = time.perf_counter() - t0
        right = sum(n for (label, got), n in confusion.items() if label == got)
        results["detectors"][name] = {
            "accuracy": round(right / len(docs), 4),
            "docs_per_s": round(len(docs) / took, 1),
            "confusion": {
                label: {got: n for (lab, got), n in sorted(confusion.items()) if lab == label}
                for label in sorted({lab for lab, _ in confusion})
            },
            "errors": {f"{label}->{got}": n for (label, got), n in sorted(confusion.items()) if label != got},
            "wrong": wrong,
        }
        print(
            f"{name}: {right}/{len(docs)} right ({right / len(docs):.2%}), {len(docs) / took:.0f} docs/s; "
            f"errors: {results['detectors'][name]['errors'] or 'none'}"
        )
    out = ROOT / "benchmarks" / "results" / "language_accuracy.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()

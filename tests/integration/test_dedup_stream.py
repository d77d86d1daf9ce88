"""dedup through real Kafka: clusters on the right topics, and the same clusters after a SIGKILL mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.sources.files import build_article
from tests.conftest import wait_for
from tests.integration.conftest import drain, produce_raw, read_json, settings_env
from tests.integration.test_resilience import _topic_size

pytestmark = pytest.mark.integration


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def _typos(text: str) -> str:
    return text.replace("Zelenskyy", "Zelenksyy").replace("Russia", "Rusia", 2).replace("the ", "teh ", 3)


def _copies(text: str) -> list[str]:
    paras = _paragraphs(text)
    return [
        text,
        "Exclusive: another headline\nShare on Facebook\n" + text + "\nRelated Articles",
        _typos(text),
        "\n".join(paras[:-1]),
        "\n".join(paras[1:] + paras[:1]),
        text.upper(),
    ]


def test_clusters_survive_a_sigkill_of_the_dedup_worker(settings, seeds_dir: Path) -> None:
    stories = {}
    articles = []
    # 150 articles, one per batch: enough work left that the kill lands mid-stream however fast the worker is.
    for seed in sorted(seeds_dir.glob("*.txt")):
        for outlet in range(5):
            for n, text in enumerate(_copies(seed.read_text())):
                article = build_article(
                    text=text,
                    title=None,
                    url=f"https://outlet{outlet}-{n}.example/{seed.stem}",
                    published=f"2022-12-19T{10 + n:02d}:{outlet:02d}:00Z",
                )
                stories[article.article_id] = seed.stem
                articles.append(article)
    produce_raw(settings, articles)
    drain(settings, ["detect", "translate"])

    env = settings_env(settings.model_copy(update={"batch_size": 1}))
    worker = [sys.executable, "-m", "pipeline.cli", "worker", "dedup"]
    proc = subprocess.Popen(
        worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:

        def decided() -> int:
            return _topic_size(settings, settings.topic("unique")) + _topic_size(settings, settings.topic("duplicates"))

        wait_for(lambda: decided() >= 3, 90, "the dedup worker to decide some articles")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert decided() < len(articles), "the worker finished before it was killed: nothing was tested"

    restart = subprocess.run(worker + ["--until-drained"], env=env, capture_output=True, text=True, timeout=240)
    assert restart.returncode == 0, restart.stderr[-2000:]

    final = {}
    for key in ("unique", "duplicates"):
        for record in read_json(settings, key):
            final[record["article_id"]] = record  # the last decision per article wins
    assert final.keys() == stories.keys()
    clusters: dict[str, set[str]] = {}
    for article_id, record in final.items():
        clusters.setdefault(record["dedup"]["cluster_id"], set()).add(article_id)
    expected = {}
    for article_id, story in stories.items():
        expected.setdefault(story, set()).add(article_id)
    assert sorted(map(sorted, clusters.values())) == sorted(map(sorted, expected.values()))
    for members in clusters.values():
        uniques = [a for a in members if not final[a]["dedup"]["is_duplicate"]]
        assert len(uniques) == 1  # one hit per story
        assert all(final[a]["dedup"]["duplicate_of"] == uniques[0] for a in members - set(uniques))
    assert sum(1 for r in read_json(settings, "unique") if r["article_id"] in final) >= 5
    assert len(read_json(settings, "dedup-state")) >= len(articles)

"""Adding a stage is one registry entry: the CLI runs it as a worker and `status` reports it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pipeline import registry
from pipeline.operations.status import pipeline_status
from pipeline.records import Article
from pipeline.sinks.elasticsearch import client
from pipeline.sources.files import read_paths
from pipeline.stages.base import Done, Result
from tests.integration.conftest import drain, produce_raw, settings_env

pytestmark = pytest.mark.integration


class Tally:
    """A trivial extra stage: it reads the enriched articles and counts them."""

    name = "tally"
    sources = ("enriched",)
    seen = 0

    def process(self, batch: Sequence[Article]) -> list[Result]:
        Tally.seen += len(batch)
        return [Done() for _ in batch]


@pytest.fixture
def tally():
    spec = registry.register(
        registry.StageSpec(
            "tally", ("enriched",), (), lambda settings: Tally(), "counts enriched articles", processing=False
        )
    )
    try:
        yield spec
    finally:
        registry.unregister("tally")


def test_a_registered_stage_is_run_by_the_cli_and_shown_by_status(tally, settings, seeds_dir, monkeypatch) -> None:
    from pipeline.cli import main

    produce_raw(settings, read_paths([seeds_dir]))
    drain(settings, ["detect", "translate", "dedup", "enrich"])
    before = pipeline_status(settings, client(settings))
    assert {row.stage: row.lag for row in before.stages}["tally"] == 5

    for key, value in settings_env(settings).items():
        if key.startswith("NEWSFLOW_"):
            monkeypatch.setenv(key, value)
    assert main(["worker", "tally", "--until-drained"]) == 0
    assert Tally.seen == 5
    after = pipeline_status(settings, client(settings))
    assert {row.stage: row.lag for row in after.stages}["tally"] == 0
    assert [row.stage for row in after.stages][-1] == "tally"

"""The plan of `newsflow run`: worker processes per stage from NEWSFLOW_RUN_WORKERS and --workers."""

from __future__ import annotations

import os

import pytest

from pipeline.cli import main
from pipeline.supervisor import WorkersSpecError, parse_workers

STAGES = ("detect", "translate", "dedup", "enrich", "index")


def test_stages_not_named_run_one_process() -> None:
    assert parse_workers("", STAGES, 3) == dict.fromkeys(STAGES, 1)


def test_counts_and_the_last_word_wins() -> None:
    plan = parse_workers("enrich=2, detect=3,enrich=3", STAGES, 3)
    assert plan == {"detect": 3, "translate": 1, "dedup": 1, "enrich": 3, "index": 1}


def test_auto_is_one_per_core_at_most_one_per_partition() -> None:
    assert parse_workers("enrich=auto", STAGES, 64)["enrich"] == os.cpu_count()
    assert parse_workers("enrich=auto", STAGES, 1)["enrich"] == 1


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("enrichh=2", "enrichh=2"),
        ("enrich", "expected <stage>=<count>"),
        ("enrich=0", "whole number"),
        ("enrich=x", "x"),
    ],
)
def test_a_bad_plan_is_refused_by_name(spec: str, says: str) -> None:
    with pytest.raises(WorkersSpecError, match=says):
        parse_workers(spec, STAGES, 3)


def test_the_command_refuses_a_bad_plan_before_touching_kafka(capsys) -> None:
    # Nothing listens on this address: the command must fail on the plan, not on the connection.
    code = main(["run", "--workers", "enrichh=2"])
    assert code == 2
    err = capsys.readouterr().err
    assert "enrichh=2" in err and "detect, translate, dedup, enrich, index" in err


def test_what_a_worker_has_loaded_leaves_the_collectors_scans() -> None:
    import gc

    from pipeline.registry import freeze_loaded

    tables = [{"alias": [i]} for i in range(1000)]  # long-lived containers, as a stage's tables are
    try:
        freeze_loaded()
        assert gc.get_freeze_count() >= len(tables)
        assert all(not gc.is_finalized(t) for t in tables[:1])
    finally:
        gc.unfreeze()

"""`newsflow process` runs the stage functions on files with no services."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cli import main


def test_process_seeds_writes_one_record_per_article(seeds_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["process", str(seeds_dir), "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 5
    assert {r["topic"] for r in records} <= {"enriched", "duplicates"}
    assert all(set(r["pipeline"]["stages"]) >= {"detect", "translate", "dedup"} for r in records)


def test_process_reports_unreadable_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": ""}\n{oops\n')
    assert main(["process", str(bad), "--out", str(tmp_path / "o.jsonl")]) == 1


def test_invalid_configuration_is_a_clear_error(monkeypatch, capsys) -> None:
    monkeypatch.setenv("NEWSFLOW_PARTITIONS", "zero")
    assert main(["init"]) == 2
    assert "NEWSFLOW_PARTITIONS" in capsys.readouterr().err


def test_a_stage_refusing_its_configuration_is_a_clear_error(
    seeds_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("NEWSFLOW_TRANSLATE_PROVIDER", "babel")
    assert main(["process", str(seeds_dir), "--out", str(tmp_path / "out.jsonl")]) == 2
    assert "unknown translation provider 'babel'" in capsys.readouterr().err

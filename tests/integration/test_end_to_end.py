"""The seeds and bad input through real Kafka topics and consumer groups into real Elasticsearch."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer

from pipeline import kafka_io
from pipeline.cli import main
from pipeline.contracts import Contracts
from pipeline.kafka_io import Outgoing
from pipeline.operations.audit import compute_ledger
from pipeline.sinks.elasticsearch import client
from pipeline.sources.files import build_article, read_paths

from .conftest import drain, es_ids, read_json

pytestmark = pytest.mark.integration


def test_seeds_end_in_elasticsearch_under_their_ids_and_reingest_changes_nothing(
    settings, seeds_dir: Path, capsys
) -> None:
    expected = sorted(a.article_id for a in read_paths([seeds_dir]))

    kafka_io.send_confirmed(
        kafka_io.producer(settings),
        [Outgoing(settings.topic("raw"), a.article_id, a.to_wire()) for a in read_paths([seeds_dir])],
    )
    drain(settings)
    docs = es_ids(settings)
    assert sorted(docs) == expected
    assert all(
        d["pipeline"]["stages"].keys() >= {"detect", "translate", "dedup", "enrich", "index"} for d in docs.values()
    )
    efe = next(d for d in docs.values() if d["title"] and d["title"].startswith("Russia attacks Ukraine"))
    assert efe["text"] == (seeds_dir / "002_41f31c8c25c6216b.txt").read_text()

    # Pulled again: the same ids, so the same five documents.
    kafka_io.send_confirmed(
        kafka_io.producer(settings),
        [Outgoing(settings.topic("raw"), a.article_id, a.to_wire()) for a in read_paths([seeds_dir])],
    )
    drain(settings)
    assert sorted(es_ids(settings)) == expected
    assert client(settings).count(index=settings.index_alias)["count"] == 5
    # The ledger accounts for raw messages: ten were produced, each ended indexed (as the same five documents).
    ledger = compute_ledger(settings, client(settings))
    assert ledger.balanced and ledger.raw == 10 and ledger.unique == 10

    # What an analyst sees: the EFE wire copy with its people, places, dateline and agency.
    assert main_env(settings, ["search", "Lukashenko Minsk", "--details", "--size", "1"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for found in ("Alexander Lukashenko", "Belarus (BY)", "Lviv/Moscow 2022-12-19 EFE", "drone strikes"):
        assert found in shown, found


def test_bad_input_goes_to_the_dlq_with_a_reason_and_good_articles_are_indexed(settings) -> None:
    good = [
        build_article(
            text=f"Kyiv said {n} drones were shot down overnight.", title=f"Night {n}", url=f"https://example.org/{n}"
        )
        for n in range(6)
    ]
    no_text = {k: v for k, v in good[0].to_wire().items() if k != "text"} | {"article_id": "00000000000000aa"}
    empty_text = good[1].to_wire() | {"article_id": "00000000000000bb", "text": ""}
    huge = good[2].to_wire() | {"article_id": "00000000000000cc", "text": "war " * 1_300_000}  # 5.2 MB
    poison: list[tuple[bytes | None, bytes]] = [
        (None, b"this is not json {"),
        (b"00000000000000aa", orjson.dumps(no_text)),
        (b"00000000000000bb", orjson.dumps(empty_text)),
        (b"00000000000000cc", orjson.dumps(huge)),
        (None, b"\xff\xfe\x00binary\x80\x81"),
        (None, b'["a", "json", "list"]'),
    ]
    producer: KafkaProducer = kafka_io.producer(settings)
    # Interleave good and bad so they share batches.
    for article, (key, value) in zip(good, poison, strict=True):
        producer.send(settings.topic("raw"), key=article.article_id.encode(), value=orjson.dumps(article.to_wire()))
        producer.send(settings.topic("raw"), key=key, value=value)
    producer.flush()

    workers = drain(settings)
    assert sorted(es_ids(settings)) == sorted(a.article_id for a in good)
    assert workers[0].counters.dlq == 6

    dlq = read_json(settings, "dlq")
    contracts = Contracts()
    for record in dlq:
        contracts.validate("dlq", record)
        assert record["stage"] == "detect" and record["error"]["kind"] == "bad_input"
        assert record["source"]["topic"] == settings.topic("raw")
    by_class = {r["error"]["class"]: r for r in dlq}
    assert set(by_class) == {"NotJson", "ContractError", "TooLarge", "NotUtf8", "NotJsonObject"}
    assert by_class["NotJson"]["payload"] == {"encoding": "utf-8", "data": "this is not json {"}
    assert base64.b64decode(by_class["NotUtf8"]["payload"]["data"]) == b"\xff\xfe\x00binary\x80\x81"
    assert "exceeds the limit" in by_class["TooLarge"]["error"]["message"]
    assert len(by_class["TooLarge"]["payload"]["data"]) > 5_000_000  # the original is kept whole
    contract_reasons = sorted(r["error"]["message"] for r in dlq if r["error"]["class"] == "ContractError")
    assert any("must contain ['text'] properties" in m for m in contract_reasons)
    assert any(m.startswith("schema raw: text") for m in contract_reasons)

    ledger = compute_ledger(settings, client(settings))
    assert ledger.balanced, ledger.to_dict()
    assert (ledger.raw, ledger.unique, ledger.dlq) == (12, 6, 6)


def test_mapping_error_goes_to_the_dlq_from_the_index_stage(settings) -> None:
    article = build_article(text="Kharkiv was shelled.", title="Shelling", url="https://example.org/mapping")
    contracts = Contracts()
    from pipeline.local import process_in_memory

    ((_, wire),) = process_in_memory([article], settings, ["detect", "translate", "dedup", "enrich"], contracts).outputs
    # Valid by the contract (any positive integer), too large for Elasticsearch's `integer`.
    wire["entities"] = [{"name": "Kharkiv", "label": "GPE", "mentions": ["Kharkiv"], "count": 2**40, "wikidata": None}]
    kafka_io.send_confirmed(
        kafka_io.producer(settings), [Outgoing(settings.topic("enriched"), article.article_id, wire)]
    )

    drain(settings, ["index"])
    assert es_ids(settings) == {}
    (record,) = read_json(settings, "dlq")
    assert record["stage"] == "index" and record["error"]["kind"] == "indexing"
    assert record["article_id"] == article.article_id
    assert "entities.count" in record["error"]["message"]
    assert json.loads(record["payload"]["data"])["entities"][0]["count"] == 2**40


def test_kcat_reads_the_enriched_topic_as_a_downstream_team_would(settings, seeds_dir: Path, tmp_path: Path) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: `make test` installs it (apt-get install kcat)"
    assert main_env(settings, ["ingest", str(seeds_dir)]) == 0
    drain(settings)
    result = subprocess.run(
        [kcat, "-C", "-b", settings.bootstrap_servers, "-t", settings.topic("enriched"), "-e", "-q", "-f", "%k\t%s\n"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 5
    contracts = Contracts()
    for line in lines:
        key, value = line.split("\t", 1)
        record = contracts.validate("enriched", json.loads(value))
        assert record["article_id"] == key

    # The example consumer of the downstream guide: one row per article, and a second group re-reading
    # the same messages (an at-least-once re-delivery) changes nothing.
    import sqlite3
    import sys

    from tests.conftest import ROOT

    db = tmp_path / "downstream.sqlite"
    for group in ("team.a", "team.b"):
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "consume_enriched.py"),
                "--bootstrap-servers",
                settings.bootstrap_servers,
                "--topic-prefix",
                settings.topic_prefix,
                "--group",
                group,
                "--db",
                str(db),
                "--until-idle",
                "10",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT article_id, title_en FROM articles").fetchall())
    assert sorted(rows) == sorted(line.split("\t", 1)[0] for line in lines)


def test_audit_fails_loudly_when_articles_are_unaccounted_for(settings, seeds_dir: Path, capsys) -> None:
    assert main_env(settings, ["ingest", str(seeds_dir)]) == 0
    # Nothing processed yet: with no settle margin the five raw articles are overdue, in no terminal state.
    assert main_env(settings, ["audit", "--settle", "0"]) == 1
    assert "NOT balanced" in capsys.readouterr().err
    assert main_env(settings, ["audit"]) == 0  # within the default margin they are only in flight
    assert "in flight" in capsys.readouterr().out
    drain(settings)
    assert main_env(settings, ["audit", "--settle", "0"]) == 0


def main_env(settings, argv: list[str]) -> int:
    """Run the CLI in-process with these settings in the environment."""
    import os

    from .conftest import settings_env

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(settings_env(settings))
    try:
        return main(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved)

"""`replay` never swaps the alias past a record the new index refused or could not read, unless told to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline import kafka_io
from pipeline.cli import output
from pipeline.contracts import Contracts
from pipeline.kafka_io import Outgoing
from pipeline.local import process_in_memory
from pipeline.operations.reindex import write_index
from pipeline.operations.replay import replay
from pipeline.sinks.elasticsearch import IndexAdmin, client
from pipeline.sources.files import build_article
from tests.integration.conftest import drain, es_ids, read_json
from tests.integration.test_end_to_end import main_env

pytestmark = pytest.mark.integration

TEXTS = ("Kharkiv was shelled overnight.", "Odesa port reopened to grain ships.", "Lviv hosted a donor conference.")


def _enriched(settings) -> list[tuple[str, dict]]:
    """Three finished records as the enrich stage writes them: (article_id, wire)."""
    articles = [build_article(text=t, title=t.split()[0], url=f"https://example.org/{i}") for i, t in enumerate(TEXTS)]
    outputs = process_in_memory(articles, settings, ["detect", "translate", "dedup", "enrich"], Contracts()).outputs
    assert [topic for topic, _ in outputs] == ["enriched"] * 3
    return [(wire["article_id"], wire) for _, wire in outputs]


def _produce(settings, messages: list[tuple[str, bytes]]) -> None:
    producer = kafka_io.producer(settings)
    try:
        for key, value in messages:
            producer.send(settings.topic("enriched"), key=key.encode(), value=value).get(timeout=30)
    finally:
        producer.close()


def test_replay_keeps_the_alias_when_the_mapping_refuses_a_record(settings, capsys) -> None:
    (good_id, good), (other_id, other), (bad_id, bad) = _enriched(settings)
    # Valid by the contract (any positive integer), too large for the mapping's `integer`.
    bad["entities"] = [{"name": "Lviv", "label": "GPE", "mentions": ["Lviv"], "count": 2**40, "wikidata": None}]
    kafka_io.send_confirmed(
        kafka_io.producer(settings),
        [
            Outgoing(settings.topic("enriched"), article_id, wire)
            for article_id, wire in ((good_id, good), (other_id, other), (bad_id, bad))
        ],
    )
    drain(settings, ["index"])
    es, alias = client(settings), settings.index_alias
    assert set(es_ids(settings)) == {good_id, other_id}

    report = replay(settings, es)

    assert (report.index, report.previous, report.read, report.indexed) == (f"{alias}-v2", [f"{alias}-v1"], 3, 2)
    assert (report.swapped, report.swap_refused) == (False, True)
    assert [r.article_id for r in report.refused] == [bad_id]
    assert "[entities.count]" in report.refused[0].reason
    assert report.to_dict()["refused"] == [{"article_id": bad_id, "reason": report.refused[0].reason}]
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v1",) and write_index(es, alias) == f"{alias}-v1"
    assert es.indices.exists(index=f"{alias}-v2"), "the new index is kept for inspection"
    assert es.count(index=alias)["count"] == 2  # nothing twice: the new index left the alias

    assert main_env(settings, ["replay"]) == 1
    out = capsys.readouterr()
    printed = json.loads(out.out)
    assert (printed["swap_refused"], printed["refused"][0]["article_id"]) == (True, bad_id)
    assert bad_id in out.err and "[entities.count]" in out.err
    flat = " ".join(out.err.split())
    assert "refused to swap the alias" in flat and f"{alias} still points at {alias}-v1" in flat
    assert "--accept-loss" in flat
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v1",)

    # The index stage dead-lettered the same record; `dlq list` prints its reason as it is, brackets and all.
    (dead,) = read_json(settings, "dlq")
    assert "[" in dead["error"]["message"][:80]
    width, output.console.width = output.console.width, 400  # wide enough that no cell wraps
    try:
        assert main_env(settings, ["dlq", "list"]) == 0
    finally:
        output.console.width = width
    assert dead["error"]["message"][:80] in capsys.readouterr().out

    accepted = replay(settings, es, accept_loss=True)

    assert (accepted.index, accepted.swapped, accepted.swap_refused) == (f"{alias}-v4", True, False)
    assert [r.article_id for r in accepted.refused] == [bad_id]
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v4",)
    assert set(es_ids(settings)) == {good_id, other_id}


def test_replay_lists_an_unreadable_record_and_keeps_the_alias(settings) -> None:
    (good_id, good), *_ = _enriched(settings)
    _produce(settings, [(good_id, json.dumps(good).encode()), ("broken-1", b"{not json")])
    drain(settings, ["index"])
    es, alias = client(settings), settings.index_alias

    report = replay(settings, es, until=datetime.now(UTC).isoformat())  # a window in the past: the alias is not staged

    assert (report.read, report.indexed, report.swapped, report.swap_refused) == (2, 1, False, True)
    ((refused_id, reason),) = [(r.article_id, r.reason) for r in report.refused]
    assert refused_id == "broken-1"
    assert reason.startswith(f"unreadable record at {settings.topic('enriched')}:")
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v1",)
    assert set(es_ids(settings)) == {good_id}

    accepted = replay(settings, es, accept_loss=True)
    assert accepted.swapped and IndexAdmin(es, settings).state().indices == (f"{alias}-v3",)
    assert set(es_ids(settings)) == {good_id}

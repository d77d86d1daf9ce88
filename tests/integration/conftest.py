"""The real local stack for integration tests: Kafka and Elasticsearch on free ports, stopped at the end."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence

import pytest

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.localstack.stack import LocalStack, StackError, private_settings
from pipeline.registry import build_stage
from pipeline.registry import names as stage_names
from pipeline.runner import StageWorker, run_workers
from pipeline.sinks.elasticsearch import IndexAdmin, client

pytestmark = pytest.mark.integration


def stack_settings_for(directory) -> Settings:
    """Settings for a private stack in `directory` on free ports."""
    return private_settings(directory, retry_backoff_max_s=2.0)


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory) -> Iterator[Settings]:
    """One real stack for the session; stopped even when tests fail."""
    settings = stack_settings_for(tmp_path_factory.mktemp("stack"))
    stack = LocalStack(settings)
    try:
        stack.up()
    except StackError as exc:
        stack.down()
        pytest.fail(f"the local stack did not start: {exc}")
    try:
        yield settings
    finally:
        stack.down()
        shutil.rmtree(stack.es_base(), ignore_errors=True)


@pytest.fixture
def settings(stack_settings: Settings) -> Settings:
    """Settings with topics, consumer groups and an index alias of this test's own."""
    tag = uuid.uuid4().hex[:8]
    s = stack_settings.model_copy(
        update={"topic_prefix": f"t{tag}.", "index_alias": f"news-t{tag}", "group_prefix": f"g{tag}"}
    )
    kafka_io.ensure_topics(s)
    IndexAdmin(client(s), s).ensure()
    return s


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a subprocess the same settings."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}, **settings.environment()}


def drain(settings: Settings, stages: Sequence[str] | None = None, timeout_s: float = 120) -> list[StageWorker]:
    """Run the named stages in-process until their topics are drained; fail on timeout."""
    stop = threading.Event()
    contracts = Contracts()
    workers = [StageWorker(build_stage(n, settings), settings, contracts, stop=stop) for n in (stages or stage_names())]
    try:
        drained = run_workers(workers, stop, timeout_s=timeout_s)
    finally:
        for w in workers:
            w.close()
    assert drained, f"stages {stages or 'all'} not drained within {timeout_s}s"
    return workers


def es_ids(settings: Settings) -> dict[str, dict]:
    """Every document behind the alias, by _id."""
    es = client(settings)
    es.indices.refresh(index=settings.index_alias)
    response = es.search(index=settings.index_alias, size=10_000, query={"match_all": {}})
    return {h["_id"]: h["_source"] for h in response["hits"]["hits"]}


def produce_raw(settings: Settings, articles) -> None:
    """Produce articles to this test's raw topic, every delivery confirmed."""
    producer = kafka_io.producer(settings)
    try:
        kafka_io.send_confirmed(
            producer, [kafka_io.Outgoing(settings.topic("raw"), a.article_id, a.to_wire()) for a in articles]
        )
    finally:
        producer.close()


def read_json(settings: Settings, key: str) -> list[dict]:
    """Every message of a topic, decoded."""
    import orjson

    return [orjson.loads(r.value) for r in kafka_io.read_topic(settings, settings.topic(key))]

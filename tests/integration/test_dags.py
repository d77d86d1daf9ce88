"""The Airflow DAGs, imported and run for real (`dag.test()`, in-process) against the session's real Kafka and Elasticsearch.

Airflow is configured for this module only: AIRFLOW_HOME in a temporary folder, SQLite metadata
migrated once, the project's dags/ folder, one retry after one second so a failing task shows its retry.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pipeline import kafka_io
from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.records import Language, Translation
from pipeline.sinks.elasticsearch import ElasticsearchSink, IndexAdmin, client
from pipeline.sources.files import read_paths
from tests.conftest import ROOT, SEEDS
from tests.feed_server import FeedServer
from tests.integration.conftest import drain, es_ids, produce_raw, read_json, settings_env

pytestmark = pytest.mark.integration

DAGS = ROOT / "dags"
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))  # as Airflow does for its DAGs folder: the DAG files share a module there
DAG_IDS = {"news_ingest", "news_bootstrap", "news_quality", "news_retranslate", "news_replay"}
HEAVY = ("kafka", "elasticsearch", "trafilatura", "feedparser", "spacy", "lingua", "orjson")


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    """Airflow configured in a temporary home, its database migrated once; the project's DAGs parsed."""
    home = tmp_path_factory.mktemp("airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "NEWSFLOW_DAG_RETRIES": "1",
        "NEWSFLOW_DAG_RETRY_DELAY_S": "1",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        airflow = Path(sys.executable).parent / "airflow"
        migrated = subprocess.run(
            [str(airflow), "db", "migrate"], env=os.environ.copy(), capture_output=True, text=True, timeout=300
        )
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=str(DAGS))


@pytest.fixture
def run_env(settings, monkeypatch, tmp_path):
    """This test's NEWSFLOW_* settings in the environment the in-process tasks read."""
    for key, value in settings_env(settings).items():
        if key.startswith("NEWSFLOW_"):
            monkeypatch.setenv(key, value)
    return monkeypatch


def _run(dag, **kwargs):
    """One DAG run, in-process; returns (run state, {task_id or task_id[label]: (state, try_number)})."""
    from airflow.utils.session import create_session

    run = dag.test(**kwargs)
    with create_session() as session:
        tis = {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.rendered_map_index}]"): (ti.state, ti.try_number)
            for ti in run.get_task_instances(session=session)
        }
    return run, tis


def _xcoms(run, task_id: str) -> list:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(XComModel.map_index, XComModel.value)
            .where(
                XComModel.run_id == run.run_id,
                XComModel.dag_id == run.dag_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
            .order_by(XComModel.map_index)
        ).all()
    values = [XComModel.deserialize_value(row) for row in rows]
    return [orjson.loads(v) if isinstance(v, str) else v for v in values]


def _sources_file(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "sources.json"
    path.write_text(orjson.dumps({"sources": entries}).decode())
    return path


def _raw(settings: Settings) -> dict[str, dict]:
    messages = {}
    for record in kafka_io.read_topic(settings, settings.topic("raw")):
        body = orjson.loads(record.value)
        assert record.key.decode() == body["article_id"]
        messages.setdefault(body["article_id"], []).append(body)
    return messages


# -- structure ---------------------------------------------------------------------------------------


def test_every_dag_imports_with_the_structure_described(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == DAG_IDS

    ingest = dagbag.dags["news_ingest"]
    assert ingest.schedule == "*/15 * * * *"
    assert not ingest.catchup and ingest.max_active_runs == 1
    pull = ingest.task_dict["pull_source"]
    assert ingest.task_dict["list_sources"].downstream_task_ids == {"pull_source"}
    assert type(pull).__name__.endswith("MappedOperator")  # one task instance per source
    assert [(a.name, a.uri) for a in pull.outlets] == [("news.raw.v1", "kafka://newsflow/news.raw.v1")]

    assert dagbag.dags["news_bootstrap"].schedule is None
    assert set(dagbag.dags["news_bootstrap"].task_dict) == {"topics", "index", "kibana"}
    quality = dagbag.dags["news_quality"]
    assert quality.schedule == "@hourly"
    assert set(quality.task_dict) == {"ledger", "dlq_growth", "consumer_lag", "freshness"}
    retranslate = dagbag.dags["news_retranslate"]
    assert retranslate.schedule == "@hourly"
    assert [a.name for a in retranslate.task_dict["resend_pending"].outlets] == ["news.detected.v1"]
    replay = dagbag.dags["news_replay"]
    assert replay.schedule is None
    assert set(replay.params) == {"source", "since", "until", "swap_alias", "accept_loss"}

    for dag in dagbag.dags.values():
        assert dag.is_paused_upon_creation is False and dag.max_active_runs == 1
        for task in dag.tasks:
            assert task.retries == 1, f"{dag.dag_id}.{task.task_id} has no retries"  # NEWSFLOW_DAG_RETRIES


def test_dag_files_are_cheap_to_import(tmp_path) -> None:
    probe = (
        "import runpy, sys, pathlib\n"
        f"sys.path.insert(0, {str(DAGS)!r})\n"
        f"for f in sorted(pathlib.Path({str(DAGS)!r}).glob('*.py')): runpy.run_path(str(f))\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
        "print(sorted(m for m in sys.modules if m.startswith('pipeline')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    heavy, ours = done.stdout.strip().splitlines()[-2:]
    assert heavy == "[]", "DAG files import heavy libraries at parse time"
    assert ours == "['pipeline', 'pipeline.config']", "DAG files import pipeline code beyond the settings at parse time"


# -- news_ingest -------------------------------------------------------------------------------------


def test_ingest_pulls_seeds_and_feeds_into_raw_once(dagbag, settings, run_env, tmp_path) -> None:
    with FeedServer() as server:
        sources = _sources_file(
            tmp_path,
            [
                {"name": "seeds", "kind": "folder", "path": str(SEEDS)},
                {"name": "efm", "kind": "feed", "url": server.url("/feeds/rss.xml")},
                {"name": "black-sea", "kind": "feed", "url": server.url("/feeds/atom.xml"), "fetch_pages": False},
                {"name": "broken", "kind": "feed", "url": server.url("/feeds/malformed.xml")},
            ],
        )
        run_env.setenv("NEWSFLOW_SOURCES_FILE", str(sources))

        first, tis = _run(dagbag.dags["news_ingest"])
        raw = _raw(settings)
        second, _ = _run(dagbag.dags["news_ingest"])

    assert first.state == "success", tis
    assert {k: v[0] for k, v in tis.items()} == {
        "list_sources": "success",
        "pull_source[seeds]": "success",
        "pull_source[efm]": "success",
        "pull_source[black-sea]": "success",
        "pull_source[broken]": "success",
    }
    seed_ids = {a.article_id for a in read_paths([SEEDS])}
    assert seed_ids <= set(raw)
    titles = {m[0]["title"] for m in raw.values()}
    assert {
        "Ukrainian forces retake villages east of Kharkiv as Russian lines give way",
        "IAEA team warns of shelling near Zaporizhzhia nuclear plant",
        "Grain corridor: three more ships leave Odesa despite air-raid alerts",
        "Mykolaiv: overnight strike damages a hotel and a grain terminal",
    } <= titles
    assert len(raw) == 9 and all(len(copies) == 1 for copies in raw.values())
    contracts = Contracts()
    for (body,) in raw.values():
        contracts.validate("raw", body)
        assert "COMMENT-MARKER" not in body["text"] and "We use cookies" not in body["text"]

    reports = {r["source"]: r for r in _xcoms(first, "pull_source")}
    assert reports["seeds"]["produced"] == 5
    assert reports["efm"]["skipped"] == {"no article text": 1, "unknown encoding": 1, "page gone (HTTP 404)": 1}
    assert reports["broken"]["skipped"] == {"malformed feed": 1}

    assert second.state == "success"
    assert _raw(settings) == raw, "a second run produced again"
    again = {r["source"]: r for r in _xcoms(second, "pull_source")}
    assert again["seeds"]["already_seen"] == 5 and again["efm"]["not_modified"] and again["black-sea"]["not_modified"]


def test_unreachable_feed_fails_its_own_task_after_its_retry(dagbag, settings, run_env, tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/feed.xml"
    run_env.setenv(
        "NEWSFLOW_SOURCES_FILE",
        str(
            _sources_file(
                tmp_path,
                [
                    {"name": "dead-feed", "kind": "feed", "url": dead},
                    {"name": "seeds", "kind": "folder", "path": str(SEEDS)},
                ],
            )
        ),
    )

    run, tis = _run(dagbag.dags["news_ingest"])

    assert run.state == "failed"
    assert tis["pull_source[dead-feed]"] == ("failed", 2)  # tried, retried once, failed
    assert tis["pull_source[seeds]"][0] == "success"
    assert len(_raw(settings)) == 5


# -- news_bootstrap ----------------------------------------------------------------------------------


def test_bootstrap_creates_topics_and_index_and_is_idempotent(dagbag, stack_settings, monkeypatch) -> None:
    fresh = stack_settings.model_copy(update={"topic_prefix": "boot.", "index_alias": "news-boot"})
    for key, value in settings_env(fresh).items():
        if key.startswith("NEWSFLOW_"):
            monkeypatch.setenv(key, value)

    runs = [_run(dagbag.dags["news_bootstrap"]) for _ in range(2)]

    assert [r.state for r, _ in runs] == ["success", "success"], runs
    admin = kafka_io.admin(fresh)
    try:
        topics = set(admin.list_topics())
    finally:
        admin.close()
    assert {fresh.topic(k) for k in ("raw", "detected", "enriched", "dlq")} | {"boot.news.source-state.v1"} <= topics
    assert IndexAdmin(client(fresh), fresh).state().indices == ("news-boot-v1",)


# -- news_quality ------------------------------------------------------------------------------------


def test_quality_fails_while_the_ledger_does_not_balance_and_passes_when_it_does(dagbag, settings, run_env) -> None:
    from pipeline.operations.quality import QualityConfig, check_consumer_lag, check_freshness, check_ledger

    run_env.setenv("NEWSFLOW_QUALITY_LEDGER_GRACE_S", "0")
    produce_raw(settings, read_paths([SEEDS]))

    broken, tis = _run(dagbag.dags["news_quality"])

    assert broken.state == "failed"
    assert tis["ledger"] == ("failed", 1), "a breach is not retried"
    assert tis["consumer_lag"][0] == tis["dlq_growth"][0] == tis["freshness"][0] == "success"  # just arrived
    check = check_ledger(settings, client(settings), QualityConfig(ledger_grace_s=0))
    assert not check.ok
    assert (
        "the ledger does not balance (raw 5 = unique 0 + duplicates 0 + DLQ 0 + 5 open (0 in flight, 5 overdue))"
        in check.message
    )
    assert "5 raw articles older than 0s are in no terminal state" in check.message
    assert check_ledger(settings, client(settings), QualityConfig(ledger_grace_s=900)).ok  # in flight, not lost
    stuck = check_freshness(settings, client(settings), QualityConfig(max_staleness_s=0))
    assert not stuck.ok and stuck.message.startswith("nothing is indexed and raw articles have waited")
    lagging = check_consumer_lag(settings, QualityConfig(max_lag=4))
    assert not lagging.ok and "detect 5" in lagging.message

    drain(settings)
    healthy, tis = _run(dagbag.dags["news_quality"])

    assert healthy.state == "success", tis
    assert _xcoms(healthy, "ledger")[0]["balanced"] is True


# -- news_retranslate --------------------------------------------------------------------------------


def test_retranslate_sends_pending_articles_back_to_translate(dagbag, settings, run_env) -> None:
    articles = list(read_paths([SEEDS]))[:3]
    italian = Language(code="it", confidence=0.99, mixed=False, paragraphs=[], detector="langdetect")
    stamped = [
        a.stamped("detect", language=italian)
        .stamped(
            "translate",
            translation=Translation(status="pending" if i < 2 else "not_needed", error="provider down"),
        )
        .stamped("index")
        for i, a in enumerate(articles)
    ]
    ElasticsearchSink(client(settings), settings).write(stamped)
    client(settings).indices.refresh(index=settings.index_alias)

    run, tis = _run(dagbag.dags["news_retranslate"])

    assert run.state == "success", tis
    sent = {m["article_id"]: m for m in read_json(settings, "detected")}
    assert set(sent) == {a.article_id for a in articles[:2]}
    for message in sent.values():
        Contracts().validate("detected", message)
        assert message["language"]["code"] == "it"
        assert "translation" not in message and "indexed_at" not in message
        assert set(message["pipeline"]["stages"]) == {"detect"}
    assert _xcoms(run, "resend_pending") == [{"pending": 2, "resent": 2, "skipped": {}}]


# -- news_replay -------------------------------------------------------------------------------------


def test_replay_builds_the_next_index_version_and_swaps_the_alias(dagbag, settings, run_env) -> None:
    produce_raw(settings, read_paths([SEEDS]))
    drain(settings)
    before = es_ids(settings)
    es = client(settings)

    run, tis = _run(dagbag.dags["news_replay"], run_conf={"source": "enriched"})

    assert run.state == "success", tis
    alias = settings.index_alias
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v2",)
    assert es.indices.exists(index=f"{alias}-v1"), "the old version is kept for rollback"
    after = es_ids(settings)
    assert set(after) == set(before) and len(after) == 5
    report = _xcoms(run, "replay_window")[0]
    assert (report["index"], report["previous"], report["indexed"], report["swapped"]) == (
        f"{alias}-v2",
        [f"{alias}-v1"],
        5,
        True,
    )

    from pipeline.operations.replay import replay

    again = replay(settings, es, source="raw")  # raw through the processing stages again, in-process

    assert (again.index, again.previous, again.read, again.indexed) == (f"{alias}-v3", [f"{alias}-v2"], 5, 5)
    assert IndexAdmin(es, settings).state().indices == (f"{alias}-v3",)
    assert set(es_ids(settings)) == set(before)

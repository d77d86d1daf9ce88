"""Fault drills on the real stack: what a week of production brings, each ending with 0 lost, 0 duplicated in
the index, and a ledger by class that says what happened. Every drill adds a row to test-artifacts/drills.md.

All traffic is loopback; every process and server a drill starts is stopped, also when it fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from kafka import TopicPartition

from pipeline import kafka_io
from pipeline.contracts import Contracts
from pipeline.errors import FatalError
from pipeline.localstack.stack import LocalStack
from pipeline.logs import RateLimit, template
from pipeline.operations.audit import compute_ledger
from pipeline.records import DlqError, DlqPayload, DlqRecord, DlqSource
from pipeline.registry import build_stage
from pipeline.registry import names as stage_names
from pipeline.runner import StageWorker, run_workers
from pipeline.sinks.elasticsearch import client
from pipeline.sources.files import build_article
from pipeline.supervisor import parse_workers
from tests.conftest import ROOT, wait_for
from tests.es_proxy import ElasticsearchProxy
from tests.integration.conftest import drain, es_ids, produce_raw, read_json, settings_env
from tests.translate_server import Fault, LibreTranslateServer

pytestmark = [pytest.mark.integration, pytest.mark.drill]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "articles"
ROWS: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def _drill_table():
    """Write the drill table once the module is done (also when a drill failed: its row is missing)."""
    yield
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    lines = [
        "| drill | in | indexed | duplicates | DLQ bad input | DLQ processing | lost | indexed twice | time to recover |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['drill']} | {r['in']} | {r['unique']} | {r['duplicate']} | {r['dlq_bad_input']} | {r['dlq_processing']} "
        f"| {r['lost']} | {r['twice']} | {r['recover']} |"
        for r in ROWS
    ]
    (out / "drills.md").write_text("\n".join(lines) + "\n")


def _record(name: str, settings, recover: str = "-") -> dict:
    """Check the drill's end state (nothing lost, nothing indexed twice, the ledger balanced) and add its row."""
    ledger = compute_ledger(settings, settle_s=0)
    assert ledger.verdict == "balanced", ledger.to_dict()
    es = client(settings)
    es.indices.refresh(index=settings.index_alias)
    ids = [h["_id"] for h in es.search(index=settings.index_alias, size=10_000, _source=False)["hits"]["hits"]]
    row = {
        "drill": name,
        "in": ledger.raw,
        **ledger.by_state,
        "lost": ledger.overdue + ledger.in_flight,
        "twice": len(ids) - len(set(ids)),
        "recover": recover,
    }
    assert row["lost"] == 0 and row["twice"] == 0
    ROWS.append(row)
    return row


def _articles(seeds_dir: Path, n: int, tag: str = "live"):
    """`n` distinct articles made from the seed texts (five stories: the rest are their near-duplicates)."""
    texts = [p.read_text() for p in sorted(seeds_dir.glob("*.txt"))]
    return [
        build_article(
            text=f"Update {i}.\n\n{texts[i % len(texts)]}", title=f"Report {i}", url=f"https://example.org/{tag}/{i}"
        )
        for i in range(n)
    ]


class _Workers:
    """Stage workers in this process, on a thread, until stopped."""

    def __init__(self, settings, stages=stage_names()) -> None:
        self.stop = threading.Event()
        contracts = Contracts()
        self.workers = [StageWorker(build_stage(n, settings), settings, contracts, stop=self.stop) for n in stages]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            run_workers(self.workers, self.stop, follow=True)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def __enter__(self) -> _Workers:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=120)
        for w in self.workers:
            w.close()


def _ledger_balanced(settings):
    ledger = compute_ledger(settings, settle_s=0)
    return ledger if ledger.verdict == "balanced" else None


# -- infrastructure: credentials expire -------------------------------------------------------------


def test_drill_elasticsearch_401_holds_the_stream_and_never_dead_letters(settings, seeds_dir: Path, capsys) -> None:
    proxy = ElasticsearchProxy(settings.es_url).start()
    try:
        s = settings.model_copy(update={"es_url": proxy.url, "heartbeat_s": 1.0, "fatal_after_s": 0})
        articles = _articles(seeds_dir, 20, "auth")
        produce_raw(s, articles)
        drain(s, ["detect", "translate", "dedup", "enrich"])
        proxy.deny(401)

        # A worker on its own gives up after NEWSFLOW_FATAL_AFTER_S with exit code 3, nothing dead-lettered.
        env = settings_env(s.model_copy(update={"fatal_after_s": 3.0}))
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "worker", "index"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 3, done.stderr[-2000:]
        assert "held" in done.stderr and "401" in done.stderr

        with _Workers(s, ["index"]) as run:
            ledger = wait_for(
                lambda: (lg := compute_ledger(s, settle_s=0)).verdict == "held" and lg.held == 20 and lg,
                60,
                "the ledger to show the stream held",
            )
            assert not ledger.balanced and ledger.exit_code == 2
            assert {h.stage for h in ledger.holds} == {"index"}
            assert read_json(s, "dlq") == [], "a 401 is never bad input"
            from pipeline.operations.quality import QualityConfig, check_ledger

            quality = check_ledger(s, None, QualityConfig(ledger_grace_s=0))
            assert not quality.ok and "held by infrastructure" in quality.message and "401" in quality.message
            assert _main(s, ["audit", "--settle", "0"]) == 2
            assert "HELD" in capsys.readouterr().err
            assert _main(s, ["status"]) in (2, 3)  # Elasticsearch answers 401: partial, and the index stage held
            shown = capsys.readouterr()
            assert "HELD index" in shown.err and "consumer lag" in shown.out
            proxy.allow()
            back = time.monotonic()
            wait_for(lambda: _ledger_balanced(s), 120, "the stream to resume by itself")
            recovered = time.monotonic() - back
            assert run.error is None
        assert sorted(es_ids(settings)) == sorted(a.article_id for a in articles)
        assert read_json(s, "dlq") == []
        _record("Elasticsearch answers 401", s, f"{recovered:.1f} s after the credentials work again")
    finally:
        proxy.stop()


def test_drill_a_missing_alias_or_topic_holds_until_init_puts_it_back(settings, seeds_dir: Path) -> None:
    from pipeline.sinks.elasticsearch import IndexAdmin

    s = settings.model_copy(update={"heartbeat_s": 1.0, "fatal_after_s": 0})
    articles = _articles(seeds_dir, 8, "alias")
    produce_raw(s, articles)
    drain(s, ["detect", "translate", "dedup", "enrich"])
    es = client(s)
    (index,) = IndexAdmin(es, s).state().indices
    es.indices.delete_alias(index=index, name=s.index_alias)
    with _Workers(s, ["index"]) as run:
        (worker,) = run.workers
        wait_for(lambda: worker.trouble is not None and worker.counters.retries >= 2, 60, "the index worker to hold")
        assert "require_alias" in worker.trouble.reason or "alias" in worker.trouble.reason
        assert not es.indices.exists(index=s.index_alias), "nothing auto-created under the alias's name"
        assert read_json(s, "dlq") == []
        assert compute_ledger(s, settle_s=0).verdict == "held"
        IndexAdmin(es, s).ensure()  # what `newsflow init` does
        wait_for(lambda: _ledger_balanced(s), 120, "the stream to resume once the alias is back")
    assert sorted(es_ids(s)) == sorted(a.article_id for a in articles)

    # A topic deleted under a running deployment: the worker says which and holds, nothing is dead-lettered.
    admin = kafka_io.admin(s)
    try:
        admin.delete_topics([s.topic("ledger")])
    finally:
        admin.close()
    wait_for(lambda: s.topic("ledger") not in kafka_io.existing_topics(s), 60, "the topic to be gone")
    with _Workers(s, ["detect"]) as run:
        (worker,) = run.workers
        wait_for(lambda: worker.trouble is not None, 60, "the detect worker to hold on the missing topic")
        assert "topics missing" in worker.trouble.reason and s.topic("ledger") in worker.trouble.reason
        kafka_io.ensure_topics(s)
        wait_for(lambda: worker.trouble is None, 60, "the worker to go on once `newsflow init` made the topic")
    _record("missing alias, then a missing topic", s)


# -- per-document transient: one poison document ------------------------------------------------------


def test_drill_a_poison_document_is_retried_a_bounded_number_of_times_then_dead_lettered(
    settings, seeds_dir: Path
) -> None:
    proxy = ElasticsearchProxy(settings.es_url).start()
    try:
        s = settings.model_copy(
            update={"es_url": proxy.url, "index_document_max_attempts": 3, "index_document_backoff_s": 0.05}
        )
        articles = _articles(seeds_dir, 12, "poison")
        poison = articles[4].article_id
        proxy.poison({poison})
        produce_raw(s, articles)
        drain(s)
        assert sorted(es_ids(settings)) == sorted(a.article_id for a in articles if a.article_id != poison)
        (record,) = read_json(s, "dlq")
        assert (record["article_id"], record["stage"], record["error"]["class"], record["attempts"]) == (
            poison,
            "index",
            "DocumentRetriesExhausted",
            3,
        )
        assert "503" in record["error"]["message"] and record["error"]["kind"] == "processing"
        assert proxy.poison_answers == 3
        ledger = compute_ledger(s, settle_s=0)
        assert ledger.balanced and ledger.dlq_processing == 1 and ledger.unique + ledger.duplicates == 11

        # The shard is healthy again: the operator replays it, and the ledger moves it to indexed.
        proxy.allow()
        assert _main(s, ["dlq", "replay", "--error-class", "DocumentRetriesExhausted"]) == 0
        drain(s, ["index"])
        assert poison in es_ids(settings)
        row = _record("one poison document (503 on one item)", s, "bounded: 3 attempts, then DLQ; replayed after")
        assert row["dlq_processing"] == 0
    finally:
        proxy.stop()


# -- processing bugs -------------------------------------------------------------------------------


class _Buggy:
    """The real detect stage with a bug: it raises for the articles `breaks` picks."""

    def __init__(self, settings, breaks) -> None:
        self.inner = build_stage("detect", settings)
        self.name, self.sources, self.breaks = self.inner.name, self.inner.sources, breaks

    def process(self, batch):
        if any(self.breaks(a) for a in batch):
            raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
        return self.inner.process(batch)


def test_drill_one_broken_article_goes_to_the_dlq_and_many_stop_the_worker(settings, seeds_dir: Path) -> None:
    articles = _articles(seeds_dir, 20, "bug")
    produce_raw(settings, articles)
    one = StageWorker(_Buggy(settings, lambda a: a.title == "Report 7"), settings, Contracts())
    try:
        run_workers([one], threading.Event())
    finally:
        one.close()
    (record,) = read_json(settings, "dlq")
    assert record["error"]["kind"] == "processing" and record["error"]["class"] == "TypeError"
    assert record["attempts"] == 2, "tried in its batch, then alone"
    drain(settings, ["translate", "dedup", "enrich", "index"])
    _record("a stage bug on one article", settings)

    # Now every article breaks the stage: the breaker stops the worker; nothing dead-lettered, nothing committed.
    more = _articles(seeds_dir, 10, "bug2")
    produce_raw(settings, more)
    broken = StageWorker(_Buggy(settings, lambda a: True), settings, Contracts())
    try:
        with pytest.raises(FatalError, match="a bug, not bad input"):
            run_workers([broken], threading.Event())
    finally:
        broken.close()
    assert len(read_json(settings, "dlq")) == 1
    assert kafka_io.group_lag(settings, settings.group("detect"), [settings.topic("raw")]) == 10
    ledger = compute_ledger(settings, settle_s=0)
    assert ledger.overdue == 10 and ledger.verdict == "held", "the stopped worker holds, it does not lose"


# -- an outside producer --------------------------------------------------------------------------


def test_drill_an_outside_producer_keyed_by_url(settings, capsys) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: `make test` installs it (apt-get install kcat)"
    text = (FIXTURES / "italian.txt").read_text()
    url = "https://scraper.example.net/news/kharkiv?utm_medium=rss"
    scraped = {
        "url": url,
        "title": "Kharkiv",
        "text": text,
        "published": "Mon, 12 Sep 2022 08:00:00 +0200",
        "source": "Scraper Daily",
    }
    subprocess.run(
        [kcat, "-P", "-b", settings.bootstrap_servers, "-t", settings.topic("raw"), "-K", "\t"],
        input=f"{url}\t{orjson.dumps(scraped).decode()}\n",
        text=True,
        check=True,
        timeout=60,
    )
    no_key = {"title": "No key, no id", "text": "Kyiv said 40 drones were shot down overnight over the capital region."}
    producer = kafka_io.producer(settings)
    try:
        producer.send(settings.topic("raw"), value=orjson.dumps(no_key)).get(timeout=30)
        # What an earlier version dead-lettered for its key alone: replaying it must now get through.
        refused = {
            "url": "https://other.example.net/a",
            "title": "Refused for its key",
            "text": text.replace("Kharkiv", "Izium"),
        }
        old = DlqRecord(
            article_id=None,
            stage="detect",
            error=DlqError(
                class_="KeyMismatch", message="key 'https://other.example.net/a' does not match", kind="bad_input"
            ),
            source=DlqSource(topic=settings.topic("raw"), partition=0, offset=0, key="https://other.example.net/a"),
            payload=DlqPayload.of(orjson.dumps(refused)),
        )
        producer.send(settings.topic("dlq"), value=orjson.dumps(old.to_wire())).get(timeout=30)
    finally:
        producer.close()
    assert _main(settings, ["dlq", "replay", "--error-class", "KeyMismatch"]) == 0
    drain(settings)

    from pipeline.identity import article_id

    docs = es_ids(settings)
    scraped_id = article_id(url, None, "")
    assert set(docs) == {
        scraped_id,
        article_id(None, no_key["title"], no_key["text"]),
        article_id("https://other.example.net/a", None, ""),
    }
    doc = docs[scraped_id]
    assert doc["source"] == {"name": "Scraper Daily", "domain": "scraper.example.net"}
    assert doc["published_at"] == "2022-09-12T06:00:00Z" and doc["translation"]["status"] == "translated"
    assert doc["pipeline"]["raw"]["key"] == url
    enriched = kafka_io.read_topic(settings, settings.topic("enriched"))
    assert all(r.key.decode() == orjson.loads(r.value)["article_id"] for r in enriched), "internal topics keyed by id"
    _record("outside producer keyed by URL (+ no key, + a replayed KeyMismatch)", settings)


def test_the_example_producer_sends_valid_lines_and_reports_bad_ones(settings, tmp_path: Path) -> None:
    lines = [
        {"url": "https://partner.example.com/1", "title": "One", "text": "Kyiv said 12 drones were shot down."},
        {"title": "No text at all"},
        {"text": "Odesa port was hit overnight, the regional governor said.", "source": {"name": "Partner"}},
    ]
    dump = tmp_path / "articles.jsonl"
    dump.write_text("\n".join(orjson.dumps(line).decode() for line in lines) + "\nnot json\n")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "produce_raw.py"),
            str(dump),
            "--bootstrap-servers",
            settings.bootstrap_servers,
            "--topic",
            settings.topic("raw"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f"{dump}:2: not sent" in done.stderr and f"{dump}:4: not sent" in done.stderr
    assert "sent 2 articles" in done.stdout
    drain(settings)
    assert len(es_ids(settings)) == 2 and read_json(settings, "dlq") == []
    assert compute_ledger(settings, settle_s=0).balanced


# -- raw retention ----------------------------------------------------------------------------------


def test_drill_raw_retention_elapses_between_audits(settings, seeds_dir: Path) -> None:
    s = settings.model_copy(update={"audit_bucket_s": 1.0})
    first = _articles(seeds_dir, 10, "old")
    produce_raw(s, first)
    drain(s)
    assert compute_ledger(s, settle_s=0).raw == 10
    boundary = int(time.time()) + 1
    wait_for(lambda: time.time() >= boundary, 5, "the next ledger bucket")
    second = _articles(seeds_dir, 6, "new")
    produce_raw(s, second)

    # Retention deletes the first ten raw messages (the broker's log start moves past them).
    c = kafka_io.consumer(s, None)
    try:
        topic = s.topic("raw")
        tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
        starts = c.offsets_for_times({tp: boundary * 1000 for tp in tps})
        end = c.end_offsets(tps)
        cut = {tp: (starts[tp].offset if starts.get(tp) else end[tp]) for tp in tps}
    finally:
        c.close()
    admin = kafka_io.admin(s)
    try:
        admin.delete_records({tp: o for tp, o in cut.items() if o > 0})
    finally:
        admin.close()
    drain(s)
    ledger = compute_ledger(s, settle_s=0)
    assert ledger.balanced and ledger.raw == 6 and ledger.unique + ledger.duplicates == 6, ledger.to_dict()
    assert ledger.expired_before is not None
    assert _main(s, ["audit", "--settle", "0"]) == 0
    _record("raw retention elapses mid-ledger", s)


# -- translator, broker, Elasticsearch outage, SIGKILL ------------------------------------------------


def test_drill_a_translator_failing_half_its_requests(settings) -> None:
    server = LibreTranslateServer(faults=[Fault(503), None] * 400).start()  # every other request fails
    try:
        s = settings.model_copy(
            update={
                "translate_base_url": server.url,
                "translate_max_attempts": 1,
                "translate_backoff_initial_s": 0.01,
                "translate_backoff_max_s": 0.05,
                "translate_breaker_threshold": 1000,
            }
        )
        articles = [
            build_article(text=_italian(i), title=f"Notizia {i}", url=f"https://example.it/{i}") for i in range(30)
        ]
        produce_raw(s, articles)
        drain(s)
        es = client(s)
        es.indices.refresh(index=s.index_alias)
        pending = es.count(index=s.index_alias, query={"term": {"translation.status": "pending"}})["count"]
        assert len(es_ids(s)) == 30, "every article is indexed, translated or pending"
        assert 0 < pending < 30, pending
        first_pass = 30 - pending
        server.faults.clear()
        rounds = 0
        while pending and rounds < 3:
            assert _main(s, ["retranslate"]) == 0
            drain(s, ["translate", "dedup", "enrich", "index"])
            es.indices.refresh(index=s.index_alias)
            pending = es.count(index=s.index_alias, query={"term": {"translation.status": "pending"}})["count"]
            rounds += 1
        assert pending == 0
        _record(
            "translator with 50 % 503s",
            s,
            f"{first_pass}/30 translated at once, the rest after {rounds} retranslate run(s)",
        )
    finally:
        server.stop()


def test_drill_broker_restart_and_elasticsearch_outage_with_the_workers_running(
    settings,
    stack_settings,
    seeds_dir,
    tmp_path: Path,
) -> None:
    outage_s = float(os.environ.get("NEWSFLOW_DRILL_OUTAGE_S", "60"))
    s = settings.model_copy(update={"batch_size": 10, "heartbeat_s": 2.0})
    articles = _articles(seeds_dir, 200, "outage")
    produce_raw(s, articles)
    stack = LocalStack(stack_settings)
    env = settings_env(s.model_copy(update={"log_level": "INFO"}))  # its "recovered after" line is checked
    log = (tmp_path / "run.log").open("w")  # a file, not a pipe: a full pipe would block the workers' logging
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--follow"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _indexed(s) >= 10, 180, "the first articles to be indexed")
        stack.down(("kafka",))
        stack.up(("kafka",))
        back = time.monotonic()
        wait_for(lambda: _ledger_balanced(s), 300, "the stream to drain after the broker restart")
        broker_recovery = time.monotonic() - back

        more = _articles(seeds_dir, 100, "outage2")
        produce_raw(s, more)
        wait_for(lambda: _indexed(s) >= 215, 180, "indexing to resume")
        stack.down(("elasticsearch",))
        went = time.monotonic()
        # The operator during the outage: Kafka's side is shown, Elasticsearch is marked unreachable, exit 2.
        shown = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "status"],
            env=settings_env(s),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shown.returncode == 2, shown.stderr[-2000:]
        assert "UNREACHABLE elasticsearch" in shown.stderr and "consumer lag" in shown.stdout
        wait_for(lambda: time.monotonic() - went >= outage_s, outage_s + 10, f"a {outage_s:.0f} s outage")
        stack.up(("elasticsearch",))
        back = time.monotonic()
        wait_for(lambda: _ledger_balanced(s), 300, "the stream to drain after the Elasticsearch outage")
        es_recovery = time.monotonic() - back
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()
    stderr = (tmp_path / "run.log").read_text()
    assert sorted(es_ids(s)) == sorted(a.article_id for a in articles + more)
    assert "recovered after" in stderr, stderr[-3000:]
    assert stderr.count('"dependency unavailable, retrying with backoff"') <= 20, "one warning per outage, not a flood"
    library = [line for line in stderr.splitlines() if '"logger": "kafka' in line or '"logger": "elastic' in line]
    # Each worker process rate-limits its own library lines (pipeline/logs.py: at most `burst` per message template
    # in a window of `period_s`, windows restarting at the next line). So in any `period_s` span a template shows at
    # most 2 x burst lines per process, however long a busy machine takes to drain; a flood breaks it within seconds.
    processes = sum(parse_workers(s.run_workers, stage_names(), s.partitions).values())
    limit = RateLimit()
    worst = _densest_template(library, limit.period_s)
    assert worst[0] <= processes * 2 * limit.burst, f"{worst[0]} lines of {worst[1]!r} within {limit.period_s:.0f} s"
    _record(
        f"broker restart, then a {outage_s:.0f} s Elasticsearch outage",
        s,
        f"broker {broker_recovery:.1f} s, Elasticsearch {es_recovery:.1f} s (to drained)",
    )


def _densest_template(lines: list[str], period_s: float) -> tuple[int, str]:
    """The most lines one (logger, level, template) shows within any `period_s` span, and that template."""
    times: dict[tuple, list[float]] = {}
    for line in lines:
        doc = orjson.loads(line)
        at = datetime.fromisoformat(doc["timestamp"]).timestamp()
        times.setdefault((doc["logger"], doc["level"], template(doc["event"])), []).append(at)
    worst = (0, "")
    for key, stamps in times.items():
        stamps.sort()
        start = 0
        for end, at in enumerate(stamps):
            while at - stamps[start] >= period_s:
                start += 1
            worst = max(worst, (end - start + 1, key[2]))
    return worst


def test_drill_sigkill_of_each_worker(settings) -> None:
    from pipeline import registry

    s = settings.model_copy(update={"batch_size": 5})
    articles = [
        build_article(text=_english(i), title=f"Report {i}", url=f"https://example.org/kill/{i}") for i in range(150)
    ]
    produce_raw(s, articles)
    env = settings_env(s)
    procs: dict[str, subprocess.Popen] = {}

    def start(stage: str) -> None:
        procs[stage] = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "worker", stage],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def progressed(stage: str) -> bool:
        """The stage's group has committed something: it is working (or done)."""
        topics = [s.topic(k) for k in registry.spec(stage).sources]
        return sum(_topic_size(s, t) for t in topics) - kafka_io.group_lag(s, s.group(stage), topics) > 0

    try:
        for stage in stage_names():
            start(stage)
        for stage in stage_names():
            wait_for(lambda stage=stage: progressed(stage), 180, f"{stage} to make progress")
            os.killpg(procs[stage].pid, signal.SIGKILL)
            procs[stage].wait(timeout=30)
            start(stage)
        killed = time.monotonic()
        wait_for(lambda: _ledger_balanced(s), 300, "the stream to drain after the kills")
        recovery = time.monotonic() - killed
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
    assert sorted(es_ids(s)) == sorted(a.article_id for a in articles)
    _record("SIGKILL of each worker in turn", s, f"{recovery:.1f} s from the last kill to drained")


# Words for distinct synthetic reports: no two share a story, so dedup keeps each and every one is enriched.
_CITIES = ("Kharkiv", "Odesa", "Lviv", "Dnipro", "Zaporizhzhia", "Kherson", "Sumy", "Poltava", "Chernihiv", "Mykolaiv")
_WORDS = {
    "en": {
        "verbs": ("shot down", "intercepted", "struck", "reported", "repelled"),
        "things": ("drones", "missiles", "tanks", "soldiers", "armoured vehicles", "helicopters"),
        "days": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "sentence": "On {day} {n} forces near {a} {verb} {m} {thing} close to {b}, officials said.",
    },
    "it": {
        "verbs": ("hanno abbattuto", "hanno intercettato", "hanno colpito", "hanno segnalato", "hanno respinto"),
        "things": ("droni", "missili", "carri armati", "soldati", "veicoli blindati", "elicotteri"),
        "days": ("Lunedì", "Martedì", "Mercoledì", "Giovedì", "Venerdì", "Sabato", "Domenica"),
        "sentence": "{day} {n} le forze di {a} {verb} {m} {thing} vicino a {b}.",
    },
}


def _report(seed: int, language: str) -> str:
    """A distinct synthetic report in English or Italian: four paragraphs of three sentences."""
    import random

    rng, words = random.Random(seed), _WORDS[language]

    def sentence() -> str:
        return words["sentence"].format(
            day=rng.choice(words["days"]),
            n=rng.randint(2, 28),
            a=rng.choice(_CITIES),
            b=rng.choice(_CITIES),
            verb=rng.choice(words["verbs"]),
            m=rng.randint(3, 900),
            thing=rng.choice(words["things"]),
        )

    return "\n\n".join(" ".join(sentence() for _ in range(3)) for _ in range(4))


def _english(seed: int) -> str:
    return _report(seed, "en")


def _italian(seed: int) -> str:
    return _report(seed, "it")


def _indexed(settings) -> int:
    es = client(settings)
    try:
        es.indices.refresh(index=settings.index_alias)
        return es.count(index=settings.index_alias)["count"]
    except Exception:  # noqa: BLE001 - Elasticsearch is down in the drill: nothing to count yet
        return -1


def _topic_size(settings, topic: str) -> int:
    c = kafka_io.consumer(settings, None)
    try:
        tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic) or ()]
        return sum(c.end_offsets(tps).values())
    finally:
        c.close()


def _main(settings, argv: list[str]) -> int:
    """`newsflow ARGV` in-process with these settings in the environment."""
    from pipeline.cli import main

    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("NEWSFLOW_")]:
            mp.delenv(key)
        for key, value in settings_env(settings).items():
            if key.startswith("NEWSFLOW_"):
                mp.setenv(key, value)
        return main(argv)

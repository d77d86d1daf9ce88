"""The local Airflow for real: started by `pipeline.airflow_local`, driven through its API and, with headless
Chromium, through its UI; stopped in a finalizer (also on failure) with nothing left running.

Needs Debian's chromium (`/usr/bin/chromium`) and the `playwright` Python package (no `playwright install`).
The screenshots are kept in `test-artifacts/`.
"""

from __future__ import annotations

import re
import shutil

import orjson
import pytest

from pipeline import kafka_io
from pipeline.localstack import airflow as airflow_local
from pipeline.localstack.processes import free_ports
from pipeline.sources.files import read_paths
from tests.airflow_client import AirflowClient
from tests.conftest import ROOT, SEEDS
from tests.feed_server import FeedServer

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
DAG_IDS = ("news_bootstrap", "news_ingest", "news_quality", "news_replay", "news_retranslate")
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def feeds():
    with FeedServer() as server:
        yield server


@pytest.fixture
def local_airflow(settings, feeds, tmp_path):
    """Airflow on a free port with this test's settings; stopped afterwards, whatever happened, and checked gone."""
    sources = tmp_path / "sources.json"
    sources.write_text(
        orjson.dumps(
            {
                "sources": [
                    {"name": "seeds", "kind": "folder", "path": str(SEEDS)},
                    {"name": "efm", "kind": "feed", "url": feeds.url("/feeds/rss.xml")},
                ]
            }
        ).decode()
    )
    # runs come from this test, not the clock
    these = settings.model_copy(update={"sources_file": sources, "ingest_schedule": "none"})
    home = tmp_path / "airflow"
    try:
        yield airflow_local.up(these, home, free_ports(1)[0], say=lambda _: None)
    finally:
        airflow_local.down(home, say=print)
        assert airflow_local.processes_of(home) == [], "processes of the local Airflow are still running"
        assert not airflow_local.status(home).running


def test_operator_logs_in_and_sees_the_dags_and_a_successful_ingest(local_airflow, settings) -> None:
    if shutil.which("chromium") is None:
        pytest.fail(
            "chromium is not installed: `apt-get install chromium` (make system-deps with NEWSFLOW_WITH_BROWSER=1)"
        )
    from playwright.sync_api import expect, sync_playwright

    api = AirflowClient.for_local(local_airflow)
    try:
        dags = api.wait_for_dags(DAG_IDS, timeout_s=120)
        assert not any(dags[d]["is_paused"] for d in DAG_IDS), "DAGs must be unpaused at creation"
        run_id = api.trigger("news_ingest")
        state = api.wait_for_run("news_ingest", run_id, timeout_s=180)
        tasks = {
            (t["task_id"], t.get("rendered_map_index")): t["state"] for t in api.task_instances("news_ingest", run_id)
        }
    finally:
        api.close()
    assert state == "success", tasks
    assert tasks.get(("pull_source", "seeds")) == tasks.get(("pull_source", "efm")) == "success", tasks
    produced = {r.key.decode() for r in kafka_io.read_topic(settings, settings.topic("raw"))}
    assert {a.article_id for a in read_paths([SEEDS])} <= produced and len(produced) == 7

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(ARTIFACTS / ".chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=BROWSER_FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = browser.new_page()
            page.goto(local_airflow.url)
            page.get_by_label("Username").fill(local_airflow.username)
            page.get_by_label("Password").fill(local_airflow.password)
            page.get_by_role("button", name="Sign in").click()
            expect(page).not_to_have_url(re.compile(r"/auth/login"), timeout=30_000)

            page.goto(f"{local_airflow.url}/dags")
            for dag_id in DAG_IDS:
                expect(page.get_by_text(dag_id, exact=True).first).to_be_visible(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "airflow-dags.png"), full_page=True)

            page.goto(f"{local_airflow.url}/dags/news_ingest/runs/{run_id}")
            expect(page.get_by_text(run_id).first).to_be_visible(timeout=30_000)
            expect(page.get_by_text(re.compile(r"^success$", re.IGNORECASE)).first).to_be_visible(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "airflow-news_ingest-run.png"), full_page=True)
        finally:
            browser.close()
            shutil.rmtree(ARTIFACTS / ".chromium-profile", ignore_errors=True)

"""
### news_ingest — pull every source into `news.raw.v1`

One mapped task per entry of the sources file (`NEWSFLOW_SOURCES_FILE`, default `sources.yaml`):
seeds folders, RSS/Atom feeds, URL lists, JSONL dumps. Each task fetches what is new since its last
run (ids already given, ETag/Last-Modified), extracts article text, and produces to `news.raw.v1`
with delivery confirmed before it succeeds. An item that is bad input (it breaks the raw contract,
its date cannot be represented, its text is not valid Unicode) goes to `news.dlq.v1` with stage
`ingest`, the reason and its bytes, instead of being dropped. The task's return value counts what it
did, with skips and dead letters by reason (malformed feed, no article text, unknown encoding...).
A page that cannot be fetched for now is tried again next run. An unreachable source fails its own
task, which is retried; the other sources are not held up.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task
from newsflow_dag_common import COMMON, SETTINGS  # from the DAGs folder, on sys.path under Airflow

# Read when the file is parsed (schedule and retries are DAG structure); everything else is read in the task.
SCHEDULE = None if SETTINGS.ingest_schedule.strip().lower() == "none" else SETTINGS.ingest_schedule  # manual only
RAW_TOPIC = Asset(name="news.raw.v1", uri="kafka://newsflow/news.raw.v1", group="kafka")


@dag(
    dag_id="news_ingest",
    schedule=SCHEDULE,
    **COMMON,
    tags=["newsflow", "ingest"],
    doc_md=__doc__,
)
def news_ingest():
    @task
    def list_sources() -> list[dict]:
        """The sources file, checked: one entry per mapped task."""
        from pipeline.config import Settings
        from pipeline.sources import load_sources

        return [spec.to_dict() for spec in load_sources(Settings().sources_file)]

    @task(outlets=[RAW_TOPIC], map_index_template="{{ source_name }}", multiple_outputs=False)
    def pull_source(source: dict) -> dict:
        """Fetch one source and produce its new articles to news.raw.v1 (bad input to news.dlq.v1), confirmed."""
        from airflow.sdk import get_current_context

        from pipeline.config import Settings
        from pipeline.sources import SourceSpec, ingest_source

        get_current_context()["source_name"] = source["name"]
        return ingest_source(Settings(), SourceSpec.from_dict(source)).to_dict()

    pull_source.expand(source=list_sources())


news_ingest()

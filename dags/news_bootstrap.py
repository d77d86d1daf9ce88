"""
### news_bootstrap — topics, index template, first index and alias

Run it once on a new cluster (and again whenever you like: every step is idempotent). Creates every
`news.*.v1` topic with its retention/compaction, the compacted source-state topic of news_ingest,
the index template, the first versioned index and the alias readers use, and — when
`NEWSFLOW_KIBANA_URL` is set — imports the analysts' saved objects into Kibana.
"""

from __future__ import annotations

from airflow.sdk import dag, task
from newsflow_dag_common import COMMON  # from the DAGs folder, on sys.path under Airflow


@dag(
    dag_id="news_bootstrap",
    schedule=None,
    **COMMON,
    tags=["newsflow", "ops"],
    doc_md=__doc__,
)
def news_bootstrap():
    @task(multiple_outputs=False)
    def topics() -> dict:
        """Every topic, created when missing."""
        from pipeline import kafka_io
        from pipeline.config import Settings

        return kafka_io.ensure_topics(Settings())

    @task(multiple_outputs=False)
    def index() -> dict:
        """Index template, first versioned index and the alias."""
        from pipeline.config import Settings
        from pipeline.sinks.elasticsearch import IndexAdmin, client

        settings = Settings()
        return IndexAdmin(client(settings), settings).ensure()

    @task(multiple_outputs=False)
    def kibana() -> dict:
        """The saved objects (data view, searches, dashboard), when a Kibana URL is configured."""
        from pipeline.config import PROJECT_ROOT, Settings
        from pipeline.operations.kibana import import_saved_objects

        settings = Settings()
        if not settings.kibana_url:
            return {"skipped": "NEWSFLOW_KIBANA_URL is not set"}
        result = import_saved_objects(
            settings.kibana_url,
            PROJECT_ROOT / "kibana" / "saved_objects.ndjson",
            username=settings.kibana_username,
            password=settings.kibana_password,
            api_key=settings.kibana_api_key,
            space=settings.kibana_space,
            index_alias=settings.index_alias,
        )
        return {"imported": result.success_count, "warnings": list(result.warnings)}

    index() >> kibana()
    topics()


news_bootstrap()

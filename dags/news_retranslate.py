"""
### news_retranslate — try pending translations again

Articles indexed with `translation.status = "pending"` (the provider kept failing) are produced
again to `news.detected.v1`, the translate stage's input, as that topic's schema wants them; from
there they flow through translate, dedup (which recognises them as themselves), enrich and index,
which overwrites the document by `article_id`. At most `NEWSFLOW_RETRANSLATE_MAX_ARTICLES` per run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, task

DEFAULT_ARGS = {
    "owner": "newsflow",
    "retries": int(os.environ.get("NEWSFLOW_DAG_RETRIES") or 3),
    "retry_delay": timedelta(seconds=float(os.environ.get("NEWSFLOW_DAG_RETRY_DELAY_S") or 60)),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}
DETECTED_TOPIC = Asset(name="news.detected.v1", uri="kafka://newsflow/news.detected.v1", group="kafka")


@dag(
    dag_id="news_retranslate",
    schedule="@hourly",
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "ops"],
    doc_md=__doc__,
)
def news_retranslate():
    @task(outlets=[DETECTED_TOPIC], multiple_outputs=False)
    def resend_pending() -> dict:
        """Pending-translation articles back to news.detected.v1, confirmed."""
        from pipeline.config import Settings
        from pipeline.replay import retranslate
        from pipeline.sinks.elasticsearch import client

        settings = Settings()
        return retranslate(settings, client(settings), settings.retranslate_max_articles).to_dict()

    resend_pending()


news_retranslate()

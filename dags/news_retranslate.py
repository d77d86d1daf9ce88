"""
### news_retranslate — try pending translations again

Articles indexed with `translation.status = "pending"` (the provider kept failing) are produced
again to `news.detected.v1`, the translate stage's input, as that topic's schema wants them; from
there they flow through translate, dedup (which recognises them as themselves), enrich and index,
which overwrites the document by `article_id`. At most `NEWSFLOW_RETRANSLATE_MAX_ARTICLES` per run.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task
from newsflow_dag_common import COMMON  # from the DAGs folder, on sys.path under Airflow

DETECTED_TOPIC = Asset(name="news.detected.v1", uri="kafka://newsflow/news.detected.v1", group="kafka")


@dag(
    dag_id="news_retranslate",
    schedule="@hourly",
    **COMMON,
    tags=["newsflow", "ops"],
    doc_md=__doc__,
)
def news_retranslate():
    @task(outlets=[DETECTED_TOPIC], multiple_outputs=False)
    def resend_pending() -> dict:
        """Pending-translation articles back to news.detected.v1, confirmed."""
        from pipeline.config import Settings
        from pipeline.operations.retranslate import retranslate
        from pipeline.sinks.elasticsearch import client

        settings = Settings()
        return retranslate(settings, client(settings), settings.retranslate_max_articles).to_dict()

    resend_pending()


news_retranslate()

"""
### news_quality — is the stream healthy?

Four independent checks; each fails its task with a message that says what is wrong:
- **ledger**: the audit ledger of the last `NEWSFLOW_AUDIT_WINDOW_S` (the same as `newsflow audit`): every
  raw message older than `NEWSFLOW_QUALITY_LEDGER_GRACE_S` is indexed (unique or duplicate) or in the DLQ,
  and no stage worker is held by infrastructure (401/403, a missing index or topic) — held is a failure
  here, never "balanced";
- **dlq_growth**: at most `NEWSFLOW_QUALITY_MAX_DLQ_GROWTH` DLQ records per `NEWSFLOW_QUALITY_WINDOW_S`;
- **consumer_lag**: each stage's lag at most `NEWSFLOW_QUALITY_MAX_LAG`;
- **freshness**: the newest indexed article younger than `NEWSFLOW_QUALITY_MAX_STALENESS_S`.
A breach is not retried (the data will not change in a minute); an unreachable Kafka/Elasticsearch is.
"""

from __future__ import annotations

from airflow.sdk import dag, task
from newsflow_dag_common import COMMON  # from the DAGs folder, on sys.path under Airflow


def _verdict(check) -> dict:
    """Fail the task without retries on a breach; return the details otherwise."""
    from airflow.sdk.exceptions import AirflowFailException

    if not check.ok:
        raise AirflowFailException(f"{check.name}: {check.message}")
    print(f"{check.name}: {check.message}")
    return check.details


@dag(
    dag_id="news_quality",
    schedule="@hourly",
    **COMMON,
    tags=["newsflow", "ops"],
    doc_md=__doc__,
)
def news_quality():
    @task(multiple_outputs=False)
    def ledger() -> dict:
        """raw = indexed unique + indexed duplicates + DLQ, allowing for articles in flight; fails when held."""
        from pipeline.config import Settings
        from pipeline.operations.quality import QualityConfig, check_ledger

        settings = Settings()
        return _verdict(check_ledger(settings, None, QualityConfig.from_settings(settings)))

    @task(multiple_outputs=False)
    def dlq_growth() -> dict:
        """DLQ records added in the last window."""
        from pipeline.config import Settings
        from pipeline.operations.quality import QualityConfig, check_dlq_growth

        settings = Settings()
        return _verdict(check_dlq_growth(settings, QualityConfig.from_settings(settings)))

    @task(multiple_outputs=False)
    def consumer_lag() -> dict:
        """Lag of every stage's consumer group."""
        from pipeline.config import Settings
        from pipeline.operations.quality import QualityConfig, check_consumer_lag

        settings = Settings()
        return _verdict(check_consumer_lag(settings, QualityConfig.from_settings(settings)))

    @task(multiple_outputs=False)
    def freshness() -> dict:
        """Age of the newest indexed article."""
        from pipeline.config import Settings
        from pipeline.operations.quality import QualityConfig, check_freshness
        from pipeline.sinks.elasticsearch import client

        settings = Settings()
        return _verdict(check_freshness(settings, client(settings), QualityConfig.from_settings(settings)))

    ledger()
    dlq_growth()
    consumer_lag()
    freshness()


news_quality()

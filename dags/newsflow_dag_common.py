"""What every newsflow DAG shares: retries with exponential backoff, no catch-up, one run at a time.

Not a DAG file (listed in `.airflowignore`); the DAG files import it from the DAGs folder, which Airflow
puts on `sys.path`. The retry settings and the ingest schedule are DAG structure, read from the one
`Settings` object (its defaults, its validation) when the DAG files are parsed; everything else is read
inside the tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.config import Settings

SETTINGS = Settings()

DEFAULT_ARGS = {
    "owner": "newsflow",
    "retries": SETTINGS.dag_retries,
    "retry_delay": timedelta(seconds=SETTINGS.dag_retry_delay_s),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}

# Keyword arguments of @dag common to every newsflow DAG.
COMMON = {
    "start_date": datetime(2024, 1, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,
    "is_paused_upon_creation": False,
    "default_args": DEFAULT_ARGS,
}

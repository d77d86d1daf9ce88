"""What every newsflow DAG shares: retries with exponential backoff, no catch-up, one run at a time.

Not a DAG file (listed in `.airflowignore`); the DAG files import it from the DAGs folder, which Airflow
puts on `sys.path`. Standard library only, so parsing stays cheap. The retry settings are read when the
DAG files are parsed.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

DEFAULT_ARGS = {
    "owner": "newsflow",
    "retries": int(os.environ.get("NEWSFLOW_DAG_RETRIES") or 3),
    "retry_delay": timedelta(seconds=float(os.environ.get("NEWSFLOW_DAG_RETRY_DELAY_S") or 60)),
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

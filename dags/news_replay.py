"""
### news_replay — rebuild the index from a topic window, then swap the alias

Trigger it with parameters:
- `source`: `enriched` re-indexes the finished records (`news.enriched.v1` + `news.duplicates.v1`);
  `raw` runs `news.raw.v1` through detect, translate, dedup and enrich again (in the task) first;
- `since` / `until`: the window, ISO 8601 with a time zone, by broker timestamp (empty: from the
  beginning of the topic's retention / up to now);
- `swap_alias`: point the alias at the new index when done (off: build it and leave it for inspection).

The new index is the next version (`<alias>-v<N+1>`) with the current template. When the window runs
to now, the new index becomes the write index first, so nothing the index workers write meanwhile is
lost; the old index leaves the alias in one atomic request and is kept for rollback. A retry after a
failure builds the next version again (the half-built one is left out of the alias by the swap).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from newsflow_dag_common import COMMON  # from the DAGs folder, on sys.path under Airflow


@dag(
    dag_id="news_replay",
    schedule=None,
    **COMMON,
    tags=["newsflow", "ops"],
    doc_md=__doc__,
    params={
        "source": Param("enriched", enum=["enriched", "raw"], description="topic window to replay"),
        "since": Param(None, type=["null", "string"], description="window start, ISO 8601 with zone"),
        "until": Param(None, type=["null", "string"], description="window end, ISO 8601 with zone"),
        "swap_alias": Param(True, type="boolean", description="move the alias to the new index"),
    },
)
def news_replay():
    @task(multiple_outputs=False)
    def replay_window(params: dict | None = None) -> dict:
        """Replay the window into the next index version and swap the alias."""
        from pipeline.config import Settings
        from pipeline.replay import replay
        from pipeline.sinks.elasticsearch import client

        settings = Settings()
        return replay(
            settings, client(settings), source=params["source"], since=params["since"] or None,
            until=params["until"] or None, swap=bool(params["swap_alias"]),
        ).to_dict()

    replay_window()


news_replay()

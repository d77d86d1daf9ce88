"""
### news_replay — rebuild the index from a topic window, then swap the alias

Trigger it with parameters:
- `source`: `enriched` re-indexes the finished records (`news.enriched.v1` + `news.duplicates.v1`);
  `raw` runs `news.raw.v1` through detect, translate, dedup and enrich again (in the task) first;
- `since` / `until`: the window, ISO 8601 with a time zone, by broker timestamp (empty: from the
  beginning of the topic's retention / up to now);
- `swap_alias`: point the alias at the new index when done (off: build it and leave it for inspection);
- `accept_loss`: swap even when records could not be read or the new index refused them.

The new index is the next version (`<alias>-v<N+1>`) with the current template. When the window runs
to now, the new index becomes the write index first, so nothing the index workers write meanwhile is
lost; the old index leaves the alias in one atomic request and is kept for rollback.

When any record could not be read or the new index refused it, swapping would make it vanish from
search: unless `accept_loss`, the alias stays on the old index (with what the index workers wrote
meanwhile), the new one is kept outside it for inspection, and the task fails without retrying,
listing the refused articles (article_id and reason) in its log. Fix the cause and trigger again, or
trigger with `accept_loss` on. A failure mid-way puts the alias back the same way; a retry builds the
next version again.
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
        "accept_loss": Param(
            False, type="boolean", description="swap even when documents were refused or unreadable (they are listed)"
        ),
    },
)
def news_replay():
    @task(multiple_outputs=False)
    def replay_window(params: dict | None = None) -> dict:
        """Replay the window into the next index version and swap the alias; fails, not retried, when it kept the alias."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.config import Settings
        from pipeline.operations.replay import replay
        from pipeline.sinks.elasticsearch import client

        settings = Settings()
        report = replay(
            settings,
            client(settings),
            source=params["source"],
            since=params["since"] or None,
            until=params["until"] or None,
            swap=bool(params["swap_alias"]),
            accept_loss=bool(params.get("accept_loss")),
        )
        if report.swap_refused:  # a retry would build yet another version with the same refusals
            listed = "\n".join(f"  {r.article_id}: {r.reason}" for r in report.refused[:100])
            if len(report.refused) > 100:
                listed += f"\n  … and {len(report.refused) - 100} more (the `replay` log line lists them all)"
            raise AirflowFailException(
                f"refused to swap {settings.index_alias}: {len(report.refused)} documents are not in {report.index}, "
                f"which is kept outside the alias; the alias still points at {', '.join(report.previous)}. Fix the "
                f"cause and trigger again, or trigger with accept_loss=true.\n{listed}"
            )
        return report.to_dict()

    replay_window()


news_replay()

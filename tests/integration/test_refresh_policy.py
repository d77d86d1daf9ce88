"""The index sink's refresh policy: a batch smaller than a full poll (the worker has caught up) is searchable at
once; a full batch (backlog) waits for the index's periodic refresh. The periodic refresh is switched off here,
so "searchable" can only come from the policy."""

from __future__ import annotations

import pytest

from pipeline.sinks.elasticsearch import ElasticsearchSink, client
from pipeline.sources.files import build_article

pytestmark = pytest.mark.integration


def _articles(n: int, tag: str):
    return [
        build_article(
            text=f"Story {tag} {i}: the port reopened.", title=f"{tag} {i}", url=f"https://example.org/{tag}/{i}"
        )
        for i in range(n)
    ]


def _searchable(settings, articles) -> int:
    es = client(settings)
    ids = [a.article_id for a in articles]
    return es.count(index=settings.index_alias, query={"ids": {"values": ids}})["count"]


def test_a_caught_up_batch_is_searchable_at_once_and_a_full_one_waits_for_the_refresh(settings) -> None:
    s = settings.model_copy(update={"batch_size": 4, "index_refresh_min_interval_s": 0.0})
    es = client(s)
    es.indices.put_settings(index=s.index_alias, settings={"index": {"refresh_interval": "-1"}})
    sink = ElasticsearchSink(es, s)

    small = _articles(3, "small")  # fewer than a full poll: caught up
    assert sink.write(small) == [None] * 3
    assert _searchable(s, small) == 3

    full = _articles(4, "full")  # a full poll: backlog, no refresh of our own
    assert sink.write(full) == [None] * 4
    assert _searchable(s, full) == 0
    es.indices.refresh(index=s.index_alias)
    assert _searchable(s, full) == 4


def test_the_policy_can_be_switched_off(settings) -> None:
    s = settings.model_copy(update={"batch_size": 4, "index_refresh_when_caught_up": False})
    es = client(s)
    es.indices.put_settings(index=s.index_alias, settings={"index": {"refresh_interval": "-1"}})
    small = _articles(2, "off")
    assert ElasticsearchSink(es, s).write(small) == [None] * 2
    assert _searchable(s, small) == 0

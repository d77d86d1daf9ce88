"""translate through real Kafka: an Italian article leaves news.translated.v1 in English with its original intact;
a pending one is indexed untranslated and `newsflow retranslate` sends it through again."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.sinks.elasticsearch import client
from pipeline.sources.files import build_article
from tests.integration.conftest import drain, produce_raw, read_json

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "articles"


def test_an_italian_article_comes_out_in_english_with_its_original_intact(settings, _translation_stays_local) -> None:
    text = (FIXTURES / "italian.txt").read_text()
    article = build_article(
        text=text,
        title="Kiev avanza nella regione di Kharkiv",
        url="https://example.it/kharkiv",
        published="2022-09-12T08:00:00Z",
    )
    produce_raw(settings, [article])
    before = len(_translation_stays_local.received)

    drain(settings, ["detect", "translate"])

    [out] = read_json(settings, "translated")
    assert out["language"]["code"] == "it"
    assert out["text"] == article.text and out["title"] == article.title  # originals untouched
    assert out["translation"]["status"] == "translated", out["translation"]
    assert out["translation"]["source_language"] == "it" and out["translation"]["provider"] == "libre"
    # The local provider's "translation" is upper case: every paragraph came back, in order.
    assert out["text_en"] == article.text.upper()
    assert out["title_en"] == article.title.upper()
    assert len(_translation_stays_local.received) > before


def test_pending_translation_is_indexed_then_retranslated(settings, _translation_stays_local, capsys) -> None:
    text = (FIXTURES / "italian.txt").read_text().replace("Kiev", "Kyiv")
    article = build_article(
        text=text, title="Kyiv avanza", url="https://example.it/pending", published="2022-09-12T09:00:00Z"
    )
    produce_raw(settings, [article])
    down = settings.model_copy(update={"translate_max_attempts": 1, "translate_base_url": "http://127.0.0.1:9"})

    drain(down, ["detect", "translate", "dedup", "enrich", "index"])

    es = client(settings)
    es.indices.refresh(index=settings.index_alias)
    doc = es.get(index=settings.index_alias, id=article.article_id)["_source"]
    assert doc["translation"]["status"] == "pending" and doc["translation"]["error"]
    assert not doc.get("text_en")

    assert main_with(settings, ["retranslate"]) == 0
    assert "sent back to" in capsys.readouterr().out
    drain(settings, ["translate", "dedup", "enrich", "index"])

    es.indices.refresh(index=settings.index_alias)
    doc = es.get(index=settings.index_alias, id=article.article_id)["_source"]
    assert doc["translation"]["status"] == "translated"
    assert doc["text_en"] == article.text.upper()


def main_with(settings, argv: list[str]) -> int:
    """`newsflow ARGV` with this test's settings in the environment."""
    from tests.integration.conftest import settings_env

    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings_env(settings).items():
            if key.startswith("NEWSFLOW_"):
                mp.setenv(key, value)
        return main(argv)

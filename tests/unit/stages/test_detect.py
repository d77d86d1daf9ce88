"""detect: document and paragraph languages on real text, deterministic, `und` when unsure."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sources.files import build_article
from pipeline.stages.base import Emit
from pipeline.stages.detect import DetectConfig, DetectStage, build_detector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "articles"


@pytest.fixture(scope="module", params=["langdetect", "lingua"])
def stage(request) -> DetectStage:
    return DetectStage(build_detector(request.param), paragraph_detector=build_detector("lingua"))


def test_italian_article(stage: DetectStage) -> None:
    language = stage.detect("Kiev avanza verso il confine", (FIXTURES / "italian.txt").read_text())
    assert language.code == "it" and language.confidence >= 0.9
    assert not language.mixed
    assert [p.code for p in language.paragraphs] == ["it", "it", "it"]


def test_english_seed_with_an_italian_fragment_is_english(stage: DetectStage, seeds_dir: Path) -> None:
    language = stage.detect(None, (seeds_dir / "001_8e5d438f0169c215.txt").read_text())
    assert language.code == "en" and language.confidence >= 0.9


def test_mixed_article_flags_its_italian_paragraph(stage: DetectStage) -> None:
    language = stage.detect(None, (FIXTURES / "mixed.txt").read_text())
    assert language.code == "en"
    assert language.mixed is True
    assert [(p.index, p.code) for p in language.paragraphs] == [(0, "en"), (1, "it"), (2, "en")]


@pytest.mark.parametrize("text", ["Ok.", "12 345 678 — 2024/08/27", "!!!", "   \n  "])
def test_too_little_text_is_undetermined_not_a_crash(stage: DetectStage, text: str) -> None:
    language = stage.detect(None, text)
    assert language.code == "und" and language.confidence == 0.0 and language.paragraphs == []


def test_low_confidence_is_undetermined() -> None:
    strict = DetectStage(build_detector("langdetect"), DetectConfig(min_confidence=1.01))
    assert strict.detect(None, (FIXTURES / "italian.txt").read_text()).code == "und"


def test_deterministic() -> None:
    text = "Ukraine and Russia traded strikes overnight; Kyiv said its air defences were busy until dawn."
    first = [DetectStage(build_detector("langdetect")).detect(None, text) for _ in range(3)]
    assert all(language == first[0] for language in first)


def test_stage_emits_every_article_to_detected_with_originals_untouched() -> None:
    stage = DetectStage(build_detector("langdetect"), paragraph_detector=build_detector("lingua"))
    text = (FIXTURES / "italian.txt").read_text()
    articles = [
        build_article(text=text, title="Kiev avanza", url="https://example.it/a"),
        build_article(text="...", title=None, url="https://example.it/b"),
    ]
    results = stage.process(articles)
    assert all(isinstance(r, Emit) and r.topic == "detected" for r in results)
    assert [r.article.language.code for r in results] == ["it", "und"]
    assert results[0].article.text == text and "detect" in results[0].article.pipeline.stages


def test_unknown_detector_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown language detector"):
        build_detector("cld3")

"""Builds the stages from the settings: the one place that knows which implementation each stage uses."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.stages.base import Stage

# Flow order: `newsflow run` steps the workers in this order.
STAGES = ("detect", "translate", "dedup", "enrich", "index")
PROCESSING_STAGES = STAGES[:-1]


def build_stage(name: str, settings: Settings) -> Stage:
    """A ready stage with its heavy resources built once."""
    if name == "detect":
        from pipeline.stages.detect import DetectConfig, DetectStage, build_detector

        languages = [c.strip() for c in settings.detector_languages.split(",") if c.strip()]
        return DetectStage(
            build_detector(settings.detector, languages),
            DetectConfig(min_confidence=settings.detect_min_confidence),
            paragraph_detector=build_detector(settings.paragraph_detector, languages),
        )
    if name == "translate":
        from pipeline.stages.placeholders import PassThroughTranslate

        return PassThroughTranslate()
    if name == "dedup":
        from pipeline.stages.placeholders import PassThroughDedup

        return PassThroughDedup()
    if name == "enrich":
        from pipeline.stages.placeholders import PassThroughEnrich

        return PassThroughEnrich()
    if name == "index":
        from pipeline.sinks.elasticsearch import ElasticsearchSink, client
        from pipeline.stages.index import IndexStage

        return IndexStage(ElasticsearchSink(client(settings), settings))
    raise KeyError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")

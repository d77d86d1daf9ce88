"""Wires each stage to its implementation: every stage builds itself from the one Settings object; the index
stage gets the Elasticsearch sink here (stages know no client), translate a probe of its consumer lag."""

from __future__ import annotations

import time

from pipeline.config import Settings
from pipeline.stages.base import Stage


def build_named(name: str, settings: Settings) -> Stage:
    """The stage called `name`, built from the settings (the registry calls this)."""
    if name == "detect":
        from pipeline.stages.detect import build_detect_stage

        return build_detect_stage(settings)
    if name == "translate":
        from pipeline.stages.translate import build_translate_stage

        return build_translate_stage(settings, lag=_LagProbe(settings, "translate", "detected"))
    if name == "dedup":
        from pipeline.stages.deduplicate import build_dedup_stage

        return build_dedup_stage(settings)
    if name == "enrich":
        from pipeline.stages.enrich import build_enrich_stage

        return build_enrich_stage(settings)
    if name == "index":
        from pipeline.sinks.elasticsearch import ElasticsearchSink, client
        from pipeline.stages.index import IndexStage

        return IndexStage(ElasticsearchSink(client(settings), settings))
    raise KeyError(f"no builder for stage {name!r}")


def preload_named(name: str, settings: Settings) -> None:
    """Load what the stage's forked processes can share: enrich's spaCy pipelines and tables (both cached)."""
    if name == "enrich":
        from pipeline.enrichment.model import load_model, load_parser
        from pipeline.stages.enrich import DATA_DIR, shared_tables

        load_model(settings.enrich_model)
        load_parser(settings.enrich_model)
        shared_tables(DATA_DIR, settings.enrich_min_city_population, settings.enrich_fuzzy_min_similarity)


class _LagProbe:
    """The stage's consumer lag, asked of the broker at most every `every_s` seconds (it is one round trip)."""

    def __init__(self, settings: Settings, stage: str, source: str, every_s: float = 10.0) -> None:
        self.settings, self.group, self.topic, self.every_s = (
            settings,
            settings.group(stage),
            settings.topic(source),
            every_s,
        )
        self._value, self._at = 0, float("-inf")

    def __call__(self) -> int:
        if time.monotonic() - self._at >= self.every_s:
            from pipeline.kafka_io import group_lag

            self._value, self._at = group_lag(self.settings, self.group, [self.topic]), time.monotonic()
        return self._value

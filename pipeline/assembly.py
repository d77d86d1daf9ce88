"""Builds the stages from the settings: the one place that knows which implementation each stage uses."""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.config import Settings
from pipeline.stages.base import Stage


def build_named(name: str, settings: Settings) -> Stage:
    """The stage called `name`, built from the settings (the registry calls this)."""
    if name == "detect":
        from pipeline.stages.detect import DetectConfig, DetectStage, build_detector

        languages = [c.strip() for c in settings.detector_languages.split(",") if c.strip()]
        return DetectStage(
            build_detector(settings.detector, languages),
            DetectConfig(min_confidence=settings.detect_min_confidence),
            paragraph_detector=build_detector(settings.paragraph_detector, languages),
        )
    if name == "translate":
        from pipeline.stages.translate import build_translate_stage

        key = settings.translate_api_key
        return build_translate_stage(
            cache_path=settings.translate_cache_path or Path(settings.cache_dir) / "translations.sqlite",
            provider=settings.translate_provider,
            source_languages=settings.translate_source_languages,
            target=settings.translate_target,
            api_key=key.get_secret_value() if key is not None else None,
            base_url=settings.translate_base_url,
            region=settings.translate_region,
            deepl_free_api=settings.translate_deepl_free_api,
            email=settings.translate_email,
            max_chars=settings.translate_max_chars,
            concurrency=settings.translate_concurrency,
            requests_per_second=settings.translate_requests_per_second,
            call_timeout_s=settings.translate_call_timeout_s,
            max_attempts=settings.translate_max_attempts,
            backoff_initial_s=settings.translate_backoff_initial_s,
            backoff_max_s=settings.translate_backoff_max_s,
            batch_budget_s=settings.translate_batch_budget_s,
            breaker_threshold=settings.translate_breaker_threshold,
            breaker_cooldown_s=settings.translate_breaker_cooldown_s,
            lead_lag_threshold=settings.translate_lead_lag_threshold,
            lead_paragraphs=settings.translate_lead_paragraphs,
            lag=_LagProbe(settings, "translate", "detected"),
        )
    if name == "dedup":
        from pipeline.stages.deduplicate import build_dedup_stage

        return build_dedup_stage(
            threshold=settings.dedup_threshold,
            lsh_threshold=settings.dedup_lsh_threshold,
            num_perm=settings.dedup_num_perm,
            shingle_words=settings.dedup_shingle_words,
            window_days=settings.dedup_window_days,
            min_words=settings.dedup_min_words,
            min_lead_share=settings.dedup_min_lead_share,
        )
    if name == "enrich":
        from pipeline.stages.enrich import build_enrich_stage

        return build_enrich_stage(
            settings.enrich_model,
            settings.enrich_batch_size,
            min_city_population=settings.enrich_min_city_population,
            treat_und_as_english=settings.enrich_treat_und_as_english,
            fuzzy_min_similarity=settings.enrich_fuzzy_min_similarity,
            max_chars=settings.enrich_max_chars,
            repeated_line_min_articles=settings.enrich_repeated_line_min_articles,
        )
    if name == "index":
        from pipeline.sinks.elasticsearch import ElasticsearchSink, client
        from pipeline.stages.index import IndexStage

        return IndexStage(ElasticsearchSink(client(settings), settings))
    raise KeyError(f"no builder for stage {name!r}")


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

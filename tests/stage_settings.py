"""Tests build stages from the one Settings object; these helpers spell a stage's settings by short name."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.stages.deduplicate import DedupStage, build_dedup_stage
from pipeline.stages.translate import TranslateStage, build_translate_stage

DEDUP_SETTINGS = {
    "threshold",
    "lsh_threshold",
    "num_perm",
    "shingle_words",
    "window_days",
    "min_words",
    "min_lead_share",
}


def settings_for(prefix: str, **options) -> Settings:
    """Settings with `<prefix>_<name>` set from each short `name=value`; everything else as configured."""
    return Settings(**{f"{prefix}_{name}": value for name, value in options.items()})


def translate_stage(**options) -> TranslateStage:
    """`build_translate_stage` with NEWSFLOW_TRANSLATE_* given by short name (`provider="libre"`)."""
    lag = options.pop("lag", None)
    # Like a deployment that set only these: no provider URL or key from the test session's environment.
    options = {"base_url": None, "api_key": None, **options}
    settings = settings_for("translate", **options)
    return build_translate_stage(settings) if lag is None else build_translate_stage(settings, lag=lag)


def dedup_stage(**options) -> DedupStage:
    """`build_dedup_stage` with NEWSFLOW_DEDUP_* by short name; the algorithm's internals (`seed`, `state`...) as is."""
    settings = settings_for("dedup", **{k: v for k, v in options.items() if k in DEDUP_SETTINGS})
    return build_dedup_stage(settings, **{k: v for k, v in options.items() if k not in DEDUP_SETTINGS})

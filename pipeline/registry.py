"""The one table of stages: name, what it reads, what it writes, how it is built.

`newsflow run`/`worker`/`process`, `status`, the quality checks, replay from raw and the docs read it.
Adding a stage is one `register(StageSpec(...))`: the runner, the CLI and `status` pick it up.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.config import TOPIC_KEYS, Settings
from pipeline.stages.base import Stage


class StageConfigError(ValueError):
    """A stage refused its settings (no API key, unknown provider, unsupported language...)."""


@dataclass(frozen=True)
class StageSpec:
    """One stage of the flow."""

    name: str
    sources: tuple[str, ...]  # topic keys it consumes
    outputs: tuple[str, ...]  # topic keys it produces to (besides news.dlq.v1 and news.ledger.v1)
    build: Callable[[Settings], Stage]
    summary: str
    processing: bool = True  # part of `newsflow process` and of a replay from raw (the index is not)
    # Loads, in `newsflow run`'s parent before it forks the workers, what the stage's processes can share
    # (read-only models): loaded once, shared copy-on-write. Never a connection, file handle or thread.
    preload: Callable[[Settings], None] | None = None

    def __post_init__(self) -> None:
        unknown = [k for k in (*self.sources, *self.outputs) if k not in TOPIC_KEYS]
        if unknown:
            raise ValueError(f"stage {self.name}: unknown topic keys {unknown}; known: {', '.join(TOPIC_KEYS)}")


_STAGES: dict[str, StageSpec] = {}


def register(spec: StageSpec) -> StageSpec:
    """Add a stage at the end of the flow (or replace one of the same name in its place)."""
    _STAGES[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a stage (tests and extensions)."""
    _STAGES.pop(name, None)


def stages() -> tuple[StageSpec, ...]:
    """Every stage, in flow order."""
    return tuple(_STAGES.values())


def names() -> tuple[str, ...]:
    """Every stage's name, in flow order."""
    return tuple(_STAGES)


def processing_names() -> tuple[str, ...]:
    """The stages `newsflow process` and a replay from raw run (everything before the index)."""
    return tuple(s.name for s in _STAGES.values() if s.processing)


def spec(name: str) -> StageSpec:
    """The stage called `name`."""
    try:
        return _STAGES[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(_STAGES)}") from None


def build_stage(name: str, settings: Settings) -> Stage:
    """A ready stage with its heavy resources built once; StageConfigError when it refuses its settings."""
    try:
        return spec(name).build(settings)
    except ValueError as exc:
        raise StageConfigError(f"stage {name}: {exc}") from exc


def _assembled(name: str) -> Callable[[Settings], Stage]:
    def build(settings: Settings) -> Stage:
        from pipeline.assembly import build_named

        return build_named(name, settings)

    return build


def _preload(name: str, settings: Settings) -> None:
    from pipeline.assembly import preload_named

    preload_named(name, settings)


register(
    StageSpec(
        "detect",
        ("raw",),
        ("detected",),
        _assembled("detect"),
        "document and paragraph language; computes article_id for outside producers",
    )
)
register(
    StageSpec(
        "translate",
        ("detected",),
        ("translated",),
        _assembled("translate"),
        "foreign text to English through deep-translator, cached; pending when the provider fails",
    )
)
register(
    StageSpec(
        "dedup",
        ("translated",),
        ("unique", "duplicates"),
        _assembled("dedup"),
        "exact and near-duplicates into story clusters; state in news.dedup-state.v1",
    )
)
register(
    StageSpec(
        "enrich",
        ("unique",),
        ("enriched",),
        _assembled("enrich"),
        "clean text, entities, places, topics, quotes, figures, dateline",
        preload=lambda settings: _preload("enrich", settings),
    )
)
register(
    StageSpec(
        "index",
        ("enriched", "duplicates"),
        (),
        _assembled("index"),
        "bulk into Elasticsearch behind the alias",
        processing=False,
    )
)


def freeze_loaded() -> None:
    """Take what is alive now (a stage's models, tables and gazetteer: hundreds of thousands of objects that live as
    long as the process) out of the cyclic garbage collector's scans, which otherwise walk them on every full
    collection while a worker allocates its records. Before a fork it also keeps the children's collections from
    writing to the pages they share copy-on-write (the advice of Python's `gc.freeze` documentation)."""
    gc.collect()
    gc.freeze()

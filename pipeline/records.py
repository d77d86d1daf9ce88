"""Typed records mirroring the JSON Schemas in `schemas/` (tests round-trip each through its schema)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline import __version__


def utc_now() -> str:
    """Current time as an RFC 3339 string with `Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Record(BaseModel):
    """Frozen, forward-compatible: unknown fields from newer producers are kept, not dropped."""

    model_config = ConfigDict(frozen=True, extra="allow")

    def to_wire(self) -> dict:
        """The JSON-ready dict that goes on a topic."""
        return self.model_dump(mode="json", exclude_none=False, by_alias=True)


class Source(Record):
    name: str | None = None
    domain: str | None = None


class ParagraphLanguage(Record):
    index: int
    code: str
    confidence: float


class Language(Record):
    code: str
    confidence: float
    mixed: bool = False
    paragraphs: list[ParagraphLanguage] = Field(default_factory=list)
    detector: str | None = None


class Translation(Record):
    status: Literal["translated", "not_needed", "pending"]
    provider: str | None = None
    source_language: str | None = None
    target_language: str | None = None
    chars: int | None = None
    ms: float | None = None
    scope: Literal["full", "lead"] | None = None
    error: str | None = None


class Dedup(Record):
    content_hash: str
    cluster_id: str
    is_duplicate: bool
    duplicate_of: str | None = None
    similarity: float | None = None
    method: Literal["exact", "near"] | None = None


class Entity(Record):
    name: str
    label: str
    mentions: list[str]
    count: int
    wikidata: str | None = None


class GeoPoint(Record):
    lat: float
    lon: float


class Place(Record):
    name: str
    country: str | None = None
    location: GeoPoint | None = None


class Topic(Record):
    name: str
    terms: list[str]


class Quote(Record):
    speaker: str | None
    text: str


class Figure(Record):
    value: float  # the number claimed; of a range ("between 10 and 12 tanks"), its lower end
    unit: str | None
    text: str
    high: float | None = None  # the upper end of a range, None for one number


class Dateline(Record):
    places: list[str] = Field(default_factory=list)
    date: str | None = None
    agency: str | None = None


class Enrichment(Record):
    status: Literal["enriched", "no_text", "not_english"]
    source_field: str | None = None
    language: str | None = None
    model: str | None = None


class RawOrigin(Record):
    """Where an article entered: its news.raw.v1 coordinates and the producer's key. The ledger accounts by these."""

    partition: int
    offset: int
    timestamp: int
    key: str | None = None


class PipelineInfo(Record):
    version: str = __version__
    stages: dict[str, str] = Field(default_factory=dict)
    placeholders: list[str] = Field(default_factory=list)
    raw: RawOrigin | None = None

    def to_wire(self) -> dict:
        """`raw` is left out until the article has entered through news.raw.v1."""
        data = super().to_wire()
        if data.get("raw") is None:
            data.pop("raw", None)
        return data


class Article(Record):
    """One article as it moves through the topics; each stage fills in its own fields."""

    article_id: str
    url: str | None = None
    source: Source = Field(default_factory=Source)
    title: str | None = None
    text: str
    published_at: str | None = None
    ingested_at: str
    origin: str | None = None
    language: Language | None = None
    title_en: str | None = None
    text_en: str | None = None
    translation: Translation | None = None
    text_clean: str | None = None
    dedup: Dedup | None = None
    entities: list[Entity] | None = None
    persons: list[str] | None = None
    organizations: list[str] | None = None
    places_names: list[str] | None = None
    places: list[Place] | None = None
    topics: list[Topic] | None = None
    quotes: list[Quote] | None = None
    figures: list[Figure] | None = None
    dateline: Dateline | None = None
    agencies: list[str] | None = None
    enrichment: Enrichment | None = None
    pipeline: PipelineInfo | None = None

    def to_wire(self) -> dict:
        """Stage fields not filled in yet are left out rather than sent as null."""
        data = self.model_dump(mode="json", by_alias=True)
        if self.pipeline is not None:
            data["pipeline"] = self.pipeline.to_wire()
        return {k: v for k, v in data.items() if v is not None or k in ALWAYS_SENT or k in self.model_fields_set}

    def stamped(self, stage: str, *, placeholder: bool = False, **changes) -> Article:
        """A copy with typed `changes` applied and the stage's timestamp recorded in `pipeline`."""
        info = self.pipeline or PipelineInfo()
        stages = {**info.stages, stage: utc_now()}
        placeholders = [p for p in info.placeholders if p != stage] + ([stage] if placeholder else [])
        pipeline = PipelineInfo(version=__version__, stages=stages, placeholders=placeholders, raw=info.raw)
        return self.model_copy(update={**changes, "pipeline": pipeline})


ALWAYS_SENT = frozenset({"url", "title", "published_at"})


class DlqPayload(Record):
    encoding: Literal["utf-8", "base64"]
    data: str

    @classmethod
    def of(cls, raw: bytes) -> DlqPayload:
        """Original bytes as text when they are UTF-8, else base64."""
        try:
            return cls(encoding="utf-8", data=raw.decode("utf-8"))
        except UnicodeDecodeError:
            return cls(encoding="base64", data=base64.b64encode(raw).decode("ascii"))

    def original(self) -> bytes:
        """The bytes exactly as they were consumed."""
        return self.data.encode("utf-8") if self.encoding == "utf-8" else base64.b64decode(self.data)


class DlqError(Record):
    class_: str = Field(alias="class")
    message: str
    kind: Literal["bad_input", "processing", "indexing"]

    model_config = ConfigDict(frozen=True, populate_by_name=True)


class DlqSource(Record):
    topic: str
    partition: int
    offset: int
    key: str | None = None


class DlqRecord(Record):
    """A message that could not be processed: the reason, where it came from and its original bytes."""

    article_id: str | None
    stage: str
    error: DlqError
    source: DlqSource
    attempts: int = 1
    failed_at: str = Field(default_factory=utc_now)
    payload: DlqPayload
    raw: RawOrigin | None = None


LedgerState = Literal["unique", "duplicate", "dlq_bad_input", "dlq_processing"]


class LedgerEvent(Record):
    """One raw message reached a terminal state (news.ledger.v1)."""

    article_id: str | None
    state: LedgerState
    stage: str
    raw: RawOrigin | None
    at: str = Field(default_factory=utc_now)


class WorkerState(Record):
    """What one stage worker is doing (news.workers.v1)."""

    stage: str
    worker: str
    state: Literal["running", "held", "failed"]
    reason: str | None = None
    dependency: str | None = None
    since: str
    updated_at: str = Field(default_factory=utc_now)
    heartbeat_s: float | None = None

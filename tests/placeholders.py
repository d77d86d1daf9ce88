"""Pass-through stages: the chain is real topics and real consumer groups before a stage has its logic.

Each marks the article with `pipeline.placeholders` so nobody mistakes its output for the real thing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pipeline.identity import normalise_text
from pipeline.records import Article, Dedup, Language, Translation
from pipeline.stages.base import Emit, Result


class PassThroughDetect:
    """Marks the language as undetermined."""

    name = "detect"
    sources = ("raw",)

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """`language.code = und` for every article."""
        language = Language(code="und", confidence=0.0, mixed=False, paragraphs=[], detector="none")
        return [Emit("detected", a.stamped(self.name, placeholder=True, language=language)) for a in batch]


class PassThroughTranslate:
    """Translates nothing."""

    name = "translate"
    sources = ("detected",)

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """`translation.status = not_needed`, no English text."""
        translation = Translation(status="not_needed")
        return [
            Emit(
                "translated",
                a.stamped(self.name, placeholder=True, translation=translation, title_en=None, text_en=None),
            )
            for a in batch
        ]


class PassThroughDedup:
    """Every article is the first of its own story."""

    name = "dedup"
    sources = ("translated",)

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Unique, with the content hash of its text."""
        out: list[Result] = []
        for a in batch:
            digest = hashlib.sha256(normalise_text(a.text_en or a.text).encode()).hexdigest()
            dedup = Dedup(content_hash=digest, cluster_id=a.article_id, is_duplicate=False)
            out.append(Emit("unique", a.stamped(self.name, placeholder=True, dedup=dedup)))
        return out


class PassThroughEnrich:
    """Copies the text as clean text and extracts nothing."""

    name = "enrich"
    sources = ("unique",)

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Empty entity, place, topic, quote and figure lists."""
        empty: dict[str, object] = dict(
            text_clean=None,
            entities=[],
            persons=[],
            organizations=[],
            places_names=[],
            places=[],
            topics=[],
            quotes=[],
            figures=[],
            dateline=None,
            agencies=[],
        )
        return [Emit("enriched", a.stamped(self.name, placeholder=True, **empty)) for a in batch]

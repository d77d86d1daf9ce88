"""detect: the document's language with a confidence, and the language of each paragraph."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.config import Settings
from pipeline.records import Article, Language, ParagraphLanguage
from pipeline.stages.base import Emit, Result

UNDETERMINED = "und"
_PARAGRAPHS = re.compile(r"\n\s*")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

# The languages of the desk's sources: lingua is restricted to them (faster, fewer errors on headlines).
DEFAULT_LANGUAGES = ("en", "it", "de", "fr", "es", "ru", "uk", "pl", "tr", "ar")


class Detector(Protocol):
    """Language probabilities of one piece of text."""

    name: str

    def probabilities(self, text: str) -> dict[str, float]:
        """ISO 639-1 code -> probability; empty when the text has nothing to go on."""
        ...


class LangdetectDetector:
    """langdetect with its own seeded factory: the same text always gets the same answer."""

    name = "langdetect"

    def __init__(self, seed: int = 0) -> None:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        self._factory = DetectorFactory()
        self._factory.load_profile(PROFILES_DIRECTORY)
        self._factory.seed = seed

    def probabilities(self, text: str) -> dict[str, float]:
        """langdetect's candidates; {} on "No features in text"."""
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._factory.create()
        detector.append(text)
        try:
            return {_iso(c.lang): c.prob for c in detector.get_probabilities()}
        except LangDetectException:
            return {}


class LinguaDetector:
    """lingua restricted to a set of languages (deterministic by construction)."""

    name = "lingua"

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES) -> None:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
        self._detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()

    def probabilities(self, text: str) -> dict[str, float]:
        """lingua's confidence values above zero."""
        return {
            c.language.iso_code_639_1.name.lower(): c.value
            for c in self._detector.compute_language_confidence_values(text)
            if c.value > 0
        }


def build_detector(name: str = "langdetect", languages: Sequence[str] = DEFAULT_LANGUAGES) -> Detector:
    """The configured detector: `langdetect` (default) or `lingua`."""
    if name == "langdetect":
        return LangdetectDetector()
    if name == "lingua":
        return LinguaDetector(languages)
    raise ValueError(f"unknown language detector {name!r}: use langdetect or lingua")


@dataclass(frozen=True)
class DetectConfig:
    """Thresholds of the detect stage."""

    min_confidence: float = 0.80  # below this the document is `und`, not a guess
    min_letters: int = 20  # fewer letters than this: too little text to say
    paragraph_min_chars: int = 40  # shorter paragraphs are not judged on their own
    mixed_min_chars: int = 40  # a paragraph this long in another language makes the article mixed
    mixed_min_confidence: float = 0.90


def split_paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs (lines) of a text, stripped."""
    return [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]


class DetectStage:
    """The document in one detector call; its paragraphs with a (fast) paragraph detector."""

    name = "detect"
    sources = ("raw",)

    def __init__(
        self, detector: Detector, config: DetectConfig | None = None, paragraph_detector: Detector | None = None
    ) -> None:
        self.detector = detector
        self.paragraph_detector = paragraph_detector or detector
        self.config = config or DetectConfig()

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Every article goes on to `detected` with its language (`und` when unsure)."""
        return [Emit("detected", a.stamped(self.name, language=self.detect(a.title, a.text))) for a in batch]

    def detect(self, title: str | None, text: str) -> Language:
        """Language of the title and body, with per-paragraph languages and the mixed flag."""
        cfg = self.config
        whole = "\n".join(filter(None, [title, text]))
        if len(_LETTERS.findall(whole)) < cfg.min_letters:
            return self._undetermined()
        probs = self.detector.probabilities(whole)
        if not probs:
            return self._undetermined()
        code, confidence = max(probs.items(), key=lambda kv: kv[1])
        if confidence < cfg.min_confidence:
            code = UNDETERMINED

        per_paragraph = []
        mixed = False
        for index, paragraph in enumerate(split_paragraphs(text)):
            if len(paragraph) < cfg.paragraph_min_chars:
                continue
            p_probs = self.paragraph_detector.probabilities(paragraph)
            p_code, p_conf = max(p_probs.items(), key=lambda kv: kv[1]) if p_probs else (UNDETERMINED, 0.0)
            per_paragraph.append(ParagraphLanguage(index=index, code=p_code, confidence=round(p_conf, 4)))
            if (
                code != UNDETERMINED
                and p_code not in (code, UNDETERMINED)
                and len(paragraph) >= cfg.mixed_min_chars
                and p_conf >= cfg.mixed_min_confidence
            ):
                mixed = True
        return Language(
            code=code,
            confidence=round(confidence, 4),
            mixed=mixed,
            paragraphs=per_paragraph,
            detector=self.detector.name,
        )

    def _undetermined(self) -> Language:
        return Language(code=UNDETERMINED, confidence=0.0, mixed=False, paragraphs=[], detector=self.detector.name)


def _iso(code: str) -> str:
    """langdetect's codes as ISO 639-1 (`zh-cn` -> `zh`)."""
    return code.split("-")[0]


def build_detect_stage(settings: Settings) -> DetectStage:
    """The detect stage from the settings (`NEWSFLOW_DETECTOR*`, `NEWSFLOW_DETECT_MIN_CONFIDENCE`)."""
    languages = [c.strip() for c in settings.detector_languages.split(",") if c.strip()]
    return DetectStage(
        build_detector(settings.detector, languages),
        DetectConfig(min_confidence=settings.detect_min_confidence),
        paragraph_detector=build_detector(settings.paragraph_detector, languages),
    )

"""enrich: clean text, entities folded to canonical names, places on a map, topics, quotes, figures, dateline and agencies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.enrichment.canonical import PLACE_LABELS, Resolved, aggregate, preferred_countries, resolve
from pipeline.enrichment.clean import clean_text
from pipeline.enrichment.dateline import find_dateline
from pipeline.enrichment.entities import mentions_from_doc
from pipeline.enrichment.geo import GeoName
from pipeline.enrichment.model import load_model, model_label
from pipeline.enrichment.quotes import find_quotes
from pipeline.enrichment.tables import DATA_DIR, EnrichmentTables, load_tables
from pipeline.records import Article, Dateline, Enrichment, GeoPoint, Language, Place
from pipeline.stages.base import Emit, Result
from pipeline.stages.detect import split_paragraphs

# A closing quotation mark glued to the next word ("victory plan”Zelensky said"): spaCy reads one token.
_GLUED_AFTER_QUOTE = re.compile(r"([”’\"])(?=[A-Z])")

# Why an article got no entities, topics, quotes or figures: `enrichment.status` on the record.
ENRICHED, NO_TEXT, NOT_ENGLISH = "enriched", "no_text", "not_english"


@dataclass(frozen=True)
class EnrichConfig:
    """Knobs of the enrich stage."""

    batch_size: int = 8  # nlp.pipe batch: memory grows with it, speed does not (MEASURED.md)
    english_codes: tuple[str, ...] = ("en", "und")  # `und` is read as English while detection is being built
    max_chars: int = 100_000  # longer clean texts are analysed up to here (spaCy memory grows with length)
    min_country_share: float = 0.25  # a country is "what the article is about" at this share of the top one's mentions


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article made ready for NER: its clean text and what spaCy will read."""

    text_clean: str
    raw: str  # the text the clean text came from, for credits and sign-offs
    analysed: str  # headline + clean text when it is English, else ""
    title_end: int  # offset where the headline stops and the body starts in `analysed`
    status: str
    source_field: str


class EnrichStage:
    """A pure batch function: spaCy NER over the batch in one `nlp.pipe`, then table-driven extraction per article."""

    name = "enrich"
    sources = ("unique",)

    def __init__(self, nlp, tables: EnrichmentTables, config: EnrichConfig | None = None) -> None:
        self.nlp = nlp
        self.tables = tables
        self.config = config or EnrichConfig()
        self.model = model_label(nlp)

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Every article goes on to `enriched`, English or not, with a clear `enrichment.status`."""
        prepared = [self.prepare(a) for a in batch]
        docs = iter(self.nlp.pipe((p.analysed for p in prepared if p.analysed), batch_size=self.config.batch_size))
        results: list[Result] = []
        for article, prep in zip(batch, prepared, strict=True):
            doc = next(docs) if prep.analysed else None
            results.append(Emit("enriched", article.stamped(self.name, **self.enrich(article, prep, doc))))
        return results

    def prepare(self, article: Article) -> Prepared:
        """The clean text of the English version when there is one; non-English text is cleaned but not analysed."""
        english = bool(article.text_en) or article.language is None or article.language.code in self.config.english_codes
        if article.text_en:
            raw, title, field = article.text_en, article.title_en or article.title, "text_en"
        else:
            raw, title, field = article.text, article.title, "text"
        text_clean = clean_text(raw, self.tables.boilerplate, titles=(article.title, article.title_en))
        if not english:
            return Prepared(text_clean, raw, "", 0, NOT_ENGLISH, field)
        if not text_clean:
            return Prepared(text_clean, raw, "", 0, NO_TEXT, field)
        head = f"{title.strip()}\n\n" if title and title.strip() else ""
        body = text_clean
        if field == "text" and article.language is not None and article.language.mixed:
            # an untranslated mixed article: NER reads its English paragraphs only (Italian ones give "Il presidente")
            body = clean_text(self._english_paragraphs(raw, article.language), self.tables.boilerplate, titles=(title,))
        # the analysed text differs from the clean text by a space after a glued quotation mark, never by a word
        analysed = head + _GLUED_AFTER_QUOTE.sub(r"\1 ", body[: self.config.max_chars])
        return Prepared(text_clean, raw, analysed, len(head), ENRICHED, field)

    def _english_paragraphs(self, text: str, language: Language) -> str:
        """The text without the paragraphs detect found to be in another language (indexes as detect counts them)."""
        foreign = {p.index for p in language.paragraphs if p.code not in self.config.english_codes}
        return "\n\n".join(p for i, p in enumerate(split_paragraphs(text)) if i not in foreign)

    def enrich(self, article: Article, prep: Prepared, doc) -> dict:
        """The enriched fields of one article (typed records), from its spaCy doc when it has one."""
        tables = self.tables
        agencies = tables.agencies.agencies_in(prep.raw)
        dateline = find_dateline(prep.text_clean, tables.agencies, self._place_name, article.published_at)
        if dateline is not None and dateline.agency and dateline.agency not in agencies:
            agencies.insert(0, dateline.agency)
        fields = dict(
            text_clean=prep.text_clean, entities=[], persons=[], organizations=[], places_names=[], places=[],
            topics=[], quotes=[], figures=[], dateline=dateline, agencies=agencies,
            enrichment=Enrichment(status=prep.status, source_field=prep.source_field,
                                  language=article.language.code if article.language else None, model=self.model),
        )
        if doc is None:
            return fields
        aliases = tables.aliases
        mentions = mentions_from_doc(doc, aliases.surfaces, aliases.cues.locative_before, aliases.cues.not_places,
                                     prep.title_end, prep.analysed)
        preferred = preferred_countries(mentions, aliases, self.config.min_country_share)
        resolved = resolve(mentions, aliases, tables.gazetteer.knows, preferred, trusted_from=prep.title_end,
                           place_countries=tables.gazetteer.countries_of)
        resolved += self._dateline_places(dateline, resolved, prep)
        entities = aggregate(resolved)
        fields.update(
            entities=entities,
            persons=[e.name for e in entities if e.label == "PERSON"],
            organizations=[e.name for e in entities if e.label == "ORG"],
            places_names=[e.name for e in entities if e.label in PLACE_LABELS],
            places=[self._place(e.name, preferred) for e in entities if e.label in PLACE_LABELS],
            topics=tables.taxonomy.topics_of(prep.analysed),
            quotes=find_quotes(prep.analysed, resolved, tables.quotes),
            figures=tables.figures.figures_of(prep.analysed),
        )
        return fields

    def _place_name(self, surface: str) -> str:
        """Canonical name of a place written in a dateline ("Kiev" -> "Kyiv")."""
        entry = self.tables.aliases.lookup(surface)
        return entry.name if entry is not None and entry.label in PLACE_LABELS else surface

    def _dateline_places(self, dateline: Dateline | None, resolved: Sequence[Resolved], prep: Prepared) -> list[Resolved]:
        """Dateline places NER did not read as places ("Lviv/Moscow" is one token to spaCy)."""
        if dateline is None:
            return []
        named = {r.name for r in resolved if r.is_place}
        at = prep.analysed.find(dateline.places[0]) if dateline.places else -1
        out = []
        for name in dateline.places:
            if name not in named:
                entry = self.tables.aliases.by_name.get(name)
                label = entry.label if entry is not None else "GPE"
                out.append(Resolved(name, label, name, max(at, 0), max(at, 0) + len(name), entry, True))
        return out

    def _place(self, name: str, preferred: set[str]) -> Place:
        """A place with its country and point: the alias table's own, else the gazetteer's best match."""
        aliases = self.tables.aliases
        entry = aliases.by_name.get(name)
        if entry is not None and entry.location is not None:
            lat, lon = entry.location
            return Place(name=name, country=entry.country, location=GeoPoint(lat=lat, lon=lon))
        names = (name, *aliases.aliases.get(name, ()))
        found: GeoName | None = self.tables.gazetteer.locate(names, {entry.country} if entry and entry.country else preferred)
        country = entry.country if entry is not None and entry.country else (found.country if found else None)
        if found is None or found.lat is None or found.lon is None:
            return Place(name=name, country=country, location=None)
        return Place(name=name, country=country, location=GeoPoint(lat=found.lat, lon=found.lon))


def build_enrich_stage(model_name: str = "en_core_web_sm", batch_size: int = 8, *, data_dir: Path = DATA_DIR,
                       min_city_population: int = 5000, treat_und_as_english: bool = True,
                       fuzzy_min_similarity: float = 0.85, max_chars: int = 100_000) -> EnrichStage:
    """The enrich stage with its model (by configured name, NER only) and data tables loaded once."""
    config = EnrichConfig(batch_size=batch_size, english_codes=("en", "und") if treat_und_as_english else ("en",),
                          max_chars=max_chars)
    tables = load_tables(data_dir, min_city_population=min_city_population, fuzzy_min_similarity=fuzzy_min_similarity)
    return EnrichStage(load_model(model_name), tables, config)

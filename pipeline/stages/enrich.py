"""enrich: clean text, entities folded to canonical names, places on a map, topics, quotes, figures, dateline and agencies."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from pipeline.config import Settings
from pipeline.enrichment.canonical import (
    PLACE_LABELS,
    Resolved,
    aggregate,
    preferred_countries,
    resolve,
)
from pipeline.enrichment.clean import clean_text
from pipeline.enrichment.dateline import find_dateline
from pipeline.enrichment.entities import mentions_from_doc, split_joined
from pipeline.enrichment.folding import coordinated_people, coordinated_places, listed_organisations
from pipeline.enrichment.geo import GeoName
from pipeline.enrichment.institutions import chamber_committees, with_institutions
from pipeline.enrichment.model import load_model, load_parser, model_label
from pipeline.enrichment.normalise import entity_key, fold
from pipeline.enrichment.outlet import outlet_key, with_outlet
from pipeline.enrichment.quote_actors import country_speakers
from pipeline.enrichment.quotes import QuotePlan, plan_quotes, quotes_of
from pipeline.enrichment.repeated import RepeatedLines, RepeatRules
from pipeline.enrichment.tables import DATA_DIR, EnrichmentTables, load_tables
from pipeline.records import Article, Dateline, Enrichment, GeoPoint, Language, Place
from pipeline.stages.base import Emit, Result
from pipeline.stages.detect import split_paragraphs

# A closing quotation mark glued to the next word ("victory plan”Zelensky said"): spaCy reads one token.
# A straight mark closes when it follows a word or punctuation ("...plan"Zelensky"); after a space it opens.
# (Both patterns open with the mark and look behind it: a pattern opening with a character is searched for it at
# once; opening with the look-behind, it is tried at every position of the text, ten times slower.)
_GLUED_AFTER_QUOTE = re.compile(r"([”’\"])(?<=[\w.,!?;:…][”’\"])(?=[A-Z])")
# An opening mark glued to the end of the previous sentence ("BelTA has learned.“The major topic").
_GLUED_BEFORE_QUOTE = re.compile(r"([“«])(?<=[.!?;:,][“«])(?=\w)")
# a word written in lower case ("fireworks"): capitalised elsewhere it opens a sentence, it names nothing
_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-z]{2,}(?![\w’'-])")
PARSE_BATCH = 128  # sentences per parser batch
STATE_TOPIC = "enrich-state"  # topic key of the compacted topic of lines each source repeats

# Why an article got no entities, topics, quotes or figures: `enrichment.status` on the record.
ENRICHED, NO_TEXT, NOT_ENGLISH = "enriched", "no_text", "not_english"


@dataclass(frozen=True)
class EnrichConfig:
    """Knobs of the enrich stage."""

    batch_size: int = 8  # nlp.pipe batch: memory grows with it, speed does not (MEASURED.md)
    english_codes: tuple[str, ...] = ("en", "und")  # `und` is read as English while detection is being built
    max_chars: int = 100_000  # longer clean texts are analysed up to here (spaCy memory grows with length)
    min_country_share: float = 0.25  # a country is "what the article is about" at this share of the top one's mentions


@dataclass
class ParseCost:
    """What the dependency parser cost: sentences and characters parsed, seconds spent."""

    sentences: int = 0
    chars: int = 0
    seconds: float = 0.0

    def add(self, sentences: int, chars: int, seconds: float) -> None:
        self.sentences += sentences
        self.chars += chars
        self.seconds += seconds


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

    def __init__(
        self,
        nlp,
        tables: EnrichmentTables,
        config: EnrichConfig | None = None,
        repeated: RepeatedLines | None = None,
        parser=None,
    ) -> None:
        self.nlp = nlp
        self.tables = tables
        self.config = config or EnrichConfig()
        self.model = model_label(nlp)
        self.repeated = repeated
        self.parser = parser  # the dependency parser, run on sentences that hold a quotation only
        self.parse_cost = ParseCost()
        self._updates: dict[str, dict | None] = {}

    @property
    def state_topic(self) -> str | None:
        """The compacted topic of lines each source repeats; None when the stage does not learn them (stateless)."""
        return STATE_TOPIC if self.repeated is not None else None

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """Every article goes on to `enriched`, English or not, with a clear `enrichment.status`."""
        # in arrival order: what an article's source repeats is decided on the articles before it and itself
        prepared = [self.prepare(a, self._repeated_lines(a)) for a in batch]
        docs = iter(self.nlp.pipe((p.analysed for p in prepared if p.analysed), batch_size=self.config.batch_size))
        analysed = [
            self._analyse(article, prep, next(docs) if prep.analysed else None)
            for article, prep in zip(batch, prepared, strict=True)
        ]
        # the quote parser reads every article's quotation sentences in one `pipe`: fuller batches, one set-up
        parses = self._parse_plans([plan for _, plan in analysed])
        results: list[Result] = []
        for article, (fields, plan), parsed in zip(batch, analysed, parses, strict=True):
            if plan is not None:
                fields["quotes"] = quotes_of(plan, self.tables.quotes, parsed)
            results.append(Emit("enriched", article.stamped(self.name, **fields)))
        if self.repeated is not None:
            for article_id in self.repeated.evict():
                self._updates[article_id] = None
        return results

    def _repeated_lines(self, article: Article) -> frozenset[int]:
        """Fingerprints of the lines the article's source repeats, the article remembered on the way."""
        if self.repeated is None:
            return frozenset()
        source = article.source.domain or article.source.name
        lines, seen = self.repeated.observe(
            article.article_id,
            source,
            article.text_en or article.text,
            datetime.fromisoformat(article.ingested_at).timestamp(),
        )
        if seen is not None:
            self._updates[article.article_id] = seen.to_state_record()
        return lines

    def state_updates(self) -> list[tuple[str, dict | None]]:
        """State records (key, value; None = tombstone) to produce with this batch's outputs; drained."""
        updates, self._updates = list(self._updates.items()), {}
        return updates

    def restore(self, items: Iterable[tuple[str, dict | None]]) -> None:
        """Apply state records, oldest first: the topic at start, then what this and other workers wrote."""
        if self.repeated is not None:
            for article_id, record in items:
                self.repeated.apply(article_id, record)

    def prepare(self, article: Article, repeated: frozenset[int] = frozenset()) -> Prepared:
        """The clean text of the English version when there is one; non-English text is cleaned but not analysed."""
        english = (
            bool(article.text_en) or article.language is None or article.language.code in self.config.english_codes
        )
        if article.text_en:
            raw, title, field = article.text_en, article.title_en or article.title, "text_en"
        else:
            raw, title, field = article.text, article.title, "text"
        text_clean = clean_text(
            raw, self.tables.boilerplate, titles=(article.title, article.title_en), repeated=repeated
        )
        if not english:
            return Prepared(text_clean, raw, "", 0, NOT_ENGLISH, field)
        if not text_clean:
            return Prepared(text_clean, raw, "", 0, NO_TEXT, field)
        head = f"{title.strip()}\n\n" if title and title.strip() else ""
        body = text_clean
        if field == "text" and article.language is not None and article.language.mixed:
            # an untranslated mixed article: NER reads its English paragraphs only (Italian ones give "Il presidente")
            body = clean_text(
                self._english_paragraphs(raw, article.language),
                self.tables.boilerplate,
                titles=(title,),
                repeated=repeated,
            )
        # the analysed text differs from the clean text by a space around a glued quotation mark, never by a word
        analysed = head + _GLUED_BEFORE_QUOTE.sub(r" \1", _GLUED_AFTER_QUOTE.sub(r"\1 ", body[: self.config.max_chars]))
        return Prepared(text_clean, raw, analysed, len(head), ENRICHED, field)

    def _english_paragraphs(self, text: str, language: Language) -> str:
        """The text without the paragraphs detect found to be in another language (indexes as detect counts them)."""
        foreign = {p.index for p in language.paragraphs if p.code not in self.config.english_codes}
        return "\n\n".join(p for i, p in enumerate(split_paragraphs(text)) if i not in foreign)

    def enrich(self, article: Article, prep: Prepared, doc) -> dict:
        """The enriched fields of one article (typed records), from its spaCy doc when it has one."""
        fields, plan = self._analyse(article, prep, doc)
        if plan is not None:
            fields["quotes"] = quotes_of(plan, self.tables.quotes, self._parse_plans([plan])[0])
        return fields

    def _analyse(self, article: Article, prep: Prepared, doc) -> tuple[dict, QuotePlan | None]:
        """The enriched fields of one article but its quotes, and the plan of its quotes (None without any)."""
        tables = self.tables
        agencies = tables.agencies.agencies_in(prep.raw)
        dateline = find_dateline(prep.text_clean, tables.agencies, self._place_name, article.published_at)
        if dateline is not None and dateline.agency and dateline.agency not in agencies:
            agencies.insert(0, dateline.agency)
        fields: dict[str, object] = dict(
            text_clean=prep.text_clean,
            entities=[],
            persons=[],
            organizations=[],
            places_names=[],
            places=[],
            topics=[],
            quotes=[],
            figures=[],
            dateline=dateline,
            agencies=agencies,
            enrichment=Enrichment(
                status=prep.status,
                source_field=prep.source_field,
                language=article.language.code if article.language else None,
                model=self.model,
            ),
        )
        if doc is None:
            return fields, None
        aliases = tables.aliases
        # read once: each read builds every span anew
        spans = split_joined(doc, doc.ents, tables.gazetteer.knows, aliases.cues.org_nouns, aliases.surfaces.surfaces)
        mentions = mentions_from_doc(
            doc,
            aliases.surfaces,
            aliases.cues.locative_before,
            aliases.cues.not_places,
            prep.title_end,
            prep.analysed,
            aliases.cues.name_titles,
            spans,
            aliases.cues.outlets,
            aliases.cues.body_heads,
            aliases.cues.title_words | aliases.cues.name_titles,
            self.tables.quotes.speech_verbs,
            aliases.cues.person_nouns,
            aliases.cues.org_nouns,
        )
        preferred = preferred_countries(mentions, aliases, self.config.min_country_share)
        resolved = resolve(
            mentions,
            aliases,
            tables.gazetteer.knows,
            preferred,
            trusted_from=prep.title_end,
            place_countries=tables.gazetteer.countries_of,
            common_words=frozenset(_LOWER_WORD.findall(prep.analysed)),
            demonym=tables.gazetteer.demonym,
            place_size=tables.gazetteer.population,
            given_names=tables.quotes.given_names,
            text=prep.analysed,
            is_area=tables.gazetteer.is_area,
        )
        surnames = {r.name.split()[-1] for r in resolved if r.label == "PERSON"}
        institutions = tables.institutions
        bodies = (
            institutions.find(prep.analysed)
            + institutions.administrations(prep.analysed, surnames)
            + institutions.prosecutors(prep.analysed)
            + chamber_committees(prep.analysed, aliases.cues.chambers)
        )
        resolved = with_institutions(
            resolved,
            sorted(bodies, key=lambda f: f.start),
            aliases,
            tables.institutions,
        )
        resolved = coordinated_people(resolved, prep.analysed, aliases.cues)
        resolved = coordinated_places(
            resolved,
            prep.analysed,
            tables.gazetteer.population,
            tables.gazetteer.is_area,
            tables.quotes.given_names,
        )
        resolved = listed_organisations(resolved, prep.analysed)
        resolved = with_outlet(resolved, prep.analysed, outlet_key(article.source.domain, article.source.name))
        resolved += self._dateline_places(dateline, resolved, prep)
        entities = aggregate(resolved)
        fields.update(
            entities=entities,
            persons=[e.name for e in entities if e.label == "PERSON"],
            organizations=[e.name for e in entities if e.label == "ORG"],
            places_names=[e.name for e in entities if e.label in PLACE_LABELS],
            places=[self._place(e.name, preferred) for e in entities if e.label in PLACE_LABELS],
            topics=tables.taxonomy.topics_of(prep.analysed),
            figures=tables.figures.in_local_dollars(
                self._figures(prep.analysed, doc, spans), {e.name: e.count for e in entities}
            ),
        )
        # "Republicans say …": members of a party, no organisation speaking
        speakers = [r for r in resolved if not (r.label == "ORG" and entity_key(r.surface) in aliases.members)]
        speakers = country_speakers(prep.analysed, speakers, self._is_country, tables.quotes.finite_verbs)
        return fields, plan_quotes(prep.analysed, speakers, tables.quotes)

    def _is_country(self, place: str) -> bool:
        """A place that is a country (its name in the gazetteer's countries), not a city or a region."""
        return fold(place) in self.tables.gazetteer.countries

    def _figures(self, text: str, doc, spans) -> list:
        """The table's counted claims, then every other number NER marks with what it counts."""
        rules = self.tables.figures
        claims = rules.claims(text)
        found = rules.figures_of(text, claims)
        return found + rules.figures_in_doc(doc, text, found, rules.taken(text, claims), spans)

    def _parse_plans(self, plans: Sequence[QuotePlan | None]) -> list[list | None]:
        """Per plan, the dependency parses of its sentences that hold a quotation, all plans in one `pipe` (None
        without a plan or a parser); their cost is counted in `parse_cost`."""
        if self.parser is None:
            return [None] * len(plans)
        sentences = [s for plan in plans if plan is not None for s in plan.to_parse]
        started = time.perf_counter()
        # short texts: a larger batch than NER's costs little memory and runs the parser's matrices fuller (128: 0.27 s
        # against 0.29 s at 32 and 0.41 s at 8 for the 422 sentences of 100 corpus articles)
        docs = iter(self.parser.pipe(sentences, batch_size=PARSE_BATCH)) if sentences else iter(())
        out = [None if plan is None else [next(docs) for _ in plan.to_parse] for plan in plans]
        self.parse_cost.add(len(sentences), sum(len(s) for s in sentences), time.perf_counter() - started)
        return out

    def _place_name(self, surface: str) -> str:
        """Canonical name of a place written in a dateline ("Kiev" -> "Kyiv")."""
        entry = self.tables.aliases.lookup(surface)
        return entry.name if entry is not None and entry.label in PLACE_LABELS else surface

    def _dateline_places(
        self, dateline: Dateline | None, resolved: Sequence[Resolved], prep: Prepared
    ) -> list[Resolved]:
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
        # a region named by its centre ("Donetsk Oblast") is put at its centre
        names = (
            name,
            *aliases.aliases.get(name, ()),
            *([name.removesuffix(" Oblast")] if name.endswith(" Oblast") else []),
        )
        found: GeoName | None = self.tables.gazetteer.locate(
            names, {entry.country} if entry and entry.country else preferred
        )
        country = entry.country if entry is not None and entry.country else (found.country if found else None)
        if found is None or found.lat is None or found.lon is None:
            return Place(name=name, country=country, location=None)
        return Place(name=name, country=country, location=GeoPoint(lat=found.lat, lon=found.lon))


@lru_cache(maxsize=4)
def shared_tables(data_dir: Path, min_city_population: int, fuzzy_min_similarity: float) -> EnrichmentTables:
    """The enrichment tables, read once per process (~2 s): the stages only look things up in them, so every
    enrich stage of a process (and, loaded before `newsflow run` forks, every enrich process) shares them."""
    return load_tables(data_dir, min_city_population=min_city_population, fuzzy_min_similarity=fuzzy_min_similarity)


def build_enrich_stage(settings: Settings, *, data_dir: Path = DATA_DIR) -> EnrichStage:
    """The enrich stage from the settings (`NEWSFLOW_ENRICH_*`): its model by configured name (NER only) and
    data tables loaded once. `NEWSFLOW_ENRICH_REPEATED_LINE_MIN_ARTICLES=0` turns off learning repeated lines
    (the stage is then stateless)."""
    model_name, batch_size, max_chars = settings.enrich_model, settings.enrich_batch_size, settings.enrich_max_chars
    treat_und_as_english = settings.enrich_treat_und_as_english
    min_city_population, fuzzy_min_similarity = (
        settings.enrich_min_city_population,
        settings.enrich_fuzzy_min_similarity,
    )
    repeated_line_min_articles = settings.enrich_repeated_line_min_articles
    config = EnrichConfig(
        batch_size=batch_size, english_codes=("en", "und") if treat_und_as_english else ("en",), max_chars=max_chars
    )
    tables = shared_tables(data_dir, min_city_population, fuzzy_min_similarity)
    repeated = (
        RepeatedLines(RepeatRules(min_articles=repeated_line_min_articles)) if repeated_line_min_articles else None
    )
    return EnrichStage(load_model(model_name), tables, config, repeated, load_parser(model_name))

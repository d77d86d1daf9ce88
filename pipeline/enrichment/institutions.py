"""Government bodies named by their country ("the Russian foreign ministry", "Ministry of Defence of Ukraine"):
one canonical name per body and country, made from a table of institutions and a table of countries; and the pass
that puts them in place of the mentions they overlap (`with_institutions`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.normalise import entity_key
from pipeline.enrichment.phrases import phrase_pattern

if TYPE_CHECKING:
    from pipeline.enrichment.aliases import AliasTable


@dataclass(frozen=True, slots=True)
class InstitutionMention:
    """A government body found in the text, with its canonical name."""

    name: str
    surface: str
    start: int
    end: int
    institution: str = ""  # the institution's table name ("Senate")
    country: str = ""  # the country's code ("PL")


class InstitutionTable:
    """Institutions x countries, compiled into two patterns: "<country>('s) <institution>" and
    "<institution> of (the) <country>"."""

    def __init__(
        self,
        institutions: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]],
        countries: Mapping[str, tuple[str, ...]],
        overrides: Mapping[str, Mapping[str, str]],
        default_format: str,
        the: frozenset[str],
        not_bare: frozenset[str] = frozenset(),
        districts: Mapping | None = None,
        hosted: frozenset[str] = frozenset(),
        capitals: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.institutions = dict(institutions)  # name -> (format, forms, noun-only forms)
        self.countries = dict(countries)  # code -> (name, other names...)
        self.overrides = {code: dict(names) for code, names in overrides.items()}
        self.default_format = default_format
        self.the = the
        self.not_bare = not_bare  # institutions a bare form does not tie to the article's country ("Embassy")
        self.hosted = hosted  # institutions one country keeps in another: named with their host ("Embassy")
        self.capitals = {code: cities[0] for code, cities in (capitals or {}).items() if cities}  # where embassies are
        self._city = {c.lower(): cities[0] for cities in (capitals or {}).values() for c in cities}
        self._districts = _district_patterns(districts or {})  # US federal prosecutors: format and patterns
        self._form = {
            f.lower(): name for name, (_, forms, nouns) in self.institutions.items() for f in (*forms, *nouns)
        }
        # canonical name -> (institution, country): a body the alias table names ("U.S. Senate") ties a bare form
        self.body_of = {
            self.canonical(name, code): (name, code) for name in self.institutions for code in self.countries
        }
        self._noun_only = {f.lower() for _, (_, _, nouns) in self.institutions.items() for f in nouns}
        self._country = {w.lower(): code for code, words in self.countries.items() for w in words}
        # alternations as character tries: a regex tries every branch of a flat alternation at every position
        country = phrase_pattern({w.lower() for w in self._country})
        form = phrase_pattern(set(self._form))
        # the country is written with a capital ("Russian", "Britain's"); the institution in any case
        self._before = re.compile(
            rf"(?<![\w-])(?-i:(?=[A-Z]))(?P<country>{country})(?P<possessive>['’]s)?\s+(?P<inst>{form})(?!\w)",
            re.IGNORECASE,
        )
        city = phrase_pattern(set(self._city)) if self._city else r"(?!)"
        self._host = re.compile(
            rf"\s+in\s+(?:the\s+)?(?-i:(?=[A-Z]))(?:(?P<country>{country})|(?P<city>{city}))(?![\w-])", re.IGNORECASE
        )
        # opened by the letters a body's name can start with: other positions fail at once, not in the trie
        first = re.escape("".join(sorted({f[0] for f in self._form})))
        self._after = re.compile(
            rf"(?=[{first}])(?<![\w-])(?P<inst>{form})\s+of\s+(?:the\s+)?(?-i:(?=[A-Z]))(?P<country>{country})(?![\w-])",
            re.IGNORECASE,
        )

    @classmethod
    def from_data(cls, data: Mapping) -> InstitutionTable:
        """The table of enrich_institutions.toml; a broken entry fails here."""
        default = data.get("format", "{name} ({country})")
        institutions = {
            row["name"]: (row.get("format", default), tuple(row.get("forms", ())), tuple(row.get("noun_only", ())))
            for row in data["institution"]
        }
        # "the Armed Forces of the Republic of Belarus": a country's formal name is the country
        countries = {code: (*words, f"Republic of {words[0]}") for code, words in data["countries"].items() if words}
        for code, names in data.get("overrides", {}).items():
            unknown = set(names) - set(institutions)
            if code not in countries or unknown:
                raise ValueError(
                    f"enrich_institutions.toml: override {code}: unknown country or institutions {unknown}"
                )
        not_bare = frozenset(row["name"] for row in data["institution"] if not row.get("bare", True))
        return cls(
            institutions,
            countries,
            data.get("overrides", {}),
            default,
            frozenset(data.get("the", ())),
            not_bare,
            data.get("federal_districts"),
            frozenset(row["name"] for row in data["institution"] if row.get("hosted", False)),
            data.get("capitals"),
        )

    def bare(self, surface: str) -> str | None:
        """The institution a form without a country names ("Senate", "the Foreign Ministry"), else None."""
        key = " ".join(surface.lower().split())
        key = key[4:] if key.startswith("the ") else key
        name = self._form.get(key)
        return name if name is not None and key not in self._noun_only and name not in self.not_bare else None

    def _with_the(self, code: str) -> str:
        """A country's name as it follows a preposition ("in the United States", "in Russia")."""
        name = self.countries[code][0]
        return f"the {name}" if code in self.the else name

    def canonical(self, institution: str, code: str) -> str:
        """The canonical name of one country's institution."""
        override = self.overrides.get(code, {}).get(institution)
        if override:
            return override
        fmt = self.institutions[institution][0]
        words = self.countries[code]
        country = words[0]
        demonym = words[1] if len(words) > 1 and not words[1].startswith("Republic of") else country
        if "of {country}" in fmt and code in self.the:
            country = f"the {country}"
        return fmt.format(name=institution, country=country, demonym=demonym)

    def find(self, text: str) -> list[InstitutionMention]:
        """Every government body named with its country, in text order, not overlapping."""
        found: list[InstitutionMention] = []
        taken: list[tuple[int, int]] = []
        for pattern in (self._after, self._before):
            for m in pattern.finditer(text):
                form = " ".join(m.group("inst").lower().split())
                if (
                    pattern is self._before
                    and form in self._noun_only
                    and (not m.group("possessive") or _MODIFIES.match(text, m.end()))
                ):
                    continue  # "Russian military vehicles", "Russia’s military-industrial base": an adjective
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                code = self._country[" ".join(m.group("country").lower().split())]
                institution = self._form[form]
                name, end = self.canonical(institution, code), m.end()
                host = self._host.match(text, end) if institution in self.hosted else None
                if host is not None and (city := self._host_city(host, code)) is not None:
                    # "the Embassy of Belarus in Russia", "the US embassy in Kiev": one country's embassy in another
                    # is a body of its own, named by the city it is in
                    name, end = self.hosted_name(name, city), host.end()
                found.append(InstitutionMention(name, text[m.start() : end], m.start(), end, institution, code))
                taken.append((m.start(), end))
        return sorted(self._hosted_once(found), key=lambda f: f.start)

    def _hosted_once(self, found: list[InstitutionMention]) -> list[InstitutionMention]:
        """ "the US embassy in Kyiv … the US embassy said": a hosted body named without its host in an article that
        names one host for it is the one there."""
        hosts: dict[str, set[str]] = {}
        for f in found:
            if f.institution in self.hosted and f.name != self.canonical(f.institution, f.country):
                hosts.setdefault(self.canonical(f.institution, f.country), set()).add(f.name)
        return [replace(f, name=next(iter(hosts[f.name]))) if len(hosts.get(f.name, ())) == 1 else f for f in found]

    def _host_city(self, host: re.Match[str], code: str) -> str | None:
        """The city of a host named after a body ("in Russia": Moscow; "in Kiev": Kyiv), None for its own country."""
        if host.group("city"):
            return self._city[" ".join(host.group("city").lower().split())]
        there = self._country[" ".join(host.group("country").lower().split())]
        return self.capitals.get(there, self._with_the(there)) if there != code else None

    @staticmethod
    def hosted_name(name: str, city: str) -> str:
        """A body one country keeps in another, as Wikipedia titles it: "Embassy of the United States, Kyiv"."""
        return f"{name}, {city}"

    def administrations(self, text: str, surnames: Collection[str], code: str = "US") -> list[InstitutionMention]:
        """ "The Biden administration" is the government of the United States: news English says "administration"
        for the US executive named by its president (other countries' are "the X government", which NER and
        the table read). `surnames`: the last names of the article's people."""
        if "Government" not in self.institutions or code not in self.countries or "administration" not in text:
            return []
        name = self.canonical("Government", code)
        return [
            InstitutionMention(name, m.group(0), m.start(), m.end(), "Government", code)
            for m in _ADMINISTRATION.finditer(text)
            if m.group("name") in surnames
        ]

    def prosecutors(self, text: str) -> list[InstitutionMention]:
        """US federal prosecutors by district: "the U.S. Attorney’s Office in the District of Columbia", "the
        Eastern District of Virginia charged" (not "the District Court for the Southern District of New York")."""
        if self._districts is None or "District" not in text:
            return []  # both patterns name a district: most texts have none
        fmt, office, acting = self._districts
        found: list[InstitutionMention] = []
        for pattern in (office, acting):
            for m in pattern.finditer(text):
                if pattern is acting and _COURT_BEFORE.search(text, max(0, m.start() - 24), m.start()):
                    continue
                if any(f.start < m.end() and m.start() < f.end for f in found):
                    continue
                district = " ".join(m.group("district").split())
                found.append(InstitutionMention(fmt.format(district=district), m.group(0), m.start(), m.end()))
        return sorted(found, key=lambda f: f.start)


def chamber_committees(text: str, chambers: Collection[str]) -> list[InstitutionMention]:
    """Two chambers' committees named at once: "the House and Senate Judiciary Committees" are the House Judiciary
    Committee and the Senate Judiciary Committee (`chambers`: the words of chambers, lower case)."""
    found: list[InstitutionMention] = []
    if "ommittees" not in text and "ommissions" not in text:
        return found  # the pattern ends with a plural noun: most texts have none, and are not scanned
    for m in _COMMITTEES.finditer(text):
        first, second = m.group("first"), m.group("second")
        if first.lower() not in chambers or second.lower() not in chambers:
            continue
        subject = " ".join(m.group("subject").split())
        found.append(InstitutionMention(f"{first} {subject} {m.group('noun')}", m.group(0), m.start(), m.end()))
        found.append(InstitutionMention(f"{second} {subject} {m.group('noun')}", m.group(0), m.start(), m.end()))
    return found


_COMMITTEES = re.compile(
    r"(?<![\w-])(?P<first>[A-Z][a-z]+)\s+and\s+(?P<second>[A-Z][a-z]+)\s+(?P<subject>(?:[A-Z][\w-]+\s+){1,3})"
    r"(?P<noun>Committee|Commission|Subcommittee)s(?![\w-])"
)


def _district_patterns(data: Mapping) -> tuple[str, re.Pattern[str], re.Pattern[str]] | None:
    """The format and the two patterns of federal prosecutors: by their office, by a district acting."""
    if not data:
        return None
    states = phrase_pattern(data["states"])
    direction = r"(?:Southern|Northern|Eastern|Western|Middle|Central)\s+"
    office = re.compile(
        rf"(?:(?:U\.\s?S\.|US|United\s+States|[Ff]ederal)\s+)?Attorney(?:['’]s\s+[Oo]ffice|s)?\s+(?:for|in)\s+"
        rf"the\s+(?P<district>(?:{direction})?District\s+of\s+(?:{states}))(?![\w-])"
    )
    acting = re.compile(rf"(?<![\w-])(?P<district>{direction}District\s+of\s+(?:{states}))(?![\w-])")
    return data["format"], office, acting


_COURT_BEFORE = re.compile(r"[Cc]ourt\s+(?:for|of)\s+the\s+$")

# "the Biden administration", "Obama administration officials": a president's name before "administration"
_ADMINISTRATION = re.compile(r"(?<![\w-])(?P<name>[A-Z][\w’'-]+)(?:['’]s)?\s+administration(?!\w)")


# what follows an adjective, not a noun: a hyphen ("military-industrial") or a noun of a kind English makes from verbs
# and adjectives ("military aggression", "army equipment", "military presence"), or one of the nouns the military
# word qualifies most ("military aid", "army base")
_MODIFIES = re.compile(
    r"-|\s+(?:[a-z]+(?:ion|ions|ment|ments|ance|ence|ity|ities|ure|ures|cy|ism|ship|ness)|aid|support|base|bases|"
    r"budget|spending|hardware|vehicles?|convoys?|personnel|units?|commanders?|leaders?|leadership|officials?|"
    r"experts?|analysts?|bloggers?|sources?|targets?|sites?|facilities|campaign|offensive|action|activity|"
    r"build-up|buildup|drills?|exercises?|aircraft|planes?|jets?|helicopters?|ships?|assets?|might|power|"
    r"capabilities|strategy|doctrine|intelligence|academy|courts?|prosecutors?|service|servicemen)\b"
)


def with_institutions(
    resolved: Sequence[Resolved],
    found: Sequence,
    table: AliasTable,
    institutions: InstitutionTable | None = None,
) -> list[Resolved]:
    """Government bodies named with their country replace the mentions they overlap ("Russian" + "foreign
    ministry" -> "Ministry of Foreign Affairs (Russia)"); an alias-table name of the same words wins. With the
    institution table, a body named without its country ("the Senate") is that of the country the article names
    with that body ("Poland's Senate", "U.S. Senate")."""
    if institutions is not None:
        resolved = [_qualified(r, resolved, found, institutions, table) for r in resolved]
    # a bare word for a kind of body that stayed bare ("the Agency", "The Alliance must") refers back to a body the
    # text names otherwise: it is no name of its own
    # (a government body's word stays: "the Navy" of a story on one country's navy)
    resolved = [
        r
        for r in resolved
        if not (
            r.entry is None
            and r.label == "ORG"
            and " " not in r.name
            and r.name.lower() in table.cues.org_nouns
            and (institutions is None or institutions.bare(r.name) is None)
        )
    ]
    if not found:
        return list(resolved)
    spans = [(f.start, f.end) for f in found]
    out = [r for r in resolved if not any(a < r.end and r.start < b for a, b in spans)]
    for f in found:
        entry = table.keys.get(entity_key(f.surface))
        if entry is None or entry.label != "ORG":
            entry = table.by_name.get(f.name)
        out.append(
            Resolved(entry.name if entry is not None else f.name, "ORG", f.surface, f.start, f.end, entry, False)
        )
    return sorted(out, key=lambda r: r.start)


def _qualified(
    r: Resolved, resolved: Sequence[Resolved], found: Sequence, institutions: InstitutionTable, table: AliasTable
) -> Resolved:
    """A bare government word ("the Senate", "Foreign Ministry") as the body of the country the article names with
    the same body nearest before it (else first after it); other mentions as they are."""
    if r.entry is not None or r.label != "ORG":
        return r
    # "MFA", an acronym the article spelled out as a body without its country, is that body too
    institution = institutions.bare(r.surface) or institutions.bare(r.name)
    if institution is None:
        return r
    # the same body named with its country: by the institution patterns ("Poland's Senate") or the alias table
    named = [(f.start, f.country) for f in found if f.institution == institution] + [
        (o.start, institutions.body_of[o.name][1])
        for o in resolved
        if o.name in institutions.body_of and institutions.body_of[o.name][0] == institution
    ]
    if not named:
        return r  # no evidence of whose body it is: the article's main country was wrong as often as right
    named.sort()
    before = [n for n in named if n[0] < r.start]
    code = (before[-1] if before else named[0])[1]
    name = institutions.canonical(institution, code)
    return Resolved(name, "ORG", r.surface, r.start, r.end, table.by_name.get(name), False)

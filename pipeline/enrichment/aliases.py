"""The alias table: canonical entities, their surface forms and the cues around a mention, typos matched by
Damerau-Levenshtein (OSA) similarity. `canonical.py` resolves mentions with it."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from pipeline.enrichment.entities import SurfaceIndex
from pipeline.enrichment.normalise import entity_key


@dataclass(frozen=True, slots=True)
class Canonical:
    """One entity of the alias table."""

    name: str
    label: str
    wikidata: str | None = None
    country: str | None = None
    location: tuple[float, float] | None = None
    government: str | None = None  # the government this place stands for when used as an actor
    default: str = "place"  # the usual sense of a place that can stand for a government
    nouns: tuple[str, ...] = ()  # how a text refers back to it ("the newspaper")
    lookup: bool = True  # False: reached only as another entry's government, never by its own surface


@dataclass(frozen=True)
class Cues:
    """Words around a mention that tell a place from a government (see `[cues]` in enrich_entities.toml)."""

    locative_before: frozenset[str] = frozenset()
    agent_before: frozenset[str] = frozenset()
    transfer_verbs: frozenset[str] = frozenset()
    from_nouns: frozenset[str] = frozenset()
    verbs_after: frozenset[str] = frozenset()
    skip_after: frozenset[str] = frozenset()
    nouns_after: frozenset[str] = frozenset()
    hyphen_after: frozenset[str] = frozenset()
    place_nouns: frozenset[str] = frozenset()
    be_forms: frozenset[str] = frozenset()
    place_states: frozenset[str] = frozenset()  # "Kyiv was calm": after a form of "be", the place as it is
    participles: frozenset[str] = frozenset()
    not_places: frozenset[str] = frozenset()
    name_titles: frozenset[str] = frozenset()  # titles that are part of a name: "Pope Francis"
    title_words: frozenset[str] = frozenset()  # titles before a name inside a span: "Senate Marshal Tomasz Grodzki"
    org_nouns: frozenset[str] = frozenset()  # words that make a span an organisation: "Conflict Observatory"
    org_before: frozenset[str] = frozenset()  # words before a name that make it an organisation: "news outlet Bild"
    outlets: frozenset[str] = frozenset()  # a news outlet's kind around its name: "outlet, Mediazona", "the X magazine"
    body_heads: frozenset[str] = frozenset()  # "Supreme Court" + "of Tennessee": a body's name goes on after NER
    foreign_articles: frozenset[str] = frozenset()  # "Die Welt", "Le Monde": a title, not a person
    person_nouns: frozenset[str] = frozenset()  # words around a name that make it a person: "X, a spokesperson"
    not_in_names: frozenset[str] = frozenset()  # words that put a span in a sentence, not a name: "Are", "Says"
    clause_openers: frozenset[str] = frozenset()  # a span opening with one is a sentence's start: "Citing Germany"
    not_org_heads: frozenset[str] = frozenset()  # heads that make a span an event or a work: "Ukraine Crisis"
    # heads that make a span defining an acronym materiel: "Main Battle Tanks (MBT)" (a maker may be named so:
    # "Russian Helicopters")
    materiel_heads: frozenset[str] = frozenset()
    relation_before: frozenset[str] = frozenset()  # "sanctions on Moscow", "support for Kyiv": the government
    target_nouns: frozenset[str] = frozenset()  # "strikes on Kyiv", "the road to Kyiv": the place, after all
    object_verbs: frozenset[str] = frozenset()  # "blamed Kyiv", "urged Moscow": the government
    stance_before: frozenset[str] = frozenset()  # "favourable to Moscow", "loyal to Kyiv": the government
    # bodies whose committees take their name: "the Senate’s Judiciary Committee"
    chambers: frozenset[str] = frozenset()

    @classmethod
    def from_data(cls, data: Mapping) -> Cues:
        """The `[cues]` table, every list as a set of lower-case words (`not_places` as written)."""
        return cls(**{k: frozenset(v if k == "not_places" else (w.lower() for w in v)) for k, v in data.items()})


@dataclass
class AliasTable:
    """Surface forms to canonical entities; typos matched by Damerau-Levenshtein (OSA) similarity."""

    entries: tuple[Canonical, ...]
    aliases: Mapping[str, tuple[str, ...]]  # canonical name -> its other surface forms
    glued_suffixes: tuple[str, ...] = ()
    ignore: frozenset[str] = frozenset()
    cues: Cues = field(default_factory=Cues)
    fuzzy_min_similarity: float = 0.85
    fuzzy_min_length: int = 6
    member_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> what its members are called

    def __post_init__(self) -> None:
        self.keys: dict[str, Canonical] = {}
        for entry in self.entries:
            if not entry.lookup:
                continue
            for surface in (entry.name, *self.aliases.get(entry.name, ())):
                key = entity_key(surface)
                if key in self.keys and self.keys[key].name != entry.name:
                    raise ValueError(f"alias {surface!r} names both {self.keys[key].name!r} and {entry.name!r}")
                self.keys[key] = entry
        self.by_name = {e.name: e for e in self.entries}
        self.ignored = frozenset(entity_key(w) for w in self.ignore)  # "HIMARS" ignores "Himars" too
        # exact-case surfaces for scanning what NER left unlabelled: capitalised names, and the few names the table
        # writes in lower case ("dpa", "state department"; not "the ..." forms, which follow their capitalised word)
        self.surfaces = SurfaceIndex(
            [
                s
                for e in self.entries
                if e.lookup
                for s in (e.name, *self.aliases.get(e.name, ()))
                if s[:1].isupper() or not s.startswith("the ")
            ]
        )
        # what a party's members are called ("Democrats", "Republican"): the party in an article about its country
        self.members = {entity_key(w): e for e in self.entries for w in self.member_names.get(e.name, ())}
        # keys by length: a typo within the similarity cutoff changes the length by at most that share
        self._by_length: dict[int, list[str]] = {}
        for key in self.keys:
            self._by_length.setdefault(len(key), []).append(key)
        self._fuzzy_cache: dict[str, Canonical | None] = {}  # per table, bounded; the same typos recur

    @classmethod
    def from_data(
        cls,
        data: Mapping,
        extra: Iterable[tuple[Canonical, Sequence[str]]] = (),
        fuzzy_min_similarity: float = 0.85,
        fuzzy_min_length: int = 6,
        actor_verbs: Iterable[str] = (),
    ) -> AliasTable:
        """The table of enrich_entities.toml plus `extra` (entity, aliases) pairs (the news agencies); a clash fails here.
        `actor_verbs`: more verbs that make a capital before them its government (the speech verbs: "Washington
        described them as")."""
        entries: list[Canonical] = [entry for entry, _ in extra]
        aliases: dict[str, tuple[str, ...]] = {entry.name: tuple(names) for entry, names in extra}
        cues = Cues.from_data(data.get("cues", {}))
        members = {row["name"]: tuple(row["members"]) for row in data.get("entity", ()) if row.get("members")}
        for row in data.get("entity", ()):
            location = row.get("location")
            entries.append(
                Canonical(
                    name=row["name"],
                    label=row["label"],
                    wikidata=row.get("wikidata"),
                    country=row.get("country"),
                    location=(float(location[0]), float(location[1])) if location else None,
                    government=row.get("government"),
                    default=row.get("default", "place"),
                    nouns=tuple(n.lower() for n in row.get("nouns", ())),
                    lookup=bool(row.get("lookup", True)),
                )
            )
            aliases[row["name"]] = tuple(row.get("aliases", ()))
        return cls(
            tuple(entries),
            aliases,
            tuple(data.get("glued_suffixes", ())),
            frozenset(data.get("ignore", ())),
            replace(cues, verbs_after=cues.verbs_after | {v.lower() for v in actor_verbs}),
            fuzzy_min_similarity,
            fuzzy_min_length,
            members,
        )

    def lookup(self, surface: str) -> Canonical | None:
        """The canonical entity of a surface form: exact key, then a glued-on word cut off, then a close typo."""
        key = entity_key(surface)
        if not key:
            return None
        entry = self.keys.get(key)
        if entry is not None:
            return entry
        for suffix in self.glued_suffixes:
            if key.endswith(suffix) and len(key) - len(suffix) >= 4 and key[: -len(suffix)] in self.keys:
                return self.keys[key[: -len(suffix)]]
        words = surface.split()
        initials = [w.rstrip(".") for w in words[1:-1] if _MIDDLE_INITIAL.fullmatch(w)]
        if initials:
            # "Vladimir V. Putin", "Dmitri S. Peskov": a person the table names without the middle initials (not one
            # it names with others: "George H. W. Bush" is no George W. Bush)
            entry = self.lookup(
                " ".join([words[0], *(w for w in words[1:-1] if not _MIDDLE_INITIAL.fullmatch(w)), words[-1]])
            )
            if entry is not None and entry.label == "PERSON":
                named = [w.rstrip(".") for w in entry.name.split()[1:-1] if _MIDDLE_INITIAL.fullmatch(w)]
                if not named or named == initials:
                    return entry
        if any(len(w) >= 2 and w.isupper() for w in surface.split()):
            return None  # an acronym is never a typo of another ("ABC News" is not "NBC News")
        return self._fuzzy(key)

    def _fuzzy(self, key: str) -> Canonical | None:
        """The entity whose alias is within a typo or two of `key` (cached: the same surfaces recur)."""
        if len(key) < self.fuzzy_min_length:
            return None
        if key not in self._fuzzy_cache:
            if len(self._fuzzy_cache) > 100_000:  # bounded: a worker runs for months
                self._fuzzy_cache.clear()
            n, share = len(key), self.fuzzy_min_similarity
            # OSA similarity is 1 - distance / the longer length, and the distance is at least the length difference
            lengths = range(math.ceil(n * share), math.floor(n / share) + 1)
            choices = [k for length in lengths for k in self._by_length.get(length, ())]
            best = process.extractOne(key, choices, scorer=OSA.normalized_similarity, score_cutoff=share)
            if best and key.startswith(best[0]) and key[len(best[0]) :] in _ADJECTIVE_TAILS:
                best = None  # "eastern european" is an adjective of Eastern Europe, not a typo of it
            if best and (best[0].endswith(" " + key) or best[0].startswith(key + " ")):
                best = None  # a typo changes letters, not whole words: "house of representatives" is no "us house …"
            if best and " " not in key and (key[0] != best[0][0] or (len(key) < 9 and key[-2:] != best[0][-2:])):
                # one word another at its first letter, or a short one (under nine letters) another in its last two,
                # is another word, not a typo of it: "Prussia", "Finance" (Binance), "Transnet" (Transneft),
                # "Americas"; a spelling inside it is ("Sebastopol"), and so is a long name's ending ("Zelenskyi").
                # The price: a short name's other ending ("Ukraina") needs an alias of its own
                best = None
            self._fuzzy_cache[key] = self.keys[best[0]] if best else None
        return self._fuzzy_cache[key]


_MIDDLE_INITIAL = re.compile(r"[A-Z]\.")
_ADJECTIVE_TAILS = frozenset({"n", "an", "ian", "ean", "ns", "ans", "ians", "eans", "ese", "ish"})


def known_inside(surface: str, table: AliasTable, after: Sequence[str] = ()) -> Canonical | None:
    """A known organisation inside an unknown span: behind its country's name or adjective ("US Democratic Party",
    "Russian Gazprom"), or its acronym before a product's name that qualifies a noun after it ("an RAF Typhoon
    squadron"; not before a body's noun or a title, "EU Commission", "NATO Secretary", nor a body of its own that
    acts, "NHS England said", "NHS Providers")."""
    first, _, rest = surface.partition(" ")
    if not rest:
        return None
    head = table.keys.get(entity_key(first))
    # a noun after it, not a verb ("an RAF Typhoon squadron", not "NHS England said")
    qualifies = bool(after) and after[0].isalpha() and after[0].islower() and after[0] not in table.cues.verbs_after
    if (
        head is not None
        and head.label == "ORG"
        and first.isupper()
        and " " not in rest
        and rest[:1].isupper()
        and qualifies
    ):
        cues = table.cues
        word = rest.lower()
        if word not in cues.org_nouns and word not in cues.title_words and word not in cues.not_org_heads:
            return head if table.lookup(rest) is None else None
    if " " not in rest and len(rest) < 4:
        return None
    if head is None or head.label not in ("GPE", "NORP"):
        return None
    entry = table.keys.get(entity_key(rest))
    return entry if entry is not None and entry.label == "ORG" else None

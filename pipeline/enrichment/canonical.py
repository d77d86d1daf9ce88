"""Canonical names: mentions resolved with the alias table (`aliases.py`), capitals used as governments, one name
per person."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from pipeline.enrichment.aliases import AliasTable, Canonical, Cues, known_inside
from pipeline.enrichment.capitals import government_use, place_cue
from pipeline.enrichment.entities import Mention
from pipeline.enrichment.folding import CITY_FLOOR, fold_acronyms, fold_surnames, initials, spells_lower_phrase
from pipeline.enrichment.names import is_junk, not_a_name, used_as_common_noun
from pipeline.enrichment.normalise import entity_key, fold, squash, strip_possessive
from pipeline.enrichment.spans import (
    is_gloss,
    merge_split_names,
    pair_of_countries,
    relabelled,
    split_brackets,
    split_place_prefixes,
    split_possessives,
    split_trailing_names,
    with_body_noun,
    without_title,
)
from pipeline.records import Entity

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
_TRAILING = re.compile(r"[\s,.;:!?\"'“”‘’()\[\]–—&-]+$")
_PLURAL_REGION = re.compile(r"\b(Oblast|Region|Province|District)s$", re.IGNORECASE)
_TRAILING_SMALL = re.compile(r"(?:\s+(?:of|as|and|or|the|for|in|to|with|on|at|by|from|a|an|but|than))+$")
# a body's name of two words or more, then "in" and a capitalised place ("… for the Humanities in Moscow")
_LOCATED = re.compile(r"^(\S+(?: \S+)+?) in ((?:[A-Z][\w'’-]*)(?: [A-Z][\w'’-]*)?)$")
_LEADING = re.compile(r"^[\s,.;:!?\"'“”‘’()\[\]–—-]+")


@dataclass(frozen=True, slots=True)
class Resolved:
    """A mention with its canonical entity."""

    name: str
    label: str
    surface: str
    start: int
    end: int
    entry: Canonical | None = None
    is_place: bool = False


@lru_cache(maxsize=1 << 16)  # the same mentions recur in every article; bounded, a worker runs for months
def clean_surface(text: str) -> str:
    """A mention as it should be listed: one line, no possessive, no surrounding punctuation, no leading article."""
    first_line = text.split("\n", 1)[0].replace("[", "").replace("]", "")  # "[Hina] Alvi": an editor's brackets
    bare = _TRAILING.sub("", _LEADING.sub("", squash(first_line)))
    bare = strip_possessive(bare)
    return re.sub(r"^(?:the|The)\s+", "", bare)


# kinds of outlet a name may run into besides the table's `outlets` ("agency" alone ends many names: only "news
# agency" is a kind here)
_OUTLET_KINDS = ("television", "news agency", "news service", "news site", "news network", "news channel")


def without_outlet_kind(surface: str, outlets: Collection[str]) -> str:
    """An outlet's name without the kind NER ran on into, written in lower case after the name ("Interfax news
    agency", "the Kyiv Post newspaper", "Fox News channel"): the kind says what the name is, it is no part of it (a
    kind in capitals is: "International Energy Agency", "Voyen TV")."""
    for kind in (*(k for k in outlets if k != "agency"), *_OUTLET_KINDS):
        if surface.endswith(" " + kind):
            name = surface[: -len(kind) - 1].rstrip()
            if " " in name or name[:1].isupper() and len(name) > 1:
                last = name.split()[-1]
                if last[:1].isupper() or last[:1].isdigit():
                    return name
    return surface


def preferred_countries(mentions: Iterable[Mention], table: AliasTable, share: float = 0.25) -> set[str]:
    """Countries the article is about: those of its known places and groups, each at least `share` of the top one."""
    counts: Counter[str] = Counter()
    for m in mentions:
        entry = table.keys.get(entity_key(m.text))
        if entry is not None and entry.country and entry.label in (PLACE_LABELS | {"NORP"}):
            counts[entry.country] += 1
    if not counts:
        return set()
    top = max(counts.values())
    return {c for c, n in counts.items() if n >= share * top}


def resolve(
    mentions: Sequence[Mention],
    table: AliasTable,
    is_known_place: Callable[[str], bool],
    preferred: Collection[str] = (),
    trusted_from: int = 0,
    place_countries: Callable[[str], set[str]] | None = None,
    common_words: Collection[str] = (),
    demonym: Callable[[str], str | None] | None = None,
    place_size: Callable[[str], int] | None = None,
    given_names: Collection[str] = (),
    text: str = "",
    is_area: Callable[[str], bool] | None = None,
) -> list[Resolved]:
    """Canonical entity of every mention worth keeping; NER spans before `trusted_from` (the headline) only when known.

    `common_words`: the words the text writes in lower case; one of them capitalised is a common noun opening a
    sentence ("Fireworks exploded"), not a name, unless the table knows it. `demonym`: the country whose people's
    adjective a word is ("Lithuanian"), None for other words: such a word alone is nobody's name. `place_size`: the
    people of the largest city of a name (0 for none). `given_names`: first names, folded lower case. `text`: the
    text the mentions point into. `is_area`: whether a name is a country's, a continent's or a US state's, which a
    "person" NER found is, unless it is a first name too."""
    out: list[Resolved] = []
    unsure: set[int] = set()
    cities: set[int] = set()
    defined: dict[str, Resolved] = {}  # acronyms defined in brackets after a name: "… Journalists (SNJT)"
    titles: set[str] = set()
    acronyms: list[Resolved] = []
    surnames = {m.text.split()[-1] for m in mentions if m.label == "PERSON" and " " in m.text.strip()}
    spans = split_possessives(split_brackets(merge_split_names(mentions, table)), table.cues)
    prev_end = -10
    for m in split_trailing_names(split_place_prefixes(spans, table), table, given_names):
        after_name, prev_end = m.start - prev_end <= 6, max(prev_end, m.end)
        if after_name and is_gloss(m) and table.lookup(m.text) is None:
            continue  # "UDAR (Punch)", "Khirurg (the Surgeon)": a name's translation in brackets, no name of its own
        m = with_body_noun(m, table.cues)
        if m.label == "ORG" and m.after[:1] in (("’s",), ("'s",)) and (cut := _owner_cut(m.text, table)):
            # "notify Congress of Mueller’s findings": the word after "of" owns something, it is no part of the name
            m = Mention(m.text[:cut], m.label, m.start, m.start + cut, m.before, m.after, m.source)
        surface = clean_surface(m.text)
        if m.source == "acronym":
            entry = table.lookup(surface)
            if entry is not None:
                out.append(_known(m, surface, entry, table))
            else:  # kept only if it spells an organisation the article names (below)
                acronyms.append(Resolved(surface, "ORG", surface, m.start, m.end))
            continue
        if m.label == "ORG":
            # an organisation's span NER ran into the sentence's next small word ("the Daily Telegraph as Ukraine
            # marks"): no name ends with one (a person's span that does is no name at all: "Storm Shadows and")
            surface = _TRAILING.sub("", _TRAILING_SMALL.sub("", surface))
            surface = without_outlet_kind(surface, table.cues.outlets)
        if not surface or (surface.islower() and m.source != "alias"):
            continue  # "un-safeness": a name has a capital, whatever NER says, but for a table name written so ("dpa")
        entry = table.lookup(surface) or known_inside(surface, table, m.after)
        if entry is None and m.label == "ORG" and (located := _LOCATED.match(surface)) and is_known_place(located[2]):
            entry, surface = table.lookup(located[1]), located[1]  # "… for the Humanities in Moscow": where it is
        if entry is None and m.label == "ORG" and " of " in surface and pair_of_countries(surface, m.after, table):
            # "the Parliamentary Assembly of the Union State of Belarus" + "and Russia": NER stops at "and"
            more = f" and {m.after[1]}"
            surface, m = surface + more, replace(m, end=m.end + len(more), after=m.after[2:])
        if entry is None and m.label == "NORP" and (party := table.members.get(entity_key(surface))) is not None:
            # "Republican and Democrat leaders", "Democrats demanded": the party, in an article about its country
            # (not "Sweden Democrats", whose country is another)
            if party.country in preferred and not (m.before and table.lookup(m.before[-1])):
                out.append(_known(replace(m, label="ORG"), surface, party, table))
                continue
        if entry is not None:
            out.append(_known(m, surface, entry, table))
            continue
        if m.start < trusted_from or surface in table.ignore or entity_key(surface) in table.ignored:
            continue
        m, surface = without_title(m, surface, table.cues)
        owner, mark, owned = surface.partition("’s " if "’s " in surface else "'s ")
        if m.label == "ORG" and mark and (place := table.lookup(owned)) is not None and place.label in PLACE_LABELS:
            continue  # "Mueller’s Russia", "Erdogan's Turkey": a place seen through someone, no organisation
        if m.label == "ORG":  # "the Senate’s Judiciary Committee" is the Senate Judiciary Committee
            surface = _INNER_POSSESSIVE.sub(
                lambda x: f"{x.group(1)} " if _body_owner(x.group(1), table) else x.group(0),
                surface,
            )
        if is_junk(surface, m.label, table.cues) or used_as_common_noun(m, surface, table.cues):
            continue
        if " " not in surface and surface.lower() in common_words and surface not in surnames:
            continue  # but "May said" after "Clifford May": the article's person, by the surname
        if m.label == "PERSON" and " " in surface and all(w.lower() in common_words for w in surface.split()):
            continue  # "Unorthodox Approach", "First Strategy": every word one the text writes in lower case
        if (
            demonym is not None
            and " " not in surface
            and m.label in ("PERSON", "ORG", "")
            and surface not in surnames
            and demonym(surface) is not None
        ):
            continue  # "Lithuanian", "Moldovan": a people's adjective NER took for a name
        if (
            m.label in ("PERSON", "ORG", "")
            and " " not in surface
            and surface.endswith("s")
            and (stem := table.keys.get(entity_key(surface[:-1]))) is not None
            and (stem.label in PLACE_LABELS or stem.label == "NORP")
        ):
            continue  # "the two Russias": a country's or a people's name in the plural names no one and no body
        if " " not in surface and surface.lower() in table.cues.place_nouns:
            continue  # "the Peninsula", "the Region": a place named before, referred back to by its kind
        if len(surface) == 2 and surface.isupper() and m.before and m.before[-1] in ("(", "-", "–", ","):
            continue  # two capitals set off after a name: a state, party or class tag ("Pelosi (CA)", "Warren, CC")
        if m.label == "ORG" and surface.isupper() and m.after[:1] and _MODEL_NUMBER.fullmatch(m.after[0]):
            continue  # a maker's model, not the maker acting ("a UAZ 469 vehicle", "an Mi 8 helicopter")
        m = relabelled(m, surface, table.cues)
        if m.label == "LOC" and (plural := _PLURAL_REGION.search(surface)):
            # "Donetsk and Luhansk Oblasts": the span NER kept is one of them, its region in the singular
            surface = surface[: plural.start()] + plural.group(1)
            entry = table.lookup(surface)
            if entry is not None:
                out.append(_known(m, surface, entry, table))
                continue
        if (
            m.label == "PERSON"
            and is_area is not None
            and surface not in surnames
            and is_area(surface)
            and fold(surface.split()[0]).lower() not in given_names  # "Georgia", "Jordan" are first names too
        ):
            m = replace(m, label="GPE")  # a country, a continent or a US state by name ("Togo", "Burkina Faso")
        city = m.label == "ORG" and place_size is not None and _city_named(m, surface, table.cues, place_size)
        resolved = _unknown(m, surface, table.cues, is_known_place, preferred, place_countries, city)
        if resolved is not None and (
            not_a_name(resolved.name, resolved.label, table.cues)
            or (_defined_acronym(m) is not None and resolved.name.split()[-1].lower() in table.cues.materiel_heads)
        ):
            # "SPEC" after "Special Presidential Envoy for Climate", "MBT" after "Main Battle Tanks"
            titles.add(initials(resolved.name))
        elif resolved is not None:
            if resolved.label == "ORG" and (acronym := _defined_acronym(m)) is not None:
                defined.setdefault(acronym, resolved)
            if resolved.label == "GPE" and place_cue(m, table.cues) is None and not is_known_place(surface):
                unsure.add(len(out))
            if city:
                cities.add(len(out))
            out.append(resolved)
    # one name, one sense in an article: an "organisation" taken for a city gone to stays an organisation when NER's
    # label held for another of its mentions ("lost to Chelsea on Saturday" after "Chelsea have spent")
    bodies = {r.name for r in out if r.label == "ORG"}
    for i in cities:
        if out[i].name in bodies:
            out[i] = replace(out[i], label="ORG", is_place=False)
    # a "place" no gazetteer knows and no word around calls one ("Fireworks", "Treasury") is not listed, unless it
    # is a person's surname of the article ("Nuland")
    kept = fold_acronyms(
        [r for i, r in enumerate(fold_surnames(out)) if i not in unsure or r.label != "GPE"] + acronyms
    )
    # an acronym the article defines in brackets after a name is that name, whatever its letters spell ("National
    # Syndicate of Tunisian Journalists (SNJT)", "Chinese Nationalist Party (KMT)", "Commission on Audit (COA)")
    kept = [
        replace(r, name=defined[r.name].name, label="ORG", entry=defined[r.name].entry, is_place=False)
        if r.entry is None and r.name in defined and r.name != defined[r.name].name
        else r
        for r in kept
    ]
    lone = {(a.start, a.name) for a in acronyms}  # an acronym NER missed that spells nothing the article names
    # an acronym of a phrase that is no name is no name either
    kept = [
        r
        for r in kept
        if not (r.entry is None and r.name.isupper() and (r.name in titles or (r.start, r.name) in lone))
        and not (r.entry is None and r.label == "ORG" and spells_lower_phrase(r.name, text))  # "SMO", "CSR"
    ]
    return sorted(kept, key=lambda r: r.start) if acronyms else kept


def _body_owner(word: str, table: AliasTable) -> bool:
    """A word whose possessive inside an organisation's name is part of the name: a chamber ("the Senate’s Judiciary
    Committee") or a known body or country ("NATO’s Military Committee"), not a person ("Trump’s Justice Department")."""
    if word.lower() in table.cues.chambers:
        return True
    entry = table.lookup(word)
    return entry is not None and entry.label != "PERSON"


def _owner_cut(text: str, table: AliasTable) -> int:
    """Where "<known name> of <one word>" ends its known name, when the whole is no name the table knows ("Congress
    of Mueller" before "’s findings"; not "Bank of England" before "’s governor"); else 0."""
    head, of, tail = text.partition(" of ")
    if not of or " " in tail.strip() or table.lookup(text) is not None or table.lookup(head) is None:
        return 0
    return len(head)


def _known(m: Mention, surface: str, entry: Canonical, table: AliasTable) -> Resolved:
    """An alias-table entity; a capital used as an actor becomes its government."""
    if entry.government and entry.label in PLACE_LABELS:
        if m.source != "dateline" and government_use(m, entry, table) == "government":
            government = table.by_name.get(entry.government)
            return Resolved(entry.government, "ORG", surface, m.start, m.end, government, False)
    return Resolved(entry.name, entry.label, surface, m.start, m.end, entry, entry.label in PLACE_LABELS)


def _unknown(
    m: Mention,
    surface: str,
    cues: Cues,
    is_known_place: Callable[[str], bool],
    preferred: Collection[str],
    place_countries: Callable[[str], set[str]] | None,
    city: bool = False,
) -> Resolved | None:
    """An entity NER found that the table does not know: its label corrected by place cues and the gazetteer
    (`city`: an "organisation" that is a city gone to, `_city_named`)."""
    label = m.label
    if surface.lower() in cues.chambers or surface.lower() in cues.org_nouns:
        # "in the Senate", "at the Treasury": a body where things happen, never a place
        return Resolved(surface, "ORG", surface, m.start, m.end, None, False)
    cue = place_cue(m, cues)
    known = is_known_place(surface)
    if label == "NORP" and m.after and m.after[0][:1].islower():
        cue = None  # "the Indonesian capital", "the Australian city": an adjective before its noun, not the place
    if label in ("", "PERSON", "ORG", "NORP") and (cue == "noun" or (cue == "locative" and known)):
        label = "GPE"
    elif label in ("ORG", "NORP") and cue == "locative" and " " not in surface and not surface.isupper():
        label = "GPE"  # "a car in Novoye": one unknown word after "in" is a village more often than an organisation
    elif label == "PERSON" and " " not in surface and known and place_countries is not None:
        # a single "name" that is a town of the countries the article is about ("Kreminna", "Sumy")
        if place_countries(surface) & set(preferred):
            label = "GPE"
    elif city:
        label = "GPE"  # "why die for Danzig?", "flew to Volgograd, which": a city NER took for an organisation
    if label == "":
        return None  # a capitalised word after "in" that no gazetteer knows: not evidence enough
    return Resolved(surface, label, surface, m.start, m.end, None, label in PLACE_LABELS)


def _defined_acronym(m: Mention) -> str | None:
    """The acronym in brackets right after a mention ("( SNJT )", or "( COA" once split off the span NER ran into
    it), or after its country ("Institute of Certified Public Accountants of Kenya (ICPAK)"); else None."""
    after = m.after[2:] if m.after[:1] == ("of",) and len(m.after) > 1 and m.after[1][:1].isupper() else m.after
    if len(after) >= 2 and after[0] == "(" and _ACRONYM.fullmatch(after[1]) and after[2:3] in ((), (")",)):
        return after[1]
    return None


_ACRONYM = re.compile(r"[A-Z][A-Za-z&]{0,2}[A-Z][A-Za-z&]{0,6}")


def _city_named(m: Mention, surface: str, cues: Cues, place_size: Callable[[str], int]) -> bool:
    """An "organisation" that is a city of some size by name, gone to ("why die for Danzig?", "flew to Volgograd,
    which"): no body's word in it, not in capitals, no common noun after it that it would qualify ("to Brent crude",
    "for Oxford professors": a thing or body named after the place). A city doing something stays what NER said
    ("Chelsea have spent", "Caldwell said": a club, a company)."""
    if not m.before or m.before[-1].lower() not in _TOWARDS:
        return False
    if surface.isupper() or any(w.lower() in cues.org_nouns for w in surface.split()):
        return False
    nxt = m.after[0] if m.after else ""
    if (nxt[:1].isalpha() and nxt.islower() and nxt not in _LINKING_WORDS) or nxt in ("'s", "’s"):
        return False  # "a premium to Caldwell's closing price": whose, a company's as often as a city's
    return place_size(surface) >= CITY_FLOOR


# words of going to a place ("in" is a locative cue of its own, `place_cue`)
_TOWARDS = frozenset({"for", "to", "into", "towards", "toward", "via", "near"})
# small words a city's name runs on into ("for Dunkirk and dozens of other cities", "to Volgograd, which")
_LINKING_WORDS = frozenset({"and", "or", "to", "in", "on", "for", "from", "with", "by", "at", "as", "which"})


# a model number after a maker's name: digits, not a year ("469", "8", "35S")
_MODEL_NUMBER = re.compile(r"(?!(?:19|20)\d\d\b)\d{1,4}[A-Z]?")
_INNER_POSSESSIVE = re.compile(r"(?<![\w-])((?-i:[A-Z])[\w-]+)['’]s\s+(?=[A-Z])")


def aggregate(resolved: Sequence[Resolved]) -> list[Entity]:
    """One entity per canonical name: its most frequent label, its surface forms in order, its count; most mentioned
    first. Names no table knows that differ only by a plural "s" or an accent ("Champs Elysee", "Champs Elysees")
    are one entity, under the spelling seen first."""
    groups: dict[str, list[Resolved]] = {}
    spelling: dict[str, str] = {}
    for r in resolved:
        name = r.name
        if r.entry is None:
            name = spelling.setdefault(fold(name).rstrip("s"), name)
        groups.setdefault(name, []).append(r)
    entities = []
    for name, rs in groups.items():
        label = Counter(r.label for r in rs).most_common(1)[0][0]
        entry = next((r.entry for r in rs if r.entry is not None and r.entry.name == name), None)
        entities.append(
            (
                len(rs),
                rs[0].start,
                Entity(
                    name=name,
                    label=label,
                    mentions=list(dict.fromkeys(r.surface for r in rs)),
                    count=len(rs),
                    wikidata=entry.wikidata if entry else None,
                ),
            )
        )
    entities.sort(key=lambda e: (-e[0], e[1]))
    return [e for _, _, e in entities]

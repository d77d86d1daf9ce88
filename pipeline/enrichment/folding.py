"""What one article shows about its own names, applied after each mention is resolved: a lone surname or first
name is the article's full-named person, an acronym or a short form the organisation it names in full, an
"organisation" listed with people a person, a city's or a country's name listed with places a place."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pipeline.enrichment.normalise import entity_key, fold

if TYPE_CHECKING:
    from pipeline.enrichment.aliases import Cues
    from pipeline.enrichment.canonical import Resolved


def coordinated_people(resolved: Sequence[Resolved], text: str, cues: Cues) -> list[Resolved]:
    """An organisation no table knows whose words are a name's (two or three capitalised words, no organisation's
    noun) listed with people is a person too: "backed by Ilan Shor and Vladimir Plahotniuc", "France's Laurent
    Fabius, Germany's Frank-Walter Steinmeier and Poland's Radoslaw Sikorski"."""
    out = list(resolved)
    actors = [i for i, r in enumerate(out) if r.label in ("PERSON", "ORG")]
    for _ in range(2):  # a list of several: each member next to one already a person
        for k, i in enumerate(actors):
            r = out[i]
            if not _name_like(r, cues):
                continue
            neighbours = [out[j] for j in actors[max(0, k - 1) : k] + actors[k + 1 : k + 2]]
            for n in neighbours:
                gap = text[r.end : n.start] if n.start >= r.end else text[n.end : r.start]
                if n.label == "PERSON" and _LIST_GAP.fullmatch(gap):
                    out[i] = replace(r, label="PERSON", entry=None, is_place=False)
                    break
    return out


def coordinated_places(
    resolved: Sequence[Resolved],
    text: str,
    place_size: Callable[[str], int],
    is_area: Callable[[str], bool] | None = None,
    given_names: Collection[str] = (),
) -> list[Resolved]:
    """An organisation no table knows that is a city of some size by name, listed with places, is that city: "as well
    as Kars, Ardahan, and Batum to Turkey", "the occupied Melitopol and Horlivka". One sense per article: not when
    another of its mentions stays an organisation's.

    So is a one-word "person" that is a town of `PERSON_TOWN_FLOOR` people or more, a country or a state
    (`is_area`), unless it is a given name or the surname of a person the article names ("Lismore" after
    "opened at Casino and"); three or more such "persons" listed together are places by themselves ("Nottingham,
    Woking and Croydon are among those"): a list of people names them in full."""
    out = list(resolved)
    surnames = {r.name.split()[-1] for r in out if r.label == "PERSON" and " " in r.name}

    def town(r: Resolved) -> bool:
        """A one-word "person" whose word is a town of some size, a country or a region."""
        return (
            r.label == "PERSON"
            and is_area is not None
            and r.entry is None
            and " " not in r.name
            and r.name not in surnames
            and fold(r.name).lower() not in given_names
            and (place_size(r.name) >= PERSON_TOWN_FLOOR or is_area(r.name))
        )

    def gap(r: Resolved, n: Resolved) -> bool:
        between = text[r.end : n.start] if n.start >= r.end else text[n.end : r.start]
        return _PLACE_GAP.fullmatch(between) is not None

    moved: set[int] = set()
    towns = [i for i, r in enumerate(out) if town(r)]
    town_at = set(towns)
    run: list[int] = []
    for i in [*towns, -1]:  # runs of listed towns, each next to the one before
        if run and i >= 0 and i == run[-1] + 1 and gap(out[run[-1]], out[i]):
            run.append(i)
            continue
        if len(run) >= 3:
            for j in run:
                out[j] = replace(out[j], label="GPE", is_place=True)
                moved.add(j)
        run = [i]
    for _ in range(2):  # a list of several: each member next to one already a place
        for i, r in enumerate(out):
            if i in moved or r.entry is not None or r.name.isupper():
                continue
            if not ((r.label == "ORG" and place_size(r.name) >= CITY_FLOOR) or (i in town_at and r.label == "PERSON")):
                continue
            neighbours = [out[j] for j in (i - 1, i + 1) if 0 <= j < len(out)]
            if any(n.is_place and gap(r, n) for n in neighbours):
                out[i] = replace(r, label="GPE", is_place=True)
                moved.add(i)
    bodies = {r.name for i, r in enumerate(out) if r.label == "ORG" and i not in moved}
    return [resolved[i] if i in moved and out[i].name in bodies else r for i, r in enumerate(out)]


# a city this large by name is a city NER mislabelled, not a namesake village ("Punch", "Central", "Grad")
CITY_FLOOR = 50_000
# a one-word "person" listed with places is a town of at least this many people (a village's name is a surname as
# often)
PERSON_TOWN_FLOOR = 15_000
# between two places of a list: a comma, "and", "or"
_PLACE_GAP = re.compile(r"\s*(?:,|,?\s+(?:and|or))\s+", re.IGNORECASE)


def listed_organisations(resolved: Sequence[Resolved], text: str) -> list[Resolved]:
    """The members of a list of organisations ("signed by Internews Ukraine, Institute of Mass Information, Commission
    on Journalism Ethics, Dzerkalo Tyzhnia, Suspilne, ..."): in a run of three or more capitalised names separated by
    commas, at least two of them organisations and none a person or a place, every member is an organisation; one
    span NER ran over a comma is two, and one it never marked is found."""
    out = list(resolved)
    if sum(r.label == "ORG" for r in out) < 2:
        return out
    for run in _LISTED.finditer(text):
        items = _items(text, run.start(), run.end())
        if len(items) < 3:
            continue
        inside = [r for r in out if run.start() <= r.start < run.end()]
        items = _split_pairs(items, inside, text)
        heads = [next((r for r in inside if r.start == a), None) for a, _ in items]  # what opens each item
        if any(h is not None and h.label != "ORG" for h in heads) or sum(h is not None for h in heads) < 2:
            continue  # a list of people or places, or one with a single organisation: nothing to learn
        known = {(r.start, r.end): r for r in inside}
        template = inside[0]
        members = [
            known.get((a, b))
            or replace(template, name=text[a:b], surface=text[a:b], start=a, end=b, entry=None, is_place=False)
            for a, b in items
        ]
        out = sorted([r for r in out if not run.start() <= r.start < run.end()] + members, key=lambda r: r.start)
    return out


def _split_pairs(items: list[tuple[int, int]], inside: Sequence[Resolved], text: str) -> list[tuple[int, int]]:
    """An item that is two names joined by "and" ("Exxon Mobil and Chevron", the last of a list without its comma) is
    two items when each side is a name found already; "Center for Democracy and Rule of Law" stays one."""
    out = []
    for a, b in items:
        first = next((r for r in inside if r.start == a and r.end < b), None)
        second = next((r for r in inside if r.end == b and r.start > a), None)
        if first is not None and second is not None and text[first.end : second.start].strip() == "and":
            out += [(a, first.end), (second.start, b)]
        else:
            out.append((a, b))
    return out


def _items(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    """The names of a comma list as (start, end); a one-word first item opening its sentence is no member
    ("Meanwhile, NATO, ...")."""
    items = []
    for m in re.finditer(r"[^,]+", text[begin:end]):
        a, b = begin + m.start(), begin + m.end()
        while a < b and text[a].isspace():
            a += 1
        if text.startswith("and ", a):
            a += 4
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a > 1 and text[b - 1] == "." and text[b - 2].islower():
            b -= 1  # the sentence's full stop, not an abbreviation's ("Chevron." but "U.S.")
        if a < b:
            items.append((a, b))
    if items and " " not in text[items[0][0] : items[0][1]]:
        before = text[max(0, items[0][0] - 2) : items[0][0]]
        if not before.strip() or before.rstrip().endswith((".", "!", "?", "\n")):
            items = items[1:]
    return items


# a run of three or more capitalised names separated by commas (", and" before the last)
_NAME_REST = r"[\w.'’&-]*(?:[ ](?:(?-i:[A-Z])[\w.'’&-]*|of|and|for|the|on|in)){0,7}"
_NAME = r"(?-i:[A-Z])" + _NAME_REST
# the first capital opens the pattern and what may not precede it is looked at after it (searched for at once)
_LISTED = re.compile(rf"[A-Z](?<![\w-][A-Z]){_NAME_REST}(?:,[ ](?:and[ ])?{_NAME}){{2,}}(?![\w-])")


_LIST_GAP = re.compile(r"\s*(?:,|,?\s+and|&)\s+(?:(?-i:[A-Z])[\w-]+['’]s\s+)?", re.IGNORECASE)


def _name_like(r: Resolved, cues: Cues) -> bool:
    """An organisation NER guessed that reads like a person's name."""
    words = r.name.split()
    return (
        r.label == "ORG"
        and r.entry is None
        and 2 <= len(words) <= 3
        and all(w[:1].isupper() and w[1:2].islower() for w in words)
        and not any(w.lower() in cues.org_nouns for w in words)
    )


def fold_surnames(resolved: list[Resolved]) -> list[Resolved]:
    """A lone surname ("Kuleba", "Gladkov") is the full-named person of the same article with that surname,
    whatever NER took it for ("Nuland" as a place), or spelled one letter apart by the article itself ("Chernea"
    for Remus Cernea, "Zelenskyy" for Volodymyr Zelensky: one such person only); so is a lone first name that one
    full-named person of the article has ("Hillary", "Imran")."""
    full: dict[str, Resolved] = {}
    first: dict[str, list[Resolved]] = {}
    short: dict[str, Resolved] = {}  # "William Barr" of "William P. Barr", "Robert Mueller" of "Robert S. Mueller III"
    inner: dict[str, dict[str, Resolved]] = {}  # "Goh" of "Daniel Goh Jun Wei": a family name not written last
    for r in resolved:
        if r.label == "PERSON" and " " in r.name:
            words = _name_words(r.name)
            for word in words[1:-1]:
                if word[:1].isupper() and len(word) >= 3:
                    inner.setdefault(word, {})[r.name] = r
            full.setdefault(words[-1], r)
            full.setdefault(_name_words(r.surface)[-1], r)  # "Tinkov" of "Oleg Tinkov", the table's Oleg Tinkoff
            short.setdefault(f"{words[0]} {words[-1]}", r)
            given = first.setdefault(words[0], [])
            if all(p.name != r.name for p in given):
                given.append(r)
    out = []
    for r in resolved:
        person = None
        words = _name_words(r.name)
        if r.entry is None and r.label == "PERSON" and len(words) >= 2:
            # the same person with or without a middle initial or a generational suffix
            same = short.get(f"{words[0]} {words[-1]}")
            # not two initials that differ: "George H. W. Bush" and "George W. Bush" are two people
            if same is not None and same.name != r.name and not (_initials_of(same.name) and _initials_of(r.name)):
                person = same
            else:
                # the same given name and a surname spelled two ways by one article ("Oleg Tinkov", "Oleg Tinkoff")
                # the spelling a table knows, else the one the article used first
                near = {
                    p.name: p
                    for p in first.get(words[0], ())
                    if p.name != r.name
                    and (p.entry is not None or p.start < r.start)
                    and _transliterated(_name_words(p.name)[-1], words[-1])
                }
                if len(near) == 1:
                    person = next(iter(near.values()))
        elif r.entry is None and " " not in r.name and r.name in full:
            person = full[r.name]
        elif r.entry is None and " " not in r.name and len(first.get(r.name, ())) == 1:
            person = first[r.name][0]
        elif r.entry is None and r.label == "PERSON" and " " not in r.name and len(inner.get(r.name, ())) == 1:
            person = next(iter(inner[r.name].values()))  # "Mr Goh" of "Daniel Goh Jun Wei"
        elif r.entry is None and r.label == "PERSON" and " " not in r.name and len(r.name) >= 5:
            near = {
                p.name: p
                for k, p in full.items()
                if k[:1] == r.name[:1] and (_one_edit(k, r.name) or _transliterated(k, r.name))
            }
            person = next(iter(near.values())) if len(near) == 1 else None
        if person is not None:
            r = replace(r, name=person.name, label="PERSON", entry=person.entry, is_place=False)
        out.append(r)
    # a lone surname follows its full name where that was folded into another spelling
    renamed = {a.name: b for a, b in zip(resolved, out, strict=True) if " " in a.name and a.name != b.name}
    return [replace(r, name=renamed[r.name].name, entry=renamed[r.name].entry) if r.name in renamed else r for r in out]


def _name_words(name: str) -> list[str]:
    """A person's name without middle initials and generational suffixes ("Robert S. Mueller III" -> Robert Mueller)."""
    words = name.split()
    kept = [w for i, w in enumerate(words) if not (0 < i < len(words) - 1 and _INITIAL.fullmatch(w))]
    while len(kept) > 2 and _SUFFIX.fullmatch(kept[-1]):
        kept.pop()
    return kept


def _initials_of(name: str) -> list[str]:
    """The middle initials of a person's name."""
    words = name.split()
    return [w for w in words[1:-1] if _INITIAL.fullmatch(w)]


_INITIAL = re.compile(r"[A-Z]\.?")
_SUFFIX = re.compile(r"(?:Jr|Sr|II|III|IV)\.?")


def _transliterated(a: str, b: str) -> bool:
    """Two spellings of one surname written in another alphabet: five letters or more, the same first letter and the
    same consonants ("Tinkov"/"Tinkoff", "Soloviev"/"Solovyov", "Zelensky"/"Zelenskiy"; not "Johnson"/"Johnston")."""
    return a != b and a[:1] == b[:1] and min(len(a), len(b)) >= 5 and _consonants(a) == _consonants(b)


def _consonants(word: str) -> str:
    """A word's consonants, doubled ones once, with the letters transliterations swap folded ("ff" = "v")."""
    low = word.lower()
    for old, new in (("ff", "v"), ("ph", "f"), ("kh", "h"), ("ck", "k"), ("w", "v"), ("x", "ks")):
        low = low.replace(old, new)
    skeleton = re.sub(r"[aeiouy]", "", low)
    return re.sub(r"(.)\1+", r"\1", skeleton)


def _one_edit(a: str, b: str) -> bool:
    """The two words differ by one letter changed, added or left out."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def fold_acronyms(resolved: list[Resolved]) -> list[Resolved]:
    """An acronym no table knows ("AAA", "ISW") is the organisation of the same article whose words, or its last
    words, it abbreviates ("Columbia Asian American Alliance", "Institute for the Study of War")."""
    spelled: dict[str, Resolved] = {}
    # a name the tables know first: "MFA" is the "Ministry of Foreign Affairs (Ukraine)" the article names, not a
    # span of it NER cut short; a country's qualifier in brackets is no word of the name
    for r in sorted(resolved, key=lambda r: r.entry is None):
        if r.label == "ORG" and " " in r.name:
            words = _significant(_QUALIFIER.sub("", r.name))
            for k in range(len(words) - 1):
                spelled.setdefault("".join(w[0] for w in words[k:]).upper(), r)
    # "Department of Justice" after "the U.S. Department of Justice": the short form of an organisation named
    longer = [(f" {entity_key(k)}", r) for r in resolved if r.label == "ORG" for k in {r.surface, r.name}]
    full = [r for r in resolved if r.label == "ORG" and r.entry is None]
    out = []
    for r in resolved:
        # an acronym written as a word ("Dfat" for the Department of Foreign Affairs and Trade) spells it too
        word_acronym = r.name.isalpha() and (r.name.isupper() or (len(r.name) <= 6 and r.name[:1].isupper()))
        if r.entry is None and r.label in ("ORG", "", "PERSON") and word_acronym and r.name.upper() in spelled:
            org = spelled[r.name.upper()]
            r = replace(r, name=org.name, label="ORG", entry=org.entry, is_place=False)
        elif r.entry is None and r.label == "ORG":
            key = f" {entity_key(r.name)}"
            # one word is the name it ends only when the article names one such ("Treasury" after "U.S. Treasury",
            # "Senate" after "Governing Senate"; not "Army" in a story of the Red Army and the Russian Army)
            ends = {o.name: o for k, o in longer if k.endswith(key) and k != key}
            named = next(iter(ends.values()), None) if " " in r.name or len(ends) == 1 else None
            if named is not None:
                r = replace(r, name=named.name, label="ORG", entry=named.entry, is_place=False)
        if r.entry is None and r.label == "ORG":
            # "MGM Resorts" after "MGM Resorts International": the name's first words, the rest capitalised words
            fullers = {o.name: o for o in full if o.name != r.name and _opens(o.name, r.name)}
            # the fullest of names that open one another ("MGM" -> "MGM Resorts" -> "MGM Resorts International");
            # two names that do not are two bodies the short form may mean: it stays as it is
            fullest = max(fullers.values(), key=lambda o: len(o.name), default=None)
            if fullest is not None and all(fullest.name.startswith(n) for n in fullers):
                r = replace(r, name=fullest.name, entry=fullest.entry, is_place=False)
        out.append(r)
    return out


def _opens(name: str, short: str) -> bool:
    """`name` is `short` and one or two capitalised words more ("MGM Resorts International", "MGM Resorts"), or a
    name of two words or more and its complement ("Parliamentary Assembly of the Union State", "Parliamentary
    Assembly"; "Eurasian Observatory of Democracy and Elections")."""
    words, first = name.split(), short.split()
    extra = words[len(first) :]
    if words[: len(first)] != first or not extra:
        return False
    # (not a country's body and its country: "Ministry of Foreign Affairs" + "of Ukraine" is the table's to name)
    if len(first) >= 2 and extra[0] in _COMPLEMENT and len(extra) >= 3 and extra[-1][:1].isupper():
        return True
    return len(extra) <= 2 and all(w[:1].isupper() for w in extra)


_COMPLEMENT = frozenset({"of", "for", "on"})


_SMALL_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "at", "to", "&"})
_QUALIFIER = re.compile(r"\s*\([^()]*\)$")


def _significant(name: str) -> list[str]:
    """The words of a name an acronym spells ("Institute for the Study of War" -> Institute Study War)."""
    return [w for w in re.split(r"[\s-]+", name) if w and w.lower() not in _SMALL_WORDS]


def initials(name: str) -> str:
    """The acronym of a name's words."""
    return "".join(w[0] for w in _significant(name)).upper()


def spells_lower_phrase(acronym: str, text: str) -> bool:
    """The acronym's letters open the words of a phrase the text writes in lower case: a common noun's short form
    ("SMO" after "special military operation", "CSR" after "corporate social responsibility"), not a name's."""
    if not 3 <= len(acronym) <= 6 or not acronym.isalpha() or not acronym.isupper():
        return False
    words = r"\s+".join(f"{c.lower()}[a-z]{{2,}}" for c in acronym)
    return re.search(rf"(?<![\w-]){words}(?![\w-])", text) is not None

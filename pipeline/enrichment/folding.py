"""What one article shows about its own names, applied after each mention is resolved: a lone surname or first
name is the article's full-named person, an acronym or a short form the organisation it names in full, an
"organisation" listed with people a person."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pipeline.enrichment.normalise import entity_key

if TYPE_CHECKING:
    from pipeline.enrichment.canonical import Cues, Resolved


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
    for r in resolved:
        if r.label == "PERSON" and " " in r.name:
            full.setdefault(r.name.split()[-1], r)
            given = first.setdefault(r.name.split()[0], [])
            if all(p.name != r.name for p in given):
                given.append(r)
    out = []
    for r in resolved:
        person = None
        if r.entry is None and " " not in r.name and r.name in full:
            person = full[r.name]
        elif r.entry is None and " " not in r.name and len(first.get(r.name, ())) == 1:
            person = first[r.name][0]
        elif r.entry is None and r.label == "PERSON" and " " not in r.name and len(r.name) >= 5:
            near = {p.name: p for k, p in full.items() if k[:1] == r.name[:1] and _one_edit(k, r.name)}
            person = next(iter(near.values())) if len(near) == 1 else None
        if person is not None:
            r = replace(r, name=person.name, label="PERSON", entry=person.entry, is_place=False)
        out.append(r)
    return out


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
    for r in resolved:
        if r.label == "ORG" and " " in r.name:
            words = _significant(r.name)
            for k in range(len(words) - 1):
                spelled.setdefault("".join(w[0] for w in words[k:]).upper(), r)
    # "Department of Justice" after "the U.S. Department of Justice": the short form of an organisation named
    longer = [(f" {entity_key(k)}", r) for r in resolved if r.label == "ORG" for k in {r.surface, r.name}]
    out = []
    for r in resolved:
        if r.entry is None and r.label in ("ORG", "") and r.name.isupper() and r.name.isalpha() and r.name in spelled:
            org = spelled[r.name]
            r = replace(r, name=org.name, label="ORG", entry=org.entry, is_place=False)
        elif r.entry is None and r.label == "ORG" and " " in r.name:
            key = f" {entity_key(r.name)}"
            named = next((o for k, o in longer if k.endswith(key) and k != key), None)
            if named is not None:
                r = replace(r, name=named.name, label="ORG", entry=named.entry, is_place=False)
        out.append(r)
    return out


_SMALL_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "at", "to", "&"})


def _significant(name: str) -> list[str]:
    """The words of a name an acronym spells ("Institute for the Study of War" -> Institute Study War)."""
    return [w for w in re.split(r"[\s-]+", name) if w and w.lower() not in _SMALL_WORDS]


def initials(name: str) -> str:
    """The acronym of a name's words."""
    return "".join(w[0] for w in _significant(name)).upper()

"""Reading names from a doc's tokens where NER saw none or cut them: the token-level tests `entities.py` uses (a
body's name going on after "of", a lone acronym, an alias-table name, where a person's or a body's name starts, a
name set off by its role)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from spacy.lang.en.stop_words import STOP_WORDS

if TYPE_CHECKING:
    from pipeline.enrichment.entities import SurfaceIndex

# the tokens a sentence's first word follows
SENTENCE_OPENERS = frozenset({".", "!", "?", "”", '"', "\n", "\n\n"})
_COMPLEMENT_SMALL = frozenset({"of", "the", "and", "for", "in", "on"})


def apposition_end(texts: list[str], lower: list[str], j: int, role_nouns: Collection[str]) -> int | None:
    """Where an apposition of a role after a name closes: ", a/an/the" and up to ten words holding a role noun, then
    a comma (the comma's index); None when none follows at `j`."""
    if j + 2 >= len(texts) or texts[j] != "," or lower[j + 1] not in ("a", "an", "the"):
        return None
    for k in range(j + 2, min(len(texts), j + 13)):
        if texts[k] == ",":
            return k if any(w in role_nouns or w.rsplit("-", 1)[-1] in role_nouns for w in lower[j + 2 : k]) else None
        if texts[k] in (".", ";", ":", "“", '"'):
            return None
    return None


def complement_end(
    texts: list[str], spaces: list[str], lower: list[str], end: int, body_heads: Collection[str], most: int = 10
) -> int:
    """Where a body's name ends that goes on after NER's span at `end` with "of"/"for", maybe "the", and capitalised
    words (small words between them): "International Criminal Tribunal" + "for the Former Yugoslavia", "Supreme
    Court" + "of Tennessee"; `end` itself when no such words follow on the same line, or when they name a body of
    their own ("Main Intelligence Agency" + "of the Defense Ministry": a unit and the body it belongs to)."""
    n = len(texts)
    if end >= n or lower[end] not in ("of", "for") or not spaces[end - 1]:
        return end
    k = end + 1
    if k < n and lower[k] == "the" and spaces[k - 1]:
        k += 1
    last = end
    while k < n and k - end <= most and spaces[k - 1]:
        if texts[k][:1].isupper() and texts[k].isalpha():
            last = k + 1
        elif lower[k] not in _COMPLEMENT_SMALL:
            break
        k += 1
    return end if last > end and lower[last - 1] in body_heads else last


def lone_acronym(texts: list[str], i: int) -> bool:
    """Token i is a word of three to six capitals amid ordinary words (not a word of an ALL-CAPS headline)."""
    word = texts[i]
    if not (3 <= len(word) <= 6 and word.isalpha() and word.isupper()):
        return False
    neighbours = [t for t in texts[max(0, i - 2) : i] + texts[i + 1 : i + 3] if t.isalpha() and len(t) > 1]
    return not any(t.isupper() for t in neighbours)


def alias_end(
    texts: list[str], spaces: list[str], covered: bytearray, i: int, longest: int, index: SurfaceIndex
) -> int:
    """End token of the longest alias-table surface starting at token i (at most `longest` characters), 0 if none."""
    best = 0
    text = ""
    for j in range(i, len(texts)):
        if covered[j]:
            break
        text += texts[j]
        if len(text) > longest or text not in index.prefixes:
            break
        if text in index.surfaces:
            best = j + 1
        text += spaces[j]
    return best


def org_start(
    texts: list[str],
    spaces: list[str],
    lower: list[str],
    covered: bytearray,
    start: int,
    name_titles: Collection[str],
    known: Collection[str],
) -> int:
    """Where an organisation's name starts: up to two capitalised words NER left out before it, after "the" or a
    lower-case word ("the Lublin Triangle", "the Trilateral Contact Group": NER reads "Triangle", "Contact Group");
    never at a sentence's first word, a title or a name of its own ("the Polish Sejm")."""
    i = start
    while start - i < 2 and i >= 2 and not covered[i - 1] and spaces[i - 1]:
        word = texts[i - 1]
        if not (word.isalpha() and word[:1].isupper() and word[1:].islower()) or lower[i - 1] in name_titles:
            break
        if word in known:
            break
        i -= 1
    while i < start:  # the word before the name must mark where it begins
        before = texts[i - 1]
        if lower[i - 1] == "the" or (before.isalpha() and before.islower()):
            return i
        i += 1
    return start


def given_name_before(
    texts: list[str],
    lower: list[str],
    named: bytearray,
    lower_case: Collection[str],
    start: int,
    titles: Collection[str],
    known: Collection[str],
) -> bool:
    """The word before a one-word organisation is a given name, so the two are a person ("Nadezhda Kevorkova",
    "Alexei Pushkov"): a capitalised word of letters that no NER span holds, that the text never writes in lower case
    (no "State", "Deputy"), no function word, no title and no name the alias table knows."""
    i = start - 1
    if i < 0 or named[i]:
        return False
    word = texts[i]
    return (
        len(word) >= 3
        and word.isalpha()
        and word[:1].isupper()
        and word[1:].islower()
        and lower[i] not in lower_case
        and lower[i] not in STOP_WORDS  # "How Svoboda", "From Reuters": a sentence's first word
        and lower[i] not in titles
        and word not in known
        and texts[start][1:].islower()  # "Alexei NATO": an acronym is no surname
    )


def person_start(
    texts: list[str],
    spaces: list[str],
    lower: list[str],
    covered: bytearray,
    start: int,
    end: int,
    name_titles: Collection[str],
    known: Collection[str],
) -> int:
    """Where a person's name starts: a title that is part of the name ("Pope Francis"), or a given name NER left
    out of a lone surname ("Ambassador to Poland Andrii Deshchytsia": NER reads "Deshchytsia")."""
    i = start - 1
    if i < 0 or covered[i] or not spaces[i]:
        return start
    word = texts[i]
    if lower[i] in name_titles:
        return i
    if (
        end - start == 1
        and word[:1].isupper()
        and word[1:].islower()
        and word.isalpha()
        and word not in known
        and i >= 1
        and texts[i - 1] not in (".", "!", "?", "\n", "\n\n", "“", '"')
        and texts[i - 1][:1].isupper()
    ):
        return i  # a capitalised word glued between another name and the surname: the given name
    return start


_CALENDAR = frozenset(
    "january february march april may june july august september october november december monday tuesday wednesday"
    " thursday friday saturday sunday".split()
)


def name_goes_on(
    texts: list[str],
    spaces: list[str],
    lower: list[str],
    named: bytearray,
    lower_case: Collection[str],
    end: int,
    titles: Collection[str],
    one_word: Collection[int] = (),
) -> bool:
    """The word right after a person's name of two words is a third name NER left out ("Ahmet Selim" + "Karaca"):
    one capitalised word, no entity's but a one-word one's (NER took "Karaca" for a place), never written in lower
    case in the text, no title, day or month, and no capitalised word after it (a run of capitals is a name of its
    own or a headline)."""
    if end >= len(texts) or (named[end] and end not in one_word) or spaces[end - 1] != " ":
        return False
    word, low = texts[end], lower[end]
    return (
        word.isalpha()
        and word[:1].isupper()
        and word[1:].islower()
        and low not in lower_case
        and low not in STOP_WORDS
        and low not in titles
        and low not in _CALENDAR
        and not (end + 1 < len(texts) and texts[end + 1][:1].isupper())
    )


# words a name defined by its acronym may hold that give no letter ("Institute for the Study of War (ISW)",
# "Conseil du Café-Cacao (CCC)")
_DEFINED_SMALL = frozenset(
    {"of", "for", "and", "the", "on", "in", "du", "de", "des", "la", "le", "di", "del", "da", "et", "y", "und", "&"}
)
# NER labels that make a span no organisation of its own making: a place, a people, an event, a law, a work
_NOT_BODY_LABELS = frozenset({"GPE", "LOC", "FAC", "NORP", "EVENT", "LAW", "WORK_OF_ART", "PRODUCT", "LANGUAGE"})


def defined_by_acronym(texts: list[str], ents: list[tuple[int, int, str, int]], starts: list[int]) -> list:
    """Names an acronym NER reads as an organisation defines, as organisations: "Jharkhand Mukti Morcha (JMM)", which
    NER calls a person, "Conseil du Café-Cacao (CCC)", which it misses. The capitalised words right before "(", with
    the small words between them, whose initials are the acronym's letters; none of them in a span NER calls a place,
    a people, an event or a law, nor in one running past them. `ents`: (start, end, label, start_char) by token."""
    orgs = {start for start, end, label, _ in ents if label == "ORG" and end - start == 1}
    n = len(texts)
    defined = []
    k = 0
    while True:
        try:
            k = texts.index("(", k + 1)
        except ValueError:
            break
        if k + 2 >= n or k + 1 not in orgs or texts[k + 2] != ")":
            continue
        letters = texts[k + 1].replace("&", "")
        if not (2 <= len(letters) <= 8 and letters.isalpha() and letters.isupper()):
            continue
        capitals: list[int] = []
        i = k - 1
        while i >= 0 and k - i <= 14 and len(capitals) < len(letters):
            word = texts[i]
            if word[:1].isupper() and word[:1].isalpha():
                capitals.append(i)
            elif not (word.lower() in _DEFINED_SMALL or word in ("-", "–") or (word.islower() and texts[i - 1] == "-")):
                break
            i -= 1
        if len(capitals) != len(letters) or "".join(texts[c][0] for c in reversed(capitals)).upper() != letters:
            continue
        defined.append((capitals[-1], k))
    if not defined:
        return ents
    out = list(ents)
    for s, e in defined:
        inside = [x for x in out if x[0] < e and x[1] > s]
        if any(x[0] < s or x[1] > e or x[2] in _NOT_BODY_LABELS for x in inside):
            continue
        out = [x for x in out if x not in inside] + [(s, e, "ORG", starts[s])]
    return sorted(out)

"""Is a capital the place or its government? Read from the words around the mention ("Moscow rejected", "sanctions
on Moscow", "in Kyiv", "Berlin's landmark"), with the cues of `[cues]` in enrich_entities.toml."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.enrichment.aliases import AliasTable, Canonical, Cues
    from pipeline.enrichment.entities import Mention

_POSSESSIVE_TOKENS = frozenset({"'s", "’s", "'", "’", "‘s"})


def government_use(m: Mention, entry: Canonical, table: AliasTable) -> str:
    """ "government" when the words around a capital make it an actor ("Moscow rejected"), else "place"."""
    cues = table.cues
    before = list(m.before)
    prev = before[-1] if before else ""
    prev_word = before[-2] if prev == "the" and len(before) >= 2 else prev
    after = list(m.after)
    if after and after[0] in _POSSESSIVE_TOKENS:
        # the capital owns the noun after it, whatever governs the noun ("over Moscow’s invasion", "in Kyiv's streets")
        if _place_noun_soon(after[1:4], cues):
            return "place"  # "Berlin's landmark", "Kyiv's streets", "Kiev's main protest camp"
        return "government"  # "Moscow's main ally"
    if prev_word in cues.locative_before:
        return "place"
    if after and after[0].lower() in _NAMED_AFTER:
        return "place"  # "the Minsk agreements", "the Istanbul talks": an agreement or meeting named by the city
    if prev in cues.agent_before:
        return "government"
    if prev == "to" and any(w in cues.transfer_verbs for w in before[-9:-1]):
        return "government"
    if prev == "to" and len(before) >= 2 and before[-2] in cues.stance_before:
        return "government"  # "proposals favourable to Moscow", "loyal to Kyiv"
    if prev == "from" and len(before) >= 2 and before[-2] in cues.from_nouns:
        return "government"
    if prev_word in cues.relation_before:
        at = len(before) - (2 if prev == "the" else 1)
        noun = before[at - 1] if at >= 1 else ""
        if noun not in cues.target_nouns:
            return "government"  # "sanctions on Moscow", "talks with Kyiv", "between Kyiv and Warsaw"
    if prev in cues.object_verbs:
        return "government"  # "blamed Kyiv", "urged Moscow to"
    if _paired_capital(before, after, entry, table):
        return "government"  # "have Washington and London become", "accused … Washington and London of leading"
    if prev_word == "of":
        of_at = len(before) - (2 if prev == "the" else 1)
        if of_at >= 1 and before[of_at - 1] in cues.nouns_after:
            return "government"  # "the soldiers of the Kremlin"
    if len(after) >= 2 and after[0] in ("-", "–") and after[1].lower() in cues.hyphen_after:
        return "government"  # "Kremlin-backed"
    words = [w.lower() for w in after]
    i = _skip(words, 0, cues)
    clause = prev in _SUBORDINATORS  # "if Moscow chooses", "as Kyiv grapples with": the subject of a clause
    opens = prev in _SENTENCE_STARTS  # "Moscow assembled 150,000 soldiers": a sentence's subject
    if i < len(words) and words[i] in ("and", "or"):
        # "Moscow and Kiev are blaming each other", "Kiev and the West have accused": the verb after the pair
        j = next((k for k in range(i + 1, min(i + 5, len(words))) if _plural_verb(words[k], cues)), None)
        if j is not None and words[j] not in cues.be_forms:
            return "government"  # "Kyiv and its Western allies dismiss", "Moscow and Kiev are blaming" (below)
        if j is None and i + 2 < len(words) and after[i + 1][:1].isupper():
            j, clause = _skip_adverbs(words, i + 2), True  # "Moscow and Kiev effectively ended dialogue"
        if j is not None:
            i = j
    clause = clause or (0 < i and words[i - 1] in ("which", "who"))  # "Washington, which shares"
    if clause and i < len(words) and _finite_verb(words[i], cues):
        return "government"
    if opens and i < len(words) and _finite_verb(words[i], cues) and words[i].endswith("ed"):
        return "government"  # a past tense only: "Kyiv suburbs", "Moscow streets" open sentences too
    if i < len(words):
        word = words[i]
        if word in cues.be_forms:
            k = _skip(words, i + 1, cues)
            participle = k < len(words) and (words[k].endswith("ed") or words[k] in cues.participles)
            # "Kyiv was calm", "Kyiv is a sacred city": the place as it is
            state = k < len(words) and words[k] in cues.place_states
            kind = k < len(words) and words[k] in ("a", "an", "the") and _place_noun_soon(words[k + 1 : k + 4], cues)
            return "place" if participle or state or kind else "government"  # "Kyiv was shelled" / "Kiev is advancing"
        if word in cues.verbs_after or word in cues.nouns_after:
            return "government"
        if word in cues.place_nouns:
            return "place"
    return entry.default


# words that open a clause: a capital right after one is its subject
_SUBORDINATORS = frozenset(
    {
        "if",
        "as",
        "when",
        "while",
        "because",
        "unless",
        "until",
        "whether",
        "though",
        "although",
        "once",
        "whereas",
        "that",
    }
)
# agreements and meetings named by the city they were made or held in
_NAMED_AFTER = frozenset(
    {
        "agreement",
        "agreements",
        "accord",
        "accords",
        "protocol",
        "protocols",
        "memorandum",
        "format",
        "process",
        "talks",
        "summit",
        "declaration",
        "conference",
        "forum",
        "negotiations",
        "treaty",
    }
)
# what comes before a sentence's first word (nothing at the text's start)
_SENTENCE_STARTS = frozenset({"", ".", "!", "?", "\n", "\n\n", "“", '"', ";", ":"})


def _skip_adverbs(words: Sequence[str], i: int) -> int:
    """Index of the first word from i on that is not an adverb in -ly ("effectively", "reportedly")."""
    while i < len(words) and len(words[i]) > 4 and words[i].endswith("ly"):
        i += 1
    return i


def _finite_verb(word: str, cues: Cues) -> bool:
    """A word that reads as the verb of a clause's subject: a listed verb, or a lower-case word in -s or -ed that
    is no place noun ("chooses", "grapples", "ended"; not "residents", "streets")."""
    if word in cues.be_forms:
        return False  # "as Kyiv was shelled": the form of "be" decides below
    if word in cues.verbs_after:
        return True
    return (
        word.isalpha()
        and word.islower()
        and len(word) > 3
        and word.endswith(("s", "ed"))
        and not word.endswith("ss")
        and word not in cues.place_nouns
        and word not in cues.nouns_after
    )


def _paired_capital(before: Sequence[str], after: Sequence[str], entry: Canonical, table: AliasTable) -> bool:
    """Two capitals of two countries joined by "and" stand for their governments ("Washington and London"), unless
    a word of place or of relation before the pair governs it ("in Kyiv and Warsaw", "flights between Moscow and
    Riga": read before this), or a noun after it makes them places ("the Moscow and Kyiv metros")."""
    cues = table.cues

    def capital(word: str) -> Canonical | None:
        other = table.lookup(word) if word[:1].isalpha() else None
        if other is None or not other.government or other.government == entry.government:
            return None
        return other

    def placed(word: str, governing: str) -> bool:
        """A place noun after the pair ("metros"), or a preposition before it ("from", "in", "between")."""
        word = word.lower()
        return (
            word in cues.place_nouns
            or word.removesuffix("s") in cues.place_nouns
            or word in _NAMED_AFTER
            or governing in cues.locative_before
            or governing in cues.relation_before
            or governing in _PREPOSITIONS
        )

    if len(after) >= 2 and after[0] == "and" and after[1][:1].isupper() and capital(after[1]):
        governing = before[-2] if before[-1:] == ["the"] and len(before) >= 2 else (before[-1] if before else "")
        return not placed(after[2] if len(after) > 2 else "", governing)
    if len(before) >= 2 and before[-1] == "and" and capital(before[-2]):
        return not placed(after[0] if after else "", before[-3] if len(before) >= 3 else "")
    return False


# words that govern a place as often as a government: a pair after one is read by the rules for one capital
_PREPOSITIONS = frozenset({"from", "to", "of", "via", "for", "between", "on", "with", "against", "by"})


def _place_noun_soon(words: Sequence[str], cues: Cues) -> bool:
    """A place noun among the next lower-case words, before any other kind of word ("main protest camp")."""
    for word in words:
        if word.lower() in cues.place_nouns:
            return True
        if not word.isalpha() or not word.islower():
            return False
    return False


def _plural_verb(word: str, cues: Cues) -> bool:
    """A verb after a pair of subjects: a listed verb, or the plural of one ("Kyiv and its allies dismiss")."""
    return word in cues.verbs_after or word + "s" in cues.verbs_after or word + "es" in cues.verbs_after


def _skip(words: Sequence[str], i: int, cues: Cues) -> int:
    """Index of the first word from i on that is not a comma, an adverb or a time ("Kiev, meanwhile, has",
    "Berlin on Monday announced", "Moscow last week said")."""
    while i < len(words):
        if words[i] in cues.skip_after:
            i += 1
        elif i + 1 < len(words) and words[i] in _TIME_BEFORE and words[i + 1] in _TIMES:
            i += 2
        else:
            break
    return i


_TIME_BEFORE = frozenset({"on", "last", "this", "earlier", "late", "later"})
_TIMES = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "week", "month", "year", "weekend"}
    | {"day", "night", "morning", "evening", "afternoon"}
)


def place_cue(m: Mention, cues: Cues) -> str | None:
    """ "noun" when a place noun follows ("the Petrovka area", "Hoptivka, a border crossing"), "locative" after "in"."""
    after = [w.lower() for w in m.after]
    if after and after[0] in cues.place_nouns:
        return "noun"
    if after[:1] == [","] and len(after) >= 3 and after[1] in ("a", "an", "the"):
        if after[2] in cues.place_nouns or (len(after) >= 4 and after[3] in cues.place_nouns):
            return "noun"
    before = list(m.before)
    prev = before[-1] if before else ""
    if prev == "of" and len(before) >= 2 and before[-2] in cues.place_nouns:
        return "noun"  # "the village of Novaya Tavolzhanka"
    prev_word = before[-2] if prev == "the" and len(before) >= 2 else prev
    if prev_word in cues.locative_before:
        return "locative"
    return None

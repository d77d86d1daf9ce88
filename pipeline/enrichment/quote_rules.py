"""The cues of enrich_quotes.toml: speech verbs (every form of each), pronouns, titles, documents, abbreviations."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pipeline.enrichment.normalise import fold

_VOWELS = frozenset("aeiou")


def verb_forms(lemma: str, irregular: Iterable[str] = ()) -> frozenset[str]:
    """A verb's base, -s, -ed and -ing forms by the regular rules, with its irregular forms ("say" -> "said")."""
    lemma = lemma.lower()
    forms = {lemma, *(f.lower() for f in irregular)}
    consonant_y = lemma.endswith("y") and len(lemma) > 1 and lemma[-2] not in _VOWELS
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(lemma + "es")
    elif consonant_y:
        forms.add(lemma[:-1] + "ies")
    else:
        forms.add(lemma + "s")
    if lemma.endswith("e"):
        forms.add(lemma + "d")
    elif consonant_y:
        forms.add(lemma[:-1] + "ied")
    else:
        forms.add(lemma + "ed")
    if lemma.endswith("ie"):
        forms.add(lemma[:-2] + "ying")
    elif lemma.endswith("e") and not lemma.endswith("ee"):
        forms.add(lemma[:-1] + "ing")
    else:
        forms.add(lemma + "ing")
    return frozenset(forms)


def read_given_names(text: str) -> dict[str, str]:
    """first_names.tsv: a folded first name and f or m per line; "#" lines are its provenance and licence."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, gender = line.partition("\t")
            if gender not in ("f", "m"):
                raise ValueError(f"first_names.tsv: {line!r} is not a name, a tab and f or m")
            out[name] = gender
    return out


@dataclass(frozen=True)
class QuoteRules:
    """The cues of enrich_quotes.toml."""

    min_words: int
    speech_verbs: frozenset[str]  # every form of every speech verb ("say", "says", "said", "saying")
    pronouns: frozenset[str]
    person_nouns: re.Pattern[str]  # "the (Russian foreign) minister": a title that refers back
    abbreviations: frozenset[str]
    person_words: frozenset[str] = frozenset()  # the last word of each person noun ("minister", "head")
    document_nouns: frozenset[str] = frozenset()  # what a text is quoted from ("statement", "letter")
    descriptive_words: frozenset[str] = frozenset()  # titles that describe, not name ("official", "analyst")
    office_qualifiers: frozenset[str] = frozenset()  # words that make a title one office ("foreign" minister)
    organisation_pronouns: frozenset[str] = frozenset()  # "it said": the organisation named last
    organisation_nouns: frozenset[str] = frozenset()  # "the regulator said": the organisation named last too
    role_synonyms: Mapping[str, str] = field(default_factory=dict)  # "head of state" -> "president"
    finite_verbs: frozenset[str] = frozenset()  # the -s and past forms ("says", "described", "told")
    synonym_ends: frozenset[str] = frozenset()  # the last words of the role synonyms ("state" of "head of state")
    collective_nouns: frozenset[str] = frozenset()  # "officials", "experts": people speaking for the body named
    given_names: Mapping[str, str] = field(
        default_factory=dict
    )  # first names nearly always a woman's (f) or a man's (m)

    @classmethod
    def from_data(cls, data: Mapping, given_names: Mapping[str, str] | None = None) -> QuoteRules:
        """The quote cues, lower-cased; every speech verb in all its forms; `given_names` from first_names.tsv."""
        irregular = {k.lower(): v for k, v in data.get("irregular_forms", {}).items()}
        verbs: set[str] = set()
        lemmas = {lemma.lower() for lemma in data["speech_verbs"]}
        for lemma in data["speech_verbs"]:
            verbs |= {lemma.lower()} if lemma.lower() == "according" else verb_forms(lemma, irregular.get(lemma, ()))
        verbs -= {w.lower() for w in data.get("not_verbs", ())}
        nouns = "|".join(
            r"\s+".join(map(re.escape, n.split())) for n in sorted(data["person_nouns"], key=len, reverse=True)
        )
        return cls(
            min_words=int(data.get("min_words", 4)),
            speech_verbs=frozenset(verbs),
            pronouns=frozenset(w.lower() for w in data["pronouns"]),
            person_nouns=re.compile(rf"\bthe\s+(?:[\w-]+\s+){{0,2}}(?:{nouns})\b", re.IGNORECASE),
            abbreviations=frozenset(a.lower() for a in data.get("abbreviations", ())),
            person_words=frozenset(n.split()[-1].lower() for n in data["person_nouns"]),
            document_nouns=frozenset(w.lower() for w in data.get("document_nouns", ())),
            descriptive_words=frozenset(w.lower() for w in data.get("descriptive_nouns", ())),
            office_qualifiers=frozenset(w.lower() for w in data.get("office_qualifiers", ())),
            organisation_pronouns=frozenset(w.lower() for w in data.get("organisation_pronouns", ())),
            organisation_nouns=frozenset(w.lower() for w in data.get("organisation_nouns", ())),
            finite_verbs=frozenset(v for v in verbs if v not in lemmas and not v.endswith("ing")),
            role_synonyms={" ".join(k.lower().split()): v.lower() for k, v in data.get("role_synonyms", {}).items()},
            synonym_ends=frozenset(k.lower().split()[-1] for k in data.get("role_synonyms", {})),
            collective_nouns=frozenset(w.lower() for w in data.get("collective_nouns", ())),
            given_names=dict(given_names or {}),
        )

    def gender_of(self, name: str) -> str | None:
        """ "f" or "m" when a person's first name is nearly always a woman's or a man's ("Olena Zelenska"), else None
        (a family name alone, an initial, a name borne by both)."""
        words = name.split()
        return self.given_names.get(fold(words[0]).lower()) if len(words) >= 2 else None

    def ends_title(self, text: str, end: int) -> bool:
        """The word ending at `end` closes another word for a title: "state" in "the head of state" is no verb."""
        last = text[max(0, end - 12) : end].lower().split()[-1:]
        if not last or last[0] not in self.synonym_ends:
            return False  # most verbs: no other word for a title ends with them
        return self.synonym_role(text[max(0, end - 40) : end]) is not None

    def synonym_role(self, phrase: str) -> str | None:
        """The title a phrase ending in another word for it names ("the head of state" -> "president")."""
        words = " ".join(re.findall(r"[\w-]+", phrase.lower()))
        for other, role in self.role_synonyms.items():
            if words == other or words.endswith(" " + other):
                return role
        return None

    def role_of(self, word: str) -> str | None:
        """The title a head word names, without "ex-"/"former" and plural ("ex-president" -> "president")."""
        word = word.lower()
        for prefix in ("ex-", "former-", "vice-"):
            if word.startswith(prefix) and word[len(prefix) :] in self.person_words:
                return word[len(prefix) :]
        return word if word in self.person_words else None

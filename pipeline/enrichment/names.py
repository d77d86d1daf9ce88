"""Is a span NER marked a name at all: sentence fragments, headline runs, designations, common nouns, and
words that name a kind or an idea rather than an organisation ("Eastern European", "Ukraine Crisis")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.enrichment.aliases import Cues
    from pipeline.enrichment.entities import Mention

# The most words a name of each kind has; longer spans are sentence fragments.
_MAX_WORDS = {"PERSON": 5, "GPE": 6, "LOC": 6, "FAC": 8, "NORP": 4, "ORG": 10, "EVENT": 10}
# A designation, not a name: "BMP-1", "F-16", "Su-25", "S-400", "M1A1"
_DESIGNATION = re.compile(r"[A-Z][A-Za-z]{0,5}-?\d+[A-Za-z\d]*")
# letters after a name, never a name of their own ("Fiona Adeyemi KC said", "Eoin McDermott SC")
POST_NOMINAL = frozenset({"KC", "QC", "SC", "MP", "MEP", "MSP", "OBE", "MBE", "CBE", "KBE", "DBE", "PhD", "Esq"})


def is_junk(surface: str, label: str, cues: Cues | None = None) -> bool:
    """Not a name: no capital, digits in a name or place, one character, a shouted page heading, a designation,
    broken brackets, or a sentence fragment (a verb or function word inside, too many words)."""
    if label == "ORG" and (unit := _UNIT.match(surface)):
        surface = surface[unit.end() :]  # "82nd Airborne Division", "3rd Army Corps": a unit's number
    if len(surface) < 2 or not surface[0].isupper() or not any(c.isalpha() for c in surface):
        return True
    if surface.rstrip(".") in POST_NOMINAL:
        return True
    if label in ("PERSON", "GPE", "LOC", "NORP") and any(c.isdigit() for c in surface):
        return True
    if _DESIGNATION.fullmatch(surface) or surface.count("(") != surface.count(")") or "/" in surface or "|" in surface:
        return True
    if _VERSION.search(surface):
        return True  # "Munich 2.0", "Web 3.0": an idea's version, no name
    words = surface.split()
    if len(words) > 1 and all(w.isupper() for w in words if any(c.isalpha() for c in w)):
        return True
    if label == "PERSON" and len(words) == 1 and len(surface) >= 3 and surface.isupper():
        return True  # an acronym is nobody's name: "SALW (Small Arms and Light Weapons)"
    if any(w[:1] in '‘“"' and w[-1:] not in '’”"' for w in words[1:]):
        # a quotation opening inside and not closed: a title run into the words before it ("the Russian ‘Giants’"),
        # not a nickname ("Oleksandra “Sasha” Kuvshynova")
        return True
    if any(_GLUED_CAPITAL.fullmatch(w) for w in words):
        return True  # a capital glued on by the scrape: "Congress.”SSen. Chuck Grassley", "Rio de JFireworks"
    if len(words) > _MAX_WORDS.get(label, 10):
        return True
    if label in ("PERSON", "GPE", "LOC", "NORP") and any(w.endswith(("’", "'", "’s", "'s")) for w in words[:-1]):
        return True  # "Fox News’ Anders Hagstrom": a possessive inside is two things
    if cues is not None and any(w.lower() in cues.not_in_names for w in words[1:]):
        return True  # "Ukrainian Armed Forces Are Also Trying"
    if cues is not None and len(words) >= 2 and words[0].lower() in cues.clause_openers:
        return True  # "Citing Germany", "According Reuters": a sentence's opening word run into a name
    if len(words) >= 3 and any(w.endswith("ing") and w[:1].isupper() and len(w) > 5 for w in words[1:]):
        return True  # a title-cased headline run: "... Forces Trying To ..."
    # "Zeilinsky and Den Administration"
    return label == "PERSON" and any(w[:1].islower() and w not in NAME_PARTICLES for w in words)


# a version number ending a span
_VERSION = re.compile(r"\s\d+\.\d+$")
# the ordinal number a military unit's name opens with
_UNIT = re.compile(r"\d{1,3}(?:st|nd|rd|th)\s+(?=[A-Z])")

# Two capitals, then lower case: a letter of the text before glued to a word ("SSen", "JFireworks")
_GLUED_CAPITAL = re.compile(r"[A-Z]{2}[a-z]{2,}")

# Words before a noun that a name never follows: "his Address to the nation", "an Agency statement"
_NOT_BEFORE_NAMES = frozenset({"a", "an", "his", "her", "its", "their", "our", "my", "your", "every", "each"})


def used_as_common_noun(m: Mention, surface: str, cues: Cues) -> bool:
    """One capitalised word NER took for an organisation or a person that the words around use as a common noun
    or an adjective: after a determiner a name does not take ("his Address"), or as the first word of a person's
    title ("Defense Secretary Lloyd Austin", "House Speaker Nancy Pelosi", "Slovak Prime Minister Robert Fico")."""
    if m.label == "ORG" and m.after and m.after[0][:1].isupper() and m.after[0].lower() in cues.not_org_heads:
        return True  # "Hong Kong Fintech" + "Week", "Eurovision Song" + "Contest": the words qualify an event's name
    if m.label == "ORG" and " " in surface and m.after and m.after[0][:1].isupper():
        # "National Security Adviser", "Senate Majority Leader": the words qualify a title
        return m.after[0].lower() in cues.title_words and not any(w.lower() in cues.org_nouns for w in surface.split())
    if m.label not in ("ORG", "PERSON") or " " in surface or surface.isupper():
        return False
    if m.label == "ORG" and m.before and m.before[-1] in _NOT_BEFORE_NAMES:
        return True
    # "Slovak Prime Minister Robert Fico", "Kremlin Spokesman Dmitry Peskov": the word qualifies a title
    if m.after and m.after[0][:1].isupper() and m.after[0].lower() in cues.title_words:
        return True
    # "House Democratic leader Nancy Pelosi": an organisation's word two words before a title and its holder
    return (
        m.label == "ORG"
        and len(m.after) >= 3
        and m.after[0][:1].isupper()
        and m.after[1].lower() in cues.title_words
        and m.after[2][:1].isupper()
    )


NAME_PARTICLES = frozenset(
    {
        "von",
        "van",
        "der",
        "den",
        "de",
        "da",
        "di",
        "du",
        "dos",
        "del",
        "la",
        "le",
        "bin",
        "al",
        "ibn",
        "y",
        "zu",
        "ter",
        "ten",
    }
)


# Words of a kind, a region or an origin ("Eastern European", "Greater Russian"): adjectives, not an organisation.
_ADJECTIVE_ENDINGS = ("ean", "ian", "ese", "ish", "ern")
_DIRECTION_WORDS = frozenset(
    {"eastern", "western", "northern", "southern", "central", "greater", "pan", "north", "south"}
)


# "Euro-", "Anglo-", "Sino-": the combining forms that open compound adjectives and peoples
_COMBINING_FORM = re.compile(
    r"(?:Euro|Anglo|Afro|Sino|Russo|Franco|Indo|Judeo|Greco|Austro|Germano|Italo|Ibero|Slavo|Turco|Polono|Ukraino|Nordo)-[A-Z]"
)


def not_a_name(surface: str, label: str, cues: Cues) -> bool:
    """An organisation or person NER found that is not one: all adjectives of origin or region ("Eastern
    European"), an idea ("Russophobia", "Nationalism"), or a headed phrase whose head names an event or a story
    ("Ukraine Crisis", "The Philadelphia Story": `[cues] not_org_heads`)."""
    if label not in ("ORG", "PERSON"):
        return False
    words = surface.split()
    if all(w.lower() in _DIRECTION_WORDS or w.lower().endswith(_ADJECTIVE_ENDINGS) for w in words) and (
        len(words) > 1 or label == "ORG"
    ):
        return len(words) > 1 or surface.lower().endswith(("ean", "ian", "ese", "ish"))
    if len(words) == 1 and surface.lower().endswith(("ism", "phobia", "mania", "gate")):
        return True  # an idea or a scandal ("Russophobia", "Russiagate"), not an organisation
    if len(words) == 1 and _COMBINING_FORM.match(surface):
        return True  # "Euro-Atlantic", "Anglo-Saxons", "Sino-Russian": an adjective or a people, not a body
    if (
        label == "ORG"
        and any(w.lower() in cues.title_words for w in (words[-1], *words[1:-1]))
        and not any(w.lower() in cues.org_nouns for w in words)
        and words[0].lower() not in cues.title_words
    ) or (
        label == "ORG" and words[-1].lower() in cues.title_words and not any(w.lower() in cues.org_nouns for w in words)
    ):
        return True  # "Special Counsel", "Special Presidential Envoy for Climate": a title, not a body
    # the head before "of" or a subtitle's colon ("National Security Strategy: Integrated Security"); a number after the
    # head is its number ("Resolution 3314")
    heads = [w for w in surface.split(":")[0].split(" of ")[0].split() if not any(c.isdigit() for c in w)]
    return label == "ORG" and len(words) > 1 and bool(heads) and heads[-1].lower() in cues.not_org_heads

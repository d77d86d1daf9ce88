"""Mention spans NER cut wrongly, mended before they are resolved: a title inside a person's span, a label the
words around contradict, a place glued before a person, a name split in two."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from pipeline.enrichment.entities import Mention
from pipeline.enrichment.folding import initials
from pipeline.enrichment.normalise import entity_key, fold

if TYPE_CHECKING:
    from pipeline.enrichment.aliases import AliasTable, Cues

_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})


def without_title(m: Mention, surface: str, cues: Cues) -> tuple[Mention, str]:
    """ "Senate Marshal Tomasz Grodzki" (one NER span) -> the person after the title; "Attorney General Barr"
    (a title and a surname) -> the surname, which the article's full name then takes in."""
    words = surface.split()
    if m.label == "PERSON" and len(words) >= 2 and words[0].lower() in _NOT_NAME_OPENERS:
        # "Neither Patel nor ...": the sentence's word before the name
        cut = m.text.find(words[1])
        m, surface, words = _cut(m, cut, len(m.text)), " ".join(words[1:]), words[1:]
    if (
        m.label == "PERSON"
        and len(words) >= 2
        and words[-1].isupper()
        and len(words[-1]) >= 2
        and not _ROMAN.fullmatch(words[-1])
    ):
        # "Obama CIA director": an organisation's acronym after the name
        if len(m.after) >= 2 and m.after[0].lower() in cues.title_words and m.after[1][:1].isupper():
            return m, ""  # "... Obama CIA director John Brennan": words of a title before its holder, no name
        m, surface, words = _cut(m, 0, m.text.rfind(words[-1]) - 1), " ".join(words[:-1]), words[:-1]
    if m.label == "PERSON" and len(words) >= 3 and words[0].lower().endswith("s"):
        role = words[0].lower()[:-1]
        if role in cues.person_nouns and role not in cues.title_words:  # "Oligarchs Mikhail Fridman and …"
            cut = m.text.find(words[1])
            m, surface, words = _cut(m, cut, len(m.text)), " ".join(words[1:]), words[1:]
    title = words[0].lower().rstrip(".") if words else ""
    title = title[:-1] if title.endswith("s") and title[:-1] in cues.title_words else title  # "Senators Hatch"
    if (
        len(words) == 2
        and (m.label == "PERSON" or title in HONORIFICS)  # "Ms Sandu" is a person, whatever NER said
        and title in cues.title_words
        and words[1][:1].isupper()
        and words[1].replace("-", "").isalpha()
    ):
        cut = m.text.rfind(words[1])
        return Mention(m.text[cut:], "PERSON", m.start + cut, m.end, m.before, m.after, m.source), words[1]
    if len(words) < 3 or m.label not in ("ORG", "PERSON", "GPE", "NORP", ""):
        return m, surface
    at = max((i for i, w in enumerate(words[:-2]) if w.lower().rstrip(".") in cues.title_words), default=None)
    if at is None:
        return m, surface
    rest = words[at + 1 :]
    if not 2 <= len(rest) <= 3 or not all(
        w[:1].isupper() and w.replace("-", "").replace("'", "").isalpha() for w in rest
    ):
        return m, surface
    tail = " ".join(rest)
    cut = m.text.rfind(rest[0])
    return Mention(m.text[cut:], "PERSON", m.start + cut, m.end, m.before, m.after, m.source), tail


def with_body_noun(m: Mention, cues: Cues) -> Mention:
    """A name NER stopped before the capitalised noun of a kind of body that follows it is that body's name: "Black
    Sea" + "Fleet", "Kyiv" + "Post", "Trump" + "Organization"."""
    if not m.after or m.label not in ("GPE", "LOC", "ORG", "PERSON", "NORP", "") or m.text.endswith(("'s", "’s")):
        return m  # "New York City's Times Square": a possessive owns what follows
    word = m.after[0]
    if not (word[:1].isupper() and word[1:].islower() and word.lower() in cues.org_nouns):
        return m
    text = f"{m.text} {word}"
    return Mention(text, "ORG", m.start, m.start + len(text), m.before, m.after[1:], m.source)


def _cut(m: Mention, start: int, end: int) -> Mention:
    """The mention reduced to its text's [start, end)."""
    text = m.text[start:end].rstrip()
    return Mention(text, m.label, m.start + start, m.start + start + len(text), m.before, m.after, m.source)


# Words that open a sentence, not a name ("Neither Patel nor ...")
_NOT_NAME_OPENERS = frozenset(
    {"neither", "nor", "either", "both", "and", "but", "if", "when", "while", "as", "so", "yet"}
)
_ROMAN = re.compile(r"[IVX]+|JR|SR")

# An age given someone, as the tokenizer splits it: "37 - year - old"
_AGE = re.compile(r"\b\d{1,3}\s?-\s?years?\b")

# A site's name: its words and its domain ("LB.ua", "Fontanka.ru", "Meduza.io")
_SITE = re.compile(r"(?-i:[A-Z])[\w-]*\.(?:com|org|net|info|news|io|ua|ru|by|uk|de|fr|pl|it|es|eu|kz|md|ge|lt|lv|ee)")

# Words before a surname that make it a person's
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "mx", "sir", "dame", "madame", "monsieur", "herr", "frau"})


_BANK = re.compile(r"(?<=[a-z])bank$")  # a bank named in one word: "Sberbank", "Gazprombank", "Commerzbank"


def relabelled(m: Mention, surface: str, cues: Cues) -> Mention:
    """NER's label corrected by the words inside and around a span: an organisation's noun inside ("Conflict
    Observatory"), a kind of organisation before ("news outlet Bild"), a person's role beside ("Natalia Humeniuk,
    a spokesperson")."""
    words = surface.split()
    # the head noun: the last word, or the word before "of"/"for" ("Center for Strategic and International Studies")
    cut = next((i for i, w in enumerate(words) if i and w in ("of", "for")), len(words))
    if m.label in ("EVENT", "FAC") and words and cut and words[cut - 1].lower() in cues.org_nouns:
        return Mention(m.text, "ORG", m.start, m.end, m.before, m.after, m.source)  # "Black Sea Fleet" as an EVENT
    if m.label in ("PERSON", "GPE", "LOC", "NORP") and len(words) == 1 and _BANK.search(surface):
        return Mention(m.text, "ORG", m.start, m.end, m.before, m.after, m.source)  # "Gazprombank", "Privatbank"
    if m.label != "ORG" and _SITE.fullmatch(surface):
        return Mention(m.text, "ORG", m.start, m.end, m.before, m.after, m.source)  # "LB.ua", "Fontanka.ru": a site
    before = m.before[-1] if m.before else ""
    after = [w.lower() for w in m.after[:5]]
    # "Léa Dufresne, forest policy officer at …": a role a few lower-case words on
    lower_role = after[1:2] != ["the"] and all(w.islower() for w in m.after[1:5])
    role_after = after[:1] == [","] and (
        any(w in cues.person_nouns for w in (after[1:5] if lower_role else after[1:3]))
        or after[1:2] == ["who"]
        or _AGE.search(" ".join(m.after[1:6])) is not None
        or (len(after) >= 3 and after[1].isdigit() and len(after[1]) <= 2 and after[2] == ",")
    )  # "Natalia Humeniuk, a spokesperson", "Ilan Shor, who was convicted", "Mihai Popsoi, Moldova’s 37-year-old …",
    # "Masha Moskalyova, 12, describing": an age between commas
    if before == "," and len(m.before) >= 2 and (m.before[-2] in cues.person_nouns or m.before[-2] in cues.outlets):
        before = m.before[-2]  # "German newspaper editor, Udo Ulfkotte, ...", "news outlet, Mediazona"

    if m.label == "PERSON" and (
        any(w.lower() in cues.org_nouns for w in words)
        or before in cues.org_before
        or (len(words) >= 2 and words[0].lower() in cues.foreign_articles and words[0][:1].isupper())
    ):
        return Mention(m.text, "ORG", m.start, m.end, m.before, m.after, m.source)
    if m.label in ("GPE", "NORP", "LOC", "") and (before in cues.org_before or before in cues.outlets):
        return Mention(m.text, "ORG", m.start, m.end, m.before, m.after, m.source)  # "news agency TT"
    if m.label in ("GPE", "LOC", "FAC", "PERSON", "") and m.after[:1] and m.after[0] in cues.outlets:
        return Mention(m.text, "ORG", m.start, m.end, m.before, m.after, m.source)  # "the Atlantic magazine"
    if (
        m.label in ("PERSON", "ORG")
        and len(words) >= 2
        and words[-1].lower() in cues.place_nouns
        and not any(w.lower() in cues.org_nouns for w in words)
    ):
        return Mention(
            m.text, "LOC", m.start, m.end, m.before, m.after, m.source
        )  # "Victoria Harbour", "Kherson Oblast"
    if (
        m.label in ("ORG", "GPE", "NORP")
        and 2 <= len(words) <= 3
        and all(map(_name_word, words))
        and not any(w.lower() in cues.org_nouns for w in words)
        and (role_after or before in cues.person_nouns or _role_apposition(m, after, cues))
    ):
        return Mention(m.text, "PERSON", m.start, m.end, m.before, m.after, m.source)
    return m


def _name_word(word: str) -> bool:
    """A word written as a name: capitalised, the rest in lower case, or such parts joined by hyphens
    ("Jean-Philippe", "Njoroge-Mutua")."""
    return all(p[:1].isupper() and p[1:].islower() and p.isalpha() for p in word.split("-"))


def _role_apposition(m: Mention, after: Sequence[str], cues: Cues) -> bool:
    """The name is set off by commas after a phrase headed by a person's role, a role word right after "the" or "a"
    ("The head of the UN human rights office in Ukraine, Matilda Bogner, said")."""
    if m.before[-1:] != (",",) or after[:1] != [","]:
        return False
    words = m.before[:-1]
    return any(
        w in cues.person_nouns and (k == 0 or words[k - 1] in ("the", "a", "an", "its", "their"))
        for k, w in enumerate(words)
    )


def split_brackets(mentions: Sequence[Mention]) -> list[Mention]:
    """ "the International Crisis Group (ICG": a span NER ran into the acronym in brackets after a name is the name
    and its acronym, two mentions (the acronym folds into the name later)."""
    out: list[Mention] = []
    for m in mentions:
        cut = _BRACKETED.search(m.text) if m.source == "ner" else None
        name = m.text[: cut.start()] if cut is not None else ""
        if cut is None or not (cut.group("acronym").isupper() or cut.group("acronym").upper() == initials(name)):
            out.append(m)  # "the Biden (Harris) administration": no acronym of the name
            continue
        acronym_at = m.start + cut.start("acronym")
        out.append(
            Mention(name, m.label, m.start, m.start + len(name), m.before, ("(", cut.group("acronym")), m.source)
        )
        out.append(
            Mention(
                cut.group("acronym"),
                m.label,
                acronym_at,
                acronym_at + len(cut.group("acronym")),
                (*m.before[-4:], "("),
                m.after,
                m.source,
            )
        )
    return out


# an acronym in brackets closing a span, its closing bracket in the span or not: "… Group (ICG", "… Trade (Dfat)"
_BRACKETED = re.compile(r"(?<=\w)\s*\((?P<acronym>[A-Z][A-Za-z]{1,7})\)?$")


def split_possessives(mentions: Sequence[Mention], cues: Cues) -> list[Mention]:
    """ "Liz Truss’s Foreign Office", "Fox News’ Anders Hagstrom" (one NER span): the owner and what it owns, two
    names; the owned one is an organisation when a kind of body's noun ends it."""
    out: list[Mention] = []
    for m in mentions:
        cut = _INNER_POSSESSIVE.search(m.text) if m.source == "ner" and m.label == "PERSON" else None
        if cut is None or m.text[: cut.start()].split()[-1].lower() in _COLLECTIVES:
            # "Luhansk People’s Republic", "Committee of Soldiers’ Mothers": a name with a possessive inside
            out.append(m)
            continue
        owner, owned = m.text[: cut.start()], m.text[cut.end() :]
        owned_label = "ORG" if owned.split()[-1].lower() in cues.org_nouns else m.label
        out.append(Mention(owner, m.label, m.start, m.start + len(owner), m.before, tuple(owned.split()[:6]), m.source))
        start = m.start + cut.end()
        out.append(
            Mention(owned, owned_label, start, m.end, (*m.before, owner.split()[-1].lower(), "’s"), m.after, m.source)
        )
    return out


# plural nouns whose possessive is part of a name ("People’s Republic", "Soldiers’ Mothers", "Women’s Party")
_COLLECTIVES = frozenset(
    {
        "people",
        "peoples",
        "women",
        "children",
        "men",
        "workers",
        "soldiers",
        "mothers",
        "veterans",
        "defenders",
        "farmers",
        "nations",
        "citizens",
        "students",
        "writers",
        "journalists",
    }
)

# a possessive between two capitalised names inside one span
_INNER_POSSESSIVE = re.compile(r"(?<=[a-z])(?:['’]s|(?<=s)['’])\s+(?=[A-Z])")


def split_place_prefixes(mentions: Sequence[Mention], table: AliasTable) -> list[Mention]:
    """ "Belgorod Vyacheslav Gladkov" (one NER span) -> the place and the person."""
    out: list[Mention] = []
    for m in mentions:
        words = m.text.split()
        if m.source == "ner" and m.label in ("ORG", "PERSON") and len(words) >= 3 and table.lookup(m.text) is None:
            head = table.keys.get(entity_key(words[0]))
            rest = words[1:]
            if (
                head is not None
                and head.label in _PLACE_LABELS
                and all(w[:1].isupper() for w in rest)
                and not any(w.lower() in table.cues.org_nouns for w in rest)  # "Moscow State University" is one
            ):
                cut = m.text.index(rest[0], len(words[0]))
                out.append(
                    Mention(
                        m.text[: len(words[0])],
                        "GPE",
                        m.start,
                        m.start + len(words[0]),
                        m.before,
                        tuple(rest[:6]),
                        m.source,
                    )
                )
                out.append(
                    Mention(
                        m.text[cut:], "PERSON", m.start + cut, m.end, m.before + (words[0].lower(),), m.after, m.source
                    )
                )
                continue
        out.append(m)
    return out


def split_trailing_names(mentions: Sequence[Mention], table: AliasTable, given_names: Collection[str]) -> list[Mention]:
    """ "the Russian ambassador to the US Anatoly Antonov", "Defense Intelligence of Ukraine Kyrylo Budanov" (one
    NER span of an organisation): a given name (`given_names`, folded lower case) and a surname that end the span are
    a person, what comes before is what they stand for, when it is a name of its own. Not after a small word ("Law
    Offices of Frank Abernathy"), not when the surname is a body's noun ("United Nations General Assembly") or the
    pair a name the table knows as no person's."""
    out: list[Mention] = []
    for m in mentions:
        words = m.text.split()
        if m.source == "ner" and m.label == "ORG" and len(words) >= 3 and table.lookup(m.text) is None:
            given, surname, before = words[-2], words[-1], words[-3]
            if (
                _capitalised(given)
                and _capitalised(surname)
                and fold(given).lower() in given_names
                and surname.lower() not in table.cues.org_nouns
                and before.lower() not in _NAME_JOINERS
                and table.lookup(given) is None
                and getattr(table.lookup(f"{given} {surname}"), "label", "PERSON") == "PERSON"
            ):
                cut = m.text.rindex(given)
                head = m.text[:cut].rstrip()
                if not _stands_alone(head, table):
                    out.append(m)  # "Mobility Artillery Rocket Systems", "St Andrew Hall": one name
                    continue
                out.append(Mention(head, m.label, m.start, m.start + len(head), m.before, (given, surname), m.source))
                out.append(
                    Mention(
                        m.text[cut:],
                        "PERSON",
                        m.start + cut,
                        m.end,
                        (*m.before, *(w.lower() for w in words[:-2])),
                        m.after,
                        m.source,
                    )
                )
                continue
        out.append(m)
    return out


def _stands_alone(head: str, table: AliasTable) -> bool:
    """What comes before a person's name in one span is a name of its own: one the table knows ("US"), a body's
    ("Defense Intelligence"), or one of a known place ("… of Ukraine")."""
    if table.lookup(head) is not None or any(w.lower() in table.cues.org_nouns for w in head.split()):
        return True
    _, of, place = head.rpartition(" of ")
    return bool(of) and table.lookup(place) is not None


def _capitalised(word: str) -> bool:
    return word.isalpha() and word[:1].isupper() and word[1:].islower()


# small words inside an organisation's name before a person's name in it ("Law Offices of Frank Abernathy")
_NAME_JOINERS = frozenset({"of", "and", "&", "for", "the", "de", "von", "van", "der", "la", "le", "al"})


def merge_split_names(mentions: Sequence[Mention], table: AliasTable) -> list[Mention]:
    """Two adjacent NER spans that together are a known name ("Ursula von der" + "Leyen") are one mention."""
    out: list[Mention] = []
    for m in mentions:
        joined = None
        prev = out[-1] if out else None
        if (
            prev is not None
            and m.start - prev.end == 1
            and prev.after[:1] in ((":",), ("/",), ("&",))
            and prev.text.isupper()
            and m.text.isupper()
        ):
            # "UA:PBC", "AT&T": one name NER cut at its sign
            out.pop()
            out.append(
                Mention(
                    f"{prev.text}{prev.after[0]}{m.text}",
                    prev.label or m.label,
                    prev.start,
                    m.end,
                    prev.before,
                    m.after,
                    prev.source,
                )
            )
            continue
        if out and 0 <= m.start - out[-1].end <= 1:
            joined = out[-1].text + " " * (m.start - out[-1].end) + m.text
        elif out and m.before and m.before[-1] in _CONNECTORS and m.start - out[-1].end == len(m.before[-1]) + 2:
            # "Organization for Security and Co-operation" + "in" + "Europe": NER stopped at a small word
            joined = f"{out[-1].text} {m.before[-1]} {m.text}"
        elif (
            out
            and out[-1].label == "ORG"
            and m.label == "ORG"
            and m.before[-2:] == ("of", "the")
            and m.start - out[-1].end == len("of the") + 2
            and out[-1].text.split()[-1].lower() in table.cues.org_nouns
            and " " in out[-1].text
        ):
            # "State Secretariat" + "of the" + "Security Council": a body of a body NER cut in two is one body
            joined = f"{out[-1].text} of the {m.text}"
            prev = out.pop()
            out.append(Mention(joined, "ORG", prev.start, m.end, prev.before, m.after, prev.source))
            continue
        if joined is not None and entity_key(joined) in table.keys:
            prev = out.pop()
            out.append(Mention(joined, prev.label or m.label, prev.start, m.end, prev.before, m.after, prev.source))
            continue
        out.append(m)
    return out


_CONNECTORS = frozenset({"in", "of", "for", "and", "on", "de", "du", "des"})


def is_gloss(m: Mention) -> bool:
    """A span in brackets of its own, maybe after "the", words in lower case but for their capitals: what a name
    right before it means, not an acronym ("(Punch)", "(the Surgeon)"; not "(OSCE)")."""
    before = m.before[-2:] if m.before[-1:] == ("the",) else m.before[-1:]
    return (
        m.label in ("ORG", "PERSON")
        and before[:1] == ("(",)
        and m.after[:1] == (")",)
        and all(w[:1].isupper() and w[1:].islower() for w in m.text.split())
    )


def pair_of_countries(surface: str, after: Sequence[str], table: AliasTable) -> bool:
    """A body's name ends with a country and the words after it are "and" and another country."""
    if len(after) < 2 or after[0] != "and":
        return False
    last, other = table.lookup(surface.split()[-1]), table.lookup(after[1])
    return last is not None and other is not None and last.label == other.label == "GPE" and last != other

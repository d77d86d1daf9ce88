"""Reading who speaks from the words around a quote, without a parse: the speech verbs of a stretch of text, who is
named next to them, and whom "he", "it", "the minister", "the letter" or "the 24-year-old" refers to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quotation_marks import WORD, Span
from pipeline.enrichment.quote_rules import QuoteRules
from pipeline.enrichment.referents import (
    about_person,
    has_title,
    last_person_before,
    sentence_starts,
    titled,
)

_OWNS = re.compile(r"['’]s?\b")
_PRONOUN_GENDER = {
    "he": "m",
    "his": "m",
    "him": "m",
    "himself": "m",
    "she": "f",
    "her": "f",
    "hers": "f",
    "herself": "f",
}
_GENDERED = re.compile(r"\b(?:he|his|him|himself|she|her|hers|herself)\b", re.IGNORECASE)
_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s+$")
_HONORIFIC_GENDER = {"mr": "m", "mrs": "f", "ms": "f", "miss": "f"}


@dataclass
class Reader:
    """What attributing one text's quotes needs, and who spoke last (whom "he said" means by default)."""

    text: str
    spans: Sequence[Span]
    outside: Sequence[Resolved]  # people and organisations named outside quotations
    people: Sequence[Resolved]
    rules: QuoteRules
    last_person: str | None = None
    actors: Sequence[Resolved] = ()  # organisations and places named outside quotations

    def author(self, document: str, at: int) -> str | None:
        """Who wrote "the letter" at `at`: the person named in the sentence that brought the letter in ("In a letter
        to the committees, Barr described ..."), else the one organisation it names, else nobody named."""
        found = list(re.finditer(rf"\b{re.escape(document)}s?\b", self.text[:at], re.IGNORECASE))
        if not found:
            return None
        # the text says who wrote it: "the plan, authored by X", "a report by X", "X's report", "X writes in the
        # paper"; the last such mention before the quote
        for m in reversed(found):
            by = _AUTHORED_BY.match(self.text, m.end())
            if by is not None:
                after = [e for e in self.outside if by.end() <= e.start <= by.end() + 4]  # "by (the) X"
                if after:
                    return after[0].name
            owner = _OWNER_BEFORE.search(self.text, max(0, m.start() - 60), m.start())
            if owner is not None:
                before = [e for e in self.outside if e.end == owner.start()]
                if before:
                    return before[0].name
        mentions = [m.start() for m in found]
        starts = sentence_starts(self.text, mentions[0], self.spans)
        begin = starts[-1] if starts else 0
        stop = _SENTENCE_END.search(self.text, mentions[0])  # the sentence ends at a full stop or its paragraph's end
        end = stop.start() if stop else len(self.text)
        # a credit closing the sentence (", Ukrinform reports.") tells where the news came from, not who wrote it
        named = [e for e in self.outside if begin <= e.start < end and not _CREDIT.match(self.text, e.end)]
        people = [e for e in named if e.label == "PERSON"]
        if people:
            return people[0].name
        # "a report on the failed mission said … an unarmed OSCE observer team": a body's document, when the
        # sentence names one body only
        bodies = list(dict.fromkeys(e.name for e in named if e.label == "ORG"))
        return bodies[0] if len(bodies) == 1 else None

    def organisation(self, at: int) -> str | None:
        """Whom "it" at `at` means: the author of a document brought in since the last organisation ("Elizabeth
        issued a decree. It said:"), else the organisation named last before it, unless a place was named since as
        an actor ("Russia said", not "the institute in Washington")."""
        before = [
            e
            for e in self.actors
            if e.end <= at and (e.label == "ORG" or not (_located(self.text, e.start) or _acted_on(self.text, e.start)))
        ]
        # a document brought in since the last body ("Elizabeth issued a decree ... It said:"): its author
        document = self._document_before(at, before[-1].end if before else max(0, at - 400))
        author = self.author(document, at) if document is not None else None
        if author is not None:
            return author
        return before[-1].name if before and before[-1].label == "ORG" else None

    def _document_before(self, at: int, since: int) -> str | None:
        """The document noun after a determiner ("the decree", "a statement") last in [since, at), within the two
        sentences before `at`; None without one."""
        words = [w.lower() for w in WORD.findall(self.text, max(since, at - 400), at)]
        for k in range(len(words) - 1, -1, -1):
            if words[k] in self.rules.document_nouns and _DETERMINERS & set(words[max(0, k - 4) : k]):
                return words[k]
        return None

    def pronoun(self, at: int) -> str | None:
        """Whom a pronoun at `at` means; "she" never a person the text calls "he" and never "she", and the other way
        round: then the last person before it the text does call so."""
        rules = self.rules
        found = about_person(
            self.text,
            at,
            self.outside,
            self.spans,
            self.last_person,
            rules.pronouns,
            rules.role_of,
            self.speaking,
            self.title,
            lambda word: rules.role_of(word) is not None or word in rules.descriptive_words,
        )
        word = WORD.match(self.text, at) if at < len(self.text) else None
        gender = _PRONOUN_GENDER.get(word.group(0).lower()) if word is not None else None
        if found is None or gender is None or self.genders.get(found) in (None, gender):
            return found
        before = [e.name for e in self.outside if e.label == "PERSON" and e.end <= at]
        return next((name for name in reversed(before) if self.genders.get(name) == gender), None)

    @cached_property
    def genders(self) -> dict[str, str]:
        """The people the text calls "he" or "she" (m or f): the first such pronoun after a mention, before the next
        person is named and outside quotations ("Kaja Kallas arrived. She said ..."), or "Mr", "Ms", "Mrs" before
        it. A person the text calls both, or neither, is what the first name makes them when it is nearly always a
        woman's or a man's ("Alexander Lukashenko"), else neither."""
        text = self.text
        people = sorted((e for e in self.outside if e.label == "PERSON"), key=lambda e: e.start)
        votes: dict[str, set[str]] = {}
        for k, e in enumerate(people):
            title = _HONORIFIC.search(text, max(0, e.start - 6), e.start)
            if title is not None:
                votes.setdefault(e.name, set()).add(_HONORIFIC_GENDER[title.group(1).lower()])
            end = min(people[k + 1].start if k + 1 < len(people) else len(text), e.end + 200)
            for m in _GENDERED.finditer(text, e.end, end):
                if not any(q.start <= m.start() < q.end for q in self.spans):
                    gender = _PRONOUN_GENDER[m.group(0).lower()]
                    if not self._reports_another(e, m.start(), gender):
                        votes.setdefault(e.name, set()).add(gender)
                    break
        out = {name: next(iter(g)) for name, g in votes.items() if len(g) == 1}
        for e in people:
            if e.name not in out and (by_name := self.rules.gender_of(e.name)) is not None:
                out[e.name] = by_name
        return out

    def _reports_another(self, person: Resolved, at: int, gender: str) -> bool:
        """ "Mary Fogarty said he had waited": the pronoun right after the person's speech verb is somebody else when
        the first name is the other gender's; it tells nothing of hers."""
        words = [w.lower() for w in WORD.findall(self.text, person.end, at)]
        by_name = self.rules.gender_of(person.name)
        return (
            by_name is not None
            and by_name != gender
            and 0 < len(words) <= 3
            and any(w in self.rules.speech_verbs for w in words)
        )

    def title(self, role: str, at: int) -> str | None:
        """Whom a title at `at` means: the person given it; for an office, else the last person named or speaking;
        for a description ("the official"), nobody when the text brought in somebody unnamed so ("a US official
        said"), else the last person who spoke."""
        named = [p for p in self.outside if p.label == "PERSON"]
        if self._brought_in_unnamed(role.rpartition(" ")[2], at):
            return None  # "One Republican senator ... said ... “...,” the senator said": the one not named
        # an office's holder may be named later ("“...,” the president said. ... Aleksandr Lukashenko recalled"); a
        # description given to somebody later is another person's ("said a student ... Polina, a student")
        descriptive = role.rpartition(" ")[2] in self.rules.descriptive_words
        found = titled(self.text, role, named, at, after_too=not descriptive)
        if found is not None:
            return found
        qualifier, _, word = role.rpartition(" ")
        if qualifier:
            if qualifier in self.rules.office_qualifiers:
                # "the foreign minister" whom the article never names so: the one who has been speaking when no other
                # person was given a title of that word ("Mihai Popsoi, Moldova's top diplomat"), else nobody named
                speaker = self.last_person
                if speaker is None or any(has_title(self.text, p, word) for p in named if p.name != speaker):
                    return None
                return speaker
            # "the Ukrainian leader": the last person named who has no other such title ("Chechen leader X")
            named = [p for p in named if not has_title(self.text, p, word) or has_title(self.text, p, role)]
        if word in self.rules.descriptive_words:
            unnamed = rf"\b(?:a|an|one|another)\s+(?:[\w-]+\s+){{0,3}}{re.escape(word)}\b"
            if re.search(unnamed, self.text[:at], re.IGNORECASE):
                return None
        before = last_person_before(named, at) or self.last_person
        if before is not None or word in self.rules.descriptive_words:
            return before
        # an office whose holder the text names only a little later ("“...,” the president said. ... In his speech,
        # Aleksandr Lukashenko recalled"): the first person named after it, within a paragraph or two
        return next((p.name for p in named if at <= p.start < at + 1000), None)

    def _brought_in_unnamed(self, word: str, at: int) -> bool:
        """The last mention of a title before `at`, outside quotations, brings in somebody unnamed ("a US official",
        "one Republican senator who voted against it"): "the senator" then means that person, not a senator named
        earlier."""
        pattern = re.compile(rf"\b{re.escape(word)}s?\b", re.IGNORECASE)
        mentions = [
            m.start()
            for m in pattern.finditer(self.text, 0, at)
            if not any(s.start <= m.start() < s.end for s in self.spans)
        ]
        if not mentions:
            return False
        return (
            re.search(
                r"\b(?:a|an|one|another)\s+(?:[\w'’-]+\s+){0,3}$",
                self.text[max(0, mentions[-1] - 60) : mentions[-1]],
                re.IGNORECASE,
            )
            is not None
        )

    def verbs(self, begin: int, end: int) -> list[int]:
        """Offsets of the speech verbs in [begin, end) outside quotations."""
        return [
            m.start()
            for m in WORD.finditer(self.text, begin, end)
            if m.group(0).lower() in self.rules.speech_verbs
            and not any(s.start <= m.start() < s.end for s in self.spans)
            and not self.rules.ends_title(self.text, m.end())
        ]

    def near(self, begin: int, end: int, stops: Sequence[int], first: bool = False) -> list[Resolved]:
        """Who is named next to a speech verb in [begin, end), nearest the end first (the first verb first with
        `first`): right before it ("Blinken
        also said", "the MFA emphasizes") or, when it stands inverted, right after it (", said Pavlov",
        "according to Kuleba")."""
        text = self.text
        # a name with a possessive owns something, it does not speak ("said Mueller’s findings", "Warner’s remarks")
        named = [e for e in self.outside if begin <= e.start < end and not _OWNS.match(text, e.end)]
        out: list[Resolved] = []
        for at in sorted(stops, reverse=not first):
            word = WORD.match(text, at)
            after = at + len(word.group(0)) if word else at
            left = [
                e
                for e in named
                if e.end <= at
                and _next_to(text[e.end : at], _set_off(text, begin, e))
                and not _object_of(text, e.start)
            ][-1:]
            if left:  # "Stoltenberg and Johnson said": the first of them
                pair = [
                    e
                    for e in named
                    if e.end <= left[0].start and re.fullmatch(r"\s*and\s*", text[e.end : left[0].start])
                ]
                out += pair[-1:] or left
            inverted = text[begin:at].rstrip()[-1:] in (",", "”", '"', "’", "") or text[at:after].lower() == "according"
            if inverted:
                out += [
                    e
                    for e in named
                    if e.start > at and _titles_only(text[after : e.start]) and not _reported(text, e.end)
                ][:1]
        return out

    def speaking(self, begin: int, end: int) -> str | None:
        """The person a sentence names next to one of its speech verbs, or None."""
        persons = [e for e in self.near(begin, end, self.verbs(begin, end), first=True) if e.label == "PERSON"]
        return persons[0].name if persons else None

    def body_before(self, at: int, sentences: int = 4) -> str | None:
        """Whom "the regulator said" at `at` means: the organisation the last few sentences before it name as
        speaking ("the Monetary Authority of Singapore said it would …. “...,” the regulator said"), not one only
        told something or mentioned ("he told Reuters", "the Cohen case"); the nearest such sentence first, but the
        body the quote's own sentence or the one before opens with comes before an older speaker ("Dominion
        Energy, which serves …, told regulators in a filing …. The company said", not "Utilities say …" before
        it); else the body an older sentence opens with; else nobody."""
        starts = sentence_starts(self.text, at, self.spans)
        bounds = list(zip(starts, [*starts[1:], at], strict=True))[-sentences:]
        recent, older = bounds[-2:], bounds[:-2]
        for begin, end in reversed(recent):
            found = self.body_speaking(begin, end) or self.body_opening(begin, end)
            if found is not None:
                return found
        for begin, end in reversed(older):
            found = self.body_speaking(begin, end)
            if found is not None:
                return found
        for begin, end in reversed(older):
            found = self.body_opening(begin, end)
            if found is not None:
                return found
        return None

    def body_opening(self, begin: int, end: int) -> str | None:
        """The organisation a sentence opens with, its subject ("Dominion Energy, which serves …, told"), or None."""
        opening = [
            e
            for e in self.outside
            if e.label == "ORG"
            and begin <= e.start < end
            and re.fullmatch(r"\W*(?:the\s+)?", self.text[begin : e.start], re.IGNORECASE)
        ]
        return opening[0].name if opening else None

    def body_speaking(self, begin: int, end: int) -> str | None:
        """The organisation a sentence names next to one of its speech verbs ("NATO said this in a statement"), not
        a credit closing it (", Ukrinform reports."), or None."""
        bodies = [
            e
            for e in self.near(begin, end, self.verbs(begin, end), first=True)
            if e.label == "ORG" and not _CREDIT.match(self.text, e.end)
        ]
        return bodies[0].name if bodies else None


# after a document's word: who wrote it ("the plan, authored by", "a report by", "the statement, issued on Friday by")
_AUTHORED_BY = re.compile(
    r",?\s+(?:(?:which|that)\s+(?:was|were)\s+)?(?:(?:authored|written|drafted|prepared|issued|published|released|"
    r"signed|compiled|produced|sent|commissioned)\s+(?:\w+\s+){0,2}?)?(?:by|from)\s+"
)
# before a document's word: its owner ("Human Rights Watch's report", "SSG writes in the paper")
_OWNER_BEFORE = re.compile(
    r"(?:['’]s\s+(?:[\w-]+\s+){0,3}|\s+(?:writes|wrote|says|said|states|stated|argues|argued)\s+in\s+(?:the|its|a|an)\s+"
    r"(?:[\w-]+\s+){0,2})$"
)
_DETERMINERS = frozenset({"the", "a", "an", "its", "his", "her", "their", "this", "that"})
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")
_CREDIT = re.compile(r"\s+(?:reports|reported|writes|wrote|has learned|learned)\s*(?:[.\n]|$)")


def _words_before(text: str, start: int, count: int) -> list[str]:
    """The last `count` words before `start`, lower case, "the" left out."""
    return [w.lower() for w in WORD.findall(text[max(0, start - 30) : start]) if w.lower() != "the"][-count:]


def _object_of(text: str, start: int) -> bool:
    """A name right after a preposition is where or to whom something is said ("said in a statement on Telegram:",
    "told a briefing in Kyiv"), not who says it."""
    return any(w in _PREPOSITIONS for w in _words_before(text, start, 1))


_PREPOSITIONS = frozenset({"on", "in", "at", "to", "via", "with", "for", "from", "into", "through", "over"})


def _located(text: str, start: int) -> bool:
    """A place named as where something is ("in Washington", "from Kyiv"), not as who acts."""
    return any(w in _LOCATIVE for w in _words_before(text, start, 2))  # "in southern Ukraine", "via the Nord Stream"


_APPOSITION = re.compile(r"\s*,\s*(?:the|a|an)\s+[^,.;:“”\"()]{1,100},\s*", re.IGNORECASE)


def _reported(text: str, end: int) -> bool:
    """A name after "said" that a verb of its own follows is whom the report is about ("X, the US ambassador, said
    Yevgeny Prigozhin, the Wagner leader, had implicated Putin"), not who speaks (", said Pavlov.")."""
    return _REPORTED.match(text, end) is not None


_REPORTED = re.compile(
    r"(?:,\s*(?:the|a|an|who)\s+[^,.;“”\"]{1,80},)?\s+(?:had|has|have|was|were|is|are|would|will|could|should|might|"
    r"may|must|did|does|do)\b",
    re.IGNORECASE,
)


def _acted_on(text: str, start: int) -> bool:
    """A place right after a verb is what is acted on ("Russian forces had shelled Kharkiv"), not who acts: the word
    before it is a lower-case word that no subject follows."""
    before = text[max(0, start - 30) : start].rstrip()
    if not before or not before[-1].isalpha():
        return False  # a sentence's or a clause's start: "… Kharkiv. Kyiv said", "…, Moscow said"
    word = WORD.findall(before)[-1]
    return word.islower() and word not in _BEFORE_SUBJECT


_BEFORE_SUBJECT = frozenset(
    {
        "and",
        "but",
        "while",
        "that",
        "as",
        "when",
        "if",
        "because",
        "after",
        "before",
        "since",
        "then",
        "so",
        "the",
        "whereas",
        "though",
        "although",
        "where",
        "meanwhile",
        "also",
    }
)

_LOCATIVE = frozenset(
    {"in", "at", "from", "near", "of", "to", "across", "outside", "inside", "via", "through", "along", "into", "over"}
)


def _set_off(text: str, begin: int, entity: Resolved) -> bool:
    """The name opens its sentence or stands after a comma ("The EU chief, Ursula von der Leyen, said")."""
    return entity.start <= begin or text[begin : entity.start].rstrip()[-1:] in (",", "")


def _next_to(gap: str, set_off: bool = False) -> bool:
    """Only a few adverbial words stand between a name and the verb after it ("Blinken also said", "Kuleba on
    Tuesday wrote"), or a comma after a name set off by commas ("The EU chief, Ursula von der Leyen, said"); not
    a clause ("the letter to Biden, obtained by Fox News, says")."""
    words = [w.lower() for w in WORD.findall(gap)]
    if not words:
        return not _OPENS.search(gap) and ("," not in gap or set_off)
    if _APPOSITION.fullmatch(gap):
        return True  # "Beth Van Schaack, the US ambassador-at-large for Global Criminal Justice, said"
    return "," not in gap and len(words) <= 4 and not any(w in _LINKS for w in words) and not _OPENS.search(gap)


def _titles_only(gap: str) -> bool:
    """Only "to" or titles stand between a verb and the name after it ("according to Kuleba", "said presidential
    spokesman Dmitry Peskov"), not a clause ("say they are “concerned” Biden")."""
    words = [w.lower() for w in WORD.findall(gap)]
    words = words[1:] if words[:1] == ["to"] else words
    return len(words) <= 6 and not _OPENS.search(gap) and not any(w in _LINKS - {"of"} for w in words)


# Words that link a clause: with one of them between a name and a verb the name is not who speaks.
_LINKS = frozenset(
    {"that", "who", "which", "to", "with", "by", "from", "about", "of", "and", "but", "they", "it", "is", "are",
     "was", "were", "will", "would", "may", "might", "can", "could", "should", "he", "she", "we", "if", "as"}
)  # fmt: skip
_OPENS = re.compile('[“"«„‘]')

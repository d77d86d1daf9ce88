"""Who speaks in a sentence holding a quotation, read from its dependency parse (the quotations as placeholders):
the subject of the speech verb ("X said", "said X", "X told ..."), the object of "according to", the author of a
document ("reads the statement by X"), a pronoun or a title that refers back, or somebody the text does not name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.names import POST_NOMINAL
from pipeline.enrichment.quotation_marks import WORD, to_original
from pipeline.enrichment.quote_rules import QuoteRules
from pipeline.enrichment.referents import described, prefer_people, qualified

_DOCUMENTS = frozenset(
    {"statement", "letter", "resolution", "report", "document", "post", "message", "appeal", "decree"}
)
# "a senior official", "one diplomat", "sources": somebody the text does not name
_UNNAMED = frozenset(
    {
        "a",
        "an",
        "one",
        "some",
        "several",
        "two",
        "three",
        "many",
        "other",
        "another",
        "officials",
        "sources",
        "source",
        "anonymous",
        "anonymity",
        "unnamed",
        "senior",
    }
)


# "“...,” the Italian said": a person called by the people they belong to, as sports and profile writing does
NATIONALITY = re.compile(
    r"^[\s,”\"’'—–-]*the\s+(?:(?:[a-z-]+|\d{1,3}-year-old)\s+)?(?:[A-Z][a-z]+(?:ian|ean|an|ese|ish|i)|Briton|Swede|Spaniard|Dane|Pole|"
    r"Turk|Greek|Thai|Swiss|Dutchman|Dutchwoman|Frenchman|Frenchwoman|Scot|Finn|Kiwi|Aussie)\s*$"
)
_BACK_TO_BODY = re.compile(r"[Tt]he\s+(?:[a-z-]+\s+)?[a-z-]+")  # "the regulator", "The company" opening a sentence


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who the parse says speaks in a sentence: a name, "back" (a pronoun or a title), or nobody named."""

    kind: str  # named | pronoun | it | body ("the regulator") | document | aged | title | unnamed
    name: str | None = None
    at: int = 0  # where the subject stands in the text
    role: str = ""  # the title's word ("minister" of "the Russian foreign minister")


def parse_attributions(
    text: str,
    sentences: Sequence[tuple[int, int]],
    reduced: Sequence[tuple[str, list[tuple[int, int, int]]]],
    speakers: Sequence[Resolved],
    rules: QuoteRules,
    docs: Iterable,
) -> dict[tuple[int, int], Attribution]:
    """The attribution of every sentence holding a quote, read from its parse (quotations as placeholders)."""
    out: dict[tuple[int, int], Attribution] = {}
    for sentence, (_short, offsets), doc in zip(sentences, reduced, docs, strict=True):
        found = _attribution(doc, offsets, text, speakers, rules)
        if found is not None:
            out[sentence] = found
    return out


def _attribution(
    doc, offsets: Sequence[tuple[int, int, int]], text: str, speakers: Sequence[Resolved], rules: QuoteRules
) -> Attribution | None:
    """The speaker of a parsed sentence: the subject of its speech verb nearest the quotation (verbs that govern
    the quotation first), or None when no speech verb outside the quotation has one."""
    # "“Q.”": spaCy may keep the full stop on the placeholder, as on an initial
    quote_at = [t.i for t in doc if t.text in ("Q", "Q.") and 0 < t.i and doc[t.i - 1].text == "“"]
    verbs = [
        t
        for t in doc
        if t.lower_ in rules.speech_verbs
        and to_original(offsets, t.idx) is not None
        # "As was earlier reported by the Kyiv Post, the minister said “…”": the report the story cites, not the
        # quote's speaker
        and not any(c.dep_ == "mark" and c.lower_ == "as" for c in t.children)
    ]
    if not verbs or not quote_at:
        return None
    quotes = {doc[q] for q in quote_at}

    def order(v) -> tuple[int, int, int]:
        governs = any(q in quotes for q in v.subtree)
        # the speech verb highest in the parse speaks for the sentence ("the Kremlin responded by calling them
        # “...”, spokesman Dmitry Peskov said"), then the nearest
        return (0 if governs else 1), len(list(v.ancestors)), min(abs(v.i - q) for q in quote_at)

    marks = {
        doc[q + k]
        for q in quote_at
        for k in (-1, 0, 1, 2)
        if 0 <= q + k < len(doc) and (k == 0 or doc[q + k].text in "“”,.!?")
    }
    for verb in sorted(verbs, key=order):
        noun = _subject(verb, quotes)
        if noun is None:
            continue
        # the subject's words, without a quotation the parse hung on it ("“Q,” Biggs said")
        run = [t for t in noun.subtree if t not in marks]
        left = right = noun
        while left.i - 1 >= 0 and doc[left.i - 1] in run:
            left = doc[left.i - 1]
        while right.i + 1 < len(doc) and doc[right.i + 1] in run:
            right = doc[right.i + 1]
        start = to_original(offsets, left.idx)
        end = to_original(offsets, right.idx + len(right.text) - 1)
        if start is None or end is None:
            continue
        return _who(text[start : end + 1], noun, offsets, start, end, speakers, rules)
    return None


def _subject(verb, quotes) -> Any | None:
    """Who does the verb: its subject ("X said", "said X"), the object of "according to", or for a verb without
    a subject of its own ("..., adding", "and said") the subject of the verb it hangs on."""
    if verb.lower_ == "according":
        to = next((c for c in verb.children if c.lower_ == "to"), None)
        return next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
    agent = next((c for c in verb.children if c.dep_ == "agent"), None)
    if agent is not None:  # "This was announced by the nuclear agency Enerhoatom"
        noun = next((c for c in agent.children if c.dep_ == "pobj"), None)
        if noun is not None:
            return noun
    for head in (verb, verb.head):
        subjects = [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")]
        noun = next((c for c in subjects if c not in quotes), None)
        if noun is None:
            # "“Q,” the deputy head of the administration said": the parse makes the quotation the subject and
            # the speaker its apposition
            noun = next((a for q in subjects if q in quotes for a in q.children if a.dep_ == "appos"), None)
        if noun is not None and noun.lower_ in ("who", "which", "that") and head.dep_ == "relcl":
            # "Nikki Haley who tweeted": the person the clause is about, the name right before "who" when the parse
            # hangs the clause on an earlier noun ("condemned by conservatives including ... Nikki Haley who")
            before = noun.doc[noun.i - 1] if noun.i > 0 else None
            return before if before is not None and before.text[:1].isupper() else head.head
        if noun is not None:
            return noun
        if head is verb:  # "“...”, reads the statement by Catherine Colonna": the document after the verb
            document = next(
                (c for c in verb.children if c.dep_ in ("dobj", "attr") and c not in quotes and c.lower_ in _DOCUMENTS),
                None,
            )
            if document is not None:
                return document
        if head is verb and verb.dep_ not in ("conj", "xcomp", "advcl", "ccomp", "pcomp"):
            return None
    return None


def _who(
    phrase: str,
    noun,
    offsets: Sequence[tuple[int, int, int]],
    start: int,
    end: int,
    speakers: Sequence[Resolved],
    rules: QuoteRules,
) -> Attribution:
    """The attribution a subject makes: the person or organisation its head names ("Kuleba said", "the president,
    Volodymyr Zelenskiy, said"), a pronoun or title that refers back ("he said", "the minister added"), a document
    and its author ("the statement by Catherine Colonna"), or nobody named ("a senior official said")."""

    def named_at(token) -> list[Resolved]:
        at = to_original(offsets, token.idx)
        return [] if at is None else [e for e in speakers if e.start <= at < e.end]

    heads = [noun] + [c for c in noun.children if c.dep_ == "appos"]
    if noun.text.rstrip(".") in POST_NOMINAL:  # "Graham Lockhart MSP said": the letters head the name they follow
        heads += [c for c in noun.children if c.dep_ == "compound"]
    for head in heads:
        found = named_at(head)
        if found:
            return Attribution("named", (prefer_people(found) or found[0]).name)
    if noun.lower_ in rules.collective_nouns:
        # "ISW experts said", "the ministry's officials", "officials at the Pentagon told", "a spokesman for
        # Ferguson Marine said": the body they speak for
        bodies = [
            e
            for c in noun.children
            if c.dep_ in ("compound", "poss", "nmod", "amod")
            or (c.dep_ == "prep" and c.lower_ in ("at", "of", "from", "for"))
            for t in ([c] if c.dep_ != "prep" else [p for p in c.children if p.dep_ == "pobj"])
            for e in named_at(t)
            if e.label == "ORG"
        ]
        if bodies:
            return Attribution("named", bodies[0].name)
    # "The U.S. ambassador to the OSCE, Daniel Baer, said": the parse hangs the holder's name on the body
    for prep in (c for c in noun.children if c.dep_ == "prep"):
        for body in (c for c in prep.children if c.dep_ == "pobj"):
            people = [e for a in body.children if a.dep_ == "appos" for e in named_at(a) if e.label == "PERSON"]
            if (
                not people
                and noun.text[:1].isupper()
                and "," not in phrase
                and noun.lower_ not in rules.collective_nouns  # "a Spokesman for Vladimir Putin": not Putin
                and not any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in noun.children)
            ):
                # "Senior Minister of State for Transport Daniel Koh said": a title in capitals runs into the name,
                # which the parse hangs on the title's last "for"/"of"
                people = [e for e in named_at(body) if e.label == "PERSON"]
            if people and rules.role_of(noun.lower_) is not None:
                return Attribution("named", people[0].name)
    words = {w.lower() for w in WORD.findall(phrase)}
    head_word = noun.lower_
    role = rules.role_of(head_word)
    synonym = rules.synonym_role(phrase)
    if synonym is not None and not words & _UNNAMED:
        return Attribution("title", None, start, synonym)  # "the head of state agreed": the president
    if head_word in rules.pronouns:
        return Attribution("pronoun", None, start)  # "he said"
    if head_word in rules.organisation_pronouns:
        return Attribution("it", None, start)  # "it said": an organisation
    if re.search(r"\b\d{1,3}\s*-\s*year\s*-\s*old$", phrase.strip(), re.IGNORECASE) or NATIONALITY.search(phrase):
        return Attribution("aged", None, start)  # "the 24-year-old said": the person brought in last
    if role is not None and not words & _UNNAMED:
        before = [c.text for c in noun.children if c.dep_ in ("amod", "compound") and c.i < noun.i]
        role = qualified(role, before[-1] if before else None)
        return Attribution("title", None, start, role)  # "the minister added", "the head of the committee said"
    if head_word in rules.document_nouns:  # "the statement by Catherine Colonna", "a post from the ministry"
        # "the EU statement", "the ministry's report": the author named before the document
        owners = [e for c in noun.children if c.dep_ in ("compound", "poss", "nmod") for e in named_at(c)]
        if owners:
            return Attribution("named", (prefer_people(owners) or owners[0]).name)
        author = [
            e
            for e in speakers
            if start <= e.start <= end
            and re.search(r"\b(?:by|of|from)\b", phrase[: max(0, e.start - start)]) is not None
        ]
        if author:
            return Attribution("named", (prefer_people(author) or author[0]).name)
        if phrase.lower().startswith("the "):  # "the letter said": the letter the text brought in before
            return Attribution("document", None, start, head_word)
    if noun.text[:1].isupper():  # a surname NER did not mark: the person of the article with that surname
        surname = [e for e in speakers if e.label == "PERSON" and e.name.split()[-1] == noun.text]
        # a family name that is not the last of the full name ("Mr Goh" of "Daniel Goh Jun Wei"): only one such
        inner = {e.name for e in speakers if e.label == "PERSON" and noun.text in e.name.split()[1:]}
        if surname:
            return Attribution("named", surname[0].name)
        if len(inner) == 1:
            return Attribution("named", inner.pop())
    body = described(head_word, speakers, start)
    # only a short, plain phrase refers back: "the regulator", "the state-owned company"; "the Kremlin's rights
    # council" brings in a body of its own
    if body is None and head_word in rules.organisation_nouns and _BACK_TO_BODY.fullmatch(phrase.strip()):
        return Attribution("body", None, start)  # "the regulator said": the organisation last named speaking
    return Attribution("unnamed", body)

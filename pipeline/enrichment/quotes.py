"""Quotes: direct speech in the text with its speaker when the text attributes it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quotation_marks import (
    WORD,
    Span,
    only_quotes,
    quoted_spans,
    reduce_sentence,
    same_paragraph,
    sentence_around,
    to_original,
)
from pipeline.records import Quote

_DASH_AFTER = re.compile(r"^\s*[,.]?\s*[–—-]\s*")
_NOT_TITLE = re.compile(r"\b(?:on|in|at|to|by|with|from|for|after|before|during|that|which|while|and)\b", re.IGNORECASE)
_STOP = frozenset({"the", "of", "and", "for", "a", "an", "in", "on"})
_REOPENED = re.compile(r"\n\s*[“\"«„]")
_SENTENCE_START = re.compile(r"[.!?…][”’\"')]*\s+(?=[“\"A-Z])|\n+")


@dataclass(frozen=True)
class QuoteRules:
    """The cues of enrich_quotes.toml."""

    min_words: int
    speech_verbs: frozenset[str]
    pronouns: frozenset[str]
    person_nouns: re.Pattern[str]
    abbreviations: frozenset[str]
    person_words: frozenset[str] = frozenset()  # the last word of each person noun ("minister", "head")
    document_nouns: frozenset[str] = frozenset()  # what a text is quoted from ("statement", "letter")

    @classmethod
    def from_data(cls, data: Mapping) -> QuoteRules:
        """The quote cues, lower-cased."""
        nouns = "|".join(
            r"\s+".join(map(re.escape, n.split())) for n in sorted(data["person_nouns"], key=len, reverse=True)
        )
        return cls(
            min_words=int(data.get("min_words", 4)),
            speech_verbs=frozenset(w.lower() for w in data["speech_verbs"]),
            pronouns=frozenset(w.lower() for w in data["pronouns"]),
            person_nouns=re.compile(rf"\bthe\s+(?:[\w-]+\s+){{0,2}}(?:{nouns})\b", re.IGNORECASE),
            abbreviations=frozenset(a.lower() for a in data.get("abbreviations", ())),
            person_words=frozenset(n.split()[-1].lower() for n in data["person_nouns"]),
            document_nouns=frozenset(w.lower() for w in data.get("document_nouns", ())),
        )


@dataclass(frozen=True)
class QuotePlan:
    """The quotes of one text before the parse: their spans and sentences, who may speak, and the sentences
    (quotations as placeholders) the dependency parser is to read."""

    text: str
    spans: tuple[Span, ...]
    sentences: tuple[tuple[int, int], ...]
    people: tuple[Resolved, ...]
    outside: tuple[Resolved, ...]  # people and organisations named outside any quotation
    unique: tuple[tuple[int, int], ...]  # the sentences holding a quote, each once
    reduced: tuple[tuple[str, list[tuple[int, int, int]]], ...]  # per unique sentence: the text to parse, offsets

    @property
    def to_parse(self) -> list[str]:
        """The texts the parser reads, one per sentence holding a quote."""
        return [r[0] for r in self.reduced]


def plan_quotes(text: str, entities: Sequence[Resolved], rules: QuoteRules) -> QuotePlan | None:
    """The quotes of `min_words` words or more in `text` and what to parse to attribute them; None without any."""
    spans = quoted_spans(text)
    spans = [s for s in spans if len(WORD.findall(text[s.text_start : s.text_end])) >= rules.min_words]
    if not spans:
        return None
    people = [e for e in entities if e.label == "PERSON"]
    speakers_of = [e for e in entities if e.label in ("PERSON", "ORG")]
    inside = [(s.start, s.end) for s in spans]
    outside = [e for e in speakers_of if not any(a <= e.start < b for a, b in inside)]
    sentences = [sentence_around(text, span, spans, rules.abbreviations) for span in spans]
    unique = list(dict.fromkeys(sentences))
    reduced = [reduce_sentence(text, begin, finish, spans) for begin, finish in unique]
    return QuotePlan(text, tuple(spans), tuple(sentences), tuple(people), tuple(outside), tuple(unique), tuple(reduced))


def find_quotes(
    text: str, entities: Sequence[Resolved], rules: QuoteRules, parse: Callable[[list[str]], Iterable] | None = None
) -> list[Quote]:
    """Direct quotes of `min_words` words or more, each with its speaker's canonical name or None.

    `parse` (spaCy's dependency parser over a list of texts) reads who speaks in each sentence that holds a quote:
    the subject of the speech verb ("X said", "said X", "X told ..."), or the object of "according to". It is given
    only those sentences, with each quotation's words replaced by a placeholder, so its cost stays bounded.
    A pronoun or a title ("he said", "the minister added") is the last named speaker. Without a parse, or when
    the parse finds no speech verb, the speaker is read from the words around the quote.
    """
    plan = plan_quotes(text, entities, rules)
    if plan is None:
        return []
    return quotes_of(plan, rules, parse(plan.to_parse) if parse is not None else None)


def quotes_of(plan: QuotePlan, rules: QuoteRules, docs: Iterable | None = None) -> list[Quote]:
    """The quotes of a plan with their speakers, given the parses of `plan.to_parse` (in order) or None."""
    text, spans, sentences, people, outside = plan.text, plan.spans, plan.sentences, plan.people, plan.outside
    parsed = _parse_attributions(plan, outside, rules, docs) if docs is not None else {}
    speakers: list[str | None] = []
    last: str | None = None  # the last named speaker: who "he said" means
    for i, (span, sentence) in enumerate(zip(spans, sentences, strict=True)):
        found = parsed.get(sentence)
        if found is not None and found.kind == "named":
            speaker = found.name
        elif found is not None and found.kind == "pronoun":
            # the person this or the previous sentence is about ("Pope Francis said ... “...,” he said"), else the
            # last named speaker
            about = _sentence_subject(text, found.at, outside, spans)
            speaker = about or last or _last_person_before(people, span.start)
        elif found is not None and found.kind == "title":
            # the person the article gives that title ("Sen. Lindsey Graham" for "the senator"), else the last named
            named = [p for p in outside if p.label == "PERSON"]
            speaker = _titled(text, found.role, named, found.at) or _last_person_before(named, found.at) or last
        elif found is not None and found.kind == "unnamed":
            speaker = found.name  # "a senior official said": nobody named (an organisation when described)
        else:
            speaker = _speaker(text, span, *sentence, outside, people, rules)
            if speaker is None and i and (only_quotes(text, span, spans) or same_paragraph(text, spans[i - 1], span)):
                # a paragraph of quotation only, or a further quote in the paragraph, goes on with the last speaker
                speaker = speakers[-1]
        speakers.append(speaker)
        if speaker is not None and (found is None or found.kind != "unnamed"):
            last = speaker
    # quotes of one sentence share a speaker found for any of them ("“...”, it is “...” because “...” Zelensky said")
    for i, speaker in enumerate(speakers):
        if speaker is None:
            same = [speakers[j] for j in range(len(spans)) if sentences[j] == sentences[i] and speakers[j]]
            speakers[i] = same[0] if same else None
    out: dict[str, Quote] = {}
    for span, speaker in zip(spans, speakers, strict=True):
        quote = _tidy(_REOPENED.sub(" ", text[span.text_start : span.text_end]))
        if quote and quote.casefold() not in out:
            out[quote.casefold()] = Quote(speaker=speaker, text=quote)
    return list(out.values())


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who the parse says speaks in a sentence: a name, "back" (a pronoun or a title), or nobody named."""

    kind: str  # named | pronoun | title | unnamed
    name: str | None = None
    at: int = 0  # where the subject stands in the text
    role: str = ""  # the title's word ("minister" of "the Russian foreign minister")


def _parse_attributions(
    plan: QuotePlan, speakers: Sequence[Resolved], rules: QuoteRules, docs: Iterable
) -> dict[tuple[int, int], Attribution]:
    """The attribution of every sentence holding a quote, read from its parse (quotations as placeholders)."""
    out: dict[tuple[int, int], Attribution] = {}
    for sentence, (_short, offsets), doc in zip(plan.unique, plan.reduced, docs, strict=True):
        found = _attribution(doc, offsets, plan.text, speakers, rules)
        if found is not None:
            out[sentence] = found
    return out


def _attribution(
    doc, offsets: Sequence[tuple[int, int, int]], text: str, speakers: Sequence[Resolved], rules: QuoteRules
) -> Attribution | None:
    """The speaker of a parsed sentence: the subject of its speech verb nearest the quotation (verbs that govern
    the quotation first), or None when no speech verb outside the quotation has one."""
    quote_at = [t.i for t in doc if t.text == "Q" and 0 < t.i and doc[t.i - 1].text == "“"]
    verbs = [t for t in doc if t.lower_ in rules.speech_verbs and to_original(offsets, t.idx) is not None]
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
        return _who(text[start : end + 1], noun, start, end, speakers, rules)
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
        noun = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass") and c not in quotes), None)
        if noun is not None and noun.lower_ in ("who", "which", "that") and head.dep_ == "relcl":
            return head.head  # "Nikki Haley who tweeted": the person the clause is about
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


def _who(phrase: str, noun, start: int, end: int, speakers: Sequence[Resolved], rules: QuoteRules) -> Attribution:
    """The attribution a subject makes: the person or organisation its head names ("Kuleba said", "the president,
    Volodymyr Zelenskiy, said"), a pronoun or title that refers back ("he said", "the minister added"), a document
    and its author ("the statement by Catherine Colonna"), or nobody named ("a senior official said")."""

    def named_at(token) -> list[Resolved]:
        return [e for e in speakers if _covers(e, token, noun, start)]

    heads = [noun] + [c for c in noun.children if c.dep_ == "appos"]
    for head in heads:
        found = named_at(head)
        if found:
            return Attribution("named", (_prefer_people(found) or found[0]).name)
    words = {w.lower() for w in WORD.findall(phrase)}
    head_word = noun.lower_
    if head_word in rules.pronouns:
        return Attribution("pronoun", None, start)  # "he said"
    if head_word in rules.person_words and not words & _UNNAMED:
        return Attribution("title", None, start, head_word)  # "the minister added", "the head of the committee said"
    if head_word in rules.document_nouns:  # "the statement by Catherine Colonna", "a post from the ministry"
        author = [
            e
            for e in speakers
            if start <= e.start <= end
            and re.search(r"\b(?:by|of|from)\b", phrase[: max(0, e.start - start)]) is not None
        ]
        if author:
            return Attribution("named", (_prefer_people(author) or author[0]).name)
    if noun.text[:1].isupper():  # a surname NER did not mark: the person of the article with that surname
        surname = [e for e in speakers if e.label == "PERSON" and e.name.split()[-1] == noun.text]
        if surname:
            return Attribution("named", surname[0].name)
    return Attribution("unnamed", _described(head_word, speakers, start))


def _titled(text: str, role: str, people: Sequence[Resolved], at: int) -> str | None:
    """The person the text gives the title `role` right before or after the name ("Foreign Minister Sergei
    Lavrov", "Sen. Lindsey Graham", "Lavrov, the foreign minister"): the last such person before `at`, else the
    first after it."""
    if not role:
        return None
    titled = [p for p in people if _has_title(text, p, role)]
    before = [p for p in titled if p.end <= at]
    chosen = before[-1] if before else next((p for p in titled if p.start > at), None)
    return chosen.name if chosen is not None else None


def _has_title(text: str, person: Resolved, role: str) -> bool:
    """The words just before the name end with the title or its abbreviation ("Sen."), or the words just after
    it are ", the ... <title>"."""
    words = WORD.findall(text[max(0, person.start - 40) : person.start])
    tail = text[max(0, person.start - 40) : person.start].rstrip()
    if words and words[-1].lower() == role:
        return True
    if words and tail.endswith(".") and 3 <= len(words[-1]) < len(role) and role.startswith(words[-1].lower()):
        return True  # "Sen." of senator, "Gen." of general
    after = text[person.end : person.end + 60]
    match = re.match(r"\s*,\s*(?:the|a|an|[\w’']+['’]s)\s+(?:[\w-]+\s+){0,3}?([\w-]+)\s*[,.]", after)
    return match is not None and match.group(1).lower() == role


def _covers(entity: Resolved, token, noun, start: int) -> bool:
    """The entity's span holds the token (offsets of the reduced sentence mapped through the subject's start)."""
    at = start + (token.idx - noun.left_edge.idx)
    return entity.start <= at < entity.end


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


def _sentence_subject(text: str, at: int, entities: Sequence[Resolved], spans: Sequence[Span]) -> str | None:
    """The first person named in the sentence before `at`, else in the sentence before that (sentence ends inside
    quotations do not count)."""
    starts = [0] + [
        m.end() for m in _SENTENCE_START.finditer(text, 0, at) if not any(s.start <= m.start() < s.end for s in spans)
    ]
    for begin, end in ((starts[-1], at), (starts[-2] if len(starts) >= 2 else 0, starts[-1])):
        named = [e for e in entities if e.label == "PERSON" and begin <= e.start < end]
        if named:
            return named[0].name
    return None


def _speaker(
    text: str,
    span: Span,
    begin: int,
    finish: int,
    speakers: Sequence[Resolved],
    people: Sequence[Resolved],
    rules: QuoteRules,
) -> str | None:
    """The speaker: named after the quote ("...,” Kuleba said), before it ("Podolyak writes:"), or referred back to."""
    after = text[span.end : finish]
    dash = _DASH_AFTER.match(after)
    named_after = [e for e in speakers if span.end <= e.start < finish]
    if dash and named_after:
        return named_after[0].name  # "“...” – Zelensky, responding to ..."
    verb_after = _first_verb(after, rules.speech_verbs)
    if verb_after is not None:
        verb_at = span.end + verb_after
        before_verb = [e for e in named_after if e.start < verb_at]
        right_after = [
            e
            for e in named_after
            if e.start >= verb_at and e.start - verb_at < 60 and not _NOT_TITLE.search(text[verb_at : e.start])
        ]  # "said Peskov"
        chosen = _prefer_people(before_verb) or _prefer_people(right_after[:1])
        if chosen:
            return chosen.name
        if _refers_back(after[:verb_after], rules):
            return _last_person_before(people, span.start)
        return _described(after[:verb_after], speakers, span.start)
    before = text[begin : span.start]
    named_before = [e for e in speakers if begin <= e.start < span.start]
    evidence = before.rstrip().endswith(":") or _first_verb(before, rules.speech_verbs) is not None
    persons_before = [e for e in named_before if e.label == "PERSON"]
    if persons_before:
        return persons_before[0].name
    if _refers_back(before, rules):
        return _last_person_before(people, begin if begin < span.start else span.start)
    if evidence and named_before:
        return named_before[0].name
    return _named_in_next_sentence(text, finish, speakers, rules)


def _named_in_next_sentence(text: str, finish: int, speakers: Sequence[Resolved], rules: QuoteRules) -> str | None:
    """“We will win.” Zelensky said. -- a short sentence right after the quote that names who said it."""
    end = text.find("\n", finish)
    end = len(text) if end < 0 else end
    stop = min((i for i in (text.find(". ", finish), text.find(".\n", finish)) if i >= 0), default=end)
    sentence = text[finish : min(stop, end) + 1]
    if len(WORD.findall(sentence)) > 8 or _first_verb(sentence, rules.speech_verbs) is None:
        return None
    named = [e for e in speakers if finish <= e.start < finish + len(sentence)]
    chosen = _prefer_people(named)
    return chosen.name if chosen else None


def _first_verb(text: str, verbs: frozenset[str]) -> int | None:
    """Offset of the first speech verb in `text`."""
    for match in WORD.finditer(text):
        if match.group(0).lower() in verbs:
            return match.start()
    return None


def _refers_back(text: str, rules: QuoteRules) -> bool:
    """ "he said", "The Ukrainian leader, ... says": the speaker was named earlier."""
    words = {w.lower() for w in WORD.findall(text)}
    return bool(words & rules.pronouns) or rules.person_nouns.search(text) is not None


def _last_person_before(people: Sequence[Resolved], offset: int) -> str | None:
    """The person named last before `offset`."""
    earlier = [p for p in people if p.end <= offset]
    return earlier[-1].name if earlier else None


def _described(text: str, speakers: Sequence[Resolved], offset: int) -> str | None:
    """ "the newspaper wrote": the organisation named last before the quote that the text calls that."""
    words = {w.lower() for w in WORD.findall(text)}
    for org in reversed([s for s in speakers if s.label == "ORG" and s.end <= offset]):
        nouns = set(org.entry.nouns) if org.entry is not None else set()
        nouns |= {w.lower() for w in org.name.split()} - _STOP
        if words & nouns:
            return org.name
    return None


def _prefer_people(entities: Sequence[Resolved]) -> Resolved | None:
    """The first person among `entities`, else the first organisation."""
    return next((e for e in entities if e.label == "PERSON"), None) or (entities[0] if entities else None)


def _tidy(quote: str) -> str:
    """Quote text without surrounding spaces and the trailing comma of "“...,” he said"."""
    return " ".join(quote.split()).strip(" ,;")

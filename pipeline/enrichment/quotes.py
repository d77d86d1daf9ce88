"""Quotes: direct speech in the text with its speaker when the text attributes it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quotation_marks import (
    WORD,
    Span,
    only_quotes,
    quoted_spans,
    reduce_sentence,
    same_paragraph,
    sentence_around,
)
from pipeline.enrichment.quote_borrowed import as_put, said_right_before, words_by
from pipeline.enrichment.quote_parse import NATIONALITY, Attribution, parse_attributions
from pipeline.enrichment.quote_plain import read_without_parse
from pipeline.enrichment.quote_reader import Reader
from pipeline.enrichment.quote_rules import QuoteRules
from pipeline.enrichment.referents import (
    described,
    last_person_before,
    prefer_people,
    pronoun_subject,
    qualified,
    sentence_starts,
    subject_person,
)
from pipeline.records import Quote

__all__ = ["QuotePlan", "QuoteRules", "find_quotes", "plan_quotes", "quoted_spans", "quotes_of"]

_DASH_AFTER = re.compile(r"^\s*[,.]?\s*[–—-]\s*")
_NOT_TITLE = re.compile(r"\b(?:on|in|at|to|by|with|from|for|after|before|during|that|which|while|and)\b", re.IGNORECASE)
_REOPENED = re.compile(r"\n\s*[“\"«„]")
_PLACEHOLDER = re.compile(r"“Q[,.!?]?”")  # a quotation in the text the parser reads (`reduce_sentence`)
_AGED = re.compile(r"\bthe\s+\d{1,3}-year-old\b", re.IGNORECASE)
_OWN_CLAUSE = re.compile(r"[\w’'-]+\s+that\b", re.IGNORECASE)  # "announced that ...": a statement of its own
_RIGHT_AFTER = re.compile(r"\s+(?:the\s+)?")  # "said Bacon", "said the ministry"


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
    parse_at: tuple[int, ...] = ()  # the unique sentences the parser reads (not the plain "“...,” X said.")
    actors: tuple[Resolved, ...] = ()  # organisations and places named outside quotations: whom "it said" means

    @property
    def to_parse(self) -> list[str]:
        """The texts the parser reads: the sentences holding a quote whose attribution is not plain."""
        return [self.reduced[i][0] for i in self.parse_at]


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
    # a sentence without a speech verb outside its quotations ("“Q.”", "His call for Truss to be put “Q” should be
    # extended to ...") gives the parse nothing to read: it reads who does a speech verb
    parse_at = tuple(
        i
        for i, sentence in enumerate(unique)
        if any(m.group(0).lower() in rules.speech_verbs for m in WORD.finditer(_PLACEHOLDER.sub("", reduced[i][0])))
        and not read_without_parse(text, sentence, spans, outside, rules)
    )
    actors = tuple(
        e for e in entities if (e.label == "ORG" or e.is_place) and not any(a <= e.start < b for a, b in inside)
    )
    return QuotePlan(
        text,
        tuple(spans),
        tuple(sentences),
        tuple(people),
        tuple(outside),
        tuple(unique),
        tuple(reduced),
        parse_at,
        actors,
    )


def find_quotes(
    text: str, entities: Sequence[Resolved], rules: QuoteRules, parse: Callable[[list[str]], Iterable] | None = None
) -> list[Quote]:
    """Direct quotes of `min_words` words or more, each with its speaker's canonical name or None.

    `parse` (spaCy's dependency parser over a list of texts) reads who speaks in each sentence that holds a quote:
    the subject of the speech verb ("X said", "said X", "X told ..."), or the object of "according to". It is given
    only those sentences, with each quotation's words replaced by a placeholder, so its cost stays bounded.
    A pronoun ("he said") is the person the sentence or the one before is about, else the last person who spoke; a
    title ("the minister added") is the person the article gives it. Without a parse, or when the parse finds no
    speech verb, the speaker is read from the words around the quote, then from the sentence before it.
    """
    plan = plan_quotes(text, entities, rules)
    if plan is None:
        return []
    return quotes_of(plan, rules, parse(plan.to_parse) if parse is not None else None)


def quotes_of(plan: QuotePlan, rules: QuoteRules, docs: Iterable | None = None) -> list[Quote]:
    """The quotes of a plan with their speakers, given the parses of `plan.to_parse` (in order) or None."""
    text, spans, sentences = plan.text, plan.spans, plan.sentences
    parsed = (
        parse_attributions(
            text,
            [plan.unique[i] for i in plan.parse_at],
            [plan.reduced[i] for i in plan.parse_at],
            plan.outside,
            rules,
            docs,
        )
        if docs is not None
        else {}
    )
    reader = Reader(text, spans, plan.outside, plan.people, rules, actors=plan.actors)
    persons = {e.name for e in plan.people} | {e.name for e in plan.outside if e.label == "PERSON"}
    speakers: list[str | None] = []
    for i, (span, sentence) in enumerate(zip(spans, sentences, strict=True)):
        found = parsed.get(sentence)
        speaker = _attributed(found, reader) if found is not None else None
        by = words_by(reader, sentence[0], span.start) or as_put(reader, sentence[0], span.start)
        if by is not None:
            speaker = by  # "recalled a statement by Sergei Lavrov that Kharkiv “...”": Lavrov's words
        elif found is not None and found.kind == "unnamed" and speaker is None:
            # a parse that took a word of a clause for the subject ("“...,” that is, forces fighting on the ground,
            # said Sam Cranny-Evans"): a person the words around the quote name as its speaker
            speaker = said_right_before(reader, span.end, sentence[1])
        elif found is None:
            speaker = _speaker(reader, span, *sentence)
            if speaker is None and _unattributed(reader, span, sentence):
                speaker = _continued(reader, i, sentence, speakers)
        speakers.append(speaker)
        if speaker in persons and (found is None or found.kind != "unnamed"):
            reader.last_person = speaker
    # quotes of one sentence share a speaker found for any of them ("“...”, it is “...” because “...” Zelensky said")
    for i, speaker in enumerate(speakers):
        if speaker is None:
            same = [speakers[j] for j in range(len(spans)) if sentences[j] == sentences[i] and speakers[j]]
            speakers[i] = same[0] if same else None
    # a report of one person's speech: a quotation that opens a sentence nothing attributes is that person's ("“...”"
    # after a paragraph of narration in a minister's speech), when one person speaks most of the attributed quotes
    main = _main_speaker(speakers, persons)
    if main is not None:
        for i, (span, sentence) in enumerate(zip(spans, sentences, strict=True)):
            if speakers[i] is None and _unattributed(reader, span, sentence):
                speakers[i] = main
    out: dict[str, Quote] = {}
    for span, speaker in zip(spans, speakers, strict=True):
        quote = _tidy(_REOPENED.sub(" ", text[span.text_start : span.text_end]))
        if quote and quote.casefold() not in out:
            out[quote.casefold()] = Quote(speaker=speaker, text=quote)
    return list(out.values())


def _main_speaker(speakers: Sequence[str | None], persons: Collection[str], share: float = 0.6) -> str | None:
    """The person who speaks `share` or more of the attributed quotes, and at least three of them; else None."""
    named = [s for s in speakers if s is not None]
    if not named:
        return None
    top, count = Counter(named).most_common(1)[0]
    return top if top in persons and count >= 3 and count >= share * len(named) else None


def _attributed(found: Attribution, reader: Reader) -> str | None:
    """The speaker an attribution read from the parse names."""
    if found.kind == "pronoun":
        return reader.pronoun(found.at)
    if found.kind == "it":
        return reader.organisation(found.at)
    if found.kind == "body":
        return reader.body_before(found.at)
    if found.kind == "document":
        return reader.author(found.role, found.at)
    if found.kind == "aged":
        return last_person_before([e for e in reader.outside if e.label == "PERSON"], found.at)
    if found.kind == "title":
        return reader.title(found.role, found.at)
    return found.name  # named, or "a senior official said": nobody named (an organisation when described)


def _speaker(reader: Reader, span: Span, begin: int, finish: int) -> str | None:
    """The speaker read from the words around the quote: named after it ("...,” Kuleba said), before it ("Podolyak
    writes:"), or referred back to ("..., he said")."""
    text, speakers, rules = reader.text, reader.outside, reader.rules
    after = text[span.end : finish]
    dash = _DASH_AFTER.match(after)
    named_after = [e for e in speakers if span.end <= e.start < finish]
    if dash and named_after:
        return named_after[0].name  # "“...” – Zelensky, responding to ..."
    verb_after = _first_verb(after, rules.speech_verbs, rules)
    if verb_after is not None:
        verb_at = span.end + verb_after
        before_verb = [e for e in named_after if e.start < verb_at]
        role = _title_of(after[:verb_after], rules)
        if role is not None and not any(e.label == "PERSON" for e in before_verb):
            # "the deputy head of the presidential administration said": a person with a title, not the body
            return reader.title(role, span.end)
        # "said Peskov": a name right after a verb nothing stands before ("he told Reuters": Reuters is told)
        right_after = [
            e
            for e in named_after
            if e.start >= verb_at and e.start - verb_at < 60 and not _NOT_TITLE.search(text[verb_at : e.start])
        ]
        if WORD.search(after[:verb_after]):
            right_after = []
        chosen = prefer_people(before_verb) or prefer_people(right_after[:1])
        if chosen:
            return chosen.name
        back = _refers_back(after[:verb_after], span.end, reader)
        return back if back is not None else described(after[:verb_after], speakers, span.start)
    return _speaker_before(reader, span, begin) or _named_in_next_sentence(text, finish, speakers, rules)


def _speaker_before(reader: Reader, span: Span, begin: int) -> str | None:
    """The speaker named before the quote in its sentence when a speech verb or a colon says that it speaks: the
    person next to the verb ("Asked about Lavrov, Blinken said:", "said Pavlov", "according to Kuleba"), or the
    person the sentence is about; a pronoun or a title there refers back. Without either, only a pronoun the
    sentence is about ("Instead, he does not rule out a “...”")."""
    text, rules = reader.text, reader.rules
    before = text[begin : span.start]
    stops = reader.verbs(begin, span.start)
    colon = before.rstrip().endswith(":")
    if colon:
        stops.append(begin + len(before.rstrip()) - 1)
    if not stops:
        at = pronoun_subject(text, begin, span.start, rules.pronouns)
        return reader.pronoun(at) if at is not None else None
    named = [e for e in reader.outside if begin <= e.start < span.start]
    body = _spoken_for(text, begin, stops[0], named, rules)
    if body is not None:
        return body  # "A spokesperson for Yorkshire Ambulance Service said: “…”"
    role = _title_of(text[begin : stops[0]], rules)
    if role is not None and not any(e.label == "PERSON" for e in named if e.start < stops[0]):
        return reader.title(role, stops[0])  # "the head of the presidential administration said:"
    near = reader.near(begin, span.start, stops)
    persons = [e for e in near if e.label == "PERSON"]
    if persons:
        return persons[0].name
    subject = subject_person(text, begin, span.start, reader.outside)
    if subject is not None and subject.end <= max(stops):
        return subject.name
    back = _refers_back(text[begin : max(stops)], begin, reader)
    if back is not None:
        return back
    if colon and any(e.label == "PERSON" for e in named):  # "Mr Williamson tried to draw a connection ...: “"
        return next(e.name for e in named if e.label == "PERSON")
    return near[0].name if near else None


def _spoken_for(text: str, begin: int, stop: int, named: Sequence[Resolved], rules: QuoteRules) -> str | None:
    """The body an unnamed voice before the verb speaks for ("A spokesperson for Yorkshire Ambulance Service said:",
    "Home Office officials said:"): the last organisation named there, when no person is."""
    before = [e for e in named if e.end <= stop]
    if any(e.label == "PERSON" for e in before):
        return None
    if not {w.lower() for w in WORD.findall(text, begin, stop)} & rules.collective_nouns:
        return None
    bodies = [e for e in before if e.label == "ORG"]
    return bodies[-1].name if bodies else None


def _unattributed(reader: Reader, span: Span, sentence: tuple[int, int]) -> bool:
    """The quote opens a sentence that says nothing of who speaks: no speech verb and no person outside the
    quotation (a sentence that has one and still names nobody is a quote of nobody named: "“...” chanted the
    crowd"; a fragment quoted inside a sentence is the writer's)."""
    begin, finish = sentence
    if reader.text[begin : span.start].strip():
        return False
    if reader.verbs(begin, finish):
        return False
    return not any(e.label == "PERSON" and begin <= e.start < span.start for e in reader.outside)


def _continued(reader: Reader, i: int, sentence: tuple[int, int], speakers: Sequence[str | None]) -> str | None:
    """The speaker of a quote its sentence does not attribute: the previous quote's when it stands in the same
    paragraph ("“...,” he said. “...”"), else who the sentence before speaks through or is about ("Vitrenko is
    convinced Putin will try. “...”"), else the previous quote's for a paragraph of quotation only."""
    text, spans = reader.text, reader.spans
    span = spans[i]
    if i and same_paragraph(text, spans[i - 1], span):
        if speakers[-1] is not None or _one_sentence_on(reader, spans[i - 1], sentence[0]):
            return speakers[-1]  # "“...,” he said of the remarks. “...”": whoever said the quote before
    begin = sentence[0]
    para_start = text.rfind("\n", 0, span.start) + 1
    if begin <= para_start:
        # the sentence opens its paragraph: the last sentence of the paragraph before, when it speaks
        prev_end = len(text[:para_start].rstrip())
        if prev_end > 0:
            starts = sentence_starts(text, prev_end, spans)
            found = _speaks_in(reader, starts[-1], prev_end, subject_alone=False)
            if found is None and only_quotes(text, span, spans):
                # a paragraph of quotation after "NATO said in a statement:": the body that spoke
                found = reader.body_speaking(starts[-1], prev_end)
            if found is not None:
                return found
    else:
        starts = sentence_starts(text, begin, spans)
        prev_begin = max(starts[-2] if len(starts) >= 2 else 0, para_start)
        found = _speaks_in(reader, prev_begin, begin, subject_alone=True)
        if found is not None:
            return found
    if i and only_quotes(text, span, spans):
        return speakers[-1]
    return None


def _one_sentence_on(reader: Reader, previous: Span, begin: int) -> bool:
    """The sentence at `begin` comes right after the one holding the `previous` quote."""
    starts = sentence_starts(reader.text, begin, reader.spans)
    return len(starts) < 2 or starts[-2] <= previous.start


def _speaks_in(reader: Reader, begin: int, end: int, *, subject_alone: bool) -> str | None:
    """Who speaks in the sentence [begin, end): the person named at its speech verb, the person it is about when
    it speaks ("Stoltenberg also confirmed that ..."), or whom its pronoun means; with `subject_alone`, also the
    person it is about when it has no speech verb."""
    text = reader.text
    found = reader.speaking(begin, end)
    if found is not None:
        return found
    stops = reader.verbs(begin, end)
    colon = text[begin:end].rstrip().endswith(":")
    subject = subject_person(text, begin, end, reader.outside)
    if subject is not None and (colon or any(v > subject.start for v in stops) or subject_alone):
        return subject.name
    if stops or colon:
        back = _refers_back(text[begin : max(stops) if stops else end], begin, reader)
        if back is not None:
            return back
    return None


def _title_of(phrase: str, rules: QuoteRules) -> str | None:
    """The title of "the deputy head of the presidential administration", "the speaker of parliament": a person
    named by an office of a body, not the body; another word for a title ("the head of state") is that title."""
    synonym = rules.synonym_role(phrase)
    if synonym is not None:
        return synonym
    for match in re.finditer(r"\b(?:the|a|an)\s+((?:[\w-]+\s+){0,3}?)([\w-]+)\s+of\b", phrase, re.IGNORECASE):
        role = rules.role_of(match.group(2))
        if role is not None:
            words = match.group(1).split()
            return qualified(role, words[-1] if words else None)
    return None


def _refers_back(phrase: str, at: int, reader: Reader) -> str | None:
    """Whom "he said" or "the Ukrainian leader ... says" in `phrase` (starting at `at`) means; None when it
    refers to nobody."""
    rules = reader.rules
    for match in WORD.finditer(phrase):
        if match.group(0).lower() in rules.pronouns:
            return reader.pronoun(at + match.start())
        if match.group(0).lower() in rules.organisation_pronouns:
            # "it said", "it also said", not "It gets worse though:"
            verb = _ADVERBS_THEN_WORD.match(reader.text, at + match.end())
            if verb is not None and verb.group(1).lower() in rules.speech_verbs:
                return reader.organisation(at + match.start())
    if _AGED.search(phrase) or NATIONALITY.search(phrase):  # "the 24-year-old said", "the Italian said": the person
        # the text brought in last
        return last_person_before([e for e in reader.outside if e.label == "PERSON"], at)
    document = re.search(r"\bthe\s+([\w-]+)\s*$", phrase, re.IGNORECASE)
    if document is not None and document.group(1).lower() in rules.document_nouns:
        return reader.author(document.group(1).lower(), at + document.start())  # "the letter said"
    body = re.search(r"(?<![’'])\bthe\s+(?:[a-z-]+\s+)?([a-z-]+)\s*$", phrase)
    if body is not None and body.group(1).lower() in rules.organisation_nouns:
        return reader.body_before(at + body.start())  # "the regulator said": the body last named speaking
    synonym = rules.synonym_role(phrase)
    if synonym is not None:  # "“...,” the head of state agreed": the person the article calls president
        return reader.title(synonym, at + len(phrase))
    title = rules.person_nouns.search(phrase)
    if title is not None:
        words = WORD.findall(title.group(0))
        role = rules.role_of(words[-1])
        if role is not None:
            role = qualified(role, words[-2] if len(words) > 1 else None)
            return reader.title(role, at + title.start())
    return None


_ADVERBS_THEN_WORD = re.compile(
    r"\s+(?:(?:also|then|later|further|again|earlier|previously|now|still|\w+ly)\s+){0,2}(\w+)"
)


def _named_in_next_sentence(text: str, finish: int, speakers: Sequence[Resolved], rules: QuoteRules) -> str | None:
    """“We will win.” Zelensky said. -- the sentence right after the quote names who said it: a short one, or one
    that opens with the name and the speech verb (“Why is that relevant?” Bacon said of the court date.)."""
    end = text.find("\n", finish)
    end = len(text) if end < 0 else end
    stop = min((i for i in (text.find(". ", finish), text.find(".\n", finish)) if i >= 0), default=end)
    sentence = text[finish : min(stop, end) + 1]
    verb = _first_verb(sentence, rules.speech_verbs)
    if verb is None:
        return None
    named = [e for e in speakers if finish <= e.start < finish + len(sentence)]
    if len(WORD.findall(sentence)) > 8:
        # a longer sentence only when it opens with the name and the verb ("Bacon said of ...", "said Bacon, ..."),
        # the name right before or right after the verb ("Citing the report, the United States said": "report" is
        # a noun), and the verb not bringing in words of its own ("Russia announced that ..." is a new statement)
        if len(WORD.findall(sentence[:verb])) > 3 or _OWN_CLAUSE.match(sentence, verb):
            return None
        verb_end = finish + WORD.match(sentence, verb).end()  # type: ignore[union-attr]
        named = [
            e
            for e in named
            if len(WORD.findall(text[finish : e.start])) <= 3
            and (e.end <= finish + verb or _RIGHT_AFTER.fullmatch(text, verb_end, e.start))
        ]
    chosen = prefer_people(named)
    return chosen.name if chosen else None


def _first_verb(text: str, verbs: frozenset[str], rules: QuoteRules | None = None) -> int | None:
    """Offset of the first speech verb in `text`; with `rules`, not a word that ends another word for a title
    ("state" of "the head of state agreed")."""
    for match in WORD.finditer(text):
        if match.group(0).lower() in verbs and (rules is None or not rules.ends_title(text, match.end())):
            return match.start()
    return None


def _tidy(quote: str) -> str:
    """Quote text without surrounding spaces and the trailing comma of "“...,” he said"."""
    return " ".join(quote.split()).strip(" ,;")

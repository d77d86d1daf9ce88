"""Sentences holding a quotation whose words say who speaks as surely as a parse would: the quote planner
(`quotes.plan_quotes`) does not give them to the dependency parser, which keeps its cost bounded."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quotation_marks import WORD, Span
from pipeline.enrichment.quote_rules import QuoteRules

# speech verbs a speaker's name follows ("said Peskov"); after others a name is their object ("told Anna Novak")
INVERTED = frozenset({"said", "says", "added", "adds", "wrote", "writes", "noted", "notes", "explained", "explains"})
_ADVERBS = frozenset({"also", "later", "then", "further", "again", "previously", "earlier"})


def read_without_parse(
    text: str, sentence: tuple[int, int], spans: Sequence[Span], named: Sequence[Resolved], rules: QuoteRules
) -> bool:
    """The sentence [begin, finish) attributes its quotation plainly (`_plain`), introduces it with a colon
    (`_introduced`) or names its speaker right after it (`_speaker_follows`). `named`: the people and organisations
    named outside quotations."""
    return (
        _plain(text, sentence, spans, named, rules)
        or _introduced(text, sentence, spans)
        or _speaker_follows(text, sentence, spans, named, rules)
    )


def _opens_with_quote(text: str, begin: int, inside: Sequence[Span]) -> bool:
    """Nothing but marks and spaces stands between the sentence's start and its first quotation."""
    return not text[begin : inside[0].start].strip(" \t\n\"“”'")


def _plain(
    text: str, sentence: tuple[int, int], spans: Sequence[Span], named: Sequence[Resolved], rules: QuoteRules
) -> bool:
    """The sentence attributes its quotation in the plainest way ("“...,” Kuleba said.", "“...,” said Dmitry Peskov.",
    "“...,” he added."): outside the quotation only one speech verb and one name or pronoun, at most one other
    word. The words around the quote read it as surely as a parse would, so the parser is not run on it."""
    begin, finish = sentence
    inside = [s for s in spans if begin <= s.start < finish]
    names = [e for e in named if begin <= e.start < finish and not any(s.start <= e.start < s.end for s in inside)]
    if len(names) > 1:
        return False
    at = begin
    words: list[str] = []
    for piece_end, next_at in [*((s.start, s.end) for s in inside), (finish, finish)]:
        words += [
            m.group(0).lower()
            for m in WORD.finditer(text, at, max(at, piece_end))
            if not any(e.start <= m.start() < e.end for e in names)
        ]
        at = max(at, next_at)
    verbs = [w for w in words if w in rules.speech_verbs and w != "according"]
    pronouns = [w for w in words if w in rules.pronouns]
    if len(verbs) != 1 or len(names) + len(pronouns) != 1:
        return False
    return len(words) - 1 - len(pronouns) <= 1


def _introduced(text: str, sentence: tuple[int, int], spans: Sequence[Span]) -> bool:
    """The sentence introduces the quotation that closes it with a colon ("Stoltenberg said: “...”"): the words
    before the colon say who speaks (`_speaker_before`), the parse adds nothing."""
    begin, finish = sentence
    inside = [s for s in spans if begin <= s.start < finish]
    if _opens_with_quote(text, begin, inside):
        return False  # who speaks comes after the quotation
    last = inside[-1]
    return text[begin : last.start].rstrip().endswith(":") and not WORD.search(text, last.end, finish)


def _speaker_follows(
    text: str, sentence: tuple[int, int], spans: Sequence[Span], named: Sequence[Resolved], rules: QuoteRules
) -> bool:
    """The sentence opens with a quotation and its speaker follows at once, with the speech verb: "“...,” he told
    Reuters", "“...,” the Red Cross said in a statement", "“...,” said Arsenyi Yatsenyuk, leader of ...". What comes
    after does not change who speaks (`_speaker` reads it), so the parser is not run on it. So too a pronoun with
    one adverb ("it also said"), a title ("the Ukrainian leader stressed") and a name after a title without a comma
    ("ICRC director of operations Dominik Stillhart said"): the parse named the same speaker on every golden
    article."""
    begin, finish = sentence
    inside = [s for s in spans if begin <= s.start < finish]
    if not _opens_with_quote(text, begin, inside):
        return False
    at = inside[0].end
    while at < finish and not (text[at].isalnum()):
        at += 1
    first = WORD.match(text, at)
    if first is None:
        return False
    word = first.group(0).lower()
    if word in rules.pronouns or word in rules.organisation_pronouns:
        verb = WORD.match(text, first.end() + 1)  # "he told Reuters": the pronoun is the subject
        if verb is not None and verb.group(0).lower() in _ADVERBS:  # "it also said", "he later added"
            verb = WORD.match(text, verb.end() + 1)
        return verb is not None and verb.group(0).lower() in rules.speech_verbs
    if word in INVERTED:  # "said Arsenyi Yatsenyuk, ...": the name right after the verb
        name_at = first.end() + 1
        return any(e.start == name_at and e.end < finish and text[e.end] in ",." for e in named)
    if word == "the":
        at = first.end() + 1
        # "the (Ukrainian) minister noted", "the head of state said": a title, then the verb
        after = list(WORD.finditer(text, at, min(finish, at + 60)))
        for k, m in enumerate(after[:4]):
            if rules.role_of(m.group(0)) is not None and k + 1 < len(after):
                verb = after[k + 1]
                if verb.start() == m.end() + 1 and verb.group(0).lower() in rules.speech_verbs:
                    return True
    # "Harper said ...", "the Red Cross said ...": one name, then the verb; "ICRC director of operations Dominik
    # Stillhart said": a title before the name, no comma, no verb
    for e in named:
        if (at <= e.start < finish and e.label == "PERSON") or e.start == at:
            title = WORD.findall(text, at, e.start)
            if e.start > at and (
                len(title) > 6 or "," in text[at : e.start] or any(w.lower() in rules.speech_verbs for w in title)
            ):
                continue
            verb = WORD.match(text, e.end + 1)
            if text[e.end : e.end + 1] == " " and verb is not None and verb.group(0).lower() in rules.speech_verbs:
                return True
    return False

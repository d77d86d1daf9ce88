"""Whom a pronoun, a title or a description in an attribution means: the person a sentence is about (its subject),
the person the article gives a title ("Foreign Minister Sergei Lavrov" for "the minister"), the organisation it
calls by what it is ("the newspaper"), else the last person who spoke."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from functools import lru_cache

from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quotation_marks import WORD, Span

_STOP = frozenset({"the", "of", "and", "for", "a", "an", "in", "on"})
# a full stop after an initial or an honorific ends no sentence ("R. Senthilnathan", "Mr. Raghunathan")
_SENTENCE_START = re.compile(
    # the full stop first, then what must not precede it: a regex that opens with a character is searched for it
    # at once, one that opens with twelve look-behinds tries them all at every position (13x slower)
    r"(?:\.(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bGen\.)(?<!\bSen\.)"
    r"(?<!\bRep\.)(?<!\bGov\.)(?<!\bLt\.)(?<!\bCol\.)(?<!\bProf\.)|[!?…])[”’\"')]*\s+(?=[“\"A-Z])|\n+"
)
# Words that show a clause has begun before a name: the name is then an object, not who the sentence is about.
_CLAUSE_WORDS = frozenset(
    {
        "said", "says", "told", "that", "who", "which", "whom", "whose", "was", "were", "is", "are", "has", "have",
        "had", "will", "would", "could", "by", "to", "with", "from", "after", "before", "against", "about", "than",
        "because", "when", "while", "on", "at", "for", "into", "over", "under", "between", "asked", "met", "called",
        "like", "as", "if", "not", "also", "did", "does", "do",
        # a pronoun before the name is the subject already ("He reminded Putin that ..."): the name is an object
        "he", "she", "they", "we", "i", "it",
    }
)  # fmt: skip
# Words that may stand between a title and the name it goes with ("Chairman of the Joint Chiefs Gen. Mark Milley").
_CLAUSE_END = re.compile(r",|\s[-–—]\s")
_TITLE_GLUE = frozenset({"of", "the", "and", "for", "de", "on", "in"})
_TOKEN = re.compile(r"[\w’'.-]+|,")


# Words before a title that do not tell offices apart ("the former president", "the top diplomat").
_PLAIN_QUALIFIERS = frozenset(
    {"former", "then", "current", "late", "new", "outgoing", "incoming", "acting", "top", "senior", "veteran",
     "longtime", "retired", "country's", "nation's", "state's"}
)  # fmt: skip


def qualified(role: str, before: str | None) -> str:
    """A title with the lower-case word that tells it apart from others ("foreign minister", "deputy head"); the
    title alone when that word is a name, an article or says nothing of the office ("Russian", "the", "former")."""
    word = (before or "").lower()
    if (
        word.isalpha()
        and word not in _PLAIN_QUALIFIERS
        and word not in ("the", "a", "an", "his", "her", "its", "their")
    ):
        return f"{word} {role}"  # "foreign minister"; "ukrainian leader" (not the "Chechen leader" of the article)
    return role


def prefer_people(entities: Sequence[Resolved]) -> Resolved | None:
    """The first person among `entities`, else the first organisation."""
    return next((e for e in entities if e.label == "PERSON"), None) or (entities[0] if entities else None)


def last_person_before(people: Sequence[Resolved], offset: int) -> str | None:
    """The person named last before `offset`."""
    earlier = [p for p in people if p.label == "PERSON" and p.end <= offset]
    return earlier[-1].name if earlier else None


def described(text: str, speakers: Sequence[Resolved], offset: int) -> str | None:
    """ "the newspaper wrote": the organisation named last before the quote that the text calls that."""
    words = {w.lower() for w in WORD.findall(text)}
    for org in reversed([s for s in speakers if s.label == "ORG" and s.end <= offset]):
        nouns = set(org.entry.nouns) if org.entry is not None else set()
        nouns |= {w.lower() for w in org.name.split()} - _STOP
        if words & nouns:
            return org.name
    return None


def sentence_starts(text: str, upto: int, spans: Sequence[Span]) -> list[int]:
    """Offsets where the sentences before `upto` start (0 first); sentence ends inside quotations do not count,
    a quotation's own last full stop does ("... Ukraine.”\n\nOn Sunday")."""
    out = [0]
    for start, end, breaks, reach in _sentence_ends(text, tuple(spans)):
        if start >= upto:
            break
        if end < upto:
            if reach <= end:  # no quotation still open over it
                out.append(end)
        elif 0 <= breaks < upto:
            # what reads as a sentence end only with the capital after it, cut at `upto`: its line breaks still end
            # paragraphs there ("… talks.\n\n" right before `upto`)
            out += [b.end() for b in _BREAKS.finditer(text, breaks, upto) if reach <= b.end()]
    return out


_BREAKS = re.compile(r"\n+")


@lru_cache(maxsize=16)
def _sentence_ends(text: str, spans: tuple[Span, ...]) -> list[tuple[int, int, int, int]]:
    """Every sentence end of the text: (start, end, where its line breaks start or -1, the furthest end of the
    quotations opened at or before it or -1), in order. Read once per text: the quote readers ask for the sentences
    before many offsets of one article."""
    ordered = sorted(spans, key=lambda s: s.start)
    starts = [s.start for s in ordered]
    reach: list[int] = []  # the furthest end of the spans opened so far
    for s in ordered:
        reach.append(max(s.end, reach[-1]) if reach else s.end)
    out = []
    for m in _SENTENCE_START.finditer(text):
        k = bisect_right(starts, m.start()) - 1  # the spans that open at or before the match
        breaks = text.find("\n", m.start(), m.end())
        out.append((m.start(), m.end(), breaks, reach[k] if k >= 0 else -1))
    return out


def subject_person(text: str, begin: int, end: int, entities: Sequence[Resolved]) -> Resolved | None:
    """The person a sentence is about: the first person named before its verb ("On Tuesday, Foreign Minister Dmytro
    Kuleba said"), not one named after it or in a possessive ("Putin's spokesman")."""
    for e in entities:
        if not begin <= e.start < end or e.label != "PERSON":
            continue
        if re.match(r"[’']s\b", text[e.end : e.end + 3]):
            continue
        before = text[begin : e.start]
        # the words since the clause before it ended: a comma, or a dash set off by spaces ("… expected - Mr X")
        parts = _CLAUSE_END.split(before)
        opening = parts[-1] if len(WORD.findall(before[: len(before) - len(parts[-1])])) <= 25 else before
        words = [w.lower() for w in WORD.findall(opening)]
        if len(words) <= 6 and not any(w in _CLAUSE_WORDS for w in words):
            return e
        if "," not in text[e.end : end]:
            return None  # no comma after this name: no clause of its own ends before the subject
        # "With Putin now looking to weaponize gas, Commission President Ursula von der Leyen has ...": the name in
        # an opening clause is not the subject; the one after the comma may be
    return None


def refers_on(text: str, begin: int, end: int, pronouns: frozenset[str]) -> bool:
    """The sentence is about somebody named earlier: it opens with a pronoun ("He added ...") or attributes with
    one (", he said, ...")."""
    return pronoun_subject(text, begin, end, pronouns) is not None


def pronoun_subject(text: str, begin: int, end: int, pronouns: frozenset[str]) -> int | None:
    """Where the pronoun stands that a sentence is about: among its first words ("He added", "But she said",
    "Instead, he does not") or attributing (", he said,"); None without one."""
    for k, match in enumerate(WORD.finditer(text, begin, end)):
        if k >= 3:
            break
        if match.group(0).lower() in pronouns:
            return match.start()
    found = re.compile(r",\s+(he|she)\s+\w+").search(text, begin, end)
    return found.start(1) if found is not None else None


def about_person(
    text: str,
    at: int,
    entities: Sequence[Resolved],
    spans: Sequence[Span],
    last_speaker: str | None,
    pronouns: frozenset[str],
    role_of: Callable[[str], str | None] = lambda word: None,
    speaker_in: Callable[[int, int], str | None] = lambda begin, end: None,
    title: Callable[[str, int], str | None] = lambda role, at: None,
    person_noun: Callable[[str], bool] = lambda word: False,
) -> str | None:
    """Whom "he said" at `at` means: who this sentence, or the sentence before, is about or names as speaking
    ("Nancy Pelosi visited the border. “...,” she said", "..., said Grigory Pasko. “...,” he said"), going further
    back over sentences that are about "he" too; else the last person who spoke; else the first person named in
    those sentences; else the last person named."""
    while at < len(text) and text[at].isspace():
        at += 1  # a parse's offset may fall on the space before the pronoun: its sentence starts after that space
    starts = sentence_starts(text, at + 1, spans)  # a sentence the pronoun opens starts at `at` itself
    sentences = [(starts[-1], at)] + [
        (starts[k - 1], starts[k]) for k in range(len(starts) - 1, max(0, len(starts) - 4), -1)
    ]
    for n, (begin, end) in enumerate(sentences):
        if n == 1:  # "Amanpour also asked Zelensky about …. He said": the one asked answers
            asked = next(
                (
                    e
                    for e in entities
                    if e.label == "PERSON"
                    and begin <= e.start < end
                    and _ASKED.search(text, max(begin, e.start - 12), e.start)
                ),
                None,
            )
            if asked is not None:
                return asked.name
        found = speaker_in(begin, end)
        if found is not None:
            return found
        if n and unnamed_subject(text, begin, end, person_noun):
            return None  # "A former inspector who asked not to be named described …. “...,” he said": nobody named
        first = WORD.search(text, begin, end)
        if n and first is not None and first.group(0).lower() in pronouns:
            continue  # "She added she did not think Putin would …": about "she", not Putin; the chain goes back
        subject = subject_person(text, begin, end, entities)
        if subject is not None:
            return subject.name
        role = opening_title(text, begin, end, role_of)
        if role is not None:  # "The Russian foreign minister responded ... “...,” he said": whoever has that title
            return title(role, begin)
        if n and not refers_on(text, begin, end, pronouns):
            break  # a sentence about somebody or something else: the chain of "he" stops here
    if last_speaker is not None:
        return last_speaker
    for begin, end in sentences[:2]:
        named = [e for e in entities if e.label == "PERSON" and begin <= e.start < end]
        if named:
            return named[0].name
    return last_person_before(entities, at)


_ASKED = re.compile(r"\b(?:asked|pressed|questioned|interviewed)\s+$", re.IGNORECASE)


_INDEFINITE = re.compile(r"\W*(?:(?:but|and|yet|meanwhile|still),?\s+)?(?:a|an|one|another)\s+", re.IGNORECASE)


def unnamed_subject(text: str, begin: int, end: int, person_noun: Callable[[str], bool]) -> bool:
    """The sentence opens with a person it does not name ("A former LDEQ inspector who worked on the file …",
    "One Republican senator who voted against it said …"): a person noun among the few words after "a", "one"."""
    m = _INDEFINITE.match(text, begin, end)
    if m is None:
        return False
    for k, word in enumerate(WORD.finditer(text, m.end(), end)):
        if k >= 5:
            return False
        if person_noun(word.group(0).lower()):
            return True
    return False


def opening_title(text: str, begin: int, end: int, role_of: Callable[[str], str | None]) -> str | None:
    """The title a sentence opens with as its subject ("On Tuesday, the Russian foreign minister responded"), or
    None."""
    opening = text[begin:end]
    head = opening.split(",", 1)[1] if "," in opening[:40] else opening
    words = WORD.findall(head)[:6]
    if not words or words[0].lower() not in ("the", "a", "an"):
        return None
    for i, word in enumerate(words[1:5], start=1):
        role = role_of(word)
        if role is not None:
            return None if i + 1 < len(words) and words[i + 1].lower() == "of" else qualified(role, words[i - 1])
        if word.lower() in _CLAUSE_WORDS:
            return None
    return None


def titled(text: str, role: str, people: Sequence[Resolved], at: int, after_too: bool = True) -> str | None:
    """The person the text gives the title `role` ("Foreign Minister Sergei Lavrov", "Sen. Lindsey Graham",
    "Lavrov, the foreign minister"): the last such person before `at`, else (with `after_too`) the first after it."""
    if not role:
        return None
    titled_people = [p for p in people if p.label == "PERSON" and has_title(text, p, role)]
    before = [p for p in titled_people if p.end <= at]
    later = next((p for p in titled_people if p.start > at), None) if after_too else None
    chosen = before[-1] if before else later
    return chosen.name if chosen is not None else None


def _qualified_after(tokens: Sequence[str], qualifier: str) -> bool:
    """The title's long form carries the qualifier after "of"/"for": "Minister of Foreign Affairs" (foreign),
    "Minister for the Interior" (interior), "Minister of Economic Development" (economy: the same stem)."""
    if not tokens or tokens[0].lower() not in ("of", "for"):
        return False
    rest = tokens[2:] if len(tokens) > 2 and tokens[1].lower() == "the" else tokens[1:]
    stem = qualifier[: max(4, len(qualifier) - 2)]
    return bool(rest) and rest[0][:1].isupper() and rest[0].lower().startswith(stem)


# Spellings of one title
_SPELLINGS = {"advisor": "adviser", "advisors": "advisers"}


def _owner(token: str) -> str:
    """A token without its possessive, lower-cased ("Kremlin's" -> "kremlin")."""
    low = token.lower()
    for mark in ("'s", "’s"):
        if low.endswith(mark):
            return low[: -len(mark)]
    return low


def has_title(text: str, person: Resolved, role: str) -> bool:
    """The title stands before the name ("Chairman of the Joint Chiefs Gen. Mark Milley", "foreign minister Dmytro
    Kuleba", "Sen. Lindsey Graham") or after it (", the foreign minister", ", a defence analyst with ..."); a
    qualified title ("foreign minister") needs its qualifier ("Defence Minister Sergei Shoigu" is not one)."""
    qualifier, _, role = role.rpartition(" ")
    role = _SPELLINGS.get(role, role)
    tokens = _TOKEN.findall(text[max(0, person.start - 100) : person.start])
    steps = 0
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        word = token.rstrip(".").lower()
        word = _SPELLINGS.get(word, word)
        # the title is next to the name, or heads the words before it ("Head of the ... Administration", "Chairman
        # Gen."); inside a name it is not one ("the Belarus President Administration")
        heads = steps == 0 or tokens[i + 1] in _TITLE_GLUE or tokens[i + 1].endswith(".")
        if heads and (word == role or word.endswith("-" + role)):
            if not qualifier or i == 0:
                return True
            if _qualified_after(tokens[i + 1 :], qualifier):
                return True  # "Minister of Foreign Affairs of Belarus Vladimir Makei" for "foreign minister"
            if any(_owner(t) == qualifier for t in tokens[max(0, i - 4) : i]):
                return True  # "the Kremlin's top foreign policy advisor Yury Ushakov" for "Kremlin adviser"
            before = tokens[i - 1]
            # "Foreign Minister" for "foreign minister"; not "Defence Minister" or "Chechen leader" (another
            # qualifier), but "President Vladimir Putin" or "Putin's spokesman" (none) for "Russian president"
            return before.lower() == qualifier or not (before.isalpha() and before.lower() not in _TITLE_GLUE)
        if not qualifier and token.endswith(".") and 3 <= len(word) < len(role) and role.startswith(word):
            return True  # "Sen." of senator, "Gen." of general
        steps += 1
        if token == "," and steps == 1:
            steps = 0
            continue  # "the US national security adviser, Jake Sullivan"
        capitalised = token[:1].isupper() or token[:1].isdigit()
        if steps > 10 or not (capitalised or word in _TITLE_GLUE):
            break
    after = text[person.end : person.end + 80]
    match = re.match(r"\s*,\s*(?:the|a|an|[\w’']+['’]s)\s+((?:[\w-]+\s+){0,4}[\w-]+)", after)
    if match is None:
        return False
    words = [w.lower() for w in match.group(1).split()]
    return role in words and (not qualifier or qualifier in words[: words.index(role)])

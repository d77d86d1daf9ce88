"""Topics: a multi-label taxonomy kept as data, each topic with the terms that triggered it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.records import Topic

# Words as the taxonomy sees them: hyphenated compounds are one word ("drone-launched", "f-16s", "cease-fire").
_WORDS = re.compile(r"[\w-]+")


@dataclass(frozen=True, slots=True)
class Term:
    """One trigger term: its words (the last may be a prefix, for `attack*`) and the topics it triggers."""

    text: str
    words: tuple[str, ...]
    prefix: bool
    topics: tuple[str, ...]

    def matches(self, words: list[str], i: int) -> bool:
        """The term starts at word i."""
        n = len(self.words)
        if i + n > len(words):
            return False
        if any(words[i + k] != self.words[k] for k in range(n - 1)):
            return False
        last = words[i + n - 1]
        return last.startswith(self.words[-1]) if self.prefix else last == self.words[-1]


@dataclass(frozen=True)
class Taxonomy:
    """The topics of enrich_topics.toml; terms are found word by word (one pass, dictionary lookups)."""

    names: tuple[str, ...]  # topic names in taxonomy order
    min_hits: Mapping[str, int]
    by_first_word: Mapping[str, tuple[Term, ...]]  # exact first word -> terms, longest first
    by_prefix: Mapping[str, tuple[Term, ...]]  # first 3 letters -> one-word prefix terms ("sanction*")

    @classmethod
    def from_data(cls, data: Mapping) -> Taxonomy:
        """Index every topic's terms; an empty topic fails here."""
        names: list[str] = []
        min_hits: dict[str, int] = {}
        topics_of: dict[str, list[str]] = {}
        for row in data.get("topic", ()):
            terms = [t.strip().lower() for t in row.get("terms", ()) if t.strip()]
            if not terms:
                raise ValueError(f"topic {row.get('name')!r} has no terms")
            names.append(row["name"])
            min_hits[row["name"]] = int(row.get("min_hits", 1))
            for term in terms:
                topics_of.setdefault(term, []).append(row["name"])
        first: dict[str, list[Term]] = {}
        prefix: dict[str, list[Term]] = {}
        for text, topics in topics_of.items():
            words = tuple(_WORDS.findall(text.rstrip("*")))
            term = Term(text, words, text.endswith("*"), tuple(topics))
            if term.prefix and len(words) == 1:
                prefix.setdefault(words[0][:3], []).append(term)
            else:
                first.setdefault(words[0], []).append(term)
        return cls(
            tuple(names),
            min_hits,
            {k: _longest_first(v) for k, v in first.items()},
            {k: _longest_first(v) for k, v in prefix.items()},
        )

    def topics_of(self, text: str) -> list[Topic]:
        """Topics whose terms occur at least `min_hits` times, with the distinct terms as written (lower-cased), in order."""
        words = _WORDS.findall(text.lower())
        hits: Counter[str] = Counter()
        seen: dict[str, dict[str, None]] = {}
        first, prefixes = self.by_first_word, self.by_prefix
        i = 0  # words before i are read
        # the words a term can start at, in one comprehension (most words of an article start none)
        for k in [k for k, word in enumerate(words) if word in first or word[:3] in prefixes]:
            if k < i:
                continue  # inside the term found before
            term = self._term_at(words, k)
            if term is None:
                continue
            i = k + len(term.words)
            found = " ".join(words[k:i])
            for topic in term.topics:
                hits[topic] += 1
                seen.setdefault(topic, {})[found] = None
        return [Topic(name=name, terms=list(seen[name])) for name in self.names if hits[name] >= self.min_hits[name]]

    def _term_at(self, words: list[str], i: int) -> Term | None:
        """The longest term starting at word i (each index is ordered longest first: its first match is its longest;
        an exact term wins a tie with a prefix term)."""
        exact = next((t for t in self.by_first_word.get(words[i], ()) if t.matches(words, i)), None)
        prefix = next((t for t in self.by_prefix.get(words[i][:3], ()) if t.matches(words, i)), None)
        if exact is None or prefix is None:
            return exact or prefix
        return prefix if (len(prefix.words), len(prefix.text)) > (len(exact.words), len(exact.text)) else exact


def _longest_first(terms: list[Term]) -> tuple[Term, ...]:
    """Terms ordered so that "drone strikes" is tried before "drone*"."""
    return tuple(sorted(terms, key=lambda t: (len(t.words), len(t.text)), reverse=True))

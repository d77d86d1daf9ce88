"""Lines a source repeats across its articles ("Subscribe to us Twitter", a disclaimer): learned from the stream.

What is kept: per article (key `article_id`), its source and the fingerprints of its lines. From those, per source,
how many distinct articles carried each line. A line carried by `min_articles` articles of the same source is
boilerplate for that source. The records are the state the enrich stage writes to its compacted topic, so the
counts survive restarts and every worker of the stage sees every other worker's articles.

Bounded and aged: articles older than `window_days` (by ingestion time) are forgotten, and so are the oldest
articles of a source beyond `max_per_source` and of the whole store beyond `max_articles` (a forgotten article is
a tombstone on the topic). A revision or repost of an article the source already carried (most of its lines seen
before, not counting lines already known as boilerplate) is remembered but not counted: its story lines would
otherwise reach the threshold as "repeated".
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.enrichment.normalise import fold, visible

DAY = 86_400.0


def line_fingerprint(line: str) -> int:
    """A stable 64-bit hash of a line as a reader sees it (case, accents, quotation marks and spacing folded)."""
    key = fold(visible(line))
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class RepeatRules:
    """The knobs of learning repeated lines."""

    min_articles: int = 3  # a line in this many distinct articles of one source is boilerplate
    window_days: float = 30.0
    max_per_source: int = 200  # the newest articles of a source that are remembered
    max_articles: int = 20_000  # across all sources (about 1.5 KB each in memory)
    max_line_chars: int = 500  # longer lines are story paragraphs, never counted
    revision_share: float = 0.5  # an article whose story lines were mostly seen before is a revision or repost
    revision_min_lines: int = 3


@dataclass(frozen=True, slots=True)
class Seen:
    """One remembered article: its source, the fingerprints of its lines, when it came, whether it counts."""

    article_id: str
    source: str
    lines: tuple[int, ...]
    ingested: float
    counted: bool

    def to_state_record(self) -> dict:
        """The record written to the state topic (news.enrich-state.v1)."""
        return {
            "article_id": self.article_id,
            "source": self.source,
            "lines": [f"{f:016x}" for f in self.lines],
            "ingested": self.ingested,
            "counted": self.counted,
        }

    @classmethod
    def from_state_record(cls, record: dict) -> Seen:
        """A remembered article from its state record."""
        return cls(
            record["article_id"],
            record["source"],
            tuple(int(f, 16) for f in record["lines"]),
            float(record["ingested"]),
            bool(record["counted"]),
        )


class RepeatedLines:
    """Per source, how many distinct recent articles carried each line."""

    def __init__(self, rules: RepeatRules = RepeatRules()) -> None:
        self.rules = rules
        self._seen: dict[str, Seen] = {}
        self._by_source: dict[str, dict[str, Seen]] = {}
        self._counts: dict[str, Counter[int]] = {}
        self.newest = 0.0

    def __len__(self) -> int:
        return len(self._seen)

    def fingerprints(self, text: str) -> tuple[int, ...]:
        """The distinct fingerprints of the text's lines that can be furniture (not blank, not too long), in order."""
        out = []
        for line in text.split("\n"):
            stripped = line.strip()
            if stripped and len(stripped) <= self.rules.max_line_chars and any(c.isalnum() for c in stripped):
                out.append(line_fingerprint(stripped))
        return tuple(dict.fromkeys(out))

    def observe(
        self, article_id: str, source: str | None, text: str, ingested: float
    ) -> tuple[frozenset[int], Seen | None]:
        """Remember an article and return the fingerprints of its lines that its source repeats, with the record
        to write (None when there is no source to learn for)."""
        if not source:
            return frozenset(), None
        lines = self.fingerprints(text)
        known = self._seen.get(article_id)
        if known is not None and known.source == source and known.lines == lines:
            seen = known  # a re-delivery: same decision basis, record rewritten in case a produce was lost
        else:
            if known is not None:
                self._forget(known)
            seen = Seen(article_id, source, lines, ingested, not self._is_revision(source, lines))
            self._remember(seen)
        counts = self._counts.get(source, Counter())
        return frozenset(f for f in lines if counts[f] >= self.rules.min_articles), seen

    def _is_revision(self, source: str, lines: tuple[int, ...]) -> bool:
        """Most of the article's story lines (those not yet boilerplate) were carried by the source before."""
        counts = self._counts.get(source)
        if not counts:
            return False
        story = [f for f in lines if counts[f] < self.rules.min_articles]
        if len(story) < self.rules.revision_min_lines:
            return False
        return sum(counts[f] > 0 for f in story) >= self.rules.revision_share * len(story)

    def apply(self, article_id: str, record: dict | None) -> None:
        """Apply one state record (None: the article is forgotten); applying a record twice changes nothing."""
        known = self._seen.get(article_id)
        if record is None:
            if known is not None:
                self._forget(known)
            return
        seen = Seen.from_state_record(record)
        if known == seen:
            return
        if known is not None:
            self._forget(known)
        self._remember(seen)

    def evict(self) -> list[str]:
        """Forget articles out of the window or beyond the caps, oldest first; their ids (to tombstone)."""
        horizon = self.newest - self.rules.window_days * DAY
        gone = [s for s in self._seen.values() if s.ingested < horizon]
        for articles in self._by_source.values():
            if len(articles) > self.rules.max_per_source:
                ordered = sorted(articles.values(), key=_age)
                gone += ordered[: len(articles) - self.rules.max_per_source]
        for seen in {s.article_id: s for s in gone}.values():
            self._forget(seen)
        extra = len(self._seen) - self.rules.max_articles
        if extra > 0:
            oldest = sorted(self._seen.values(), key=_age)[:extra]
            for seen in oldest:
                self._forget(seen)
            gone += oldest
        return list(dict.fromkeys(s.article_id for s in gone))

    def rebuild(self, records: Iterable[tuple[str, dict | None]]) -> None:
        """Replace the whole state with these records (a replay of the compacted topic)."""
        self._seen.clear()
        self._by_source.clear()
        self._counts.clear()
        self.newest = 0.0
        for article_id, record in records:
            self.apply(article_id, record)

    def _remember(self, seen: Seen) -> None:
        self._seen[seen.article_id] = seen
        self._by_source.setdefault(seen.source, {})[seen.article_id] = seen
        if seen.counted:
            self._counts.setdefault(seen.source, Counter()).update(seen.lines)
        self.newest = max(self.newest, seen.ingested)

    def _forget(self, seen: Seen) -> None:
        self._seen.pop(seen.article_id, None)
        articles = self._by_source.get(seen.source, {})
        articles.pop(seen.article_id, None)
        if not articles:
            self._by_source.pop(seen.source, None)
        counts = self._counts.get(seen.source)
        if seen.counted and counts is not None:
            counts.subtract(seen.lines)
            for f in seen.lines:
                if counts[f] <= 0:
                    del counts[f]
            if not counts:
                self._counts.pop(seen.source, None)


def _age(seen: Seen) -> tuple[float, str]:
    """Oldest first; the id breaks ties so eviction never depends on dict order."""
    return seen.ingested, seen.article_id

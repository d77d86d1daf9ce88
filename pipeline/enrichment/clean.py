"""Boilerplate removal: the article's text without web furniture, every story sentence kept (`text_clean`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.enrichment.normalise import fold, squash

_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": None, "\u200e": None, "\u200f": None, "\ufeff": None, "\r": None})
_BLANK_RUNS = re.compile(r"\n{3,}")
_END_PUNCTUATION = tuple(".!?:;”\"’'»)")
_KICKER = re.compile(r"[A-Z0-9][A-Z0-9 &'’,:!?\-]*")


@dataclass(frozen=True)
class BoilerplateRules:
    """The compiled rules of `pipeline/data/enrich_boilerplate.toml` plus the agencies' sign-offs."""

    lines: re.Pattern[str]
    fragments: tuple[re.Pattern[str], ...]
    link_lines: re.Pattern[str]
    signoff: re.Pattern[str] | None
    link_line_max_chars: int = 300
    kicker_max_words: int = 6
    teaser_headline_max_words: int = 25
    label_max_words: int = 4

    @classmethod
    def from_data(cls, data: Mapping, agencies: Iterable[str] = ()) -> BoilerplateRules:
        """Compile the data file's rules; a broken pattern fails here, at start-up."""
        names = sorted({a for a in agencies if a}, key=len, reverse=True)
        # An agency's name alone after the story's last full stop ("... they face. EFE") is its sign-off.
        signoff = (
            re.compile(r"(?<=[.!?”\"’)])(?:\s+(?:" + "|".join(map(re.escape, names)) + r"))+\s*$") if names else None
        )
        return cls(
            lines=re.compile("|".join(f"(?:{p})" for p in data["lines"]), re.IGNORECASE),
            fragments=tuple(re.compile(p, re.IGNORECASE) for p in data["fragments"]),
            link_lines=re.compile("|".join(f"(?:{p})" for p in data["link_lines"]), re.IGNORECASE),
            signoff=signoff,
            link_line_max_chars=int(data.get("link_line_max_chars", 300)),
            kicker_max_words=int(data.get("kicker_max_words", 6)),
            teaser_headline_max_words=int(data.get("teaser_headline_max_words", 25)),
            label_max_words=int(data.get("label_max_words", 4)),
        )


def clean_text(text: str, rules: BoilerplateRules, titles: Sequence[str | None] = ()) -> str:
    """`text` without boilerplate lines, glued credits, teasers and a repeated headline; "" when nothing is left."""
    kept = [_clean_line(line, rules) for line in text.translate(_INVISIBLE).split("\n")]
    lines = [line for line in kept if line is not None]
    lines = _drop_repeated_headline(lines, titles, rules.label_max_words)
    lines = _drop_teasers(lines, rules)
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def _clean_line(line: str, rules: BoilerplateRules) -> str | None:
    """The line with glued furniture cut off; None when the whole line is furniture ("" stays: a paragraph break)."""
    stripped = line.strip()
    if not stripped:
        return ""
    for fragment in rules.fragments:
        stripped = fragment.sub("", stripped).strip()
    if rules.signoff is not None:
        stripped = rules.signoff.sub("", stripped).strip()
    if not stripped or not any(c.isalnum() for c in stripped):
        return None
    if rules.lines.fullmatch(stripped):
        return None
    if len(stripped) <= rules.link_line_max_chars and rules.link_lines.search(stripped):
        return None
    return stripped


def _drop_repeated_headline(lines: list[str], titles: Sequence[str | None], label_max_words: int) -> list[str]:
    """Lines that repeat the headline go, and so do the short labels above its first repeat when only labels are there."""
    keys = {fold(t) for t in titles if t and t.strip()}
    if not keys:
        return lines
    hits = [i for i, line in enumerate(lines) if line and fold(line) in keys]
    if not hits:
        return lines
    drop = set(hits)
    above = [i for i in range(hits[0]) if lines[i]]
    if all(_is_label(lines[i], label_max_words) for i in above):
        drop.update(above)
    return [line for i, line in enumerate(lines) if i not in drop]


def _drop_teasers(lines: list[str], rules: BoilerplateRules) -> list[str]:
    """An ALL-CAPS kicker followed by a headline-like line is a teaser for another story: both go."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = next((j for j in range(i + 1, len(lines)) if lines[j]), None)
        if line and nxt is not None and _is_kicker(line, rules.kicker_max_words) and _is_headline(
            lines[nxt], rules.teaser_headline_max_words
        ):
            i = nxt + 1
            continue
        out.append(line)
        i += 1
    return out


def _is_label(line: str, max_words: int) -> bool:
    """A section label or breadcrumb: a few words, no sentence punctuation."""
    return len(line.split()) <= max_words and not line.endswith(_END_PUNCTUATION)


def _is_kicker(line: str, max_words: int) -> bool:
    """An ALL-CAPS line of a few words ("WAR TALKS")."""
    return (
        len(line.split()) <= max_words and _KICKER.fullmatch(line) is not None and sum(c.isalpha() for c in line) >= 3
    )


def _is_headline(line: str, max_words: int) -> bool:
    """A headline: not too long, not ending like a sentence, not another kicker of the same page."""
    words = squash(line).split()
    return 0 < len(words) <= max_words and not line.endswith(_END_PUNCTUATION)

"""The article's own outlet named in its story ("told Middle East Eye", "Semafor reported"): an organisation,
whatever NER made of it, found by the name of the source the article came from."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.enrichment.canonical import Resolved


def outlet_key(domain: str | None, name: str | None = None) -> set[str]:
    """What the outlet's name is by its letters: its domain's name ("middleeasteye" of "www.middleeasteye.net") and
    its own name's letters ("Mother Jones" -> "motherjones"); five letters at least (a shorter one is some word)."""
    keys = set()
    if domain:
        host = domain.lower().strip().removeprefix("www.")
        keys.add(host.split(".", 1)[0])
    if name:
        keys.add(_letters(name))
    return {k for k in keys if len(k) >= 5}


def with_outlet(resolved: Sequence[Resolved], text: str, keys: set[str]) -> list[Resolved]:
    """Every run of capitalised words in `text` whose letters are the outlet's is the outlet, an organisation:
    in place of what NER made of it ("Semafor" as a person, "Jones" of "Mother Jones"), added where NER missed it."""
    if not keys:
        return list(resolved)
    found = [m for m in _CAPITALISED_RUN.finditer(text) if _letters(m.group(0)) in keys]
    if not found:
        return list(resolved)
    spans = []
    for m in found:
        name = m.group(0).rstrip(".")  # "The Sun", "The Age": "The" is part of the name its letters are
        start = m.start() + m.group(0).index(name)
        spans.append((start, start + len(name), name))
    # a name the tables know stays as they name it ("The Washington Post")
    known = [r for r in resolved if r.entry is not None and r.label == "ORG"]
    spans = [(a, b, n) for a, b, n in spans if not any(r.start < b and a < r.end for r in known)]
    names = {name for _, _, name in spans}
    # a mention inside one of its runs ("Jones" of "Mother Jones") or of its name is the outlet
    out = [
        r
        for r in resolved
        if r in known or (r.name not in names and not any(a < r.end and r.start < b for a, b, _ in spans))
    ]
    out += [Resolved(name, "ORG", name, a, b) for a, b, name in spans]
    return sorted(out, key=lambda r: r.start)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# a run of one to four capitalised words, not inside a longer run ("Middle East Eye", "ThePrint", "The Conversation")
_CAPITALISED_RUN = re.compile(r"(?<![\w'’-])(?:[A-Z][\w'’.&-]*)(?:\s+[A-Z][\w'’.&-]*){0,3}(?![\w'’-])")

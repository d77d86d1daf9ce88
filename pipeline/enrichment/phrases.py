"""Many phrases as one regular expression, factored by their shared beginnings: a regex tries every branch of a flat
alternation at every position of the text, a trie of characters only the branches its next character opens."""

from __future__ import annotations

import re
from collections.abc import Collection


def phrase_pattern(phrases: Collection[str]) -> str:
    """One pattern matching any of `phrases` (longest first), factored by shared beginnings ("ministry of defence",
    "ministry of defense" -> "ministry\\s+of\\s+defen(?:ce|se)"); a space matches any run of whitespace."""
    root: dict = {}
    for phrase in sorted(phrases):  # the same pattern in every process
        node = root
        for char in " ".join(phrase.split()):
            node = node.setdefault(char, {})
        node[""] = {}  # the end of a phrase

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [(r"\s+" if c == " " else re.escape(c)) + emit(child) for c, child in node.items() if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else f"{body}?"
        return body

    return emit(root)

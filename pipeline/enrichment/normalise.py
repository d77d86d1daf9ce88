"""Text normalisers shared by the enrichment modules: lookup keys and whitespace."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "–": "-", "—": "-", "‐": "-"})
_POSSESSIVE = re.compile(r"['’‘]s?$")
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_INVISIBLE = re.compile("[\u200b\u200e\u200f\ufeff\r]")


def visible(text: str) -> str:
    """The text as a reader sees it: zero-width marks and carriage returns gone, no-break spaces as spaces (a regex
    and `str.replace` run in C; `str.translate` with a table calls back per character, ~10x slower on articles)."""
    return _INVISIBLE.sub("", text).replace("\u00a0", " ")


def squash(text: str) -> str:
    """Runs of whitespace (including no-break spaces) as one space, trimmed."""
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """A lookup key: accents stripped, case-folded, quotes and dashes unified, whitespace squashed."""
    if not text.isascii():
        text = text.translate(_QUOTES)  # most English lines are ASCII but for their quotation marks and dashes
        if not text.isascii():
            decomposed = unicodedata.normalize("NFKD", text)
            # NFKD can make a dash or quote of another ("\u2011" -> "\u2010"): unified after it too, so that a key
            # folds to itself
            bare = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_QUOTES)
            return squash(bare).casefold()
    # fast path: most names and lines, and the gazetteer indexes ~300k names at start-up
    return squash(text.replace("`", "'")).lower()


def strip_possessive(text: str) -> str:
    """`Kyiv’s` -> `Kyiv`; `Russians'` -> `Russians`."""
    return _POSSESSIVE.sub("", text).rstrip()


def strip_article(text: str) -> str:
    """`the Black Sea` -> `Black Sea` (names are looked up without their article)."""
    return _LEADING_THE.sub("", text)


@lru_cache(maxsize=1 << 16)  # the same surfaces recur in every article; bounded, a worker runs for months
def entity_key(text: str) -> str:
    """The alias-table key of a surface form: no article, no possessive, no final full stop ("U.S." = "U.S"), folded."""
    return fold(strip_article(strip_possessive(squash(text)))).rstrip(".")

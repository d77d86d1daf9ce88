"""The dateline ("Lviv/Moscow, Dec 19 (EFE).-") and the news agencies an article names (dateline, sign-off, credits)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from pipeline.records import Dateline

_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = re.compile(
    rf"^(?:(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})|(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTH}))(?:,?\s+(?P<y>\d{{4}}))?$",
    re.IGNORECASE,
)
_PLACE_WORDS = re.compile(r"[A-Z][\w'’.\-]*(?:\s+[A-Z][\w'’.\-]*){0,3}")
# The words around an agency's name that make it a cited source, not a passing mention.
_CITED_BEFORE = re.compile(
    r"(?:(?:photo |image |picture )?credits?\s*:[^\n]{0,40}|(?:according to|told|reported by|quoted by"
    r"|cited by|speaking to|said to)\s+(?:the\s+)?)$",
    re.IGNORECASE,
)
_CITED_AFTER = re.compile(r"\s+(?:reported|reports|said|says|quoted|cited|news agency|correspondent)\b", re.IGNORECASE)
_CLOSING = re.compile(r"(?:/[^()\n]{1,30})?\)")  # "(EFE)", "(AFP/Getty)"
_SIGNOFF_BEFORE = re.compile(r"[.!?”\"’]\s+$")  # "... they face. EFE" at the end of a paragraph
_LINE_END = re.compile(r"[ \t]*(?:\n|$)")
_HEAD = re.compile(r"^(?P<head>[^()\n]{2,80}?)\s*\((?P<agency>[^()\n]{2,40})\)\s*[.:\-–—]+", re.MULTILINE)
# An upper-case place before "(Agency) —" is a dateline even glued after a teaser: "... Mockery WASHINGTON (Sputnik) —"
_CAPS_HEAD = re.compile(
    r"(?<![\w])(?P<head>[A-Z][A-Z'’.\-]+(?:[ /][A-Z][A-Z'’.\-]+){0,3}(?:,\s*[A-Z][\w .]{1,30})?)"
    r"\s*\((?P<agency>[^()\n]{2,40})\)\s*[:\-–—]+"
)


class AgencyTable:
    """Agency names, the surface forms that name them, and the patterns of a cited agency."""

    def __init__(self, names: Mapping[str, str], wikidata: Mapping[str, str | None]) -> None:
        self.names = dict(names)  # surface -> agency name
        self.wikidata = dict(wikidata)
        alternatives = "|".join(map(re.escape, sorted(self.names, key=len, reverse=True)))
        # opened by the characters a name starts with: elsewhere the names' alternation is not tried at all
        first = re.escape("".join(sorted({n[0] for n in self.names})))
        self._surface = re.compile(rf"(?=[{first}])(?<![\w-])(?:{alternatives})(?![\w-])")

    def agencies_in(self, raw: str) -> list[str]:
        """Agencies the raw text cites as a source (credits, datelines, sign-offs, "told Reuters"), in order."""
        found: list[str] = []
        for match in self._surface.finditer(raw):  # names first, then their context: one pass over the text
            before = raw[max(0, match.start() - 60) : match.start()]
            after = raw[match.end() : match.end() + 40]
            agency = self.names[match.group(0)]
            if agency not in found and (
                _CITED_BEFORE.search(before)
                or _CITED_AFTER.match(after)
                or (before.endswith("(") and _CLOSING.match(after))
                or (_SIGNOFF_BEFORE.search(before) and _LINE_END.match(after))
            ):
                found.append(agency)
        return found

    @classmethod
    def from_data(cls, data: Mapping) -> AgencyTable:
        """The agencies of enrich_agencies.toml."""
        names: dict[str, str] = {}
        wikidata: dict[str, str | None] = {}
        for row in data.get("agency", ()):
            wikidata[row["name"]] = row.get("wikidata")
            for surface in (row["name"], *row.get("aliases", ())):
                names[surface] = row["name"]
        return cls(names, wikidata)

    def canonical(self, text: str) -> str | None:
        """The agency a dateline's parenthesis names, if any."""
        return self.names.get(text.strip())


def find_dateline(
    text: str,
    agencies: AgencyTable,
    place_name: Callable[[str], str],
    published_at: str | None = None,
    max_lines: int = 6,
) -> Dateline | None:
    """The dateline at the start of one of the first lines: places, date (ISO when the year is known) and agency."""
    lines = [line for line in text.split("\n") if line.strip()][:max_lines]
    for line in lines:
        for match in (_HEAD.match(line.strip()), _CAPS_HEAD.search(line[:600])):
            agency = agencies.canonical(match.group("agency")) if match else None
            parsed = _parse_head(match.group("head"), place_name, published_at) if match and agency else None
            if parsed is not None:
                places, when = parsed
                return Dateline(places=places, date=when, agency=agency)
    return None


def _parse_head(
    head: str, place_name: Callable[[str], str], published_at: str | None
) -> tuple[list[str], str | None] | None:
    """("Lviv/Moscow", "Dec 19") -> (["Lviv", "Moscow"], "2022-12-19"); None when the head is not a dateline."""
    parts = [p.strip() for p in head.split(",") if p.strip()]
    if not parts:
        return None
    when = None
    if _DATE.match(parts[-1]):
        when = _date(parts.pop(), published_at)
    names = [n.strip() for n in parts[0].split("/") if n.strip()] if parts else []
    if not names or len(parts) > 2 or not all(_PLACE_WORDS.fullmatch(n) for n in names):
        return None
    return [place_name(n.title() if n.isupper() else n) for n in names], when


def _date(text: str, published_at: str | None) -> str:
    """An ISO date when the year is written or can be taken from the publication date, else the text as written."""
    match = _DATE.match(text)
    if match is None:
        return text
    month = _MONTHS[(match.group("m1") or match.group("m2"))[:3].lower()]
    day = int(match.group("d1") or match.group("d2"))
    year = int(match.group("y")) if match.group("y") else None
    published = _published(published_at)
    if year is None and published is not None:
        year = published.year
        try:
            if (date(year, month, day) - published.date()).days > 2:
                year -= 1  # a December dateline on an article published on 2 January
        except ValueError:
            return text
    if year is None:
        return text
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return text


def _published(value: str | None) -> datetime | None:
    """The article's publication time, if it has a readable one."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def agency_entities(table: AgencyTable) -> Sequence[tuple[str, str | None, tuple[str, ...]]]:
    """(name, wikidata, surfaces) of every agency, for the alias table (agencies are organisations too)."""
    by_name: dict[str, list[str]] = {}
    for surface, name in table.names.items():
        by_name.setdefault(name, []).append(surface)
    return [
        (name, table.wikidata.get(name), tuple(s for s in surfaces if s != name)) for name, surfaces in by_name.items()
    ]

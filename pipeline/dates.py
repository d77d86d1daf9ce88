"""Publication dates as producers write them (ISO 8601, RFC 822) to RFC 3339 UTC, never raising on junk."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["PublishedOutOfRange", "parse_published", "published_timestamp"]


class PublishedOutOfRange(ValueError):
    """A publication date that reads as a date but cannot be represented as a UTC timestamp (years 1-9999)."""


def parse_published(value: str | None) -> str | None:
    """An RFC 3339 timestamp from ISO 8601 or RFC 822 input; None when absent, unreadable or out of range; never raises."""
    try:
        return published_timestamp(value)
    except PublishedOutOfRange:
        return None


def published_timestamp(value: str | None) -> str | None:
    """An RFC 3339 UTC timestamp from ISO 8601 or RFC 822 input; None when absent or unreadable.

    Raises PublishedOutOfRange for a date that cannot be represented (year 0, year 10000, or
    0001-01-01 at a positive offset), so a reader can report the input instead of guessing.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as iso_error:
            if _out_of_range(iso_error):
                raise
            parsed = parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:
        raise PublishedOutOfRange(f"published {value[:80]!r} out of range") from None
    except (TypeError, ValueError, IndexError) as exc:
        if _out_of_range(exc):
            raise PublishedOutOfRange(f"published {value[:80]!r} out of range") from None
        return None


def _out_of_range(exc: Exception) -> bool:
    # datetime's own words for a year it cannot hold ("year 0 is out of range", "year 12345 is out of range").
    return isinstance(exc, ValueError) and str(exc).startswith("year ") and str(exc).endswith("out of range")

"""A consumed message to an Article, or the reason it is bad input. Pure: no Kafka, testable on bytes.

On the entry topic (`news.raw.v1`) any key is fine and the article's id is computed (pipeline/entry.py);
on internal topics the key must be the `article_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from pipeline.contracts import ContractError, Contracts
from pipeline.entry import EntryError, article_from_entry
from pipeline.identity import valid_article_id
from pipeline.records import Article, RawOrigin

ENTRY_TOPIC = "raw"


@dataclass(frozen=True, slots=True)
class BadInput:
    """Why a message is not an article: a DLQ record's reason and class, with what is known of it."""

    reason: str
    error_class: str
    article_id: str | None = None
    origin: RawOrigin | None = None


def decode(
    value: bytes | None,
    key: str | None,
    topic_key: str,
    origin: RawOrigin | None,
    contracts: Contracts,
    max_text_chars: int,
) -> Article | BadInput:
    """The article a message carries, or BadInput saying why there is none. `origin` is set on the entry topic."""
    entry = topic_key == ENTRY_TOPIC
    if value is None or not value.strip():
        return BadInput("empty message: no bytes to decode", "EmptyMessage", valid_article_id(key), origin)
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadInput(f"not UTF-8 text: {exc.reason} at byte {exc.start}", "NotUtf8", valid_article_id(key), origin)
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return BadInput(f"not JSON: {exc}", "NotJson", valid_article_id(key), origin)
    if not isinstance(obj, dict):
        return BadInput(f"not a JSON object: got {type(obj).__name__}", "NotJsonObject", valid_article_id(key), origin)
    article_id = valid_article_id(obj.get("article_id")) or (None if entry else valid_article_id(key))
    where = origin or _raw_in(obj)

    def bad(reason: str, error_class: str) -> BadInput:
        return BadInput(reason, error_class, article_id, where)

    if not entry and key is not None and obj.get("article_id") != key:
        return bad(f"key {key!r} does not match article_id {obj.get('article_id')!r}", "KeyMismatch")
    text = obj.get("text")
    if isinstance(text, str) and len(text) > max_text_chars:
        return bad(
            f"text of {len(text):,} characters exceeds the limit of {max_text_chars:,} (NEWSFLOW_MAX_TEXT_CHARS)",
            "TooLarge",
        )
    try:
        contracts.validate(topic_key, obj)
        return article_from_entry(obj, origin) if entry and origin else Article.model_validate(obj)
    except ContractError as exc:
        return bad(f"schema {exc}", "ContractError")
    except EntryError as exc:
        return bad(str(exc), "EntryError")
    except ValidationError as exc:
        return bad(str(exc), "ValidationError")


def _raw_in(obj: dict) -> RawOrigin | None:
    """The raw coordinates an internal message carries, if it is readable enough to carry them."""
    try:
        return RawOrigin.model_validate(obj["pipeline"]["raw"])
    except (KeyError, TypeError, ValidationError):
        return None

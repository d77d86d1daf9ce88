"""The topic contracts: loads `schemas/`, checks every schema at start-up, validates messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path

import fastjsonschema
from jsonschema import Draft202012Validator

from pipeline.config import TOPIC_KEYS

# Package data: the JSON Schemas travel inside the wheel (the repository's top-level `schemas/` links here).
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"


def _is_datetime(value: str) -> bool:
    """RFC 3339 date-time with an offset (`Z` or `+hh:mm`)."""
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


class ContractError(ValueError):
    """A message does not match its topic's JSON Schema."""

    def __init__(self, topic_key: str, message: str) -> None:
        super().__init__(f"{topic_key}: {message}")
        self.topic_key = topic_key


class Contracts:
    """Validators for every topic, built once; a broken schema fails here, before any message.

    Schemas are checked against the JSON Schema meta-schema with `jsonschema`, then compiled to
    Python code with `fastjsonschema`: validation runs on every message at every stage boundary,
    and compiled validators are ~10-20x faster than `jsonschema`'s interpreter here (40 µs vs
    0.4-0.9 ms for an enriched record).
    """

    def __init__(self, schemas_dir: Path = SCHEMAS_DIR) -> None:
        self.schemas_dir = schemas_dir
        _ = self.validators  # build and check now

    @cached_property
    def documents(self) -> dict[str, dict]:
        """Every schema document by file name, each checked against its meta-schema."""
        documents = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in self.schemas_dir.glob("*.json")}
        for document in documents.values():
            Draft202012Validator.check_schema(document)
        return documents

    @cached_property
    def validators(self) -> dict[str, Callable[[dict], object]]:
        """One compiled validator per topic key."""
        by_id = {d["$id"]: d for d in self.documents.values()}
        handlers = {"https": by_id.__getitem__}  # cross-file $refs resolve to our files, never the network
        validators: dict[str, Callable[[dict], object]] = {}
        for key in TOPIC_KEYS:
            name = f"news.{key}.v1.json"
            if name not in self.documents:
                raise FileNotFoundError(f"no schema for topic {key!r}: expected {self.schemas_dir / name}")
            validators[key] = fastjsonschema.compile(
                self.documents[name], handlers=handlers, formats={"date-time": _is_datetime}
            )
        return validators

    def schema(self, topic_key: str) -> dict:
        """The JSON Schema document of a topic."""
        return self.documents[f"news.{topic_key}.v1.json"]

    def validate(self, topic_key: str, message: dict) -> dict:
        """Return the message if it matches the topic's schema, else raise ContractError."""
        try:
            self.validators[topic_key](message)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise ContractError(topic_key, _describe(exc)) from None
        return message


def _describe(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """`published_at: must be date-time` from fastjsonschema's `data.published_at must be date-time`."""
    name = exc.name or "data"
    where = name.removeprefix("data").lstrip(".").replace(".", "/") or "(message)"
    message = exc.message.removeprefix(name).strip()
    return f"{where}: {_short(message)}"


def _short(text: str, limit: int = 300) -> str:
    """Keep error messages readable when they quote a huge value."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The topic contracts: loads `schemas/`, checks every schema at start-up, validates messages."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from pipeline.config import PROJECT_ROOT, TOPIC_KEYS

SCHEMAS_DIR = PROJECT_ROOT / "schemas"
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    """RFC 3339 date-time with an offset (`Z` or `+hh:mm`)."""
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone offset")
    return True


class ContractError(ValueError):
    """A message does not match its topic's JSON Schema."""

    def __init__(self, topic_key: str, message: str) -> None:
        super().__init__(f"{topic_key}: {message}")
        self.topic_key = topic_key


class Contracts:
    """Validators for every topic, built once; a broken schema fails here, before any message."""

    def __init__(self, schemas_dir: Path = SCHEMAS_DIR) -> None:
        self.schemas_dir = schemas_dir
        self.validators  # build and check now

    @cached_property
    def validators(self) -> dict[str, Draft202012Validator]:
        """One validator per topic key."""
        documents = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in self.schemas_dir.glob("*.json")}
        resources = []
        for name, document in documents.items():
            Draft202012Validator.check_schema(document)
            resource = Resource.from_contents(document)
            resources += [(name, resource), (document["$id"], resource)]
        registry = Registry().with_resources(resources)
        validators = {}
        for key in TOPIC_KEYS:
            name = f"news.{key}.v1.json"
            if name not in documents:
                raise FileNotFoundError(f"no schema for topic {key!r}: expected {self.schemas_dir / name}")
            validators[key] = Draft202012Validator(documents[name], registry=registry, format_checker=FORMATS)
        return validators

    def schema(self, topic_key: str) -> dict:
        """The JSON Schema document of a topic."""
        return self.validators[topic_key].schema

    def validate(self, topic_key: str, message: dict) -> dict:
        """Return the message if it matches the topic's schema, else raise ContractError."""
        error = best_match(self.validators[topic_key].iter_errors(message))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(message)"
            raise ContractError(topic_key, f"{where}: {_short(error.message)}")
        return message


def _short(text: str, limit: int = 300) -> str:
    """Keep error messages readable when they quote a huge value."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""`newsflow init` makes every topic with its settings, and running it again keeps them (broker timestamps on raw)."""

from __future__ import annotations

import pytest
from kafka.admin import ConfigResource, ConfigResourceType

from pipeline import kafka_io
from pipeline.config import TOPIC_KEYS

pytestmark = pytest.mark.integration


def _config(settings, key: str) -> dict[str, str]:
    """The topic's settings that differ from the broker's defaults, as the broker reports them."""
    admin = kafka_io.admin(settings)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, settings.topic(key))])
    finally:
        admin.close()
    (by_name,) = described.values()  # {resource type: {resource name: {config key: {config data}}}}
    (configs,) = by_name.values()
    return {name: str(data["value"] if isinstance(data, dict) else data) for name, data in configs.items()}


def test_init_twice_keeps_every_topic_and_its_settings(settings) -> None:
    again = kafka_io.ensure_topics(settings)  # the fixture ran it once already
    assert set(again.values()) == {"exists"} and len(again) == len(TOPIC_KEYS)
    raw = _config(settings, "raw")
    assert raw["message.timestamp.type"] == "LogAppendTime", "the ledger's windows need broker timestamps"
    assert raw["retention.ms"] == str(kafka_io.DEFAULT_RETENTION_MS)
    assert _config(settings, "ledger")["retention.ms"] == str(kafka_io.RETENTION_MS["ledger"])
    for key in ("workers", "ledger-state", "dedup-state"):
        assert _config(settings, key)["cleanup.policy"] == "compact"

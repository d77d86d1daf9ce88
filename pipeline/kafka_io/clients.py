"""kafka-python clients from the settings, topics with their settings, confirmed produce, and the policy's
exceptions for kafka-python's errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import errors as kerr
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from pipeline.config import TOPIC_KEYS, Settings
from pipeline.errors import InfrastructureError, TransientError

# The broker cannot be reached at all (for the CLI's one-line message).
UNREACHABLE = (kerr.KafkaConnectionError, kerr.KafkaTimeoutError, kerr.UnrecognizedBrokerVersion)

# Kafka refusing us for a reason retrying alone will not fix: hold, never dead-letter.
_HOLDING = (
    kerr.TopicAuthorizationFailedError,
    kerr.GroupAuthorizationFailedError,
    kerr.ClusterAuthorizationFailedError,
    kerr.SaslAuthenticationFailedError,
    kerr.UnknownTopicOrPartitionError,
    kerr.InvalidTopicError,
)

# Topic-level settings: retention long enough to replay; room for absurd inputs so they reach the DLQ;
# state topics are compacted (the latest record per key is kept, tombstones delete). The ledger's terminal
# events outlive the raw messages they account for. The raw topic is stamped by the broker
# (LogAppendTime), so its timestamps rise with its offsets and a time window is an offset range.
DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
RETENTION_MS = {"dlq": -1, "ledger": 2 * DEFAULT_RETENTION_MS}
COMPACTED = {"dedup-state", "ledger-state", "workers", "source-state", "enrich-state"}
BROKER_TIMESTAMPS = {"raw"}


def producer(settings: Settings, **overrides) -> KafkaProducer:
    """A producer that waits for all in-sync replicas: acks=all."""
    options = dict(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        retries=5,
        max_request_size=settings.max_message_bytes + 64 * 1024,
        request_timeout_ms=30_000,
        # send() waits this long for metadata when the broker is away, instead of kafka-python's 60 s:
        # the runner's backoff, which notices the broker coming back, does the waiting.
        max_block_ms=10_000,
        client_id="newsflow",
    )
    options.update(overrides)
    return KafkaProducer(**options)


def consumer(settings: Settings, group_id: str | None, topics: Iterable[str] = (), **overrides) -> KafkaConsumer:
    """A consumer that commits only when told to."""
    options = dict(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.batch_size,
        fetch_max_bytes=max(52_428_800, settings.max_message_bytes * 2),
        max_partition_fetch_bytes=settings.max_message_bytes + 64 * 1024,
        client_id="newsflow",
    )
    options.update(overrides)
    c = KafkaConsumer(**options)
    if topics:
        c.subscribe(list(topics))
    return c


def admin(settings: Settings) -> KafkaAdminClient:
    """Admin client for topic management and lag queries."""
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="newsflow-admin")


def ensure_topics(settings: Settings, keys: Iterable[str] = TOPIC_KEYS) -> dict[str, str]:
    """Create every topic (of `keys`) that does not exist yet; returns {topic: 'created' | 'exists'}."""
    keys = tuple(keys)
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        result = {}
        missing = []
        for key in keys:
            name = settings.topic(key)
            if name in existing:
                result[name] = "exists"
                continue
            missing.append(
                NewTopic(
                    name=name,
                    num_partitions=settings.partitions,
                    replication_factor=settings.replication_factor,
                    topic_configs=_topic_config(settings, key),
                )
            )
            result[name] = "created"
        if missing:
            try:
                client.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created them first: that is the goal anyway
        upgrade = [k for k in BROKER_TIMESTAMPS if k in keys and result[settings.topic(k)] == "exists"]
        if upgrade:  # topics made by an earlier version: broker timestamps from now on (AlterConfigs sets them all)
            client.alter_configs(
                [
                    ConfigResource(ConfigResourceType.TOPIC, settings.topic(k), configs=_topic_config(settings, k))
                    for k in upgrade
                ]
            )
        return result
    finally:
        client.close()


def _topic_config(settings: Settings, key: str) -> dict[str, str]:
    config = {"max.message.bytes": str(settings.max_message_bytes + 64 * 1024)}
    if key in COMPACTED:
        config["cleanup.policy"] = "compact"
    else:
        config["retention.ms"] = str(RETENTION_MS.get(key, DEFAULT_RETENTION_MS))
    if key in BROKER_TIMESTAMPS:
        config["message.timestamp.type"] = "LogAppendTime"
    return config


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to produce."""

    topic: str
    key: str | None
    value: dict | bytes | None  # a JSON object, bytes as they are (a DLQ original), or None: a tombstone


def send_confirmed(prod: KafkaProducer, messages: Iterable[Outgoing], timeout_s: float = 60.0) -> int:
    """Send, flush and check every delivery; a failed one raises (TransientError, or InfrastructureError for
    an unknown topic or a refused authorisation), never passes silently."""
    try:
        futures = [prod.send(m.topic, key=m.key.encode() if m.key else None, value=_encode(m.value)) for m in messages]
        prod.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)
    except KafkaError as exc:
        raise failure(exc, "delivery to Kafka failed") from exc
    return len(futures)


def _encode(value: dict | bytes | None) -> bytes | None:
    return value if value is None or isinstance(value, bytes) else orjson.dumps(value)


def failure(exc: KafkaError, what: str) -> Exception:
    """The error policy's exception for a kafka-python error."""
    if isinstance(exc, _HOLDING):
        return InfrastructureError(f"{what}: Kafka refused: {exc!r}", dependency="kafka")
    return TransientError(f"{what}: {exc!r}", dependency="kafka")


def produce_confirmed(
    settings: Settings,
    messages: Sequence[Outgoing],
    *,
    chunk: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Produce `messages` in order, in confirmed chunks (each acknowledged before the next is sent), with a
    producer of its own; returns how many. The one way operations and sources produce."""
    if not messages:
        return 0
    prod = producer(settings)
    try:
        for start in range(0, len(messages), chunk):
            part = messages[start : start + chunk]
            send_confirmed(prod, part)
            if on_progress:
                on_progress(len(part))
    finally:
        prod.close()
    return len(messages)

"""The only module that speaks kafka-python.

Topics (admin, with their settings), confirmed produce (in chunks), reading a topic by offsets or by
time, group lag, and what a stage worker needs: a member of its consumer group, a tail of a compacted
state topic and a publisher. kafka-python's errors do not leave this module: they become
`TransientError` or `InfrastructureError` (pipeline/errors.py) with `dependency="kafka"`.
"""

from kafka import TopicPartition

from pipeline.kafka_io.clients import (
    BROKER_TIMESTAMPS,
    COMPACTED,
    DEFAULT_RETENTION_MS,
    RETENTION_MS,
    UNREACHABLE,
    Outgoing,
    admin,
    consumer,
    ensure_topics,
    failure,
    produce_confirmed,
    producer,
    send_confirmed,
)
from pipeline.kafka_io.reading import (
    DrainProbe,
    PartitionRange,
    bootstrap_addresses,
    count_since,
    existing_topics,
    first_timestamp_since,
    group_lag,
    latest_by_key,
    offsets_between,
    read_from,
    read_topic,
    read_window,
)
from pipeline.kafka_io.worker import GroupMember, Publisher, StateTail

__all__ = [
    "BROKER_TIMESTAMPS",
    "COMPACTED",
    "DEFAULT_RETENTION_MS",
    "DrainProbe",
    "GroupMember",
    "Outgoing",
    "PartitionRange",
    "Publisher",
    "RETENTION_MS",
    "StateTail",
    "TopicPartition",
    "UNREACHABLE",
    "admin",
    "bootstrap_addresses",
    "consumer",
    "count_since",
    "ensure_topics",
    "existing_topics",
    "failure",
    "first_timestamp_since",
    "group_lag",
    "latest_by_key",
    "offsets_between",
    "produce_confirmed",
    "producer",
    "read_from",
    "read_topic",
    "read_window",
    "send_confirmed",
]

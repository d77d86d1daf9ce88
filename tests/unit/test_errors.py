"""The error policy's classes: one place decides what each failure gets."""

from __future__ import annotations

import pytest
from kafka import errors as kafka_errors

from pipeline.errors import (
    FailureClass,
    FatalError,
    InfrastructureError,
    ProcessingBreakerOpen,
    TransientError,
    classify,
    http_status_class,
    isolatable,
)
from pipeline.kafka_io import failure
from pipeline.sinks.elasticsearch import _item_class


@pytest.mark.parametrize(
    ("exc", "klass"),
    [
        (TransientError("Elasticsearch unreachable", dependency="elasticsearch"), FailureClass.TRANSIENT),
        (failure(kafka_errors.KafkaTimeoutError("metadata"), "send"), FailureClass.TRANSIENT),
        (failure(kafka_errors.BrokerNotAvailableError(), "send"), FailureClass.TRANSIENT),
        (InfrastructureError("401", dependency="elasticsearch"), FailureClass.INFRASTRUCTURE),
        (failure(kafka_errors.TopicAuthorizationFailedError(), "send"), FailureClass.INFRASTRUCTURE),
        (failure(kafka_errors.UnknownTopicOrPartitionError(), "send"), FailureClass.INFRASTRUCTURE),
        (TypeError("unsupported operand"), FailureClass.PROCESSING),
        (KeyError("entities"), FailureClass.PROCESSING),
    ],
)
def test_every_failure_has_one_class(exc: Exception, klass: FailureClass) -> None:
    assert classify(exc) is klass
    if klass is not FailureClass.PROCESSING:
        assert getattr(exc, "dependency", None) in ("kafka", "elasticsearch"), "the worker says what it waits for"


def test_a_process_in_trouble_is_not_isolated_article_by_article() -> None:
    assert isolatable(TypeError()) and isolatable(ValueError())
    assert not isolatable(MemoryError()) and not isolatable(RecursionError())
    assert issubclass(ProcessingBreakerOpen, FatalError), "the breaker ends the worker like a long hold does"


@pytest.mark.parametrize(
    ("status", "error", "klass"),
    [
        (401, "security_exception: unable to authenticate", FailureClass.INFRASTRUCTURE),
        (403, "security_exception: action unauthorized", FailureClass.INFRASTRUCTURE),
        (404, "index_not_found_exception: no such index [news-articles]", FailureClass.INFRASTRUCTURE),
        (429, "es_rejected_execution_exception", FailureClass.TRANSIENT),
        (503, "unavailable_shards_exception", FailureClass.TRANSIENT),
        (400, "document_parsing_exception: failed to parse field [entities.count]", FailureClass.BAD_INPUT),
        (409, "version_conflict_engine_exception", FailureClass.BAD_INPUT),
    ],
)
def test_a_bulk_items_status_decides_hold_retry_or_dlq(status: int, error: str, klass: FailureClass) -> None:
    assert _item_class(status, error) is klass


def test_http_statuses() -> None:
    assert [http_status_class(s) for s in (401, 403, 408, 429, 500, 502, 400)] == [
        FailureClass.INFRASTRUCTURE,
        FailureClass.INFRASTRUCTURE,
        FailureClass.TRANSIENT,
        FailureClass.TRANSIENT,
        FailureClass.TRANSIENT,
        FailureClass.TRANSIENT,
        FailureClass.BAD_INPUT,
    ]

"""The generic stage loop: poll a batch, process, produce, flush, then commit. Knows no stage, no Kafka client.

Failures are handled by class (pipeline/errors.py): bad input and single broken articles go to the DLQ
here; transient and infrastructure failures are retried or held by the worker's Guard (pipeline/guard.py);
a stage that raises for many articles trips a breaker and the worker stops. Every terminal outcome
(indexed, dead-lettered) is also written to `news.ledger.v1` for the audit, in the same confirmed batch.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass

import structlog

from pipeline import kafka_io
from pipeline.batching import AdaptiveBatch
from pipeline.config import Settings
from pipeline.contracts import ContractError, Contracts
from pipeline.decode import ENTRY_TOPIC, BadInput, decode
from pipeline.errors import (
    FailureClass,
    FatalError,
    InfrastructureError,
    ProcessingBreakerOpen,
    TransientError,
    classify,
    isolatable,
)
from pipeline.guard import Guard, StopRequested, WorkerStatus
from pipeline.kafka_io import GroupMember, Outgoing, Publisher, StateTail
from pipeline.metrics import WorkerMetrics
from pipeline.records import Article, DlqError, DlqPayload, DlqRecord, DlqSource, LedgerEvent, RawOrigin
from pipeline.stages.base import Done, Emit, Reject, ReportsStats, Result, Stage, StatefulStage

log = structlog.get_logger("newsflow.runner")

# A DLQ record's kind -> the ledger's terminal state.
DLQ_STATES = {"bad_input": "dlq_bad_input", "indexing": "dlq_bad_input", "processing": "dlq_processing"}


@dataclass
class Counters:
    """What a worker has done since it started."""

    consumed: int = 0
    produced: int = 0
    dlq: int = 0
    batches: int = 0
    retries: int = 0
    held_s: float = 0.0
    by_topic: dict[str, int] = field(default_factory=dict)
    dlq_by_kind: Counter = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Decoded:
    message: object
    article: Article


class StageWorker:
    """Runs one stage as one member of its consumer group."""

    def __init__(
        self, stage: Stage, settings: Settings, contracts: Contracts, *, stop: threading.Event | None = None
    ) -> None:
        self.stage = stage
        self.settings = settings
        self.contracts = contracts
        self.stop = stop or threading.Event()
        self.source_topics = {settings.topic(key): key for key in stage.sources}
        self.counters = Counters()
        self.log = log.bind(stage=stage.name)
        self.publisher = Publisher(settings)
        self.status = WorkerStatus(stage.name, settings, self.publisher)
        self.guard = Guard(stage.name, settings, self.stop, self.status, self.log, on_retry=self._count_retry)
        try:
            self.consumer = GroupMember(settings, settings.group(stage.name), self.source_topics)
        except BaseException:  # Kafka away as the worker starts: the caller may try again, leak nothing
            self.publisher.close(timeout_s=0)
            raise
        self.metrics = WorkerMetrics(stage, stage.name, self.guard)
        self._recent: deque[bool] = deque(maxlen=settings.processing_breaker_window)
        self._batch = AdaptiveBatch(settings.batch_size, settings.batch_target_s)
        self._attempts: Counter = Counter()
        self._checked = False
        # A stateful stage (dedup) keeps its state in a compacted topic: rebuilt here, tailed before
        # every batch (so workers on other machines see each other's state), written with the outputs.
        self.stateful: StatefulStage | None = None
        self.state_key: str | None = None
        self._state: StateTail | None = None
        if isinstance(stage, StatefulStage) and stage.state_topic:
            self.stateful, self.state_key = stage, stage.state_topic
            self._state = self.guard.run(lambda: self._restore_state(stage, stage.state_topic or ""))

    @property
    def trouble(self):
        """The ongoing failure the worker waits out, or None."""
        return self.guard.trouble

    def _count_retry(self) -> None:
        self.counters.retries += 1
        trouble = self.guard.trouble
        self.metrics.retried(trouble.klass.value if trouble else "unknown", trouble.dependency if trouble else "")

    # -- one cycle ---------------------------------------------------------------------------

    def _restore_state(self, stateful: StatefulStage, key: str) -> StateTail:
        """Load the stage's snapshot when it has one that fits the topic and replay the state records after its
        offsets, else replay the whole state topic; returns the tail positioned at its end."""
        topic = self.settings.topic(key)
        began = time.monotonic()
        # A stage whose state can be snapshotted (dedup) offers a `checkpoint` (pipeline.kafka_io.worker.Checkpoint);
        # the tail writes snapshots between batches, and at close unless the worker stopped on a failure.
        tail = StateTail(
            self.settings,
            topic,
            getattr(stateful, "checkpoint", None),
            clean=lambda: not self.guard.failed and self.guard.trouble is None,
        )
        restored = 0
        for items in tail.restore():
            stateful.restore(items)
            restored += len(items)
        if tail.fallback is not None:
            self.log.warning(
                "state snapshot not used: replayed the whole state topic", topic=topic, reason=tail.fallback
            )
        self.log.info(
            "state restored",
            topic=topic,
            records=restored,
            snapshot=tail.snapshot,
            seconds=round(time.monotonic() - began, 2),
        )
        return tail

    def step(self) -> int:
        """Poll one batch, process it, produce and confirm, commit. Returns how many messages it took."""
        if not self._checked:
            self.guard.run(self._check_topics)
        self.guard.heartbeat()
        if self._state is not None and self.stateful is not None:
            items = self._state.poll()
            if items:
                self.stateful.restore(items)
        messages = self.guard.run(lambda: self.consumer.poll(self._batch.size))
        self.metrics.polled(self.consumer.lag())
        if not messages:
            return 0
        started = time.monotonic()
        self.guard.run(lambda: self._handle(messages))
        self.guard.run(self.consumer.commit)
        self._batch.observe(len(messages), time.monotonic() - started)
        failure_share = sum(self._recent) / len(self._recent) if self._recent else 0.0
        self.metrics.batch_done((m.topic for m in messages), time.monotonic() - started, failure_share)
        self._attempts.clear()
        self.counters.consumed += len(messages)
        self.counters.batches += 1
        self.counters.held_s = self.guard.held_s
        if isinstance(self.stage, ReportsStats):  # a stage's own counters (translate: requests, cache hits...)
            stats = self.stage.stats
            counts = asdict(stats) if is_dataclass(stats) and not isinstance(stats, type) else dict(stats)  # type: ignore[call-overload]
            self.log.info("batch done", messages=len(messages), **counts)
        return len(messages)

    def _check_topics(self) -> None:
        """The topics this worker reads and writes exist: a missing one is the operator's to fix, not a DLQ matter."""
        needed = {*self.source_topics, self.settings.topic("dlq"), self.settings.topic("ledger")}
        missing = sorted(needed - kafka_io.existing_topics(self.settings))
        if missing:
            raise InfrastructureError(f"topics missing: {', '.join(missing)} (run `newsflow init`)", dependency="kafka")
        self._checked = True
        self.status.supersede(kafka_io.latest_by_key(self.settings, self.settings.topic("workers")))

    def _handle(self, messages: list) -> None:
        """Decode, process and produce one batch; a TransientError has it retried whole."""
        outgoing: list[Outgoing] = []
        decoded: list[_Decoded] = []
        for message in messages:
            key = message.key.decode("utf-8", "replace") if message.key else None
            topic_key = self.source_topics[message.topic]
            origin = (
                RawOrigin(partition=message.partition, offset=message.offset, timestamp=message.timestamp, key=key)
                if topic_key == ENTRY_TOPIC
                else None
            )
            found = decode(message.value, key, topic_key, origin, self.contracts, self.settings.max_text_chars)
            if isinstance(found, BadInput):
                outgoing.extend(
                    self._dlq(message, Reject(found.reason, found.error_class), found.article_id, found.origin)
                )
            else:
                decoded.append(_Decoded(message, found))
        results = self._process(decoded)
        for item, result in zip(decoded, results, strict=True):
            self._route(item, result, outgoing)
        if self.stateful is not None and self.state_key is not None:
            topic = self.settings.topic(self.state_key)
            for key, value in self.stateful.state_updates():
                if value is not None:
                    self.contracts.validate(self.state_key, value)
                outgoing.append(Outgoing(topic, key, value))
        self.publisher.send(outgoing)
        self.metrics.sent(outgoing, self.settings.topic("dlq"), self.settings.topic("ledger"))
        dlq_topic = self.settings.topic("dlq")
        for out in outgoing:
            self.counters.by_topic[out.topic] = self.counters.by_topic.get(out.topic, 0) + 1
            if out.topic == dlq_topic and isinstance(out.value, dict):
                self.counters.dlq += 1
                self.counters.dlq_by_kind[out.value["error"]["kind"]] += 1
        self.counters.produced += len(outgoing)

    def _process(self, decoded: list[_Decoded]) -> list[Result]:
        """The stage's results. When the batch raises, each article is tried alone, so one broken article
        goes to the DLQ; when many raise, the breaker stops the worker instead of dead-lettering the stream."""
        if not decoded:
            return []
        articles = [d.article for d in decoded]
        for d in decoded:
            self._attempts[_coords(d.message)] += 1
        try:
            results = self.stage.process(articles)
            failed = [False] * len(articles)
        except Exception as exc:
            if classify(exc) is not FailureClass.PROCESSING or not isolatable(exc):
                raise
            if len(articles) == 1:
                results, failed = [self._failed(decoded[0], exc)], [True]
            else:
                self.log.warning("batch failed, isolating articles", error=repr(exc)[:300], size=len(articles))
                results, failed = [], []
                for item in decoded:
                    self._attempts[_coords(item.message)] += 1
                    try:
                        results.extend(self.stage.process([item.article]))
                        failed.append(False)
                    except Exception as single:
                        if classify(single) is not FailureClass.PROCESSING or not isolatable(single):
                            raise
                        results.append(self._failed(item, single))
                        failed.append(True)
        if len(results) != len(articles):
            raise RuntimeError(f"stage {self.stage.name} returned {len(results)} results for {len(articles)} articles")
        self._breaker(failed)
        return results

    def _failed(self, item: _Decoded, exc: Exception) -> Reject:
        """The DLQ verdict for one article the stage raised on."""
        self.log.error("article failed", article_id=item.article.article_id, error=repr(exc)[:300])
        return Reject(
            f"{type(exc).__name__}: {exc}", type(exc).__name__, "processing", self._attempts[_coords(item.message)]
        )

    def _breaker(self, failed: list[bool]) -> None:
        """Stop when more than the allowed share of the recent articles made the stage raise."""
        self._recent.extend(failed)
        bad = sum(self._recent)
        s = self.settings
        if bad >= s.processing_breaker_min and bad / len(self._recent) > s.processing_breaker_share:
            raise ProcessingBreakerOpen(
                f"{bad} of the last {len(self._recent)} articles made stage {self.stage.name} raise "
                f"(limit {s.processing_breaker_share:.0%}): a bug, not bad input; nothing of this batch was "
                f"committed or dead-lettered"
            )

    def _route(self, item: _Decoded, result: Result, outgoing: list[Outgoing]) -> None:
        """Validate an output against its topic's contract and queue it, or queue the DLQ record."""
        article = item.article
        origin = article.pipeline.raw if article.pipeline else None
        if isinstance(result, Emit):
            wire = result.article.to_wire()
            try:
                self.contracts.validate(result.topic, wire)
            except ContractError as exc:
                # A stage produced something its contract forbids: a bug, kept as data, loudly logged.
                self.log.error("output breaks contract", article_id=article.article_id, error=str(exc))
                bug = Reject(f"output {exc}", "ContractError", "processing")
                outgoing.extend(self._dlq(item.message, bug, article.article_id, origin))
                return
            outgoing.append(Outgoing(self.settings.topic(result.topic), result.article.article_id, wire))
            self.log.debug("emitted", article_id=article.article_id, topic=result.topic)
        elif isinstance(result, Reject):
            outgoing.extend(self._dlq(item.message, result, article.article_id, origin))
        elif isinstance(result, Done):
            duplicate = article.dedup is not None and article.dedup.is_duplicate
            outgoing.append(self._ledger(article.article_id, "duplicate" if duplicate else "unique", origin))
        else:
            raise TypeError(f"stage {self.stage.name} returned {result!r}")

    def _dlq(self, message, reject: Reject, article_id: str | None, origin: RawOrigin | None) -> list[Outgoing]:
        """The DLQ message for a rejected input, with its original bytes, and its ledger event."""
        key = message.key.decode("utf-8", "replace") if message.key else None
        record = DlqRecord(
            article_id=article_id,
            stage=self.stage.name,
            error=DlqError(class_=reject.error_class, message=reject.reason, kind=reject.kind),
            source=DlqSource(topic=message.topic, partition=message.partition, offset=message.offset, key=key),
            attempts=max(reject.attempts, 1),
            payload=DlqPayload.of(message.value or b""),
            raw=origin,
        )
        wire = self.contracts.validate("dlq", record.to_wire())
        self.log.warning(
            "sent to DLQ",
            article_id=article_id,
            error_class=reject.error_class,
            reason=reject.reason[:300],
            kind=reject.kind,
            attempts=record.attempts,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
        )
        return [
            Outgoing(self.settings.topic("dlq"), article_id, wire),
            self._ledger(article_id, DLQ_STATES[reject.kind], origin),
        ]

    def _ledger(self, article_id: str | None, state: str, origin: RawOrigin | None) -> Outgoing:
        """The terminal event the audit counts."""
        event = LedgerEvent(article_id=article_id, state=state, stage=self.stage.name, raw=origin).to_wire()
        return Outgoing(self.settings.topic("ledger"), article_id, self.contracts.validate("ledger", event))

    # -- lifecycle ----------------------------------------------------------------------------

    def drained(self) -> bool:
        """True when the group owns partitions and has consumed everything in them."""
        return self.consumer.drained()

    def close(self) -> None:
        """Leave the group and flush; offsets were committed batch by batch. A clean stop clears the state."""
        self.counters.held_s = self.guard.held_s
        try:
            if not self.guard.failed and not self.guard.held:
                self.status.clear()
            self.publisher.flush()
        finally:
            self.publisher.close()
            self.metrics.close()
            self.consumer.close()
            if self._state is not None:
                self._state.close()


def _coords(message) -> tuple[str, int, int]:
    return message.topic, message.partition, message.offset


def run_workers(
    workers: Sequence[StageWorker],
    stop: threading.Event,
    *,
    follow: bool = False,
    timeout_s: float | None = None,
    on_progress: Callable[[StageWorker, int], None] | None = None,
) -> bool:
    """Step the workers in turn until stopped, or (without `follow`) until every topic is drained.

    Returns True when drained (or stopped cleanly), False when the timeout came first.
    """
    deadline = time.monotonic() + timeout_s if timeout_s else None
    while not stop.is_set():
        handled = 0
        for worker in workers:
            if stop.is_set():
                break
            n = worker.step()
            handled += n
            if on_progress and n:
                on_progress(worker, n)
        if not follow and handled == 0 and all(w.drained() for w in workers):
            return True
        if deadline and time.monotonic() > deadline:
            return False
    return True


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT finish the current batch, commit and close."""

    def handler(signum, _frame):
        log.info("stop requested", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


__all__ = [
    "StageWorker",
    "run_workers",
    "install_signal_handlers",
    "StopRequested",
    "FatalError",
    "TransientError",
    "InfrastructureError",
]

"""The ingest step of news_ingest: settle every pulled item (produced, dead-lettered or reported), then save the state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import orjson
import structlog

from pipeline.config import Settings
from pipeline.records import Article, DlqError, DlqPayload, DlqRecord, DlqSource
from pipeline.sources.fetch import FetchConfig, http_client
from pipeline.sources.pull import Pulled, Rejected, SourceReport, pull, reason_key
from pipeline.sources.spec import SourceSpec
from pipeline.sources.state import load_state

log = structlog.get_logger("newsflow.sources")


class NotProducible(ValueError):
    """An article that cannot go to news.raw.v1 as it is; `error_class` names the kind of problem."""

    def __init__(self, error_class: str, reason: str, *, dead_letter: bool = True) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.dead_letter = dead_letter  # False: too large for any Kafka message, so it can only be reported


def raw_message(article: Article, contracts, max_bytes: int) -> dict:
    """The article's news.raw.v1 message; NotProducible when it breaks the contract, is not valid Unicode
    (a lone surrogate cannot be encoded) or is larger than a Kafka message may be."""
    from pipeline.contracts import ContractError

    wire = article.to_wire()
    try:
        contracts.validate("raw", wire)
    except ContractError as exc:
        raise NotProducible("ContractError", f"not a valid raw article: {exc}") from None
    try:
        size = len(orjson.dumps(wire))
    except TypeError as exc:  # orjson.JSONEncodeError: e.g. "str is not valid UTF-8: surrogates not allowed"
        raise NotProducible("NotUnicode", f"not valid Unicode text: {exc}") from None
    if size > max_bytes:
        raise NotProducible(
            "TooLarge", f"{size} bytes is more than NEWSFLOW_MAX_MESSAGE_BYTES={max_bytes}", dead_letter=False
        )
    return wire


def deliveries(pulled: Pulled, spec: SourceSpec, settings: Settings, contracts) -> list:
    """The messages that settle every pulled item: its raw article, or its DLQ record when it is bad input.

    An item too large even for the DLQ is reported with its reason instead. So every item the pull's
    state counts as given is produced, dead-lettered or reported once these messages are delivered.
    """
    from pipeline.kafka_io import Outgoing

    report, raw = pulled.report, settings.topic("raw")
    outgoing, rejected = [], list(pulled.rejected)
    for article in pulled.articles:
        where = (article.origin if spec.kind in ("folder", "jsonl") else article.url) or article.article_id
        try:
            outgoing.append(
                Outgoing(raw, article.article_id, raw_message(article, contracts, settings.max_message_bytes))
            )
        except NotProducible as exc:
            report.produced -= 1
            rejected.append(
                Rejected(
                    where, str(exc), exc.error_class, article.article_id, article.to_wire(), dead_letter=exc.dead_letter
                )
            )
    for item in rejected:
        if not item.dead_letter:
            report.skip(item.where, "too large to produce", item.reason)
            continue
        record = _dead_letter(item, spec, settings, contracts)
        if record is None:
            report.skip(item.where, "too large for the DLQ", item.reason)
            continue
        outgoing.append(Outgoing(settings.topic("dlq"), item.article_id, record))
        report.dead_letter(item.where, _DLQ_REASONS.get(item.error_class) or reason_key(item.reason), item.reason)
    return outgoing


_DLQ_REASONS = {
    "ContractError": "not a valid raw article",
    "NotUnicode": "not valid Unicode",
    "PublishedOutOfRange": "published out of range",
}


def _dead_letter(item: Rejected, spec: SourceSpec, settings: Settings, contracts) -> dict | None:
    """The DLQ record of a rejected item (stage `ingest`), or None when it would be too large for Kafka.

    It never reached a topic: `source` names the raw topic it was meant for (where `newsflow dlq replay`
    sends it) at partition and offset -1. The payload is the item as a raw-entry JSON object; content
    that is not valid Unicode is kept with JSON escapes (ASCII), which hold lone surrogates exactly.
    """
    payload = _json_bytes(item.content)
    message = _safe_text(f"source {spec.name}: {item.where}: {item.reason}")
    record = DlqRecord(
        article_id=item.article_id,
        stage="ingest",
        error=DlqError(class_=item.error_class, message=message, kind="bad_input"),
        source=DlqSource(topic=settings.topic("raw"), partition=-1, offset=-1, key=item.article_id),
        payload=DlqPayload.of(payload),
    )
    wire = contracts.validate("dlq", record.to_wire())
    return wire if len(orjson.dumps(wire)) <= settings.max_message_bytes else None


def _json_bytes(content: dict) -> bytes:
    try:
        return orjson.dumps(content)
    except TypeError:
        import json

        return json.dumps(content, ensure_ascii=True).encode("ascii")


def _safe_text(text: str) -> str:
    """Text that any JSON encoder takes: lone surrogates (from undecodable file names, say) as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def ingest_source(settings: Settings, spec: SourceSpec, http=None) -> SourceReport:
    """Pull one source, produce its new articles to news.raw.v1 and its bad input to news.dlq.v1, confirmed;
    then save its state.

    The state is written only after every message is acknowledged: a crash in between re-produces
    them next run, which downstream stages absorb (idempotent by article_id). An item that could not be
    fetched for now is not in the state, so the next run tries it again.
    """
    from pipeline import kafka_io
    from pipeline.contracts import Contracts
    from pipeline.kafka_io import Outgoing

    config = FetchConfig.from_settings(settings)
    kafka_io.ensure_topics(settings, keys=("source-state",))
    state = load_state(settings, spec.name)
    own_client = http is None
    http = http or http_client(config)
    try:
        pulled = pull(spec, state, http, config)
    finally:
        if own_client:
            http.close()
    contracts = Contracts()
    outgoing = deliveries(pulled, spec, settings, contracts)
    state_record = contracts.validate("source-state", pulled.state.to_wire())
    # The state goes last, once every article and dead letter is acknowledged.
    kafka_io.produce_confirmed(settings, [*outgoing, Outgoing(settings.topic("source-state"), spec.name, state_record)])
    report = pulled.report
    log.info("source pulled", **{k: v for k, v in report.to_dict().items() if k != "examples"})
    return report


def summarise(reports: Iterable[dict]) -> dict:
    """Totals over the per-source reports of one run."""
    totals: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for report in reports:
        for key in ("offered", "produced", "already_seen", "dead_lettered_total"):
            totals[key] += report.get(key, 0)
        skipped.update(report.get("skipped", {}))
    return {**totals, "skipped": dict(skipped), "skipped_total": sum(skipped.values())}

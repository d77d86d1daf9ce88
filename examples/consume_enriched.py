"""A downstream consumer of `news.enriched.v1`: validates every message, keeps one row per article_id.

Delivery is at-least-once, so the same article can arrive more than once (a re-delivered batch, a
re-run of the pipeline). This consumer is idempotent the simple way: it upserts by `article_id`
into SQLite and commits its offsets only after the rows are written. Messages that do not match the
contract are counted and logged with their partition/offset, never silently dropped.

    python examples/consume_enriched.py --bootstrap-servers 127.0.0.1:9092 --db articles.sqlite
    python examples/consume_enriched.py --until-idle 10      # stop after 10 s without messages
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
from pipeline.contracts import ContractError, Contracts

log = logging.getLogger("consume_enriched")

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id   TEXT PRIMARY KEY,
    published_at TEXT,
    source       TEXT,
    language     TEXT,
    title_en     TEXT,
    cluster_id   TEXT,
    persons      TEXT,   -- JSON list
    places       TEXT,   -- JSON list
    record       TEXT,   -- the whole message, as received
    received     INTEGER -- how many times it was delivered (> 1 = a re-delivery we absorbed)
)
"""
UPSERT = """
INSERT INTO articles VALUES (:article_id, :published_at, :source, :language, :title_en, :cluster_id,
                             :persons, :places, :record, 1)
ON CONFLICT(article_id) DO UPDATE SET
    published_at = excluded.published_at, source = excluded.source, language = excluded.language,
    title_en = excluded.title_en, cluster_id = excluded.cluster_id, persons = excluded.persons,
    places = excluded.places, record = excluded.record, received = articles.received + 1
"""


def row(article: dict) -> dict:
    """The columns this consumer keeps; unknown (newer, additive) fields stay in `record`."""
    return {
        "article_id": article["article_id"],
        "published_at": article["published_at"],
        "source": (article.get("source") or {}).get("name"),
        "language": article["language"]["code"],
        "title_en": article.get("title_en"),
        "cluster_id": article["dedup"]["cluster_id"],
        "persons": json.dumps(article.get("persons", []), ensure_ascii=False),
        "places": json.dumps(article.get("places_names", []), ensure_ascii=False),
        "record": json.dumps(article, ensure_ascii=False),
    }


def consume(bootstrap_servers: str, topic: str, group: str, db_path: Path, until_idle_s: float | None) -> dict:
    """Consume until stopped (or idle), returning counts; offsets are committed after each stored batch."""
    contracts = Contracts()  # builds and checks every schema now: a broken schema fails before any message
    db = sqlite3.connect(db_path)
    db.execute(SCHEMA)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,  # commit only what is stored
        auto_offset_reset="earliest",
        max_poll_records=500,
        client_id="consume-enriched-example",
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    counts = {"stored": 0, "invalid": 0}
    last_message = time.monotonic()
    try:
        while not stopping:
            batches = consumer.poll(timeout_ms=1000)
            if not batches:
                if until_idle_s is not None and time.monotonic() - last_message > until_idle_s:
                    break
                continue
            last_message = time.monotonic()
            rows = []
            for partition, records in batches.items():
                for record in records:
                    try:
                        article = contracts.validate("enriched", json.loads(record.value))
                    except (ValueError, ContractError) as exc:  # JSONDecodeError is a ValueError
                        counts["invalid"] += 1
                        log.error(
                            "invalid message at %s[%d]@%d: %s", record.topic, partition.partition, record.offset, exc
                        )
                        continue
                    if record.key is not None and record.key.decode() != article["article_id"]:
                        log.warning("key %r differs from article_id %s", record.key, article["article_id"])
                    rows.append(row(article))
            with db:  # one transaction per batch
                db.executemany(UPSERT, rows)
            consumer.commit()  # after the rows are durable: a crash before this re-delivers, the upsert absorbs it
            counts["stored"] += len(rows)
    finally:
        consumer.close()
        db.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bootstrap-servers", default=os.environ.get("NEWSFLOW_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--topic-prefix", default=os.environ.get("NEWSFLOW_TOPIC_PREFIX", ""))
    parser.add_argument("--group", default="downstream.example", help="your team's consumer group")
    parser.add_argument("--db", type=Path, default=Path("enriched.sqlite"))
    parser.add_argument(
        "--until-idle", type=float, default=None, metavar="S", help="stop after S seconds without messages"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the client's connection chatter
    topic = f"{args.topic_prefix}news.enriched.v1"
    counts = consume(args.bootstrap_servers, topic, args.group, args.db, args.until_idle)
    with sqlite3.connect(args.db) as db:
        (articles,) = db.execute("SELECT count(*) FROM articles").fetchone()
    log.info(
        "%s: %d messages stored, %d invalid; %d distinct articles in %s",
        topic,
        counts["stored"],
        counts["invalid"],
        articles,
        args.db,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An outside producer of `news.raw.v1`: what any scraper may send, with no knowledge of newsflow's ids.

Each input line is a JSON article — `text` (required), `url`, `title`, `published` (ISO 8601 or RFC 822),
`source` (a name, or {"name", "domain"}), optionally `article_id`. It is checked against the public raw
contract before it is sent (a line that fails is reported with its line number and not sent), keyed by
its URL (any key, or none, is fine: the detect stage computes the `article_id` and re-keys), and every
delivery is confirmed by the broker before the script says it is done.

    python examples/produce_raw.py --bootstrap-servers 127.0.0.1:9092 articles.jsonl
    some-scraper | python examples/produce_raw.py -          # from standard input
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kafka import KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
from pipeline.contracts import ContractError, Contracts


def main(argv: list[str] | None = None) -> int:
    """Send every valid line; exit 1 when any line was refused."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a JSONL file, or - for standard input")
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    parser.add_argument("--topic", default="news.raw.v1")
    args = parser.parse_args(argv)

    contracts = Contracts()
    producer = KafkaProducer(bootstrap_servers=args.bootstrap_servers, acks="all")
    handle = sys.stdin if args.path == "-" else open(args.path, encoding="utf-8")
    futures, refused = [], 0
    try:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                article = contracts.validate("raw", json.loads(line))
            except (json.JSONDecodeError, ContractError) as exc:
                print(f"{args.path}:{number}: not sent: {exc}", file=sys.stderr)
                refused += 1
                continue
            key = (article.get("url") or "").encode() or None
            futures.append(producer.send(args.topic, key=key, value=json.dumps(article).encode()))
        producer.flush()
        for future in futures:
            future.get(timeout=60)  # raises when the broker did not take it: nothing is lost silently
    finally:
        producer.close()
        if handle is not sys.stdin:
            handle.close()
    print(f"sent {len(futures)} articles to {args.topic}; refused {refused}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())

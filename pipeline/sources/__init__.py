"""Sources to raw articles: the sources file, fetching, extraction, pulling, per-source state, and the ingest step.

A source is a seeds folder, an RSS/Atom feed, a list of page URLs or a JSONL dump (file or URL).
`pull()` is pure apart from the HTTP client it is handed: spec + previous state in, articles + report +
next state out. `ingest_source()` adds Kafka: it reads the state, produces the articles with confirmed
delivery, then writes the new state.

Failure policy: a source that cannot be reached (feed, dump, folder) raises `SourceUnavailable`, so the
Airflow task fails and is retried; a page that cannot be fetched for now is left for the next run; anything
that is not an article (malformed feed, a page with no article text, an unknown encoding, a page that is
gone) is skipped and counted by reason. An item that is an article but bad input (it breaks the raw
contract, its date cannot be represented, its text is not valid Unicode) goes to news.dlq.v1 with stage
`ingest`, the reason and its bytes. An item is remembered as given only when its outcome is final:
produced or dead-lettered (both confirmed before the state is saved), or skipped for good with its reason.

| module | holds |
|---|---|
| `spec` | the sources file and its validation |
| `fetch` | the HTTP client, conditional requests, limits |
| `extract` | charset sniffing, trafilatura extraction, feed entry HTML |
| `files` | seeds folders, `.txt` files and JSONL dumps read into raw articles (also `newsflow ingest`) |
| `pull` | one pull of one source: feeds, page lists, dumps, folders |
| `state` | what each source already gave (compacted `news.source-state.v1`) |
| `ingest` | settle every pulled item (produce, dead-letter or report), then save the state |
"""

from pipeline.sources.extract import Extracted, UnknownEncoding, decode_html, extract_article
from pipeline.sources.fetch import FetchConfig, Fetched, FetchError, SourceUnavailable, fetch, http_client
from pipeline.sources.files import Skipped, build_article, read_paths
from pipeline.sources.ingest import NotProducible, deliveries, ingest_source, raw_message, summarise
from pipeline.sources.pull import Pulled, Rejected, SourceReport, pull
from pipeline.sources.spec import KINDS, SourcesFileError, SourceSpec, load_sources
from pipeline.sources.state import SourceState, load_state

__all__ = [
    "KINDS",
    "Extracted",
    "FetchConfig",
    "FetchError",
    "Fetched",
    "NotProducible",
    "Pulled",
    "Rejected",
    "Skipped",
    "SourceReport",
    "SourceSpec",
    "SourceState",
    "SourceUnavailable",
    "SourcesFileError",
    "UnknownEncoding",
    "build_article",
    "decode_html",
    "deliveries",
    "extract_article",
    "fetch",
    "http_client",
    "ingest_source",
    "load_sources",
    "load_state",
    "pull",
    "raw_message",
    "read_paths",
    "summarise",
]

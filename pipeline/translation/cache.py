"""A persistent translation cache: what was paid for once is never requested again.

SQLite, because the cache must survive restarts and re-deliveries with no service to run: it is in
the standard library, a crash mid-write cannot corrupt it (transactions), WAL mode lets the worker
processes of one machine share the file, and a lookup is a primary-key read (~10 µs) next to a
request of 100 ms or more. Each machine keeps its own file; re-translating on another machine costs
one request per text, never a wrong answer. Keys are provider, source, target and the sha256 of the
exact text sent, so a changed paragraph is a miss and an unchanged one a hit.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    translation TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (provider, source, target, text_sha256)
) WITHOUT ROWID
"""


def text_hash(text: str) -> str:
    """sha256 of the text as UTF-8, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache:
    """Translations by (provider, source, target, sha256 of the text), in one SQLite file (or `:memory:`)."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the stage's threads behind a lock: reads are microseconds.
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        self._lock = threading.Lock()
        with self._lock, self._db:
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get_many(self, provider: str, source: str, target: str, texts: Iterable[str]) -> dict[str, str]:
        """The cached translations of those `texts` that have one; counts hits and misses."""
        wanted = {text_hash(t): t for t in texts}
        found: dict[str, str] = {}
        with self._lock:
            for digest, text in wanted.items():
                row = self._db.execute(
                    "SELECT translation FROM translations WHERE provider=? AND source=? AND target=? AND text_sha256=?",
                    (provider, source, target, digest),
                ).fetchone()
                if row is not None:
                    found[text] = row[0]
            self.hits += len(found)
            self.misses += len(wanted) - len(found)
        return found

    def put_many(self, provider: str, source: str, target: str, translations: dict[str, str]) -> None:
        """Store `text -> translation` pairs (a re-put of the same text replaces it)."""
        now = time.time()
        rows = [(provider, source, target, text_hash(t), tr, now) for t, tr in translations.items()]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

"""Snapshots of the dedup store on disk, with the state-topic offsets they cover.

A restart loads the snapshot (a few numpy arrays: columns, heap and sorted postings, so nothing is re-sorted)
and the runner replays only the state records after its offsets; without one that fits it replays the whole
topic, as before. One file per state topic, `<dir>/<topic>.npz` (NumPy's zip of arrays, CRC-checked on read),
written to a temporary name and renamed into place, so that several dedup workers of one machine may write it:
each snapshot is whole and consistent with its own offsets, and the last one renamed wins.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from pipeline.dedup.state import DedupStore

FORMAT = 1  # bumped when the arrays change meaning: an older snapshot is then refused (full replay)
STALE_TEMPORARY_S = 3600.0  # a temporary file this old was left by a writer that died
SUFFIX = "dedup-state.v1.npz"  # every dedup snapshot's file name ends so (`<prefix>news.dedup-state.v1.npz`)

log = structlog.get_logger("newsflow.dedup")


class SnapshotUnusable(Exception):
    """The snapshot cannot be loaded; the message says why."""


def _fits(meta: dict, store: DedupStore, topic: str, kafka: str) -> None:
    """Raise SnapshotUnusable when the snapshot was made for another topic, cluster or fingerprint."""
    fingerprinter = store.fingerprinter
    expected = {
        "format": FORMAT,
        "topic": topic,
        "kafka": kafka,
        "shingling": fingerprinter.shingling,
        "minhash_scheme": fingerprinter.minhash_scheme,
    }
    for key, value in expected.items():
        if meta.get(key) != value:
            raise SnapshotUnusable(f"it was made with {key} {meta.get(key)!r}, this worker has {value!r}")


def write_snapshot(store: DedupStore, path: Path, meta: dict) -> int:
    """Write the store's arrays and `meta` to `path` atomically (temporary file, fsync, rename); returns its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = store.arrays()
    header = {
        **meta,
        "format": FORMAT,
        "shingling": store.fingerprinter.shingling,
        "minhash_scheme": store.fingerprinter.minhash_scheme,
        "members": len(store),
        "lsh": [store.bands, store.rows_per_band],
        "sample_limit": store.sample_limit,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as f:
            members: dict[str, Any] = {"meta": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays}
            np.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return path.stat().st_size


def read_snapshot(store: DedupStore, path: Path, topic: str, kafka: str) -> dict:
    """Load a snapshot into the store; returns its header. Raises SnapshotUnusable (the store then empty)."""
    if not path.exists():
        raise SnapshotUnusable(f"there is no snapshot at {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes())
            _fits(meta, store, topic, kafka)
            arrays = {name: npz[name] for name in npz.files if name != "meta"}  # every member read: CRC-checked
    except SnapshotUnusable:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise SnapshotUnusable(f"{path} is unreadable ({type(exc).__name__}: {exc})") from exc
    # Postings made with other LSH bands or another sample rate are rebuilt from the columns.
    keep = {"id", "content"}
    if meta.get("lsh") == [store.bands, store.rows_per_band]:
        keep.add("band")
    if meta.get("sample_limit") == store.sample_limit:
        keep.add("sample")
    try:
        store.load_arrays(arrays, postings=keep)
    except (KeyError, ValueError) as exc:
        store.rebuild(())
        raise SnapshotUnusable(f"{path} is unreadable ({type(exc).__name__}: {exc})") from exc
    return meta


class Snapshots:
    """When and where a dedup store is snapshotted: every `every_records` state records or `every_s` seconds
    (whichever comes first, and only when something changed), and when the worker closes cleanly."""

    def __init__(
        self,
        store: DedupStore,
        directory: Path,
        *,
        kafka: str,
        every_records: int = 100_000,
        every_s: float = 3600.0,
        stale_after_s: float = 0.0,
        pending: Callable[[], bool] = lambda: False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.directory = directory
        self.kafka = kafka  # the cluster the offsets belong to
        self.every_records, self.every_s = every_records, every_s
        # Another state topic's snapshot nobody wrote for this long (the dedup window) holds only members that would
        # be evicted at once: removed, so that runs with throwaway topic prefixes (tests, benchmarks) do not pile up.
        self.stale_after_s = stale_after_s
        self.pending = pending  # True while the stage holds decisions not yet handed to the runner
        self.clock = clock
        self.since = 0  # state records applied or written since the last snapshot (or load)
        self.last = clock()

    def path(self, topic: str) -> Path:
        """The snapshot file of one state topic."""
        return self.directory / f"{topic}.npz"

    def count(self, records: int) -> None:
        """Note state records applied to or written from the store."""
        self.since += records

    # -- what the state tail calls (pipeline.kafka_io.worker.Checkpoint) -----------------------------------

    def load_snapshot(self, topic: str) -> tuple[dict[int, int] | None, str]:
        """Load the topic's snapshot into the store: (the offsets it covers, what was loaded), or (None, why not)."""
        path = self.path(topic)
        began = time.monotonic()
        try:
            meta = read_snapshot(self.store, path, topic, self.kafka)
        except SnapshotUnusable as exc:
            self.store.rebuild(())
            return None, str(exc)
        self.since, self.last = 0, self.clock()
        offsets = {int(p): int(o) for p, o in meta["offsets"].items()}
        return offsets, (
            f"{path} ({len(self.store)} members, written {meta['written_at']}, "
            f"loaded in {time.monotonic() - began:.1f} s)"
        )

    def discard_snapshot(self) -> None:
        """Empty the store (a loaded snapshot did not fit the topic)."""
        self.store.rebuild(())

    def snapshot_due(self, closing: bool = False) -> bool:
        """True when a snapshot should be written now."""
        if not self.since or self.pending():
            return False
        if closing:
            return True
        return bool(
            (self.every_records and self.since >= self.every_records)
            or (self.every_s and self.clock() - self.last >= self.every_s)
        )

    def save_snapshot(self, topic: str, offsets: dict[int, int]) -> None:
        """Write the store with the offsets it covers; a failure is logged (the state topic stays the truth)."""
        path = self.path(topic)
        began = time.monotonic()
        try:
            size = write_snapshot(self.store, path, {"topic": topic, "kafka": self.kafka, "offsets": offsets})
        except OSError as exc:
            log.warning("dedup snapshot not written", path=str(path), error=str(exc))
            self.last = self.clock()  # retried after the interval, not before every batch
            return
        self.since, self.last = 0, self.clock()
        self._sweep(path)
        log.info(
            "dedup snapshot written",
            path=str(path),
            members=len(self.store),
            bytes=size,
            seconds=round(time.monotonic() - began, 2),
        )

    def _sweep(self, path: Path) -> None:
        """Remove temporary files that writers which died mid-write left behind, and other topics' snapshots older
        than the window."""
        now = time.time()
        leftovers = [(t, STALE_TEMPORARY_S) for t in path.parent.glob(f".{path.name}.*.tmp")]
        if self.stale_after_s:
            leftovers += [(s, self.stale_after_s) for s in path.parent.glob(f"*{SUFFIX}") if s != path]
        for leftover, age in leftovers:
            try:
                if now - leftover.stat().st_mtime > age:
                    leftover.unlink()
            except OSError:
                pass

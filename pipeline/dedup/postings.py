"""Key -> rows postings in numpy arrays: what the dedup store uses for its id, content-hash, LSH and sample indexes.

A Python dict of lists costs ~100 bytes per entry; at 37 LSH bands and ~20 samples per article that alone was
most of the old store's 19 KB per article. Here the postings are sorted (key, row) arrays, 8 or 12 bytes per
entry, in levels: new postings are appended to a small unsorted buffer (compared whole with each query), which is
sorted into `small` when full; `small` is merged into `mid` when it passes `SMALL` entries, and `mid` into `base`
when it reaches an eighth of it. Every merge is a linear pass (searchsorted + scatter), never a sort of the whole
index. `mid` and `base` carry a bucket table (the keys' top bits index the run, ~8 entries per bucket, half a
byte per posting): the keys are hashes, so a lookup touches a few cache lines where a binary search over 37M
LSH postings would miss the cache 25 times per key.
Rows of removed members stay until a merge or `remap` drops them: readers filter rows with the store's `alive`
mask.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BUFFER = 512  # entries appended before they are sorted into `small`
SMALL = 1 << 16  # entries in `small` before it is merged into `mid`
BUCKET = 8  # entries per bucket of a run's bucket table, on average
ROW = np.uint32
_EMPTY_ROWS = np.empty(0, dtype=ROW)


def merge_sorted(
    keys_a: np.ndarray, rows_a: np.ndarray, keys_b: np.ndarray, rows_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted runs as one (linear: b's entries are scattered into a's gaps)."""
    if not keys_b.size:
        return keys_a, rows_a
    if not keys_a.size:
        return keys_b, rows_b
    at = np.searchsorted(keys_a, keys_b, side="right") + np.arange(keys_b.size)
    from_a = np.ones(keys_a.size + keys_b.size, dtype=bool)
    from_a[at] = False
    keys = np.empty(from_a.size, dtype=keys_a.dtype)
    rows = np.empty(from_a.size, dtype=ROW)
    keys[from_a], keys[at] = keys_a, keys_b
    rows[from_a], rows[at] = rows_a, rows_b
    return keys, rows


def _find(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index into `wanted`, row) of every entry of one sorted run whose key is wanted."""
    low = np.searchsorted(keys, wanted, side="left")
    present = np.flatnonzero(keys[np.minimum(low, keys.size - 1)] == wanted)
    if not present.size:  # the usual answer for LSH and sample keys: one binary search each, not two
        return np.empty(0, dtype=np.intp), _EMPTY_ROWS
    low = low[present]
    counts = np.searchsorted(keys, wanted[present], side="right") - low
    total = int(counts.sum())
    which = np.repeat(present, counts)
    starts = np.repeat(low - (np.cumsum(counts) - counts), counts)
    return which, rows[starts + np.arange(total)]


class Run:
    """A sorted run of (key, row) postings; large ones with a bucket table over the keys' top bits."""

    __slots__ = ("keys", "rows", "_offsets", "_shift")

    def __init__(self, keys: np.ndarray, rows: np.ndarray, *, table: bool = False) -> None:
        self.keys, self.rows = keys, rows
        self._offsets: np.ndarray | None = None
        self._shift = np.uint64(0)
        if table and keys.size >= SMALL:
            self._table()

    @property
    def size(self) -> int:
        return int(self.keys.size)

    def _table(self) -> None:
        """offsets[b] = the first entry whose key's top bits are b (counted in chunks: no copy of the keys)."""
        top = int(self.keys[-1]).bit_length()
        bits = max(1, (self.keys.size // BUCKET).bit_length())
        shift = max(top - bits, 0)
        buckets = (int(self.keys[-1]) >> shift) + 1
        counts = np.zeros(buckets, dtype=np.int64)
        for first in range(0, self.keys.size, 1 << 22):
            chunk = self.keys[first : first + (1 << 22)] >> self.keys.dtype.type(shift)
            counts += np.bincount(chunk.astype(np.int64), minlength=buckets)
        offsets = np.zeros(buckets + 1, dtype=np.uint32 if self.keys.size < 2**32 else np.int64)
        np.cumsum(counts, out=offsets[1:])
        self._offsets, self._shift = offsets, np.uint64(shift)

    def find(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into `wanted`, row) of every posting whose key is wanted."""
        if self._offsets is None:
            return _find(self.keys, self.rows, wanted)
        offsets = self._offsets
        bucket = np.minimum(wanted.astype(np.uint64) >> self._shift, offsets.size - 2).astype(np.intp)
        low = offsets[bucket].astype(np.intp)
        counts = offsets[bucket + 1].astype(np.intp) - low
        total = int(counts.sum())
        if not total:
            return np.empty(0, dtype=np.intp), _EMPTY_ROWS
        which = np.repeat(np.arange(wanted.size), counts)
        at = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(total)
        hit = self.keys[at] == wanted[which]
        return which[hit], self.rows[at[hit]]

    def nbytes(self) -> int:
        return self.keys.nbytes + self.rows.nbytes + (0 if self._offsets is None else self._offsets.nbytes)


class Postings:
    """A multimap from integer keys to rows."""

    def __init__(self, dtype: type[np.unsignedinteger], alive: Callable[[], np.ndarray]) -> None:
        self.dtype = np.dtype(dtype)
        self._alive = alive  # the owner's current alive-by-row mask
        self.clear()

    def _empty(self) -> Run:
        return Run(np.empty(0, dtype=self.dtype), _EMPTY_ROWS)

    def clear(self) -> None:
        """Forget every posting."""
        self._base, self._mid, self._small = self._empty(), self._empty(), self._empty()
        self._buffer_keys = np.empty(BUFFER, dtype=self.dtype)
        self._buffer_rows = np.empty(BUFFER, dtype=ROW)
        self._buffered = 0

    @property
    def entries(self) -> int:
        """Postings held, removed rows' included until a merge drops them."""
        return self._base.size + self._mid.size + self._small.size + self._buffered

    def add(self, keys: np.ndarray, row: int) -> None:
        """Post `row` under each key."""
        self.add_many(keys, np.full(keys.size, row, dtype=ROW))

    def add_many(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Post each row under its key."""
        if keys.size > BUFFER - self._buffered:
            self._flush()
            if keys.size > BUFFER:
                order = np.argsort(keys, kind="stable")
                self._merge_small(keys[order].astype(self.dtype), rows[order].astype(ROW))
                return
        end = self._buffered + keys.size
        self._buffer_keys[self._buffered : end] = keys
        self._buffer_rows[self._buffered : end] = rows
        self._buffered = end

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into `keys`, row) of every posting under the keys, rows of removed members included."""
        parts = [run.find(keys) for run in (self._base, self._mid, self._small) if run.size]
        if self._buffered:
            which, at = np.nonzero(keys[:, None] == self._buffer_keys[None, : self._buffered])
            if which.size:
                parts.append((which, self._buffer_rows[at]))
        parts = [part for part in parts if part[0].size]
        if not parts:
            return np.empty(0, dtype=np.intp), _EMPTY_ROWS
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _live(self, run: Run) -> tuple[np.ndarray, np.ndarray]:
        """A run's postings without those of removed rows."""
        keep = self._alive()[run.rows]
        return (run.keys, run.rows) if keep.all() else (run.keys[keep], run.rows[keep])

    def _flush(self) -> None:
        """Sort the buffer into `small`."""
        if not self._buffered:
            return
        keys, rows = self._buffer_keys[: self._buffered], self._buffer_rows[: self._buffered]
        order = np.argsort(keys, kind="stable")
        self._buffered = 0
        self._merge_small(keys[order], rows[order])

    def _merge_small(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Merge a sorted run into `small`, and on down the levels when they have grown."""
        self._small = Run(*merge_sorted(self._small.keys, self._small.rows, keys, rows))
        if self._small.size < SMALL:
            return
        merged = merge_sorted(*self._live(self._mid), *self._live(self._small))
        self._small = self._empty()
        if merged[0].size * 8 >= self._base.size:
            self._base = Run(*merge_sorted(*self._live(self._base), *merged), table=True)
            self._mid = self._empty()
        else:
            self._mid = Run(*merged, table=True)

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Everything as one sorted run of live postings (what a snapshot stores)."""
        self._flush()
        rest = merge_sorted(*self._live(self._mid), *self._live(self._small))
        self._base = Run(*merge_sorted(*self._live(self._base), *rest), table=True)
        self._mid, self._small = self._empty(), self._empty()
        return self._base.keys, self._base.rows

    def load(self, keys: np.ndarray, rows: np.ndarray, *, sort: bool = False) -> None:
        """Replace every posting by these (sorted by key unless `sort`)."""
        self.clear()
        if sort:
            order = np.argsort(keys, kind="stable")
            keys, rows = keys[order], rows[order]
        self._base = Run(
            np.ascontiguousarray(keys, dtype=self.dtype), np.ascontiguousarray(rows, dtype=ROW), table=True
        )

    def remap(self, new_rows: np.ndarray) -> None:
        """Renumber rows (`new_rows[old]`, negative: dropped) after the owner compacted its rows."""
        keys, rows = self.run()
        mapped = new_rows[rows]
        keep = mapped >= 0
        self._base = Run(keys[keep], mapped[keep].astype(ROW), table=True)

    def nbytes(self) -> int:
        """Bytes of the arrays."""
        runs = self._base.nbytes() + self._mid.nbytes() + self._small.nbytes()
        return runs + self._buffer_keys.nbytes + self._buffer_rows.nbytes

"""The dedup state: one compact member per article of the window, searchable by id, content hash, MinHash LSH
and sampled shingles.

Only the incoming article has its whole fingerprint (`Signature`, members.py); what the window keeps of each article
(`Member`) is what the decision needs in compact form: the decision itself, the MinHash values (LSH keys are
derived from them), the hashes below the sample limit (containment candidates), the lead's shingle hashes, and a
containment sketch of the shingle set (pipeline/dedup/sketch.py). Members live in numpy columns (one row per
article, a byte heap for the variable parts; their layout and keys in layout.py) and the indexes are sorted
postings arrays (postings.py): ~2.5 KB
per article where the old store of shingle sets in dicts took 19 KB, and a snapshot of the whole window is a
few arrays (snapshot.py).

Persistence is a compacted topic (key = article_id, value = `Member.to_state_record()`, tombstone on eviction):
the runner produces the records the stage hands it and replays the topic (after the snapshot's offsets when
there is one) into `apply`. Nothing here touches Kafka; every method is deterministic given the records applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from pipeline.dedup import layout
from pipeline.dedup.fingerprint import Fingerprinter
from pipeline.dedup.members import _NONE, METHODS, Member, Signature, id_number
from pipeline.dedup.postings import ROW, Postings
from pipeline.dedup.sketch import UNIVERSE, Sketch

# -- the store ---------------------------------------------------------------------------------------------

_GROWTH = 1.125  # capacity grows by an eighth: little unused room (a copy of the store per 12 % growth)
# Removed rows are reclaimed (rows renumbered, the heap rewritten in place) once they are this share of all rows.
_DEAD_SHARE = 1 / 8
_CHUNK = 8_192  # rows moved at a time when compacting (bounds the temporary copies)


class DedupStore:
    """The window's members in numpy columns, with postings for ids, content hashes, LSH bands and samples."""

    def __init__(
        self,
        fingerprinter: Fingerprinter,
        *,
        lsh_threshold: float = 0.3,
        sample_one_in: int = 32,
        max_postings: int = 100,
    ) -> None:
        self.fingerprinter = fingerprinter
        self.lsh_threshold = lsh_threshold
        self.bands, self.rows_per_band = layout.lsh_bands(lsh_threshold, fingerprinter.num_perm)
        # Containment candidates: every shingle hash below this limit (1 in `sample_one_in`, a fixed-threshold
        # sample, the same shingles in every text) is indexed. A wire story inside a page 5-10x its length has
        # Jaccard 0.1-0.2, where LSH banding finds it only 50-90 % of the time; it shares all its samples.
        self.sample_limit = UNIVERSE // sample_one_in if sample_one_in else 0
        self.max_postings = max_postings  # a sample shared by more articles than this is a stock phrase: not asked
        self._columns = layout.fixed_columns(fingerprinter.num_perm)
        self._clear()

    def _clear(self) -> None:
        self._allocate(0)
        alive = self._alive_mask
        self._by_id = Postings(np.uint64, alive)
        self._by_content = Postings(np.uint64, alive)
        self._by_band = Postings(np.uint32, alive)
        self._by_sample = Postings(np.uint32, alive)
        self.newest = 0.0  # newest ingested time seen: stream time, so a replay evicts exactly as the first run
        self._oldest = float("inf")  # a lower bound of the oldest live member's ingested time

    def _allocate(self, capacity: int) -> None:
        self._n = 0  # rows used (live and removed)
        self._live = 0
        self._col = {name: np.zeros((capacity, *shape), dtype=dtype) for name, (dtype, shape) in self._columns.items()}
        self._heap = np.zeros(0, dtype=np.uint8)
        self._heap_used = 0

    def _alive_mask(self) -> np.ndarray:
        return self._col["alive"]

    def _postings(self) -> dict[str, Postings]:
        return {"id": self._by_id, "content": self._by_content, "band": self._by_band, "sample": self._by_sample}

    def __len__(self) -> int:
        return self._live

    # -- rows ---------------------------------------------------------------------------------------------

    def _grow(self, rows: int, heap_bytes: int) -> None:
        """Room for `rows` more rows and `heap_bytes` more heap."""
        capacity, grew = self._col["ids"].shape[0], False
        if self._n + rows > capacity:
            new = max(self._n + rows, int(capacity * _GROWTH) + 64)
            for name, array in self._col.items():
                grown = np.zeros((new, *array.shape[1:]), dtype=array.dtype)
                grown[: self._n] = array[: self._n]
                self._col[name] = grown
            grew = True
        if self._heap_used + heap_bytes > self._heap.size:
            grown = np.zeros(max(self._heap_used + heap_bytes, int(self._heap.size * _GROWTH) + 4096), np.uint8)
            grown[: self._heap_used] = self._heap[: self._heap_used]
            self._heap = grown
            grew = True
        if grew and self._n > 4096:
            layout.release_freed_memory()

    def _row_of(self, article_id: str) -> int | None:
        _, rows = self._by_id.find(np.array([id_number(article_id)], dtype=np.uint64))
        live = rows[self._col["alive"][rows]]
        return int(live[0]) if live.size else None

    def _member(self, row: int) -> Member:
        """The member stored in one row."""
        c = self._col
        flags = int(c["flags"][row])
        start, n_samples, n_lead = int(c["heap_start"][row]), int(c["n_samples"][row]), int(c["n_lead"][row])
        heap = self._heap
        samples = heap[start : start + 4 * n_samples].view(np.uint32).copy()
        at = start + 4 * n_samples
        lead = lead_quoted = None
        if flags & layout.HAS_LEAD:
            lead = heap[at : at + 4 * n_lead].view(np.uint32).copy()
            at += 4 * n_lead
            lead_quoted = np.unpackbits(heap[at : at + (n_lead + 7) // 8], count=n_lead, bitorder="little").astype(bool)
            at += (n_lead + 7) // 8
        size, bits = int(c["sketch_size"][row]), int(c["sketch_bits"][row])
        sketch_len = (size * (bits + 1) + 7) // 8 + (2 * size + 7) // 8
        sketch = Sketch(
            int(c["shingle_count"][row]), size, int(c["sketch_limit"][row]), bits, heap[at : at + sketch_len].tobytes()
        )
        fp = self.fingerprinter
        return Member(
            article_id=f"{int(c['ids'][row]):016x}",
            content_hash=c["content"][row].astype("<u8").tobytes().hex(),
            cluster_id=f"{int(c['cluster'][row]):016x}",
            is_duplicate=bool(flags & layout.DUPLICATE),
            duplicate_of=f"{int(c['duplicate_of'][row]):016x}" if flags & layout.HAS_DUPLICATE_OF else None,
            similarity=float(c["similarity"][row]) if flags & layout.HAS_SIMILARITY else None,
            method=METHODS[flags >> layout.METHOD_SHIFT],
            matched_id=f"{int(c['matched'][row]):016x}" if flags & layout.HAS_MATCHED else None,
            published=float(c["published"][row]),
            ingested=float(c["ingested"][row]),
            revision=int(c["revision"][row]),
            word_count=int(c["word_count"][row]),
            minhash=c["minhash"][row].copy(),
            sketch=sketch,
            samples=samples,
            lead=lead,
            lead_quoted=lead_quoted,
            lead_size=int(c["lead_size"][row]),
            shingling=fp.shingling,
            minhash_scheme=fp.minhash_scheme,
        )

    def _put(self, member: Member, *, index: bool = True) -> int:
        """Append a member as a new row; returns the row. Its id is posted; the other postings too unless `index`
        is False (the caller posts a batch of rows with `_index`)."""
        lead = member.lead if member.lead is not None else _NONE
        lead_bits = b""
        if member.lead is not None:
            quoted = member.lead_quoted if member.lead_quoted is not None else np.zeros(lead.size, dtype=bool)
            lead_bits = np.packbits(quoted, bitorder="little").tobytes()
        parts = [member.samples.astype("<u4").tobytes(), lead.astype("<u4").tobytes(), lead_bits, member.sketch.data]
        length = sum(len(p) for p in parts)
        self._grow(1, layout.padded(length))
        row, start = self._n, self._heap_used
        self._heap[start : start + length] = np.frombuffer(b"".join(parts), dtype=np.uint8)
        self._heap_used += layout.padded(length)
        flags = (
            (layout.DUPLICATE if member.is_duplicate else 0)
            | (layout.HAS_DUPLICATE_OF if member.duplicate_of is not None else 0)
            | (layout.HAS_MATCHED if member.matched_id is not None else 0)
            | (layout.HAS_SIMILARITY if member.similarity is not None else 0)
            | (layout.HAS_LEAD if member.lead is not None else 0)
            | (METHODS.index(member.method) << layout.METHOD_SHIFT)
        )
        c = self._col
        key = id_number(member.article_id)
        c["ids"][row] = key
        c["cluster"][row] = id_number(member.cluster_id)
        c["duplicate_of"][row] = id_number(member.duplicate_of) if member.duplicate_of is not None else 0
        c["matched"][row] = id_number(member.matched_id) if member.matched_id is not None else 0
        c["flags"][row] = flags
        c["similarity"][row] = member.similarity if member.similarity is not None else 0.0
        c["published"][row] = member.published
        c["ingested"][row] = member.ingested
        c["revision"][row] = member.revision
        c["word_count"][row] = member.word_count
        c["shingle_count"][row] = member.sketch.count
        c["lead_size"][row] = member.lead_size
        c["content"][row] = layout.content_words(member.content_hash)
        c["minhash"][row] = member.minhash
        c["sketch_size"][row] = member.sketch.size
        c["sketch_limit"][row] = member.sketch.limit
        c["sketch_bits"][row] = member.sketch.bits
        c["n_samples"][row] = member.samples.size
        c["n_lead"][row] = lead.size
        c["heap_start"][row] = start
        c["heap_len"][row] = length
        c["alive"][row] = True
        self._n += 1
        self._live += 1
        self._by_id.add(np.array([key], dtype=np.uint64), row)
        if index:
            self._by_content.add(layout.content_keys(c["content"][row : row + 1]), row)
            if member.sketch.count:  # an empty text's all-max MinHash would collide with every other empty text
                self._by_band.add(layout.band_keys(member.minhash[None, :], self.bands, self.rows_per_band)[0], row)
            if self.sample_limit:
                self._by_sample.add(member.samples[: int(np.searchsorted(member.samples, self.sample_limit))], row)
        return row

    def _index(self, rows: np.ndarray) -> None:
        """Post rows under their content hash, LSH bands and samples, all at once."""
        rows = rows[self._col["alive"][rows]]
        for name in ("content", "band", "sample"):
            keys, posted = self._postings_from_columns(name, rows)
            self._postings()[name].add_many(keys, posted)

    # -- the store's interface ----------------------------------------------------------------------------

    def lookup(self, article_id: str) -> Member | None:
        """The member stored for an article, if it is in the window."""
        row = self._row_of(article_id)
        return None if row is None else self._member(row)

    def add(self, signature: Signature | Member) -> Member:
        """Store an article (compacted when it comes with its whole fingerprint), replacing its previous one."""
        member = signature.compact() if isinstance(signature, Signature) else signature
        self.remove(member.article_id)
        self._put(member)
        self.newest = max(self.newest, member.ingested)
        self._oldest = min(self._oldest, member.ingested)
        return member

    def remove(self, article_id: str) -> Member | None:
        """Forget an article; returns what was stored."""
        row = self._row_of(article_id)
        if row is None:
            return None
        member = self._member(row)
        self._kill(row)
        self._maybe_compact()
        return member

    def _kill(self, row: int) -> None:
        self._col["alive"][row] = False
        self._live -= 1

    def with_content(self, content_hash: str) -> list[Member]:
        """Articles whose normalised text has this hash."""
        words = layout.content_words(content_hash)
        _, rows = self._by_content.find(layout.content_keys(words[None, :]))
        rows = rows[self._col["alive"][rows]]
        rows = rows[(self._col["content"][rows] == words).all(axis=1)]
        return [self._member(int(r)) for r in np.sort(rows)]

    def candidates(self, minhash: np.ndarray, shingles: np.ndarray) -> list[Member]:
        """Articles in an LSH bucket with this MinHash or sharing a sampled shingle (to be confirmed by the caller)."""
        alive = self._col["alive"]
        found = [np.empty(0, dtype=ROW)]
        if shingles.size:
            _, rows = self._by_band.find(layout.band_keys(minhash[None, :], self.bands, self.rows_per_band)[0])
            found.append(rows[alive[rows]])
        if self.sample_limit:
            samples = shingles[: int(np.searchsorted(shingles, self.sample_limit))]
            which, rows = self._by_sample.find(samples)
            live = alive[rows]
            which, rows = which[live], rows[live]
            sharing = np.bincount(which, minlength=samples.size)
            found.append(rows[sharing[which] <= self.max_postings])
        rows = np.unique(np.concatenate(found))
        order = np.argsort(self._col["ids"][rows], kind="stable")
        return [self._member(int(r)) for r in rows[order]]

    def evict(self, horizon: float) -> list[str]:
        """Forget every article ingested before `horizon` (epoch seconds); returns their ids, oldest first."""
        if horizon <= self._oldest:
            return []
        c, n = self._col, self._n
        ingested = c["ingested"][:n]
        rows = np.flatnonzero(c["alive"][:n] & (ingested < horizon))
        rows = rows[np.lexsort((c["ids"][rows], ingested[rows]))]
        evicted = [f"{i:016x}" for i in c["ids"][rows].tolist()]
        for row in rows.tolist():
            self._kill(row)
        live = c["alive"][:n]
        self._oldest = float(ingested[live].min()) if live.any() else float("inf")
        self._maybe_compact()
        return evicted

    def records(self) -> Iterator[dict]:
        """The state as records (what a compacted topic holds after compaction)."""
        for row in np.flatnonzero(self._col["alive"][: self._n]).tolist():
            yield self._member(row).to_state_record()

    def apply(self, article_id: str, record: dict | None) -> None:
        """Apply one state record (None deletes); an older revision than the stored one is ignored."""
        self.apply_many([(article_id, record)])

    def apply_many(self, items: Iterable[tuple[str, dict | None]]) -> int:
        """Apply state records in order, as `apply` one by one would; returns how many were read. The rows' content,
        LSH and sample postings are added together at the end (nothing here queries them meanwhile)."""
        added: list[int] = []
        read = 0
        for article_id, record in items:
            read += 1
            row = self._row_of(article_id)
            if record is None:
                if row is not None:
                    self._kill(row)
                continue
            member = Member.from_state_record(record, self.fingerprinter)
            if row is not None:
                if self._col["revision"][row] > member.revision or self._member(row).same_decision(member):
                    continue  # our own record read back, or a stale one: what we hold is as new or newer
                self._kill(row)
            added.append(self._put(member, index=False))
            self.newest = max(self.newest, member.ingested)
            self._oldest = min(self._oldest, member.ingested)
        if added:
            self._index(np.array(added, dtype=np.int64))
        self._maybe_compact()
        return read

    def rebuild(self, records: Iterable[dict | tuple[str, dict | None]]) -> None:
        """Replace the state with the given records (values, or (key, value) pairs with tombstones)."""
        self._clear()
        batch: list[tuple[str, dict | None]] = []
        for item in records:
            batch.append(item if isinstance(item, tuple) else (item["article_id"], item))
            if len(batch) == 1_000:
                self.apply_many(batch)
                batch = []
        self.apply_many(batch)

    # -- compaction, arrays -------------------------------------------------------------------------------

    def _maybe_compact(self) -> None:
        dead = self._n - self._live
        if dead >= 1024 and dead >= self._n * _DEAD_SHARE:
            self.compact()

    def compact(self) -> None:
        """Drop removed rows: columns and heap moved down in place, chunk by chunk; postings renumbered."""
        n, c = self._n, self._col
        keep = np.flatnonzero(c["alive"][:n])
        if keep.size == n:
            for postings in self._postings().values():
                postings.run()
            return
        new_rows = np.full(n, -1, dtype=np.int64)
        new_rows[keep] = np.arange(keep.size)
        for postings in self._postings().values():  # first: they read the alive mask of the old rows
            postings.remap(new_rows)
        heap, written = self._heap, 0
        for first in range(0, keep.size, _CHUNK):
            rows = keep[first : first + _CHUNK]
            # The heap is appended in row order, so kept rows' bytes only move down: a chunk's bytes are read
            # (copied) before anything at or above where they go is written.
            padded = (c["heap_len"][rows].astype(np.int64) + 3) & ~3
            offsets = np.cumsum(padded) - padded
            moved = heap[np.repeat(c["heap_start"][rows] - offsets, padded) + np.arange(int(padded.sum()))]
            heap[written : written + moved.size] = moved
            c["heap_start"][rows] = written + offsets
            written += moved.size
            for array in c.values():
                array[first : first + rows.size] = array[rows]
        for array in c.values():
            array[keep.size : n] = 0
        self._heap_used = written
        self._n = keep.size
        layout.release_freed_memory()

    def arrays(self) -> dict[str, np.ndarray]:
        """The whole state as arrays (compacted first): what a snapshot stores."""
        self.compact()
        n = self._n
        out = {f"col.{name}": array[:n] for name, array in self._col.items() if name != "alive"}
        out["heap"] = self._heap[: self._heap_used]
        for name, postings in self._postings().items():
            keys, rows = postings.run()
            out[f"postings.{name}.keys"], out[f"postings.{name}.rows"] = keys, rows
        out["clock"] = np.array([self.newest], dtype=np.float64)
        return out

    def load_arrays(
        self, arrays: dict[str, np.ndarray], *, postings: Iterable[str] = ("id", "content", "band", "sample")
    ) -> None:
        """Replace the state by `arrays()` of another store; the postings not named are rebuilt from the columns."""
        self._clear()
        n = int(arrays["col.ids"].shape[0])
        for name, (dtype, shape) in self._columns.items():
            if name == "alive":
                self._col[name] = np.ones(n, dtype=bool)
                continue
            array = arrays[f"col.{name}"]
            if array.dtype != dtype or array.shape != (n, *shape):
                raise ValueError(f"snapshot column {name} is {array.dtype}{array.shape}, expected {dtype}{(n, *shape)}")
            self._col[name] = array
        self._heap = arrays["heap"]
        self._heap_used = int(self._heap.size)
        self._n = self._live = n
        named = set(postings)
        for name, index in self._postings().items():
            if name in named:
                index.load(arrays[f"postings.{name}.keys"], arrays[f"postings.{name}.rows"])
            else:
                index.load(*self._postings_from_columns(name), sort=True)
        self.newest = float(arrays["clock"][0])
        self._oldest = float(self._col["ingested"].min()) if n else float("inf")

    def _postings_from_columns(self, name: str, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(keys, rows) of one index for these rows (default: all), computed from the columns (unsorted)."""
        c = self._col
        rows = np.arange(self._n, dtype=ROW) if rows is None else rows.astype(ROW)
        if name == "id":
            return c["ids"][rows], rows
        if name == "content":
            return layout.content_keys(c["content"][rows]), rows
        if name == "band":
            banded = rows[c["shingle_count"][rows] > 0]
            keys = [
                layout.band_keys(c["minhash"][banded[i : i + _CHUNK]], self.bands, self.rows_per_band).ravel()
                for i in range(0, banded.size, _CHUNK)
            ]
            return (
                np.concatenate(keys) if keys else np.empty(0, dtype=np.uint32),
                np.repeat(banded, self.bands).astype(ROW),
            )
        if not self.sample_limit:
            return np.empty(0, dtype=np.uint32), np.empty(0, dtype=ROW)
        # samples: the heap's sample part of each row, under this store's limit
        counts = c["n_samples"][rows].astype(np.int64)
        first = np.repeat(c["heap_start"][rows] // 4 - (np.cumsum(counts) - counts), counts)
        words = self._heap[: self._heap_used].view("<u4")[first + np.arange(int(counts.sum()))].astype(np.uint32)
        owners = np.repeat(rows, counts)
        wanted = words < self.sample_limit
        return words[wanted], owners[wanted]

    def nbytes(self) -> int:
        """Bytes held by the columns, the heap and the postings arrays (capacity included)."""
        return (
            sum(a.nbytes for a in self._col.values())
            + self._heap.nbytes
            + sum(p.nbytes() for p in self._postings().values())
        )

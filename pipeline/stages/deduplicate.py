"""dedup: exact and near duplicates as story clusters, decided against a windowed store of signatures.

Decisions, in order, for each article of a batch (arrival order, never re-sorted: a batch's boundaries
differ after a restart and the decisions must not):
1. Same `article_id` with the same normalised text as stored: a re-delivery, given its stored decision.
   Same id with other text: an update, decided again below (its revision goes up).
2. Texts under `min_words` words are stubs (a "Video" teaser, a headline): unique, never merged.
3. Exact: another article of the window has the same content hash -> its cluster, method "exact".
4. Near: candidates from MinHash LSH and from sampled shingles (for copies embedded in longer pages),
   each confirmed on the article's whole shingle set against the member's containment sketch (the exact counts
   unless a 1-in-2048 false hit occurs: pipeline/dedup/sketch.py), with the shingles both texts carry only
   inside quotations or embedded posts set aside (two stories quoting one statement are not copies), by
   max(Jaccard, containment) >= `threshold` (containment only when the smaller text has
   `min_containment_shingles` shingles), and by a
   shared lead: of one of the two texts, at least `min_lead_share` of the lead window (its first `lead_words`
   words after any title lines, quotations not counted) are shingles the other text has. A copy keeps the lead
   of its original under a new headline, a new first sentence, a footer or commentary; two stories of one outlet
   that share background paragraphs, or one quotation, share no lead. Without a shared lead, two texts whose
   Jaccard alone reaches `same_text_jaccard` are still one text (a repost whose lead was rewritten: too little is
   left of either beside the shared part to be a story of its own), and so are two texts that share a passage of
   `document_shingles` shingles or more making up most of both (Jaccard `document_jaccard`): a document carried
   in full under each outlet's own framing (a joint statement, a report), far longer than a background block or
   a quotation. The most similar wins (ties: earliest
   published, then smallest id) -> its cluster, method "near".
5. Otherwise unique: the article founds its own cluster (`cluster_id` = its id).

Canonical member: the first article of a story to arrive founds the cluster and stays its canonical
(`duplicate_of` of every later member). Within one delivery order that is the earliest published
copy. When an earlier-published copy arrives after the cluster exists, it joins as a duplicate; the
canonical is not moved, because moving it would mean re-routing members already delivered downstream
(the stage emits one result per input) and flipping an indexed unique document into a duplicate. Its
own earlier `published_at` stays on its document, so the first outlet is still visible to analysts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.dedup.fingerprint import Fingerprint, Fingerprinter, load_boilerplate, load_embeds
from pipeline.dedup.members import Evidence, Member, Signature
from pipeline.dedup.snapshot import Snapshots
from pipeline.dedup.state import DedupStore
from pipeline.records import Article, Dedup
from pipeline.stages.base import Emit, Result

DAY = 86_400.0
_NEVER = 1 << 62  # a minimum no shingle set reaches: `Member.evidence` then scores Jaccard alone


@dataclass(frozen=True, slots=True)
class DecisionRules:
    """The knobs of the decision that are not part of the fingerprint."""

    threshold: float = 0.5
    window_days: float = 30.0
    min_words: int = 8
    min_containment_shingles: int = 20
    min_lead_share: float = 0.25
    # Jaccard (quotations both carry set aside) at which two texts are one text even without a shared lead: what
    # is left of each beside the shared part is too little to be a story of its own (a repost whose lead was
    # rewritten). Background or a quotation shared by two stories leaves each its own story, far below this.
    same_text_jaccard: float = 0.8
    # A shared passage this long (shingles outside set-aside quotations, about as many words) is a document carried
    # in full, not background or a quotation: two texts made mostly of it (Jaccard `document_jaccard`) are one text
    # under each outlet's framing. Background blocks and statements quoted in two stories run to a few paragraphs.
    document_shingles: int = 400
    document_jaccard: float = 0.5


class DedupStage:
    """Puts each article in a story cluster; unique ones go to `unique`, the others to `duplicates`."""

    name = "dedup"
    sources = ("translated",)
    state_topic = "dedup-state"  # topic key of the compacted state topic the runner replays and writes

    def __init__(
        self, store: DedupStore, rules: DecisionRules = DecisionRules(), *, snapshots: Path | None = None, **policy: Any
    ) -> None:
        """`snapshots`: the directory of the store's snapshots (None: none); `policy`: `Snapshots`' keywords."""
        self.store = store
        self.rules = rules
        self.fingerprinter: Fingerprinter = store.fingerprinter
        self._updates: dict[str, dict | None] = {}
        # What the runner's state tail calls to load the store from a snapshot and to write one
        # (pipeline.kafka_io.worker.Checkpoint); never while this stage holds decisions not yet handed over.
        self.checkpoint: Snapshots | None = (
            None if snapshots is None else Snapshots(store, snapshots, pending=lambda: bool(self._updates), **policy)
        )

    def process(self, batch: Sequence[Article]) -> list[Result]:
        """One routed article per input, in order; then the window is moved on."""
        results: list[Result] = [self._route(article, self.decide(article)) for article in batch]
        for article_id in self.store.evict(self.store.newest - self.rules.window_days * DAY):
            self._updates[article_id] = None
        return results

    def decide(self, article: Article) -> Member:
        """The stored decision for one article (made now unless this is a re-delivery)."""
        fingerprint = self.fingerprinter.of(article.text_en or article.text)
        known = self.store.lookup(article.article_id)
        if known is not None and known.content_hash == fingerprint.content_hash:
            self._updates[known.article_id] = known.to_state_record()  # idempotent: rewritten if a produce was lost
            return known
        if known is not None:
            self.store.remove(article.article_id)
        signature = self._signature(article, fingerprint, revision=0 if known is None else known.revision + 1)
        member = self.store.add(signature)  # compacted once: the record is the stored member's
        self._updates[signature.article_id] = member.to_state_record()
        return member

    def _signature(self, article: Article, fingerprint: Fingerprint, revision: int) -> Signature:
        """The new signature of an article with its decision."""
        ingested = _epoch(article.ingested_at)
        published = min(_epoch(article.published_at) if article.published_at else ingested, ingested)
        decision: dict[str, Any] = dict(
            cluster_id=article.article_id,
            is_duplicate=False,
            duplicate_of=None,
            similarity=None,
            method=None,
            matched_id=None,
        )
        if fingerprint.word_count >= self.rules.min_words:
            # Members older than the window are ignored here, not only evicted after the batch: the decision
            # then does not depend on where a batch boundary fell (batches differ after a restart).
            horizon = ingested - self.rules.window_days * DAY
            match = self._exact(fingerprint, horizon) or self._near(fingerprint, horizon)
            # An updated canonical that still matches its own members stays their canonical.
            if match is not None and match[0].cluster_id != article.article_id:
                member, score, method = match
                decision = dict(
                    cluster_id=member.cluster_id,
                    is_duplicate=True,
                    duplicate_of=member.cluster_id,
                    similarity=round(score, 4),
                    method=method,
                    matched_id=member.article_id,
                )
        return Signature(
            article_id=article.article_id,
            content_hash=fingerprint.content_hash,
            published=published,
            ingested=ingested,
            revision=revision,
            word_count=fingerprint.word_count,
            shingles=fingerprint.shingles,
            minhash=fingerprint.minhash,
            shingling=self.fingerprinter.shingling,
            minhash_scheme=self.fingerprinter.minhash_scheme,
            quoted=fingerprint.quoted,
            lead=fingerprint.lead,
            lead_size=fingerprint.lead_size,
            **decision,
        )

    def _exact(self, fingerprint: Fingerprint, horizon: float) -> tuple[Member, float, str] | None:
        """The earliest article of the window with the same normalised text."""
        same = [s for s in self.store.with_content(fingerprint.content_hash) if s.ingested >= horizon]
        return (min(same, key=_age_order), 1.0, "exact") if same else None

    def _near(self, fingerprint: Fingerprint, horizon: float) -> tuple[Member, float, str] | None:
        """The most similar candidate that passes the threshold, quotations both carry set aside, and shares a lead.

        Members are compact (pipeline/dedup/members.py): the article's whole shingle set is probed against each
        candidate's sketch, which gives the exact counts unless a false hit (1 in 2048 probes) occurs."""
        confirmed = []
        for candidate in self.store.candidates(fingerprint.minhash, fingerprint.shingles):
            if candidate.word_count < self.rules.min_words or candidate.ingested < horizon:
                continue
            evidence = candidate.evidence(fingerprint, self.rules.min_containment_shingles)
            if evidence.score >= self.rules.threshold and (
                self._shares_lead(evidence) or self._same_text(candidate, fingerprint)
            ):
                confirmed.append((-evidence.score, *_age_order(candidate), candidate))
        if not confirmed:
            return None
        best = min(confirmed, key=lambda c: c[:3])
        return best[3], -best[0], "near"

    def _shares_lead(self, evidence: Evidence) -> bool:
        """True when the lead of either text is in the other (a member without a lead: the article's lead)."""
        needed = self.rules.min_lead_share
        if evidence.article_lead >= needed:
            return True
        return evidence.member_lead is not None and evidence.member_lead >= needed

    def _same_text(self, candidate: Member, fingerprint: Fingerprint) -> bool:
        """True when the two texts are mostly one text: Jaccard alone (containment never counts here) reaches
        `same_text_jaccard`, or `document_jaccard` when the shared passage is a whole document's length."""
        evidence = candidate.evidence(fingerprint, min_containment_shingles=_NEVER)
        if evidence.score >= self.rules.same_text_jaccard:
            return True
        return evidence.shared >= self.rules.document_shingles and evidence.score >= self.rules.document_jaccard

    def _route(self, article: Article, signature: Member) -> Emit:
        """The article with its `dedup` decision, to `duplicates` or `unique`."""
        dedup = Dedup(
            content_hash=signature.content_hash,
            cluster_id=signature.cluster_id,
            is_duplicate=signature.is_duplicate,
            duplicate_of=signature.duplicate_of,
            similarity=signature.similarity,
            method=signature.method,
        )
        return Emit("duplicates" if signature.is_duplicate else "unique", article.stamped(self.name, dedup=dedup))

    # -- state ---------------------------------------------------------------------------------

    @property
    def window_size(self) -> int:
        """Articles in the window now (the metrics' dedup window size)."""
        return len(self.store)

    def state_updates(self) -> list[tuple[str, dict | None]]:
        """State records (key, value; None = tombstone) to produce with this batch's outputs; drained."""
        updates, self._updates = list(self._updates.items()), {}
        if self.checkpoint is not None:
            self.checkpoint.count(len(updates))
        return updates

    def restore(self, items: Iterable[tuple[str, dict | None]]) -> None:
        """Apply state records, oldest first: the topic at start, then what this and other workers wrote."""
        applied = self.store.apply_many(items)
        if self.checkpoint is not None:
            self.checkpoint.count(applied)

    def rebuild(self, records: Iterable[dict | tuple[str, dict | None]]) -> None:
        """Replace the whole state with these records (a replay of the compacted topic)."""
        self.store.rebuild(records)


def _age_order(signature: Member) -> tuple[float, str]:
    """Earliest published first; the id breaks ties so the choice never depends on set order."""
    return signature.published, signature.article_id


def _epoch(timestamp: str) -> float:
    """Epoch seconds of an RFC 3339 timestamp."""
    return datetime.fromisoformat(timestamp).timestamp()


def build_dedup_stage(
    settings: Settings,
    *,
    sample_one_in: int = 32,
    max_postings: int = 100,
    min_containment_shingles: int = 20,
    lead_words: int = 32,
    seed: int = 1,
    boilerplate_file: str = "dedup_boilerplate.txt",
    embeds_file: str = "dedup_embeds.txt",
    state: Iterable[dict | tuple[str, dict | None]] = (),
) -> DedupStage:
    """A dedup stage from the settings (`NEWSFLOW_DEDUP_*`), optionally rebuilt from state records; with
    `NEWSFLOW_DEDUP_SNAPSHOT` its store is snapshotted to `NEWSFLOW_DEDUP_SNAPSHOT_DIR` (default <cache dir>/dedup).

    The keywords are the algorithm's internals (sampling, posting caps, seeds, data files), not settings.
    """
    threshold, lsh_threshold = settings.dedup_threshold, settings.dedup_lsh_threshold
    num_perm, shingle_words = settings.dedup_num_perm, settings.dedup_shingle_words
    window_days, min_words, min_lead_share = (
        settings.dedup_window_days,
        settings.dedup_min_words,
        settings.dedup_min_lead_share,
    )
    fingerprinter = Fingerprinter(
        shingle_words=shingle_words,
        num_perm=num_perm,
        seed=seed,
        boilerplate=load_boilerplate(boilerplate_file),
        embeds=load_embeds(embeds_file),
        lead_words=lead_words,
    )
    store = DedupStore(
        fingerprinter, lsh_threshold=lsh_threshold, sample_one_in=sample_one_in, max_postings=max_postings
    )
    stage = DedupStage(
        store,
        DecisionRules(
            threshold=threshold,
            window_days=window_days,
            min_words=min_words,
            min_containment_shingles=min_containment_shingles,
            min_lead_share=min_lead_share,
        ),
        snapshots=(settings.dedup_snapshot_dir or settings.cache_dir / "dedup") if settings.dedup_snapshot else None,
        kafka=settings.bootstrap_servers,
        every_records=settings.dedup_snapshot_every_records,
        every_s=settings.dedup_snapshot_every_s,
        stale_after_s=window_days * DAY,
    )
    stage.rebuild(state)
    return stage

"""Lines a source repeats: counted over distinct articles, restart-safe through its state records, bounded."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from pipeline.config import TOPIC_KEYS
from pipeline.contracts import SCHEMAS_DIR, Contracts
from pipeline.enrichment.repeated import (
    DAY,
    RepeatedLines,
    RepeatRules,
    Seen,
    line_fingerprint,
)

PROMO = "Support the Courier: become a friend of the newsroom."


def story(n: int) -> str:
    """An article of the Courier: its own story lines and the promotion every page carries."""
    return f"Story {n} opens with news from the front.\n\n{PROMO}\n\nStory {n} closes with a quote from the mayor."


def test_a_line_in_three_articles_of_a_source_is_its_boilerplate() -> None:
    store = RepeatedLines(RepeatRules(min_articles=3))
    promo = line_fingerprint(PROMO)
    assert promo not in store.observe("a1", "courier.example", story(1), 0.0)[0]
    assert promo not in store.observe("a2", "courier.example", story(2), 1.0)[0]
    assert promo in store.observe("a3", "courier.example", story(3), 2.0)[0]
    # another source's pages do not count for this one
    assert store.observe("b1", "other.example", story(4), 3.0)[0] == frozenset()


def test_a_redelivered_article_counts_once() -> None:
    store = RepeatedLines(RepeatRules(min_articles=3))
    for _ in range(5):
        lines, seen = store.observe("a1", "courier.example", story(1), 0.0)
    assert lines == frozenset() and seen.counted


def test_a_revision_of_an_article_is_remembered_but_not_counted() -> None:
    store = RepeatedLines(RepeatRules(min_articles=2))
    text = "Line one of the story.\nLine two of the story.\nLine three of the story.\nLine four of the story."
    store.observe("a1", "courier.example", text, 0.0)
    lines, seen = store.observe("a2", "courier.example", text + "\nAn update at noon.", 1.0)
    assert not seen.counted and lines == frozenset()  # its story lines are not "repeated" furniture


def test_state_records_rebuild_the_same_decisions_after_a_restart() -> None:
    store = RepeatedLines(RepeatRules(min_articles=3))
    records = [
        (f"a{i}", store.observe(f"a{i}", "courier.example", story(i), float(i))[1].to_state_record())
        for i in range(1, 3)
    ]
    restarted = RepeatedLines(RepeatRules(min_articles=3))
    restarted.rebuild(records)
    restarted.rebuild(records + records)  # applying the topic twice changes nothing
    assert line_fingerprint(PROMO) in restarted.observe("a3", "courier.example", story(3), 3.0)[0]
    assert Seen.from_state_record(records[0][1]) == store._seen["a1"]


def test_state_records_match_their_schema() -> None:
    """news.enrich-state.v1: checked with the project's own contracts once the topic is registered, else directly."""
    store = RepeatedLines()
    _, seen = store.observe("0123456789abcdef", "courier.example", story(1), 1_700_000_000.0)
    record = seen.to_state_record()
    if "enrich-state" in TOPIC_KEYS:
        Contracts().validate("enrich-state", record)
        return
    schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS_DIR.glob("*.json")}
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values() if "$id" in s)
    validator = Draft202012Validator(schemas["news.enrich-state.v1.json"], registry=registry)
    validator.validate(record)
    assert not validator.is_valid({**record, "lines": ["not-hex"]})


def test_old_articles_and_those_beyond_the_caps_are_forgotten() -> None:
    store = RepeatedLines(RepeatRules(min_articles=2, window_days=1, max_per_source=3, max_articles=4))
    for i in range(3):
        store.observe(f"old{i}", "courier.example", story(i), float(i))
    for i in range(3):
        store.observe(f"new{i}", "courier.example", story(10 + i), 2 * DAY + i)
    gone = store.evict()
    assert set(gone) == {"old0", "old1", "old2"} and len(store) == 3
    store.apply("new0", None)  # a tombstone from the topic
    assert len(store) == 2
    for i in range(4):
        store.observe(f"x{i}", f"s{i}.example", story(20 + i), 3 * DAY)
    assert len(store.evict()) == 2 and len(store) == 4


def test_no_source_no_learning() -> None:
    store = RepeatedLines()
    assert store.observe("a1", None, story(1), 0.0) == (frozenset(), None) and len(store) == 0

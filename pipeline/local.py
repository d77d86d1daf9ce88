"""The stage functions chained in-process, without Kafka or Elasticsearch (`newsflow process`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.config import Settings
from pipeline.contracts import Contracts
from pipeline.records import Article
from pipeline.registry import build_stage
from pipeline.stages.base import Emit, Reject


@dataclass
class LocalOutcome:
    """Records that left the chain (topic, wire record) and articles a stage rejected."""

    outputs: list[tuple[str, dict]] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Records per final topic."""
        return dict(Counter(topic for topic, _ in self.outputs))


def process_in_memory(
    articles: Sequence[Article],
    settings: Settings,
    stage_names: Sequence[str],
    contracts: Contracts | None = None,
    build=build_stage,
) -> LocalOutcome:
    """Route articles through the named stages as the topics would; validate every hop against its contract."""
    contracts = contracts or Contracts()
    stages = [build(name, settings) for name in stage_names]
    consumed = {source for stage in stages for source in stage.sources}
    queues: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        queues["raw"].append(Article.model_validate(contracts.validate("raw", article.to_wire())))
    outcome = LocalOutcome()
    for stage in stages:
        batch = [a for source in stage.sources for a in queues.pop(source, [])]
        if not batch:
            continue
        for article, result in zip(batch, stage.process(batch), strict=True):
            if isinstance(result, Reject):
                outcome.rejected.append((article.article_id, stage.name, result.reason))
            elif isinstance(result, Emit):
                wire = contracts.validate(result.topic, result.article.to_wire())
                if result.topic in consumed:
                    queues[result.topic].append(result.article)
                else:
                    outcome.outputs.append((result.topic, wire))
    return outcome

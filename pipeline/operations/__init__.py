"""What operators do, one module each; the CLI and the DAGs call these.

| module | for |
|---|---|
| `status` | where the stream stands: lag, throughput, DLQ, workers, index, ledger (`newsflow status`) |
| `audit` | the ledger: every raw message in one terminal state, per window (`newsflow audit`, news_quality) |
| `quality` | the news_quality DAG's checks |
| `search` | what analysts find: one hit per story, with what the stages extracted (`newsflow search`) |
| `dlq` | list and replay the dead-letter queue (`newsflow dlq`) |
| `reindex` | the next index version from the current one (`newsflow reindex`) |
| `replay` | a topic window into the next index version (`newsflow replay`, news_replay) |
| `retranslate` | pending translations back through translate (`newsflow retranslate`, news_retranslate) |
| `kibana` | import the analysts' saved objects into Kibana (`newsflow kibana import`, news_bootstrap) |
"""

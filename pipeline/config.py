"""The one settings object: read once from `NEWSFLOW_*` environment variables at the edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Topic keys in flow order; the wire name is `<prefix>news.<key>.v1`.
TOPIC_KEYS = ("raw", "detected", "translated", "unique", "duplicates", "enriched", "dlq")


class Settings(BaseSettings):
    """Everything configurable, with defaults for a laptop; see the README's table."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore", frozen=True)

    # Kafka
    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)
    group_prefix: str = "newsflow"
    batch_size: int = Field(100, ge=1)
    poll_timeout_ms: int = Field(500, ge=10)
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024)

    # Elasticsearch
    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_api_key: SecretStr | None = None
    es_request_timeout_s: float = 30.0
    index_alias: str = "news-articles"
    index_shards: int = Field(1, ge=1)
    index_replicas: int = Field(0, ge=0, description="0 for one node; 1+ on a cluster")
    bulk_max_docs: int = Field(500, ge=1)
    bulk_max_bytes: int = Field(5 * 1024 * 1024, ge=1024)

    # Input limits: beyond these an article is poison and goes to the DLQ.
    max_text_chars: int = Field(1_000_000, ge=1)

    # Transient failures (broker, Elasticsearch): back off up to this, forever unless bounded.
    retry_backoff_initial_s: float = 0.5
    retry_backoff_max_s: float = 30.0
    retry_max_attempts: int = Field(0, ge=0, description="0 = keep retrying until the service is back")

    # detect
    detector: str = Field("langdetect", description="document language: langdetect | lingua")
    paragraph_detector: str = Field("lingua", description="per-paragraph language: lingua | langdetect")
    detector_languages: str = "en,it,de,fr,es,ru,uk,pl,tr,ar"
    detect_min_confidence: float = Field(0.80, ge=0, le=1)

    # Logs: JSON lines on stderr (or `console` for humans)
    log_level: str = "INFO"
    log_format: str = "json"

    # Local stack (`newsflow stack ...`)
    stack_dir: Path = PROJECT_ROOT / ".stack"
    cache_dir: Path = Path.home() / ".cache" / "newsflow"
    kafka_version: str = "4.1.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    es_version: str = "8.19.7"
    es_port: int = 9200
    es_transport_port: int = 9300
    es_heap: str = "512m"
    stack_start_timeout_s: float = 180.0

    def topic(self, key: str) -> str:
        """Wire name of a topic key such as `raw`."""
        if key not in TOPIC_KEYS:
            raise KeyError(f"unknown topic key {key!r}; known: {', '.join(TOPIC_KEYS)}")
        return f"{self.topic_prefix}news.{key}.v1"

    def group(self, stage: str) -> str:
        """Consumer group of a stage: one group per stage."""
        return f"{self.group_prefix}.{stage}"

    def es_client_options(self) -> dict:
        """Keyword arguments for `elasticsearch.Elasticsearch`."""
        options: dict = {"hosts": [self.es_url], "request_timeout": self.es_request_timeout_s}
        if self.es_api_key is not None:
            options["api_key"] = self.es_api_key.get_secret_value()
        elif self.es_username and self.es_password is not None:
            options["basic_auth"] = (self.es_username, self.es_password.get_secret_value())
        return options

"""One typed settings class, read from ``NEWSFLOW_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: `newsflow up` starts an embedded PostgreSQL.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A read replica (streaming standby) for consumers: article lists, search, "
        "export, entities and the change feed read from it. Unset: they read the primary.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL (Celery broker): redis://…, or "
        "redis+sentinel://[:password@]host:port,host:port/<master>[/<db>] for Redis Sentinel. "
        "Unset: `newsflow up` starts an embedded Redis.",
    )
    redis_min_replicas: int = Field(
        default=0,
        ge=0,
        description="Answer 202 only once a submission reached this many Redis replicas "
        "(WAIT); 503 if it did not within NEWSFLOW_REDIS_WAIT_TIMEOUT_MS. 0: on the primary.",
    )
    redis_wait_timeout_ms: int = Field(
        default=1000, ge=1, description="How long intake waits for NEWSFLOW_REDIS_MIN_REPLICAS."
    )
    redis_key_prefix: str = Field(
        default="newsflow:", description="Prefix of every Redis key newsflow and Celery write."
    )
    queue: str = Field(default="newsflow.articles", description="Celery queue of submissions.")
    fetch_queue: str = Field(
        default="newsflow.fetch",
        description="Celery queue of `url` submissions (the worker fetches the page), so a "
        "slow site never delays pushed articles.",
    )

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_url: str | None = Field(
        default=None, description="Base URL used in links; default http://API_HOST:API_PORT."
    )
    max_body_bytes: int = Field(default=5 * 1024 * 1024, description="Largest request body.")
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A request's headers must arrive within this of the connection opening "
        "(or of the request's first byte); else the connection is closed.",
    )
    body_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A request's body must arrive within this of its headers; else the "
        "connection is closed.",
    )
    batch_max_items: int = Field(default=1000, description="Most articles in one batch request.")
    batch_max_body_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest batch or feed request body."
    )
    idempotency_ttl_seconds: int = Field(
        default=30 * 86400, description="How long an Idempotency-Key or external_id is remembered."
    )
    auth: Literal["auto", "required", "off"] = Field(
        default="auto",
        description="API keys: `auto` = open on a loopback API_HOST, required otherwise; "
        "`required`; `off` (refused unless API_HOST is loopback).",
    )
    auth_cache_seconds: float = Field(
        default=30,
        ge=0,
        description="How long the API trusts a key check; a revocation takes at most this.",
    )
    auth_failures_per_minute: int = Field(
        default=60,
        ge=0,
        description="Unknown or revoked keys per client address a minute before 429; 0 = off.",
    )
    console_secret: str | None = Field(
        default=None,
        description="Signs the web console's session cookies; unset: a random one per API "
        "process (sessions then end when it restarts and work on that process only).",
    )
    rate_limit_per_minute: int = Field(
        default=6000, ge=0, description="Requests per key (or per client IP when open); 0 = off."
    )

    worker_concurrency: int = Field(default=1, description="Worker processes `newsflow up` runs.")
    worker_metrics_port: int | None = Field(
        default=None,
        description="Port the worker's parent process serves /metrics on (its pool children "
        "included); unset = no metrics endpoint.",
    )
    worker_metrics_host: str = Field(
        default="127.0.0.1", description="Address the worker's metrics endpoint binds to."
    )
    max_deliveries: int = Field(
        default=3, description="Deliveries of one message that crash the worker before `dead`."
    )
    visibility_timeout: int = Field(
        default=900, description="Seconds before Redis redelivers an unacknowledged task."
    )
    task_soft_time_limit: int = Field(default=240, description="Soft time limit per task (s).")
    task_time_limit: int = Field(default=270, description="Hard time limit per task (s).")
    transient_retry_max: int = Field(
        default=50, description="Retries of a task on transient faults (database down)."
    )
    transient_retry_backoff_max: int = Field(
        default=60, description="Cap of the jittered exponential backoff (s)."
    )

    feed_retention_days: int = Field(
        default=30,
        ge=0,
        description="Days the change feed keeps an entry: older ones are pruned hourly by the "
        "worker and by `newsflow feed prune`; 0 = keep forever.",
    )

    fetch_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        description="Largest page the worker fetches for a `url` submission.",
    )
    fetch_deadline_seconds: float = Field(
        default=20.0, description="Wall-clock limit of one fetch, redirects and DNS included."
    )
    fetch_retry_max: int = Field(
        default=4,
        ge=0,
        description="Retries of a fetch that failed transiently (timeout, 5xx, 408, 429); "
        "then the submission is recorded `failed`.",
    )
    fetch_retry_backoff_base: float = Field(
        default=10.0, gt=0, description="First fetch retry waits about this long (s)."
    )
    fetch_retry_backoff_max: float = Field(
        default=300.0, gt=0, description="Cap of the fetch retries' exponential backoff (s)."
    )
    fetch_allowed_networks: list[str] = Field(
        default_factory=list,
        description='Private networks the fetcher may reach anyway, as JSON: `["10.1.0.0/16"]`. '
        "Cloud metadata addresses stay refused.",
    )
    fetch_allowed_ports: list[int] = Field(
        default_factory=lambda: [80, 443], description="Ports the fetcher may connect to."
    )

    log_format: Literal["json", "text"] = Field(
        default="text",
        description="`json`: one JSON object per line (for a log collector); `text`: for a "
        "terminal. Both carry the request id, trace id and submission id (newsflow/logs.py).",
    )
    log_level: str = Field(default="INFO", description="Level of the API's and CLI's logs.")
    access_log: bool = Field(
        default=True, description="One log line per HTTP request: method, route, status, time."
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="Private or loopback networks webhook URLs may point to, as JSON: "
        '`["10.1.0.0/16"]`. Cloud metadata addresses stay refused.',
    )
    webhook_allowed_ports: list[int] = Field(
        default_factory=lambda: [80, 443], description="Ports webhook URLs may use."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, description="Attempts of one delivery before it is dead-lettered."
    )
    webhook_retry_backoff_base: float = Field(
        default=2.0, gt=0, description="First webhook retry waits about this long (s)."
    )
    webhook_retry_backoff_max: float = Field(
        default=600.0, gt=0, description="Cap of the webhook retries' exponential backoff (s)."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Wall-clock limit of one webhook delivery (s)."
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="Seconds between heartbeats on an idle event stream."
    )
    stream_max_seconds: float = Field(
        default=300.0,
        gt=0,
        description="An event stream ends after this long; clients reconnect with Last-Event-ID.",
    )
    # sources: feeds newsflow polls itself (worker/sources.py, README "Sources")
    source_poll_tick_seconds: float = Field(
        default=30.0, gt=0, description="How often Celery beat asks for a poll of due sources."
    )
    source_poll_batch: int = Field(
        default=200, ge=1, description="Most sources one poll task claims."
    )
    source_poll_concurrency: int = Field(
        default=8, ge=1, description="Feeds one poll task fetches at once."
    )
    source_host_concurrency: int = Field(
        default=2, ge=1, description="Feeds of one host a poll task fetches at once."
    )
    source_host_delay_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Least time between two requests to one host, across every poller.",
    )
    source_backoff_max_seconds: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="Longest wait before polling a failing source again (it doubles per error).",
    )
    source_robots_cache_seconds: float = Field(
        default=3600.0, ge=0, description="How long a host's robots.txt is trusted."
    )

    data_dir: Path = Field(
        default=Path(".newsflow"), description="Where the embedded servers keep their data."
    )
    embedded_redis_port: int = Field(default=6380, description="Port of the embedded Redis.")

    @model_validator(mode="after")
    def _time_limits_below_visibility_timeout(self) -> Settings:
        # A task still running when the visibility timeout passes is delivered a second
        # time while the first copy runs: the hard limit must end it before that.
        if not self.task_soft_time_limit < self.task_time_limit < self.visibility_timeout:
            raise ValueError(
                "need task_soft_time_limit < task_time_limit < visibility_timeout, got "
                f"{self.task_soft_time_limit}, {self.task_time_limit}, {self.visibility_timeout}"
            )
        return self

    @model_validator(mode="after")
    def _retry_waits_below_visibility_timeout(self) -> Settings:
        # A retry waits in the worker's memory (an ETA task, unacknowledged, no pool process
        # held): a wait past the visibility timeout would have Redis deliver it again.
        longest = max(self.transient_retry_backoff_max, self.fetch_retry_backoff_max)
        if longest >= self.visibility_timeout:
            raise ValueError(
                "need transient_retry_backoff_max and fetch_retry_backoff_max < "
                f"visibility_timeout, got {longest} >= {self.visibility_timeout}"
            )
        return self

    @model_validator(mode="after")
    def _fetch_deadline_below_soft_limit(self) -> Settings:
        if self.fetch_deadline_seconds >= self.task_soft_time_limit:
            raise ValueError("need fetch_deadline_seconds < task_soft_time_limit")
        return self

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    def require_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError(
                "NEWSFLOW_DATABASE_URL is not set (run `make up`, which starts an embedded one)"
            )
        return self.database_url

    def reader_database_url(self) -> str:
        """Where consumers read: the replica when one is set, else the primary."""
        return self.read_database_url or self.require_database_url()

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise RuntimeError(
                "NEWSFLOW_REDIS_URL is not set (run `make up`, which starts an embedded one)"
            )
        return self.redis_url


def sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and point SQLAlchemy at psycopg 3."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()

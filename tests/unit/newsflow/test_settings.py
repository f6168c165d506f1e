"""Settings and the queue configuration that the delivery guarantees rest on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from newsflow.settings import Settings, sqlalchemy_url
from newsflow.taskqueue import PROCESS_SUBMISSION, make_celery


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"redis_url": "redis://127.0.0.1:1/0", **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_environment_variables_use_the_newsflow_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("NEWSFLOW_MAX_DELIVERIES", "5")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql://db/x"
    assert settings.max_deliveries == 5


def test_time_limits_must_stay_below_the_visibility_timeout() -> None:
    with pytest.raises(ValidationError, match="visibility_timeout"):
        _settings(task_time_limit=1000, visibility_timeout=900)
    with pytest.raises(ValidationError, match="task_soft_time_limit"):
        _settings(task_soft_time_limit=300, task_time_limit=270)


def test_retry_waits_must_stay_below_the_visibility_timeout() -> None:
    # a retry waits unacknowledged in the worker: past the timeout Redis delivers it again
    with pytest.raises(ValidationError, match="fetch_retry_backoff_max"):
        _settings(fetch_retry_backoff_max=900)
    with pytest.raises(ValidationError, match="transient_retry_backoff_max"):
        _settings(transient_retry_backoff_max=900)


def test_celery_is_configured_for_at_least_once_delivery() -> None:
    settings = _settings()
    conf = make_celery(settings).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_create_missing_queues is False
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert conf.broker_transport_options["global_keyprefix"] == settings.redis_key_prefix
    assert [q.name for q in conf.task_queues] == [settings.queue, settings.fetch_queue]
    assert conf.task_routes[PROCESS_SUBMISSION] == {"queue": settings.queue}
    assert conf.accept_content == ["json"]


def test_plain_postgres_urls_use_psycopg3() -> None:
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"

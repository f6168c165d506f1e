"""`newsflow doctor` for real: healthy against the test PostgreSQL and Redis (exit 0);
a wrong Redis URL or an unmigrated database exit 1 and name the fix, one line each, no
traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import ROOT, Servers, settings_env

pytestmark = pytest.mark.integration


def _doctor(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "doctor", *args],
        env={**settings_env(settings), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _checks(result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    document = json.loads(result.stdout)
    return {check["check"]: check for check in document["checks"]}


@pytest.fixture
def unmigrated_database(servers: Servers) -> Iterator[str]:
    name = f"newsflow_doctor_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(servers.postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    # the embedded server's URL names its socket folder in the query: keep it
    base, question, query = servers.postgres_url.partition("?")
    yield f"{base.rsplit('/', 1)[0]}/{name}{question}{query}"
    with psycopg.connect(servers.postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_healthy_installation_exits_0(settings: Settings) -> None:
    result = _doctor(settings)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for check in ("settings", "redis", "postgres", "migrations", "queues", "disk", "models"):
        assert any(line.split()[:2] == ["ok", check] for line in lines), result.stdout
    assert lines[-1] == "healthy"

    as_json = _doctor(settings, "--json", "--skip-models")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout)["healthy"] is True


def test_unreachable_redis_exits_1_and_names_the_fix(settings: Settings) -> None:
    wrong = f"redis://127.0.0.1:{free_port()}/0"
    result = _doctor(settings, "--skip-models", NEWSFLOW_REDIS_URL=wrong)
    assert result.returncode == 1
    line = next(
        line for line in result.stdout.splitlines() if line.split()[:2] == ["fail", "redis"]
    )
    assert wrong in line
    assert "fix: " in line
    assert "NEWSFLOW_REDIS_URL" in line
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "NOT healthy"

    checks = _checks(_doctor(settings, "--json", "--skip-models", NEWSFLOW_REDIS_URL=wrong))
    assert checks["redis"]["status"] == "fail"
    assert checks["postgres"]["status"] == "ok"


def test_unmigrated_database_exits_1_and_says_migrate(
    settings: Settings, unmigrated_database: str
) -> None:
    result = _doctor(settings, "--json", "--skip-models", NEWSFLOW_DATABASE_URL=unmigrated_database)
    assert result.returncode == 1
    checks = _checks(result)
    assert checks["postgres"]["status"] == "ok"
    assert checks["migrations"]["status"] == "fail"
    assert "no migration applied" in checks["migrations"]["detail"]
    assert checks["migrations"]["fix"] == "run `newsflow migrate`"
    assert "Traceback" not in result.stderr


def test_invalid_setting_exits_1_naming_the_variable(settings: Settings) -> None:
    result = _doctor(settings, NEWSFLOW_API_PORT="not-a-port")
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("fail")]
    assert "NEWSFLOW_API_PORT" in line
    assert "Traceback" not in result.stdout + result.stderr

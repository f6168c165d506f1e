"""API keys (scopes, revocation, hashes only), the open/required modes, per-key rate limits,
and intake that keeps working with PostgreSQL down."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.app import create_app
from api.auth import AuthConfigError, keys_required
from cli.main import main as newsflow_cli
from newsflow import apikeys
from newsflow.embedded import free_port
from newsflow.settings import Settings
from newsflow.store.api_keys import NewApiKey, create_api_key, revoke_api_key
from newsflow.store.db import get_engine, transaction
from tests.conftest import settings_env

pytestmark = pytest.mark.integration

ARTICLE = {"source": "auth", "text": "Headline here\n\nFirst paragraph, with a full sentence."}
PROBLEM_JSON = "application/problem+json"


@contextmanager
def _client(settings: Settings, **update: Any) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=update))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def secured(settings: Settings) -> Iterator[TestClient]:
    """Keys required; every check goes to Redis/PostgreSQL (no in-process cache)."""
    with _client(settings, auth="required", auth_cache_seconds=0) as client:
        yield client


def _new_key(database_url: str, *scopes: str, name: str = "test") -> NewApiKey:
    with transaction(database_url) as connection:
        return create_api_key(connection, name=name, scopes=scopes)


def _mirrored(settings: Settings, *scopes: str) -> NewApiKey:
    """A key as `newsflow keys create` leaves it: in PostgreSQL and in the Redis mirror."""
    new = _new_key(settings.require_database_url(), *scopes)
    with redis.Redis.from_url(settings.require_redis_url()) as client:
        apikeys.mirror(client, settings, new.key_hash, new.principal)
    return new


def _in_mirror(settings: Settings, new: NewApiKey) -> bool:
    with redis.Redis.from_url(settings.require_redis_url()) as client:
        return bool(client.exists(apikeys.mirror_key(settings, new.key_hash)))


@contextmanager
def _key_queries(database_url: str) -> Iterator[list[str]]:
    """The SQL statements this process sends to PostgreSQL about API keys meanwhile."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "newsflow.api_keys" in statement:
            statements.append(statement)

    engine = get_engine(database_url)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _unknown_key() -> str:
    return f"nf_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def _closed_database_url() -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/nothing_listens"


def _assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def test_store_creates_a_random_key_and_keeps_only_its_hash(
    secured: TestClient, database_url: str
) -> None:
    new = _new_key(database_url, "submit")
    other = _new_key(database_url, "submit")

    assert re.fullmatch(r"nf_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", new.key)
    assert new.key.startswith(f"nf_{new.id}_")
    assert new.key != other.key
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT * FROM newsflow.api_keys WHERE id = %s", (new.id,)
        ).fetchone()
    assert row is not None
    assert hashlib.sha256(new.key.encode()).hexdigest() in row
    secret = new.key.split("_", 2)[2]  # the secret itself may contain "_"
    assert not any(secret in str(value) for value in row)
    # not mirrored into Redis: the API finds it in PostgreSQL
    assert secured.post("/v1/articles", json=ARTICLE, headers=_bearer(new.key)).status_code == 202


def test_cli_creates_lists_and_revokes_keys(
    secured: TestClient, settings: Settings, database_url: str
) -> None:
    runner = CliRunner()
    env = settings_env(settings)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = runner.invoke(
        newsflow_cli,
        ["keys", "create", "--name", name, "--scope", "submit", "--scope", "read"],
        env=env,
    )
    assert created.exit_code == 0, created.output
    keys = re.findall(r"nf_[0-9a-f]{12}_[A-Za-z0-9_-]+", created.output)
    assert len(keys) == 1  # shown once
    key = keys[0]
    assert "only time the key is shown" in created.output
    key_id = key.split("_")[1]
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    with psycopg.connect(database_url) as connection:
        stored = connection.execute(
            "SELECT key_hash, scopes FROM newsflow.api_keys WHERE id = %s", (key_id,)
        ).fetchone()
    assert stored == (key_hash, ["read", "submit"])
    mirror = redis.Redis.from_url(settings.require_redis_url())
    assert mirror.exists(apikeys.mirror_key(settings, key_hash))

    assert secured.post("/v1/articles", json=ARTICLE, headers=_bearer(key)).status_code == 202
    listed = runner.invoke(newsflow_cli, ["keys", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if name in line)
    assert line.startswith(f"nf_{key_id} ")
    assert "read,submit" in line
    assert key not in listed.output
    assert line.split("read,submit")[1].split()[3] != "-"  # owner, created, last used (date)

    revoked = runner.invoke(newsflow_cli, ["keys", "revoke", f"nf_{key_id}"], env=env)
    assert revoked.exit_code == 0, revoked.output
    assert not mirror.exists(apikeys.mirror_key(settings, key_hash))
    _assert_problem(secured.post("/v1/articles", json=ARTICLE, headers=_bearer(key)), 401)
    listed = runner.invoke(newsflow_cli, ["keys", "list"], env=env)
    line = next(line for line in listed.output.splitlines() if name in line)
    assert not line.endswith("-")  # revoked at
    unknown = runner.invoke(newsflow_cli, ["keys", "revoke", "000000000000"], env=env)
    assert unknown.exit_code != 0
    assert "no API key" in unknown.output
    mirror.close()


def test_missing_wrong_and_revoked_keys_get_401(secured: TestClient, database_url: str) -> None:
    revoked = _new_key(database_url, "submit", "read")
    with transaction(database_url) as connection:
        assert revoke_api_key(connection, revoked.id) is not None

    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        _bearer("not-a-key"),
        _bearer(_unknown_key()),
        _bearer(revoked.key),
    ):
        response = secured.post("/v1/articles", json=ARTICLE, headers=headers)
        _assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        _assert_problem(secured.get(f"/v1/articles/{uuid.uuid4()}", headers=headers), 401)


def test_scopes_are_enforced_and_admin_implies_all(secured: TestClient, database_url: str) -> None:
    read_only = _new_key(database_url, "read")
    submit_only = _new_key(database_url, "submit")
    admin = _new_key(database_url, "admin")

    problem = _assert_problem(
        secured.post("/v1/articles", json=ARTICLE, headers=_bearer(read_only.key)), 403
    )
    assert "submit" in problem["detail"]
    _assert_problem(
        secured.get(f"/v1/articles/{uuid.uuid4()}", headers=_bearer(submit_only.key)), 403
    )

    accepted = secured.post("/v1/articles", json=ARTICLE, headers=_bearer(submit_only.key))
    assert accepted.status_code == 202
    article = f"/v1/articles/{accepted.json()['id']}"
    assert secured.get(article, headers=_bearer(read_only.key)).status_code == 200
    assert (
        secured.get(f"/v1/articles/{uuid.uuid4()}", headers=_bearer(read_only.key)).status_code
        == 404
    )
    assert secured.post("/v1/articles", json=ARTICLE, headers=_bearer(admin.key)).status_code == 202
    assert secured.get(article, headers=_bearer(admin.key)).status_code == 200


def test_open_endpoints_stay_open_and_openapi_declares_the_scheme(secured: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
        assert secured.get(path).status_code == 200, path

    spec = secured.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["apiKey"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for method, path in (("post", "/v1/articles"), ("get", "/v1/articles/{article_id}")):
        operation = spec["paths"][path][method]
        assert operation["security"] == [{"apiKey": []}]
        assert {"401", "403", "429"} <= set(operation["responses"])
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_rate_limit_per_key_answers_429_with_retry_after(
    settings: Settings, database_url: str
) -> None:
    busy = _new_key(database_url, "read")
    calm = _new_key(database_url, "read")
    with _client(settings, auth="required", rate_limit_per_minute=3) as client:
        missing = f"/v1/articles/{uuid.uuid4()}"
        for _ in range(3):
            assert client.get(missing, headers=_bearer(busy.key)).status_code == 404
        response = client.get(missing, headers=_bearer(busy.key))
        assert client.get(missing, headers=_bearer(calm.key)).status_code == 404

    _assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_open_mode_limits_per_client_ip(settings: Settings) -> None:
    own_prefix = f"{settings.redis_key_prefix}ip-limit-{uuid.uuid4().hex[:8]}:"
    with _client(settings, redis_key_prefix=own_prefix, rate_limit_per_minute=2) as client:
        missing = f"/v1/articles/{uuid.uuid4()}"
        assert [client.get(missing).status_code for _ in range(3)] == [404, 404, 429]
        assert 1 <= int(client.get(missing).headers["Retry-After"]) <= 60


def test_open_on_loopback_by_default_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.auth == "auto"
    with caplog.at_level(logging.WARNING, logger="newsflow.api.auth"):
        with _client(settings) as client:
            response = client.post("/v1/articles", json=ARTICLE)
    assert response.status_code == 202
    assert "WITHOUT API KEYS" in caplog.text


def test_keys_are_required_off_loopback_and_off_is_refused_there(settings: Settings) -> None:
    def required(**update: Any) -> bool:
        return keys_required(settings.model_copy(update=update))

    assert not required(api_host="127.0.0.1")
    assert not required(api_host="localhost")
    assert not required(api_host="::1")
    assert required(api_host="0.0.0.0")
    assert required(api_host="10.1.2.3")
    assert required(api_host="127.0.0.1", auth="required")
    assert not required(api_host="127.0.0.1", auth="off")

    with _client(settings, api_host="0.0.0.0") as client:
        _assert_problem(client.post("/v1/articles", json=ARTICLE), 401)
    with pytest.raises(AuthConfigError, match="refusing"):
        create_app(settings.model_copy(update={"api_host": "0.0.0.0", "auth": "off"}))


def test_intake_keeps_working_with_postgres_down(settings: Settings, database_url: str) -> None:
    mirrored = _new_key(database_url, "submit")
    with redis.Redis.from_url(settings.require_redis_url()) as client:
        apikeys.mirror(client, settings, mirrored.key_hash, mirrored.principal)
    only_in_postgres = _new_key(database_url, "submit")

    with _client(settings, auth="required", database_url=_closed_database_url()) as client:
        accepted = client.post("/v1/articles", json=ARTICLE, headers=_bearer(mirrored.key))
        unknown = client.post("/v1/articles", json=ARTICLE, headers=_bearer(only_in_postgres.key))

    assert accepted.status_code == 202, accepted.text
    problem = _assert_problem(unknown, 503)
    assert unknown.headers["Retry-After"] == "5"
    assert "retry" in problem["detail"]


def test_last_answer_is_used_while_nothing_can_check_the_key(
    settings: Settings, database_url: str
) -> None:
    key = _new_key(database_url, "submit")  # in PostgreSQL only
    with _client(settings, auth="required", auth_cache_seconds=0) as client:
        assert (
            client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key)).status_code == 202
        )
        verifier = client.app.state.auth.verifier  # type: ignore[attr-defined]
        verifier.settings = settings.model_copy(update={"database_url": _closed_database_url()})
        again = client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key))
    assert again.status_code == 202, again.text


def test_redis_down_with_keys_gives_503_never_500(settings: Settings, database_url: str) -> None:
    key = _new_key(database_url, "submit")
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    with _client(settings, auth="required", redis_url=nothing_listens) as client:
        response = client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key))
    _assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"


def test_keys_cli_fails_loudly_without_the_redis_mirror(
    settings: Settings, database_url: str
) -> None:
    runner = CliRunner()
    unset = {k: v for k, v in settings_env(settings).items() if k != "NEWSFLOW_REDIS_URL"}
    unreachable = {**unset, "NEWSFLOW_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    name = f"no-mirror-{uuid.uuid4().hex[:8]}"
    for env in (unset, unreachable):
        created = runner.invoke(
            newsflow_cli, ["keys", "create", "--name", name, "--scope", "submit"], env=env
        )
        assert created.exit_code == 1, created.output
        assert "Redis mirror" in created.output
        assert "no key was created" in created.output
        assert not re.search(r"nf_[0-9a-f]{12}_", created.output)

        key = _mirrored(settings, "submit")
        revoked = runner.invoke(newsflow_cli, ["keys", "revoke", key.id], env=env)
        assert revoked.exit_code == 1, revoked.output
        message = revoked.output.strip().splitlines()[-1]
        assert f"revoked {key.id} in PostgreSQL" in message
        assert "newsflow keys sync" in message
        assert "refuses it within" not in revoked.output  # no claim of success

        synced = runner.invoke(newsflow_cli, ["keys", "sync"], env=env)
        assert synced.exit_code == 1, synced.output
        assert "Redis" in synced.output
    with psycopg.connect(database_url) as connection:
        assert not connection.execute(
            "SELECT 1 FROM newsflow.api_keys WHERE name = %s", (name,)
        ).fetchall()
    # what the message says to run repairs the mirror
    assert _in_mirror(settings, key)
    synced = runner.invoke(newsflow_cli, ["keys", "sync"], env=settings_env(settings))
    assert synced.exit_code == 0, synced.output
    assert not _in_mirror(settings, key)


def test_a_key_revoked_in_postgres_is_refused_after_the_cache_window(
    settings: Settings, database_url: str
) -> None:
    key = _mirrored(settings, "submit", "read")
    window = 1.0
    with _client(settings, auth="required", auth_cache_seconds=window) as client:
        assert (
            client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key)).status_code == 202
        )
        with transaction(database_url) as connection:
            revoke_api_key(connection, key.id)  # the mirror is left stale
        assert _in_mirror(settings, key)
        time.sleep(window + 0.2)
        response = client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key))
        _assert_problem(response, 401)
        _assert_problem(client.get(f"/v1/articles/{uuid.uuid4()}", headers=_bearer(key.key)), 401)
    assert not _in_mirror(settings, key)  # the API dropped the stale entry


def test_a_key_is_asked_of_postgres_at_most_once_per_cache_window(
    settings: Settings, database_url: str
) -> None:
    mirrored = _mirrored(settings, "submit", "read")
    only_in_postgres = _new_key(database_url, "submit", "read")
    window = 1.0
    with (
        _client(settings, auth="required", auth_cache_seconds=window) as client,
        _key_queries(database_url) as queries,
    ):
        for key in (mirrored, only_in_postgres):
            for _ in range(5):
                assert (
                    client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key)).status_code
                    == 202
                )
                assert (
                    client.get(f"/v1/articles/{uuid.uuid4()}", headers=_bearer(key.key)).status_code
                    == 404
                )
        assert len(queries) == 2  # one per key
        time.sleep(window + 0.2)
        for key in (mirrored, only_in_postgres):
            for _ in range(3):
                assert (
                    client.post("/v1/articles", json=ARTICLE, headers=_bearer(key.key)).status_code
                    == 202
                )
        assert len(queries) == 4


def test_failed_authentications_are_limited_per_address_without_postgres(
    settings: Settings, database_url: str
) -> None:
    # own prefix: the failure window (and the mirror) belong to this test alone
    own = settings.model_copy(
        update={"redis_key_prefix": f"{settings.redis_key_prefix}auth-failures-{uuid.uuid4()}:"}
    )
    mirrored = _mirrored(own, "submit", "read")
    only_in_postgres = _new_key(database_url, "submit")
    with (
        _client(own, auth="required", auth_failures_per_minute=3) as client,
        _key_queries(database_url) as queries,
    ):
        for _ in range(3):
            response = client.post("/v1/articles", json=ARTICLE, headers=_bearer(_unknown_key()))
            _assert_problem(response, 401)
        assert len(queries) == 3

        refused = [
            client.post("/v1/articles", json=ARTICLE, headers=_bearer(_unknown_key())),
            client.get(f"/v1/articles/{uuid.uuid4()}", headers=_bearer(_unknown_key())),
            client.post("/v1/articles", json=ARTICLE, headers=_bearer(only_in_postgres.key)),
        ]
        assert len(queries) == 3  # not one more PostgreSQL query
        for response in refused:
            problem = _assert_problem(response, 429)
            assert "failed authentications" in problem["title"].lower()
            assert 1 <= int(response.headers["Retry-After"]) <= 60

        # a key in the mirror is still served from that address
        accepted = client.post("/v1/articles", json=ARTICLE, headers=_bearer(mirrored.key))
        assert accepted.status_code == 202, accepted.text
        got = client.get(f"/v1/articles/{accepted.json()['id']}", headers=_bearer(mirrored.key))
        assert got.status_code == 200

    # another address is not limited
    app = create_app(own.model_copy(update={"auth": "required", "auth_failures_per_minute": 3}))
    with TestClient(app, raise_server_exceptions=False, client=("10.9.8.7", 1234)) as other:
        response = other.post("/v1/articles", json=ARTICLE, headers=_bearer(_unknown_key()))
        _assert_problem(response, 401)
        accepted = other.post("/v1/articles", json=ARTICLE, headers=_bearer(only_in_postgres.key))
        assert accepted.status_code == 202, accepted.text

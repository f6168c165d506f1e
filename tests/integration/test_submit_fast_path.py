"""POST /v1/articles is answered by SubmitFastPath (plain ASGI in front of FastAPI's
routing, the rate limit counted inside the intake script): it answers as the FastAPI
route does, and keeps rate limits and idempotency."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from api.submit import SubmitFastPath
from newsflow import apikeys
from newsflow.settings import Settings
from newsflow.store.api_keys import create_api_key
from newsflow.store.db import transaction

pytestmark = pytest.mark.integration

TEXT = "Headline here\n\nFirst paragraph of the story, with a full sentence."
JSON = {"Content-Type": "application/json"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@contextmanager
def _client(settings: Settings, *, fast: bool = True, **update: Any) -> Iterator[TestClient]:
    # a queue no worker reads: a repeat's answer says the first one's status, which a
    # worker would move on between the two clients' requests
    app = create_app(settings.model_copy(update={"queue": "newsflow.unread", **update}))
    if not fast:  # the FastAPI route alone, as where the router runs without the fast path
        app.user_middleware = [m for m in app.user_middleware if m.cls is not SubmitFastPath]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _mirrored_key(settings: Settings, *scopes: str) -> tuple[str, str]:
    """A key the API finds in the Redis mirror, as `newsflow keys create` leaves it (and
    in PostgreSQL, which the API asks once per cache window)."""
    with transaction(settings.require_database_url()) as connection:
        new = create_api_key(connection, name="fast-path test", scopes=scopes)
    with redis.Redis.from_url(settings.require_redis_url()) as client:
        apikeys.mirror(client, settings, new.key_hash, new.principal)
    return new.id, new.key


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _answer(response: Any) -> tuple[int, str, str | None, Any]:
    body = UUID.sub("<id>", response.text)
    location = response.headers.get("location")
    return (
        response.status_code,
        response.headers["content-type"],
        UUID.sub("<id>", location) if location else None,
        body,
    )


def test_fast_path_answers_as_the_route_does(settings: Settings) -> None:
    _, submit = _mirrored_key(settings, "submit")
    _, read_only = _mirrored_key(settings, "read")
    run = uuid.uuid4().hex[:8]

    def requests(client: TestClient, tag: str) -> list[Any]:
        source = f"fast-{run}-{tag}"
        article = {"source": source, "external_id": "e1", "text": TEXT}
        idempotency = {"Idempotency-Key": f"{source}-k", **_bearer(submit)}
        return [
            client.post("/v1/articles", json=article, headers=_bearer(submit)),
            client.post("/v1/articles", json=article, headers=_bearer(submit)),  # repeat
            client.post("/v1/articles", json={"source": source, "text": TEXT}, headers=idempotency),
            client.post("/v1/articles", json={"source": source, "text": TEXT}, headers=idempotency),
            client.post(
                "/v1/articles",
                json={"source": source, "text": TEXT + " More."},
                headers=idempotency,
            ),
            client.post("/v1/articles", json={"source": 5, "text": "a"}, headers=_bearer(submit)),
            client.post("/v1/articles", json={"source": "s"}, headers=_bearer(submit)),
            client.post(
                "/v1/articles",
                content=b'{"source": "s", "text": ',
                headers={**JSON, **_bearer(submit)},
            ),
            client.post(
                "/v1/articles",
                content=b"source=s",
                headers={"Content-Type": "text/plain", **_bearer(submit)},
            ),
            client.post(
                "/v1/articles",
                json=article,
                headers={"Idempotency-Key": "k" * 256, **_bearer(submit)},
            ),
            client.post("/v1/articles", json=article),
            client.post("/v1/articles", json=article, headers={"Authorization": "Basic eDp5"}),
            client.post("/v1/articles", json=article, headers=_bearer("nf_not_a_key")),
            client.post("/v1/articles", json=article, headers=_bearer(read_only)),
        ]

    with _client(settings, auth="required") as client:
        fast = [_answer(r) for r in requests(client, "a")]
    with _client(settings, fast=False, auth="required") as client:
        route = [_answer(r) for r in requests(client, "b")]

    assert [a[0] for a in fast] == [202, 200, 202, 200, 422, 422, 422, 422, 415, 422] + [
        401,
        401,
        401,
        403,
    ]
    for ours, theirs in zip(fast, route, strict=True):
        assert ours == (
            theirs[0],
            theirs[1],
            theirs[2],
            theirs[3].replace(f"-{run}-b", f"-{run}-a"),
        )


def test_rate_limit_is_counted_in_the_intake_script(settings: Settings) -> None:
    key_id, key = _mirrored_key(settings, "submit")
    _, other_key = _mirrored_key(settings, "submit")
    source = f"limited-{uuid.uuid4().hex[:8]}"

    def article(external_id: str) -> dict[str, str]:
        return {"source": source, "external_id": external_id, "text": TEXT}

    with _client(settings, auth="required", rate_limit_per_minute=3) as client:
        statuses = [
            client.post("/v1/articles", json=article(f"e{i}"), headers=_bearer(key)).status_code
            for i in range(3)
        ]
        refused = client.post("/v1/articles", json=article("late"), headers=_bearer(key))
        invalid_over_limit = client.post(
            "/v1/articles", json={"source": source}, headers=_bearer(key)
        )
        # the refused submission claimed nothing: another key submits it as new
        late = client.post("/v1/articles", json=article("late"), headers=_bearer(other_key))

    assert statuses == [202, 202, 202]
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert invalid_over_limit.status_code == 429  # over the limit comes before the body
    assert late.status_code == 202, late.text
    with redis.Redis.from_url(settings.require_redis_url()) as redis_client:
        window = redis_client.get(f"{settings.redis_key_prefix}rate-limit:key:{key_id}")
        assert window is not None
        assert int(window) == 5
        assert (
            0 < redis_client.pttl(f"{settings.redis_key_prefix}rate-limit:key:{key_id}") <= 60_000
        )


def test_idempotency_holds_with_rate_limits_on(settings: Settings) -> None:
    key_id, key = _mirrored_key(settings, "submit")
    source = f"idem-limited-{uuid.uuid4().hex[:8]}"
    body = {"source": source, "text": TEXT}
    with _client(settings, auth="required", rate_limit_per_minute=100) as client:
        headers = {"Idempotency-Key": uuid.uuid4().hex, **_bearer(key)}
        first = client.post("/v1/articles", json=body, headers=headers)
        again = client.post("/v1/articles", json=body, headers=headers)
        other_body = client.post(
            "/v1/articles", json={**body, "text": TEXT + " More."}, headers=headers
        )
        by_id = {**body, "external_id": "x1"}
        one = client.post("/v1/articles", json=by_id, headers=_bearer(key))
        two = client.post("/v1/articles", json=by_id, headers=_bearer(key))

    assert (first.status_code, again.status_code, other_body.status_code) == (202, 200, 422)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["duplicate"] is True
    assert (one.status_code, two.status_code) == (202, 200)
    assert two.json()["id"] == one.json()["id"]
    with redis.Redis.from_url(settings.require_redis_url()) as redis_client:
        counted = redis_client.get(f"{settings.redis_key_prefix}rate-limit:key:{key_id}")
    assert counted is not None
    assert int(counted) == 5


def test_open_api_limits_submissions_per_client_ip(settings: Settings) -> None:
    own_prefix = f"{settings.redis_key_prefix}ip-submit-{uuid.uuid4().hex[:8]}:"
    with _client(settings, redis_key_prefix=own_prefix, rate_limit_per_minute=2) as client:
        statuses = [
            client.post("/v1/articles", json={"source": "ip", "text": TEXT}).status_code
            for _ in range(3)
        ]
    assert statuses == [202, 202, 429]

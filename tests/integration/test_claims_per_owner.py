"""Idempotency claims belong to the API key's owner: another owner's same Idempotency-Key
or (source, external_id) is its own submission, and learns nothing of the first; keys of
one owner still deduplicate together. On every intake path: the fast path, the FastAPI
route, the batch and the feed endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.submit import SubmitFastPath
from cli.main import main as newsflow_cli
from newsflow import apikeys
from newsflow.settings import Settings
from newsflow.store.api_keys import create_api_key
from newsflow.store.db import transaction
from tests.conftest import settings_env
from tests.unit.newsflow.test_feeds import RSS

pytestmark = pytest.mark.integration

TEXT = "Headline here\n\nFirst paragraph of the story, with a full sentence."


@contextmanager
def _client(settings: Settings, *, fast: bool) -> Iterator[TestClient]:
    # a queue no worker reads: a repeat answers its original's status, which a worker moves on
    app = create_app(settings.model_copy(update={"queue": "newsflow.unread", "auth": "required"}))
    if not fast:  # the FastAPI route alone
        app.user_middleware = [m for m in app.user_middleware if m.cls is not SubmitFastPath]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _key(settings: Settings, owner: str) -> dict[str, str]:
    """The headers of a new key of ``owner``, as `newsflow keys create --owner` leaves it."""
    with transaction(settings.require_database_url()) as connection:
        new = create_api_key(connection, name="claims test", scopes=("submit",), owner=owner)
    with redis.Redis.from_url(settings.require_redis_url()) as client:
        apikeys.mirror(client, settings, new.key_hash, new.principal)
    return {"Authorization": f"Bearer {new.key}"}


def _texts(*responses: Any) -> str:
    return "\n".join(response.text for response in responses)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "route"])
def test_single_submissions_claim_per_owner(settings: Settings, fast: bool) -> None:
    run = uuid.uuid4().hex[:8]
    alice, alice_2 = _key(settings, f"alice-{run}"), _key(settings, f"alice-{run}")
    bob = _key(settings, f"bob-{run}")
    article = {"source": f"owners-{run}", "external_id": "e1", "text": TEXT}
    with _client(settings, fast=fast) as client:
        # bob claims alice's external_id first: alice's genuine submission is still hers
        bob_first = client.post("/v1/articles", json=article, headers=bob)
        alice_first = client.post("/v1/articles", json=article, headers=alice)
        alice_again = client.post("/v1/articles", json=article, headers=alice_2)
        bob_again = client.post("/v1/articles", json=article, headers=bob)

        body = {"source": f"owners-{run}", "text": TEXT}
        other_body = {"source": f"owners-{run}", "text": TEXT + " Another sentence."}
        idem = {"Idempotency-Key": f"key-{run}"}
        alice_idem = client.post("/v1/articles", json=body, headers={**alice, **idem})
        bob_idem = client.post("/v1/articles", json=other_body, headers={**bob, **idem})
        bob_idem_again = client.post("/v1/articles", json=other_body, headers={**bob, **idem})
        alice_idem_mismatch = client.post(
            "/v1/articles", json=other_body, headers={**alice_2, **idem}
        )

    assert (bob_first.status_code, alice_first.status_code) == (202, 202), alice_first.text
    assert alice_first.json()["duplicate"] is False
    assert alice_first.json()["id"] != bob_first.json()["id"]
    assert (alice_again.status_code, alice_again.json()["id"]) == (200, alice_first.json()["id"])
    assert (bob_again.status_code, bob_again.json()["id"]) == (200, bob_first.json()["id"])

    assert (alice_idem.status_code, bob_idem.status_code) == (202, 202), bob_idem.text
    assert bob_idem.json()["id"] != alice_idem.json()["id"]
    assert (bob_idem_again.status_code, bob_idem_again.json()["id"]) == (
        200,
        bob_idem.json()["id"],
    )
    # the same owner's other key still gets the mismatch, naming its owner's submission
    assert alice_idem_mismatch.status_code == 422
    assert alice_idem.json()["id"] in alice_idem_mismatch.json()["detail"]

    # nothing of alice's reaches bob
    seen_by_bob = _texts(bob_first, bob_again, bob_idem, bob_idem_again)
    for alice_id in (alice_first.json()["id"], alice_idem.json()["id"]):
        assert alice_id not in seen_by_bob
    assert "first used" not in seen_by_bob


def test_batches_and_feeds_claim_per_owner(settings: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    alice, alice_2 = _key(settings, f"alice-{run}"), _key(settings, f"alice-{run}")
    bob = _key(settings, f"bob-{run}")
    batch = [{"source": f"owners-{run}", "external_id": f"b{i}", "text": TEXT} for i in range(3)]
    feed = {"params": {"source": f"owners-{run}"}, "content": RSS}
    rss = {"Content-Type": "application/rss+xml"}
    with _client(settings, fast=True) as client:
        answers = {
            (path, who): client.post(path, headers={**headers, **extra}, **kwargs)
            for path, extra, kwargs in (
                ("/v1/articles/batch", {}, {"json": batch}),
                ("/v1/feeds", rss, feed),
            )
            for who, headers in (("bob", bob), ("alice", alice), ("alice_2", alice_2))
        }

    for path in ("/v1/articles/batch", "/v1/feeds"):
        bob_items = answers[path, "bob"].json()["items"]
        alice_answer = answers[path, "alice"].json()
        again = answers[path, "alice_2"].json()
        assert answers[path, "alice"].status_code == 202, answers[path, "alice"].text
        assert alice_answer["duplicates"] == 0, path  # bob's claims are not alice's
        alice_ids = [item["id"] for item in alice_answer["items"]]
        assert not set(alice_ids) & {item["id"] for item in bob_items}
        assert again["accepted"] == 0, path  # alice's other key deduplicates with her
        assert [item["id"] for item in again["items"]] == alice_ids
        assert not any(alice_id in answers[path, "bob"].text for alice_id in alice_ids)


def test_keys_create_takes_an_owner(settings: Settings) -> None:
    runner = CliRunner()
    env = settings_env(settings)
    created = runner.invoke(
        newsflow_cli,
        ["keys", "create", "--name", "partner", "--scope", "submit", "--owner", "partner-x"],
        env=env,
    )
    assert created.exit_code == 0, created.output
    assert "owner: partner-x" in created.output
    listed = runner.invoke(newsflow_cli, ["keys", "list"], env=env)
    assert any("partner-x" in line for line in listed.output.splitlines())
    for bad in ("anonymous", "has space", "a:b", ""):
        refused = runner.invoke(
            newsflow_cli,
            ["keys", "create", "--name", "x", "--scope", "submit", "--owner", bad],
            env=env,
        )
        assert refused.exit_code == 2, (bad, refused.output)
        assert "--owner" in refused.output

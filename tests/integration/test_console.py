"""The web console without a browser: the login form and its session cookie, CSRF on
every form that changes something, read versus admin keys, the open-API notice, and the
pages over real PostgreSQL, Redis and a real worker."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.console.session import COOKIE
from newsflow.settings import Settings
from newsflow.store.api_keys import NewApiKey, create_api_key, revoke_api_key
from newsflow.store.db import transaction
from tests.conftest import SEED, WorkerProcess, wait_for_final

pytestmark = pytest.mark.integration

FAILING = {"source": "console-test", "text": "ua en ru"}  # navigation only: fails at once


@contextmanager
def _client(settings: Settings, **update: Any) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=update))
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


@pytest.fixture
def secured(settings: Settings) -> Iterator[TestClient]:
    """Keys required, each check asked of Redis and PostgreSQL (no in-process cache)."""
    with _client(settings, auth="required", auth_cache_seconds=0) as client:
        yield client


def _key(settings: Settings, *scopes: str) -> NewApiKey:
    with transaction(settings.require_database_url()) as connection:
        return create_api_key(connection, name=f"console-{'-'.join(scopes)}", scopes=scopes)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def _sign_in(client: TestClient, key: str) -> Any:
    form = client.get("/login")
    assert form.status_code == 200
    return client.post(
        "/login", data={"key": key, "csrf": _csrf(form.text), "next": "/articles?q=x"}
    )


def _failed_submission(client: TestClient, key: NewApiKey) -> str:
    headers = {"Authorization": f"Bearer {key.key}"}
    submission_id = client.post("/v1/articles", json=FAILING, headers=headers).json()["id"]
    deadline = time.monotonic() + 240  # behind other tests' backlog on the session's worker
    while time.monotonic() < deadline:
        status = client.get(f"/v1/articles/{submission_id}", headers=headers).json()["status"]
        if status == "failed":
            return str(submission_id)
        time.sleep(0.1)
    raise AssertionError(f"{submission_id} did not fail")


def test_pages_send_a_browser_without_a_session_to_the_login_form(secured: TestClient) -> None:
    for path in ("/", "/articles?q=Литва", "/submissions", "/entities/country:LT"):
        response = secured.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert "Sign in" in secured.get("/login").text


def test_login_sets_a_signed_httponly_strict_cookie_without_the_key(
    secured: TestClient, settings: Settings
) -> None:
    key = _key(settings, "read")

    response = _sign_in(secured, key.key)

    assert response.status_code == 303
    assert response.headers["location"] == "/articles?q=x"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    assert key.key not in cookie
    assert key.key.split("_")[2] not in cookie  # not even the secret part
    page = secured.get("/")
    assert page.status_code == 200
    assert "Articles by status" in page.text
    assert "console-read" in page.text  # who is signed in

    # a cookie that was altered is not a session
    value = secured.cookies[COOKIE]
    secured.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert secured.get("/").status_code == 303


def test_a_wrong_key_or_one_without_read_is_refused_at_login(
    secured: TestClient, settings: Settings
) -> None:
    unknown = _sign_in(secured, "nf_000000000000_" + "x" * 43)
    assert unknown.status_code == 401
    assert "unknown or revoked" in unknown.text
    assert secured.get("/").status_code == 303

    submit_only = _sign_in(secured, _key(settings, "submit").key)
    assert submit_only.status_code == 403
    assert "lacks the `read` scope" in submit_only.text
    assert secured.get("/").status_code == 303


def test_a_revoked_key_ends_its_session_and_logout_ends_it_too(
    secured: TestClient, settings: Settings
) -> None:
    key = _key(settings, "read")
    assert _sign_in(secured, key.key).status_code == 303
    assert secured.get("/articles").status_code == 200
    with transaction(settings.require_database_url()) as connection:
        revoke_api_key(connection, key.id)
    assert secured.get("/articles").status_code == 303

    other = _key(settings, "read")
    assert _sign_in(secured, other.key).status_code == 303
    page = secured.get("/articles")
    logout = secured.post("/logout", data={"csrf": _csrf(page.text)})
    assert logout.status_code == 303
    assert secured.get("/articles").status_code == 303


def test_state_changing_forms_without_the_sessions_csrf_token_are_refused(
    secured: TestClient, settings: Settings, worker: WorkerProcess
) -> None:
    admin = _key(settings, "admin")
    failed_id = _failed_submission(secured, admin)

    # the login form itself: no token, or another session's
    form = secured.get("/login")
    assert secured.post("/login", data={"key": admin.key}).status_code == 403
    assert secured.post("/login", data={"key": admin.key, "csrf": "forged"}).status_code == 403
    assert (
        secured.post("/login", data={"key": admin.key, "csrf": _csrf(form.text)}).status_code == 303
    )

    page = secured.get(f"/articles/{failed_id}")
    assert page.status_code == 200
    token = _csrf(page.text)
    for data in ({}, {"csrf": "forged"}, {"csrf": token[:-1]}):
        assert secured.post(f"/submissions/{failed_id}/replay", data=data).status_code == 403
        assert secured.post(f"/submissions/{failed_id}/reprocess", data=data).status_code == 403
        assert secured.post("/logout", data=data).status_code == 403
    headers = {"Authorization": f"Bearer {admin.key}"}
    row = secured.get(f"/v1/submissions/{failed_id}", headers=headers).json()
    assert row["status"] == "failed"
    assert row["attempts"] == 1  # nothing was replayed
    assert secured.get("/").status_code == 200  # still signed in


def test_a_read_key_browses_but_only_admin_sees_payloads_and_replays(
    secured: TestClient, settings: Settings, worker: WorkerProcess
) -> None:
    admin = _key(settings, "admin")
    failed_id = _failed_submission(secured, admin)

    assert _sign_in(secured, _key(settings, "read").key).status_code == 303
    overview = secured.get("/").text
    # failures by reason (the shared test database holds other tests' failures too, so
    # this one's reason need not be among the most frequent the overview lists)
    assert 'id="failures"' in overview
    workers = overview[overview.index('id="workers"') : overview.index('id="feed-lag"')]
    assert '<tr class="live">' in workers  # the worker's heartbeat
    listing = secured.get("/submissions?status=failed")
    assert listing.status_code == 403
    assert "admin key" in listing.text
    article = secured.get(f"/articles/{failed_id}")
    assert article.status_code == 200
    assert "navigation" in article.text  # the reason
    assert "ua en ru" not in article.text  # the raw payload is for admins
    refused = secured.post(f"/submissions/{failed_id}/replay", data={"csrf": _csrf(article.text)})
    assert refused.status_code == 403

    assert _sign_in(secured, admin.key).status_code == 303
    listing = secured.get("/submissions?status=failed")
    assert listing.status_code == 200
    assert failed_id in listing.text
    assert "ua en ru" in listing.text  # the raw payload
    replayed = secured.post(f"/submissions/{failed_id}/replay", data={"csrf": _csrf(listing.text)})
    assert replayed.status_code == 303
    assert replayed.headers["location"] == f"/articles/{failed_id}"
    headers = {"Authorization": f"Bearer {admin.key}"}
    deadline = time.monotonic() + 240
    while secured.get(f"/v1/submissions/{failed_id}", headers=headers).json()["attempts"] < 2:
        assert time.monotonic() < deadline, "the replay never ran"
        time.sleep(0.1)


def test_an_open_api_says_so_on_every_page_and_needs_no_login(
    client: TestClient, worker: WorkerProcess
) -> None:
    article_id = client.post(
        "/v1/articles", json={"source": "console-open", "text": SEED.read_text(encoding="utf-8")}
    ).json()["id"]
    assert wait_for_final(client, article_id)["status"] == "done"
    entity = next(
        e for e in client.get(f"/v1/articles/{article_id}").json()["entities"] if e["type"] == "PER"
    )
    for path in (
        "/",
        "/articles?q=Landsbergis",
        f"/articles/{article_id}",
        f"/entities/{entity['key']}",
        "/submissions?status=dead",
        "/login",
    ):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert "runs <strong>open</strong>" in page.text, path
    body = client.get(f"/articles/{article_id}").text
    assert re.search(r'class="hl ent ent-PER"[^>]*>[^<]*Landsbergis', body)


def test_pages_escape_what_they_echo_and_refuse_framing(client: TestClient) -> None:
    page = client.get("/articles", params={"q": '<script>alert("Київ")</script>'})
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;Київ&#34;)" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"] == "text/html; charset=utf-8"


def test_the_overview_shows_each_queues_depth_and_its_oldest_message_age(
    settings: Settings,
) -> None:
    # a Redis prefix no worker consumes: the messages stay queued
    prefix = f"{settings.redis_key_prefix}console-queue:"
    with _client(settings, redis_key_prefix=prefix) as client:
        for n in range(3):
            article = {"source": "queued", "text": f"Заголовок {n}\n\nПерший абзац статті."}
            assert client.post("/v1/articles", json=article).status_code == 202
        page = client.get("/").text
    queues = page[page.index('id="queues"') : page.index('id="workers"')]
    assert re.search(r"<code>newsflow\.articles</code></td><td>3</td><td>\d+ s</td>", queues)
    assert re.search(r"<code>newsflow\.fetch</code></td><td>0</td><td>—</td>", queues)
    assert re.search(r"<th>queued</th><td>3</td>", page)

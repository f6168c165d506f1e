"""A feed submitted over HTTP: every item processed once, a resend changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import WorkerProcess, wait_for_final
from tests.unit.newsflow.test_feeds import ATOM, RSS

pytestmark = pytest.mark.integration


def test_feed_items_are_processed_and_a_resend_is_all_duplicates(
    client: TestClient, worker: WorkerProcess
) -> None:
    headers = {"Content-Type": "application/rss+xml"}
    first = client.post("/v1/feeds", params={"source": "feed-test"}, content=RSS, headers=headers)
    assert first.status_code == 202, first.text
    result = first.json()
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (3, 0, 0)

    articles = [wait_for_final(client, item["id"]) for item in result["items"][:2]]
    assert articles[0]["status"] == "done"
    assert articles[0]["title"] == "Lithuania urges stronger military alliance with Poland"
    assert articles[1]["language"] == "uk"

    again = client.post("/v1/feeds", params={"source": "feed-test"}, content=RSS, headers=headers)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 3)
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in result["items"]]


def test_atom_feed_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/v1/feeds",
        params={"source": "atom-test"},
        content=ATOM,
        headers={"Content-Type": "application/atom+xml"},
    )
    assert response.status_code == 202
    assert response.json()["accepted"] == 1


def test_not_a_feed_is_422_and_wrong_type_415(client: TestClient) -> None:
    bad = client.post(
        "/v1/feeds",
        params={"source": "s"},
        content=b"<html/>",
        headers={"Content-Type": "application/xml"},
    )
    wrong = client.post(
        "/v1/feeds",
        params={"source": "s"},
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert wrong.status_code == 415

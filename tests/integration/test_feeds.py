"""A feed submitted over HTTP: every item processed once, a resend changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PageServer, WorkerProcess, wait_for_final
from tests.integration.test_url_submissions import PAGE
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
    # their pages (news.example) cannot be had: each article is the feed's own content
    assert [a["provenance"].get("body") for a in articles] == ["feed", "feed"]
    assert "Lithuania needs to enhance its alliance." in articles[0]["body"]
    assert "cannot resolve 'news.example'" in articles[0]["warnings"][-1]

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


def _rss_item(link: str, guid: str) -> bytes:
    return f"""<rss version="2.0"><channel><title>T</title><item><guid>{guid}</guid>
    <title>Budget passed (as the feed says)</title><link>{link}</link>
    <pubDate>Fri, 24 Nov 2023 10:30:00 +0200</pubDate><author>Olena Koval</author>
    <description>The feed's short summary of the budget story.</description>
    </item></channel></rss>""".encode()


def test_a_feed_item_becomes_the_article_of_its_page_with_the_feeds_fields(
    client: TestClient, worker: WorkerProcess, page_server: PageServer
) -> None:
    page_server.pages["/feed-page/budget"] = ("text/html", PAGE.encode("windows-1251"))
    feed = _rss_item(page_server.url("/feed-page/budget"), "page-1")
    response = client.post(
        "/v1/feeds",
        params={"source": "feed-pages"},
        content=feed,
        headers={"Content-Type": "application/rss+xml"},
    )
    article = wait_for_final(client, response.json()["items"][0]["id"])

    assert article["status"] == "done", article["error"]
    assert any("видатки на оборону" in b["text"] for b in article["blocks"])  # the page's
    assert "short summary" not in article["body"]
    assert article["title"] == "Budget passed (as the feed says)"
    assert article["provenance"]["title"] == "sender"
    assert article["published_at"] == "2023-11-24T10:30:00+02:00"
    assert "body" not in article["provenance"]


def test_a_feed_item_whose_page_is_gone_is_made_from_the_feeds_summary(
    client: TestClient, worker: WorkerProcess, page_server: PageServer
) -> None:
    feed = _rss_item(page_server.url("/feed-page/missing"), "missing-1")
    response = client.post(
        "/v1/feeds",
        params={"source": "feed-pages"},
        content=feed,
        headers={"Content-Type": "application/rss+xml"},
    )
    article = wait_for_final(client, response.json()["items"][0]["id"])

    assert article["status"] == "done", article["error"]
    assert article["body"] == "The feed's short summary of the budget story."
    assert article["provenance"]["body"] == "feed"
    assert "HTTP 404" in article["warnings"][-1]
    assert article["title"] == "Budget passed (as the feed says)"


def test_a_bare_ampersand_is_accepted_with_a_warning(client: TestClient) -> None:
    document = RSS.replace(b"military alliance", b"military & defence alliance")
    response = client.post(
        "/v1/feeds",
        params={"source": "bozo-test"},
        content=document,
        headers={"Content-Type": "application/rss+xml"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 3
    assert "not well-formed" in response.json()["items"][0]["warning"]


def test_an_rss_1_0_feed_is_accepted(client: TestClient) -> None:
    from tests.unit.newsflow.test_feeds import RSS_1_0

    response = client.post(
        "/v1/feeds",
        params={"source": "rdf-test"},
        content=RSS_1_0,
        headers={"Content-Type": "application/rdf+xml"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2

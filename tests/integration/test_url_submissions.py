"""`url` submissions: the worker fetches the page itself, safely."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PageServer, WorkerProcess, wait_for_final

pytestmark = pytest.mark.integration

PAGE = """<html><head><meta charset="windows-1251"><title>Новини | Сайт</title></head>
<body><article><h1>Уряд ухвалив новий бюджет</h1>
<p>Уряд України у вівторок ухвалив бюджет на наступний рік після довгого обговорення.</p>
<p>Міністр фінансів заявив, що видатки на оборону становитимуть понад двадцять відсотків.</p>
<p>Депутати мають розглянути документ у першому читанні вже наступного тижня.</p>
</article></body></html>"""


def test_url_submission_is_fetched_decoded_and_parsed(
    client: TestClient, worker: WorkerProcess, page_server: PageServer
) -> None:
    page_server.pages["/budget"] = ("text/html", PAGE.encode("windows-1251"))
    response = client.post(
        "/v1/articles", json={"source": "crawler", "url": page_server.url("/budget")}
    )
    assert response.status_code == 202, response.text

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "done", article["error"]
    assert article["title"] == "Уряд ухвалив новий бюджет"
    assert article["language"] == "uk"
    assert any("видатки на оборону" in b["text"] for b in article["blocks"])


def test_url_to_a_private_address_is_refused(client: TestClient, worker: WorkerProcess) -> None:
    response = client.post(
        "/v1/articles", json={"source": "crawler", "url": "http://169.254.169.254/latest/meta-data"}
    )
    assert response.status_code == 202

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "failed"
    assert article["error"].startswith("fetch refused")
    assert "169.254.169.254" in article["error"]


def test_url_with_a_missing_page_fails_with_the_status(
    client: TestClient, worker: WorkerProcess, page_server: PageServer
) -> None:
    response = client.post("/v1/articles", json={"source": "c", "url": page_server.url("/gone")})

    article = wait_for_final(client, response.json()["id"])

    assert article["status"] == "failed"
    assert "404" in article["error"]

"""A problem's ``type`` resolves, against the URL that answered it, to a page of this API
that explains the error: what a developer follows from an error they did not expect."""

from __future__ import annotations

import uuid
from urllib.parse import urljoin

import httpx
import pytest

from newsflow.settings import Settings
from tests.conftest import api_over_http

pytestmark = pytest.mark.integration


def test_each_problem_type_resolves_to_the_page_that_explains_it(settings: Settings) -> None:
    with api_over_http(settings) as base, httpx.Client(base_url=base, timeout=10) as http:
        answers = [
            http.post("/v1/articles", json={"source": "s", "text": "x", "published_at": 5}),
            http.post("/v1/articles", content=b"x", headers={"Content-Type": "text/plain"}),
            http.get(f"/v1/articles/{uuid.uuid4()}"),
            http.get("/v1/articles", params={"cursor": "not-a-cursor"}),
        ]
        seen = set()
        for answer in answers:
            problem = answer.json()
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert problem["type"].startswith("/problems/"), problem
            page = http.get(urljoin(str(answer.url), problem["type"]))
            assert page.status_code == 200, problem["type"]
            assert page.headers["content-type"].startswith("text/html")
            assert f"<h1>{problem['title']}</h1>" in page.text
            assert str(answer.status_code) in page.text
            seen.add(problem["title"])
        assert seen == {"Invalid request", "Unsupported media type", "Not found"}

        index = http.get("/problems")
        assert index.status_code == 200
        assert "/problems/queue-unavailable" in index.text
        missing = http.get("/problems/no-such-problem")
        assert missing.status_code == 404
        assert missing.json()["type"] == "/problems/not-found"

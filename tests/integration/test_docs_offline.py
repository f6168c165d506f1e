"""/docs and /redoc work on a machine with no way out: their pages name no other host,
and every script, style and icon they reference is served by the API itself."""

from __future__ import annotations

import re

import httpx
import pytest

from newsflow.settings import Settings
from tests.conftest import api_over_http

pytestmark = pytest.mark.integration

# src="…", href="…", spec-url="…" attributes, and Swagger UI's `url: '…'`
REFERENCE = re.compile(r"""(?:\b(?:src|href|spec-url)=["']|\burl:\s*['"])([^"']+)["']""")


@pytest.mark.parametrize("auth", ["auto", "required"])  # the docs need no API key
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_and_its_assets_come_from_the_api(
    settings: Settings, page: str, auth: str
) -> None:
    served = settings.model_copy(update={"auth": auth})
    with api_over_http(served) as base_url, httpx.Client(base_url=base_url) as client:
        html = client.get(page)
        assert html.status_code == 200
        assert "text/html" in html.headers["content-type"]
        assert "://" not in html.text, "the page names another host"
        assert not re.search(r"""["']//""", html.text), "protocol-relative URL"
        references = REFERENCE.findall(html.text)
        assert any(ref.endswith(".js") for ref in references)
        assert any(ref.endswith("/openapi.json") for ref in references)
        for reference in references:
            assert reference.startswith("/"), reference
            answer = client.get(reference)
            assert answer.status_code == 200, reference
            assert answer.content, reference

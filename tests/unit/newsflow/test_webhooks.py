"""Webhook signatures, and the verification snippet the README gives receivers."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from api.app import create_app
from newsflow.settings import Settings
from newsflow.store.search import FilterParameters
from newsflow.webhooks import sign, verify

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()
SECRET = "whsec_unit-test-secret"
BODY = b'{"id": "0193", "status": "done"}'


def readme_verify() -> Any:
    section = README[README.index("## Push: webhooks and the event stream") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # the snippet as a receiver would paste it
    return namespace["verify"]


def test_a_signature_verifies_with_the_secret_only_over_the_same_body() -> None:
    for check in (verify, readme_verify()):
        header = sign(SECRET, BODY)
        assert check(SECRET, BODY, header)
        assert not check("another secret", BODY, header)
        assert not check(SECRET, BODY.replace(b"done", b"dead"), header)
        assert not check(SECRET, BODY, header.replace("v1=", "v1=0"))
        assert not check(SECRET, BODY, "garbage")


def test_an_old_signature_is_refused() -> None:
    for check in (verify, readme_verify()):
        stale = sign(SECRET, BODY, timestamp=int(time.time()) - 3600)
        assert not check(SECRET, BODY, stale)


def test_the_header_is_t_and_v1() -> None:
    header = sign(SECRET, BODY, timestamp=1700000000)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)


def test_webhook_filters_are_the_parameters_of_the_article_list() -> None:
    app = create_app(Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0"))
    parameters = app.openapi()["paths"]["/v1/articles"]["get"]["parameters"]
    names = {p["name"] for p in parameters} - {"limit", "cursor"}
    assert set(FilterParameters.model_fields) == names

"""The hand-built Celery message (tests/integration/test_task_message.py compares it with
what send_task pushes): its body is the args as JSON, in standard base64."""

from __future__ import annotations

import base64

import orjson

from newsflow.contract import json_bytes
from newsflow.taskmessage import task_message


def test_body_is_the_arguments_in_standard_base64() -> None:
    article = "Заголовок\n\nТекст статті — " * 400 + '🙂 "quoted" \\ </script>'
    args = [{"id": "t-1", "submission": {"source": "s", "text": article}}]
    message = orjson.loads(task_message("newsflow.process", "t-1", args, "q"))
    expected = json_bytes(
        [args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    )
    assert message["body"] == base64.b64encode(expected).decode()
    assert message["properties"]["body_encoding"] == "base64"
    assert message["headers"]["id"] == message["properties"]["correlation_id"] == "t-1"

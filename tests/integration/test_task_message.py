"""The API builds Celery task messages itself (to enqueue in the same Redis round trip as
the idempotency claim): they must be what Celery's own send_task pushes."""

from __future__ import annotations

import base64
import json

import pytest
import redis

from api.intake import queue_key
from newsflow.settings import Settings
from newsflow.taskmessage import task_message
from newsflow.taskqueue import PROCESS_SUBMISSION, make_celery

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("queue_setting", ["queue", "fetch_queue"])
def test_hand_built_message_matches_what_celery_sends(
    settings: Settings, queue_setting: str
) -> None:
    prefix = settings.redis_key_prefix + "message-check:"
    isolated = settings.model_copy(update={"redis_key_prefix": prefix})
    queue = getattr(settings, queue_setting)
    args = [{"id": "abc", "submission": {"source": "s", "text": "t"}}]
    celery = make_celery(isolated)
    celery.send_task(PROCESS_SUBMISSION, args=args, task_id="task-1", queue=queue)
    celery.close()
    client = redis.Redis.from_url(settings.require_redis_url())
    try:
        raw = client.rpop(queue_key(isolated, queue))
        assert isinstance(raw, bytes)
        sent_by_celery = json.loads(raw)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()

    ours = json.loads(task_message(PROCESS_SUBMISSION, "task-1", args, queue))

    assert base64.b64decode(ours["body"]) == base64.b64decode(sent_by_celery["body"]).replace(
        b", ", b","
    ).replace(b": ", b":")
    volatile = {"argsrepr", "origin"}
    assert {k: v for k, v in ours["headers"].items() if k not in volatile} == {
        k: v for k, v in sent_by_celery["headers"].items() if k not in volatile
    }
    for field in ("content-type", "content-encoding"):
        assert ours[field] == sent_by_celery[field]
    volatile_properties = {"delivery_tag", "reply_to"}
    assert {k: v for k, v in ours["properties"].items() if k not in volatile_properties} == {
        k: v for k, v in sent_by_celery["properties"].items() if k not in volatile_properties
    }


def test_trace_headers_are_where_celery_puts_custom_headers(settings: Settings) -> None:
    """The traceparent and request id ride as send_task(headers=…) would carry them: the
    worker reads them from its task's request (worker/tasks.py)."""
    prefix = settings.redis_key_prefix + "message-headers:"
    isolated = settings.model_copy(update={"redis_key_prefix": prefix})
    extra = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    extra["request_id"] = "req-1"
    args = [{"id": "abc", "submission": {"source": "s", "text": "t"}}]
    celery = make_celery(isolated)
    celery.send_task(
        PROCESS_SUBMISSION, args=args, task_id="task-2", queue=settings.queue, headers=extra
    )
    celery.close()
    client = redis.Redis.from_url(settings.require_redis_url())
    try:
        raw = client.rpop(queue_key(isolated, settings.queue))
        assert isinstance(raw, bytes)
        sent_by_celery = json.loads(raw)["headers"]
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()

    ours = json.loads(task_message(PROCESS_SUBMISSION, "task-2", args, settings.queue, extra))
    volatile = {"argsrepr", "origin"}
    assert {k: v for k, v in ours["headers"].items() if k not in volatile} == {
        k: v for k, v in sent_by_celery.items() if k not in volatile
    }
    assert ours["headers"]["traceparent"] == extra["traceparent"]

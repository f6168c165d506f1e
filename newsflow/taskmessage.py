"""Celery task messages built by hand, byte for byte what ``send_task`` would push onto a
Redis queue (task protocol 2, kombu's Redis envelope), so the API can enqueue in the same
Redis round trip as its idempotency claim, without kombu on the request path.

A test compares these messages with ones Celery itself sends."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

import orjson
import redis
from pybase64 import (
    b64decode,
    b64encode,
)  # SIMD: a tenth of the standard library's time per article
from uuid_utils import uuid4

from newsflow.contract import json_bytes
from newsflow.logs import message_headers
from newsflow.settings import Settings
from newsflow.taskqueue import PROCESS_SUBMISSION


class ProcessMessage(TypedDict):
    """The one argument of the process_submission task, as intake, replays and reprocessing
    build it and the worker reads it (JSON on the wire)."""

    id: str  # the submission's id (also the article's, unless it is a later version)
    received_at: str  # ISO 8601, when the API accepted it
    idempotency_key: str | None
    submission: dict[str, Any]  # the payload as accepted (Submission, unset fields left out)
    owner: NotRequired[str | None]  # whose claims (newsflow/apikeys.py); absent before 0011


_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


def task_message(
    task_name: str,
    task_id: str,
    args: list[Any],
    queue: str,
    extra_headers: Mapping[str, str] | None = None,
) -> bytes:
    """``extra_headers`` (the traceparent and request id: see logs.message_headers) are
    custom message headers, as ``send_task(headers=…)`` adds them: the worker reads them
    from its task's request."""
    body = json_bytes([args, {}, _EMBED])
    headers: dict[str, Any] = {
        "lang": "py",
        "task": task_name,
        "id": task_id,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": task_id,
        "parent_id": None,
        "argsrepr": f"[submission {task_id}]",  # for logs: the payload itself may be large
        "kwargsrepr": "{}",
        "origin": _ORIGIN,
        "ignore_result": None,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    if extra_headers:
        headers.update(extra_headers)
    envelope = {
        "body": orjson.Fragment(b'"' + b64encode(body) + b'"'),  # base64 needs no escaping
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "correlation_id": task_id,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid4()),  # uuid_utils: no system call per message
        },
    }
    return orjson.dumps(envelope)


def queue_for(settings: Settings, submission: dict[str, Any]) -> str:
    """The queue of a submission: one with only a `url` (the worker fetches the page, which
    may be slow) has its own, so a slow site never delays an article pushed whole."""
    has_content = submission.get("text") is not None or submission.get("html") is not None
    return settings.queue if has_content else settings.fetch_queue


def queue_key(settings: Settings, queue: str) -> str:
    # kombu's Redis transport prefixes every key with global_keyprefix
    return f"{settings.redis_key_prefix}{queue}"


def enqueue_submission(
    client: redis.Redis, settings: Settings, message: ProcessMessage, task_id: str
) -> None:
    """Push one processing task (a replay or a reprocess) onto its submission's queue,
    with the trace context and request id of the request (or command) that asked."""
    queue = queue_for(settings, message["submission"])
    built = task_message(PROCESS_SUBMISSION, task_id, [message], queue, message_headers())
    client.lpush(queue_key(settings, queue), built)


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    depth: int
    oldest_received_at: datetime | None  # of the message next to be taken


def received_at(raw: bytes) -> datetime | None:
    """When the submission in a queued task message was received (a replay keeps its
    first receipt); None for a message of another shape."""
    try:
        envelope = orjson.loads(raw)
        args = orjson.loads(b64decode(envelope["body"]))[0]
        return datetime.fromisoformat(args[0]["received_at"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def queue_depths(client: redis.Redis, settings: Settings) -> tuple[list[QueueDepth], int]:
    """Each queue's length and the receipt time of its oldest message (LPUSH puts the
    newest at the head, so the tail is taken next), and the messages workers hold
    unacknowledged (kombu's ``unacked`` hash), in one round trip."""
    queues = (settings.queue, settings.fetch_queue)
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        pipe.llen(queue_key(settings, queue))
        pipe.lindex(queue_key(settings, queue), -1)
    pipe.hlen(f"{settings.redis_key_prefix}unacked")
    *replies, unacked = pipe.execute()
    depths = [
        QueueDepth(
            queue,
            int(replies[2 * i]),
            received_at(replies[2 * i + 1]) if replies[2 * i + 1] else None,
        )
        for i, queue in enumerate(queues)
    ]
    return depths, int(unacked)

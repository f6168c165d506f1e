"""The Celery application both sides share: the API sends tasks by their stable names
(never importing ``worker``), the worker registers them. All queue settings live here."""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from newsflow import redisconn
from newsflow.settings import Settings

PROCESS_SUBMISSION = "newsflow.process_submission"
# polls due sources (worker/sources.py): sent by Celery beat, and by the API for one source
POLL_SOURCES = "newsflow.poll_sources"


def make_celery(settings: Settings) -> Celery:
    app = Celery("newsflow", set_as_current=False)
    broker_url, sentinel_options = redisconn.broker(settings)
    transport_options = {
        **sentinel_options,
        "visibility_timeout": settings.visibility_timeout,
        # kombu sweeps for abandoned (unacked) messages only every interval x throttle
        # seconds, 100 s by default: sweep every few seconds, so a crashed worker's tasks
        # come back soon after the visibility timeout rather than up to 100 s later
        "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 5)),
        "unacked_restore_throttle": 1,
        "global_keyprefix": settings.redis_key_prefix,
        # fail fast when Redis is gone, so the API can answer 503 instead of hanging
        "socket_connect_timeout": 5,
        "socket_timeout": 30,
        "health_check_interval": 10,
    }
    # pushed articles and `url` submissions (see taskmessage.queue_for), declared alike
    queues = [
        Queue(name, Exchange(name, type="direct"), routing_key=name)
        for name in (settings.queue, settings.fetch_queue)
    ]
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_queues=queues,
        task_default_queue=settings.queue,
        task_default_exchange=settings.queue,
        task_default_routing_key=settings.queue,
        task_routes={
            PROCESS_SUBMISSION: {"queue": settings.queue},
            POLL_SOURCES: {"queue": settings.fetch_queue},  # network-bound, like fetches
        },
        # what `-B` runs: a poll of due sources every tick; a tick not taken before the
        # next expires (workers down: no backlog of polls), and any number of beats is safe
        beat_schedule={
            "poll-sources": {
                "task": POLL_SOURCES,
                "schedule": settings.source_poll_tick_seconds,
                "options": {"expires": settings.source_poll_tick_seconds},
            }
        },
        # in memory: nothing to share or corrupt between beats; after a restart the first
        # tick comes at once, which is harmless (a poll takes only due sources)
        beat_scheduler="celery.beat:Scheduler",
        task_create_missing_queues=False,
        # at-least-once: ack after the task, requeue if the worker dies under it; our own
        # delivery count (in PostgreSQL) stops a poison message from looping forever
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_soft_shutdown_timeout=30.0,
        worker_enable_soft_shutdown_on_idle=True,
        # task events (received, started, succeeded, …) for Flower: a PUBLISH each, a few
        # per task. The API enqueues hand-built messages (taskmessage.py), so no task-sent
        # is published for a submission: Flower knows a task from task-received on.
        worker_send_task_events=True,
        task_send_sent_event=True,  # tasks Celery itself sends: retries
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    return app

"""The app factory: `uvicorn --factory api.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
import redis.asyncio
from fastapi import Depends, FastAPI
from redis.backoff import ExponentialBackoff

from api import docs, problems
from api.articles import router as articles_router
from api.auth import AuthGate
from api.batch import router as batch_router
from api.console import router as console_router
from api.consumers import router as consumers_router
from api.entities import router as entities_router
from api.feeds import router as feeds_router
from api.health import router as health_router
from api.intake import SubmissionIntake
from api.limits import BodyLimitMiddleware
from api.metrics import CountedAsyncRetry, CountedRetry, RequestMetrics
from api.metrics import router as metrics_router
from api.requestlog import RequestContext
from api.sources import router as sources_router
from api.stream import FeedWaker
from api.stream import router as stream_router
from api.submissions import router as submissions_router
from api.submit import SUBMIT_PATH, SubmitFastPath
from api.submit import router as submit_router
from api.webhooks import router as webhooks_router
from newsflow import redisconn
from newsflow.settings import Settings, get_settings

# the tags of the OpenAPI document, in the order its readers meet them
OPENAPI_TAGS = [
    {"name": "articles", "description": "Submit articles (one, a batch, a feed); read one."},
    {
        "name": "consumers",
        "description": "For programs downstream: list and search, export, the change feed.",
    },
    {"name": "entities", "description": "People, organisations and places, in any language."},
    {"name": "submissions", "description": "(admin) Failed and dead submissions; replay."},
    {"name": "sources", "description": "(admin) Feeds newsflow polls itself, with health."},
    {"name": "webhooks", "description": "(admin) Subscriptions that push changes to a URL."},
    {"name": "health", "description": "Liveness and readiness."},
    {"name": "problems", "description": "The pages each error's `type` points to."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # A pooled connection outlives a Redis restart: retry a command once or twice on a
    # fresh connection before answering 503. A retried intake script is harmless: its
    # claims make the second run answer the first's id.
    connection_options: dict[str, Any] = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "health_check_interval": 10,
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
    }
    redis_client = redisconn.sync_client(
        settings,
        retry=CountedRetry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        **connection_options,
    )
    # The async client has no socket timeout: redis-py wraps every send of a command that
    # has one in asyncio.wait_for (a task per command: ~5% of the API's profile). Its
    # callers bound each call instead (api.intake.REDIS_DEADLINE_SECONDS); a command cut
    # off there closes its connection, so no late reply is read by the next one.
    async_redis = redisconn.async_client(
        settings,
        retry=CountedAsyncRetry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        **{**connection_options, "socket_timeout": None},
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.feed_waker.close()
        redis_client.close()
        await async_redis.aclose()

    app = FastAPI(
        title="newsflow",
        version="0.1.0",
        summary="News-article ingestion: submit, follow, read.",
        lifespan=lifespan,
        dependencies=[Depends(problems.no_nul_parameters)],
        # operation ids are the route functions' names (submit_article, list_articles…):
        # stable for generated clients, unlike FastAPI's name+path+method default
        generate_unique_id_function=lambda route: route.name,
        openapi_tags=OPENAPI_TAGS,
        docs_url=None,  # served by api/docs.py, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.intake = SubmissionIntake(settings, redis_client, async_redis)
    app.state.auth = AuthGate(settings, redis_client, async_redis)
    app.state.feed_waker = FeedWaker(settings.database_url)
    problems.install(app)
    problems.document_no_nul_parameters(app)
    docs.install(app)
    app.include_router(batch_router)  # before /v1/articles/{id} routes match 'batch'
    app.include_router(submit_router)
    app.include_router(articles_router)
    app.include_router(health_router)
    app.include_router(submissions_router)
    app.include_router(feeds_router)
    app.include_router(consumers_router)
    app.include_router(entities_router)
    app.include_router(problems.router)
    app.include_router(metrics_router)
    app.include_router(console_router)  # the web console at /
    app.include_router(stream_router)
    app.include_router(webhooks_router)
    app.include_router(sources_router)
    # add_middleware puts each in front of those before it: BodyLimitMiddleware (413/415
    # before a body is read) runs first, then SubmitFastPath answers POST /v1/articles
    app.add_middleware(SubmitFastPath)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger=dict.fromkeys(("/v1/articles/batch", "/v1/feeds"), settings.batch_max_body_bytes),
    )
    # the request id, trace context and access log of every answer
    app.add_middleware(RequestContext, access_log=settings.access_log)
    app.add_middleware(RequestMetrics, submit_path=SUBMIT_PATH)  # outermost: counts every answer
    return app

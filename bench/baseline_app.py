"""The bare baseline bench/intake.py measures newsflow's intake against: a FastAPI endpoint
that validates the JSON body with pydantic (``model_validate_json`` of a small model) and
does one Redis LPUSH, nothing else (no auth, no idempotency, no task message, no
durability script). What is left between this and ``POST /v1/articles`` is what newsflow
adds.

    uvicorn --factory bench.baseline_app:create_app --no-access-log

Reads ``NEWSFLOW_REDIS_URL``. ``POST /v1/articles/batch`` is the same for a JSON array:
validate each item, LPUSH each in one pipelined round trip."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import redis.asyncio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter

QUEUE = "baseline:articles"


class Article(BaseModel):
    source: str
    external_id: str | None = None
    text: str


_ARTICLES = TypeAdapter(list[Article])


def create_app() -> FastAPI:
    client = redis.asyncio.Redis.from_url(os.environ["NEWSFLOW_REDIS_URL"])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/articles", status_code=202)
    async def submit(request: Request) -> Response:
        body = await request.body()
        Article.model_validate_json(body)
        article_id = str(uuid.uuid4())
        await client.lpush(QUEUE, body)
        return JSONResponse({"id": article_id, "status": "queued"}, status_code=202)

    @app.post("/v1/articles/batch", status_code=202)
    async def submit_batch(request: Request) -> Response:
        body = await request.body()
        articles = _ARTICLES.validate_json(body)
        raw = orjson.loads(body)
        async with client.pipeline(transaction=False) as pipe:
            for item in raw:
                pipe.lpush(QUEUE, orjson.dumps(item))
            await pipe.execute()
        items = [{"index": i, "id": str(uuid.uuid4())} for i in range(len(articles))]
        return JSONResponse({"accepted": len(items), "items": items}, status_code=202)

    return app

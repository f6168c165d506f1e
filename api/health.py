"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import IntakeDep, SettingsDep
from newsflow.store.db import get_engine

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Redis and PostgreSQL are reachable",
    responses={503: {"description": "A dependency is unreachable"}},
)
def readyz(settings: SettingsDep, intake: IntakeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        intake.redis.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        with get_engine(settings.require_database_url()).connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except SQLAlchemyError as exc:
        checks["postgres"] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )

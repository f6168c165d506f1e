"""`newsflow`: run the service (up, api, worker, migrate)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from types import FrameType

import click
import httpx

from newsflow.client_cli import COMMANDS as CLIENT_COMMANDS
from newsflow.keys_cli import keys
from newsflow.reprocess_cli import reprocess
from newsflow.settings import get_settings
from newsflow.submissions_cli import submissions


@click.group()
def main() -> None:
    """newsflow: news-article ingestion."""


@main.command()
def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    from newsflow.store.migrate import upgrade

    upgrade(get_settings().require_database_url())
    click.echo("database schema is up to date")


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="NEWSFLOW_API_WORKERS",
    show_envvar=True,
    help="uvicorn worker processes (`newsflow up` runs what NEWSFLOW_API_WORKERS says)",
)
def api(workers: int) -> None:
    """Serve the HTTP API."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        # named, not "auto": a missing uvloop or httptools fails at start instead of
        # silently falling back to asyncio's loop and h11; no log line per request
        loop="uvloop",
        http="httptools",
        log_level="info",
        access_log=False,
    )


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", type=int, default=None, help="worker processes")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(concurrency: int | None, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker on the submissions queue (extra arguments go to Celery)."""
    # one thread per process for the NLP models: worker processes already use every core,
    # and oversubscribed BLAS threads made natasha ten times slower under load
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from worker.celery_app import app

    settings = get_settings()
    argv = [
        "worker",
        f"--queues={settings.queue}",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        *celery_args,
    ]
    app.worker_main(argv)


@main.command()
def up() -> None:
    """Run everything: embedded PostgreSQL and Redis unless NEWSFLOW_DATABASE_URL /
    NEWSFLOW_REDIS_URL are set, the migrations, one worker and the API."""
    from newsflow.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
    from newsflow.store.migrate import upgrade

    started = time.monotonic()
    settings = get_settings()
    env = dict(os.environ)
    data_dir = settings.data_dir.resolve()
    with ExitStack() as stack:
        if settings.database_url:
            database_url = settings.database_url
        else:
            postgres = EmbeddedPostgres(data_dir / "postgres").start()
            stack.callback(postgres.stop)
            database_url = postgres.database_url("newsflow")
            click.echo(f"embedded PostgreSQL: {database_url}")
        if settings.redis_url:
            redis_url = settings.redis_url
        else:
            redis = EmbeddedRedis(data_dir / "redis", free_port(settings.embedded_redis_port))
            redis.start()
            stack.callback(redis.stop)
            redis_url = redis.url
            click.echo(f"embedded Redis:      {redis_url} (append-only, fsync always)")
        env.update(NEWSFLOW_DATABASE_URL=database_url, NEWSFLOW_REDIS_URL=redis_url)

        upgrade(database_url)
        children = [
            _spawn([sys.executable, "-m", "newsflow.cli", "worker"], env),
            _spawn([sys.executable, "-m", "newsflow.cli", "api"], env),
        ]
        stack.callback(_stop_all, children)
        _trap_sigterm()
        base_url = f"http://{settings.api_host}:{settings.api_port}"
        _wait_ready(base_url, children)
        click.echo(
            f"newsflow is ready in {time.monotonic() - started:.1f} s\n"
            f"  API:  {base_url}  (docs {base_url}/docs)\n"
            "  Ctrl-C stops everything."
        )
        if settings.api_host in ("127.0.0.1", "localhost"):
            click.echo("  The API is open to anyone on this machine: it binds to localhost only.")
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            click.echo("a newsflow process exited; stopping", err=True)
        except KeyboardInterrupt:
            click.echo("\nstopping newsflow")


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # own session: Ctrl-C reaches `up` only, which then stops the children in order
    return subprocess.Popen(command, env=env, start_new_session=True)


def _trap_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _wait_ready(base_url: str, children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise click.ClickException("a newsflow process exited during start-up")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise click.ClickException("the API did not become ready within 60 s")


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in reversed(children):  # the API first, so no new work arrives
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in reversed(children):
        try:
            child.wait(45)  # the worker's soft-shutdown window is 30 s
        except subprocess.TimeoutExpired:
            child.kill()


main.add_command(keys)
main.add_command(submissions)
main.add_command(reprocess)
for _command in CLIENT_COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()

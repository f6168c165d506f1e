"""`newsflow`: run the service (up, api, worker, migrate)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import click
import httpx
from pydantic import ValidationError

from cli.changes import feed
from cli.client import COMMANDS as CLIENT_COMMANDS
from cli.doctor import doctor
from cli.errors import ClientErrorsGroup
from cli.keys import keys
from cli.reprocess import reprocess
from cli.sources import sources
from cli.submissions import submissions
from newsflow import logs
from newsflow.metrics import private_multiprocess_dir
from newsflow.settings import Settings, get_settings


@click.group(cls=ClientErrorsGroup)
@click.version_option(package_name="newsflow", prog_name="newsflow")
def main() -> None:
    """newsflow: news-article ingestion."""
    try:
        settings = get_settings()
    except ValidationError:
        return  # the command that needs them says so; `newsflow doctor` names what is wrong
    # warnings and errors only for commands: `api` and `worker` log at NEWSFLOW_LOG_LEVEL
    logs.configure(settings.log_format, "WARNING")
    """newsflow: news-article ingestion. Exit statuses: 0 done, 1 some articles refused
    or failed, 2 bad usage, 3 the API cannot be reached, 4 the API refused the request,
    5 the API failed. Shell completion: eval "$(_NEWSFLOW_COMPLETE=bash_source newsflow)"
    (zsh_source, fish_source)."""


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
    settings = get_settings()
    with ExitStack() as stack:
        if workers > 1:  # /metrics adds up every uvicorn worker's counts (newsflow/metrics.py)
            stack.enter_context(private_multiprocess_dir("api", forked=False))
        _run_api(settings, workers)


def _run_api(settings: Settings, workers: int) -> None:
    import uvicorn

    from api.protocol import TimedHttpToolsProtocol

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        # named, not "auto": a missing uvloop or httptools fails at start instead of
        # silently falling back to asyncio's loop and h11.
        # httptools with read deadlines (NEWSFLOW_HEADER/BODY_TIMEOUT_SECONDS)
        loop="uvloop",
        http=TimedHttpToolsProtocol,
        # newsflow's log format in every uvicorn process; the access log is newsflow's own
        # (api/requestlog.py: with the route, the duration and the request id)
        log_config=logs.logging_config(settings.log_format, settings.log_level),
        log_level=settings.log_level.lower(),
        access_log=False,
    )


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", type=int, default=None, help="worker processes")
@click.option(
    "--queues",
    default=None,
    help="comma-separated queues to consume; default both NEWSFLOW_QUEUE and "
    "NEWSFLOW_FETCH_QUEUE (a separate worker group can take the fetch queue alone)",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="create this file once the models are loaded and the worker takes tasks",
)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(
    concurrency: int | None,
    queues: str | None,
    ready_file: Path | None,
    celery_args: tuple[str, ...],
) -> None:
    """Run a Celery worker on the submission queues (extra arguments go to Celery)."""
    # one thread per process for the NLP models: worker processes already use every core,
    # and oversubscribed BLAS threads made natasha ten times slower under load
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    settings = get_settings()
    with ExitStack() as stack:
        if settings.worker_metrics_port is not None:
            # the pool children count into files the parent serves (worker/metrics.py)
            stack.enter_context(private_multiprocess_dir("worker", forked=True))
        _run_worker(settings, concurrency, queues, ready_file, celery_args)


def _run_worker(
    settings: Settings,
    concurrency: int | None,
    queues: str | None,
    ready_file: Path | None,
    celery_args: tuple[str, ...],
) -> None:
    from worker.celery_app import app, create_file_when_ready

    if ready_file is not None:
        create_file_when_ready(ready_file)

    argv = [
        *(["--quiet"] if settings.log_format == "json" else []),  # no banner: JSON lines only
        "worker",
        f"--queues={queues or f'{settings.queue},{settings.fetch_queue}'}",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        "--without-gossip",
        "--without-mingle",
        f"--loglevel={settings.log_level}",
        *celery_args,
    ]
    app.worker_main(argv)


@main.command()
def up() -> None:
    """Run everything: embedded PostgreSQL and Redis unless NEWSFLOW_DATABASE_URL /
    NEWSFLOW_REDIS_URL are set, the migrations, one worker (with beat, which polls the
    sources) and the API."""
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
        # The worker is ready seconds after the API (it loads its NLP models first). It
        # says so by creating a file once Celery's worker_ready fires (after the warm-up on
        # worker_init, with its consumer running): a local file in a directory private to
        # this run, so nothing left by an earlier run or another worker can be mistaken
        # for it, and nothing to clean up in Redis or PostgreSQL.
        run_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newsflow-up-")))
        worker_ready_file = run_dir / "worker.ready"
        # -B: the worker runs Celery beat too, so sources poll out of the box (any
        # number of beats is safe: see README "Sources")
        worker_process = _spawn(
            [sys.executable, "-m", "cli", "worker", f"--ready-file={worker_ready_file}", "-B"],
            env,
        )
        api_process = _spawn([sys.executable, "-m", "cli", "api"], env)
        children = [worker_process, api_process]
        stack.callback(_stop_all, children)
        _trap_sigterm()
        base_url = f"http://{settings.api_host}:{settings.api_port}"
        try:
            _wait_ready(base_url, api_process, worker_process, worker_ready_file)
            click.echo(
                f"newsflow is ready in {time.monotonic() - started:.1f} s\n"
                f"  API:  {base_url}  (docs {base_url}/docs)\n"
                "  Ctrl-C stops everything."
            )
            if settings.api_host in ("127.0.0.1", "localhost"):
                click.echo(
                    "  The API is open to anyone on this machine: it binds to localhost only."
                )
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            click.echo("a newsflow process exited; stopping", err=True)
        except KeyboardInterrupt:
            click.echo("\nstopping newsflow")
            return
    sys.exit(1)  # a process died (the rest are stopped by now): a supervisor should know


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # own session: Ctrl-C reaches `up` only, which then stops the children in order
    return subprocess.Popen(command, env=env, start_new_session=True)


def _trap_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _wait_ready(
    base_url: str,
    api: subprocess.Popen[bytes],
    worker: subprocess.Popen[bytes],
    worker_ready_file: Path,
    timeout: float = 120,
) -> None:
    """Until the API answers /readyz and the worker has created its ready file; a child
    that exits meanwhile ends the wait at once, with a ClickException (exit status 1)."""
    deadline = time.monotonic() + timeout
    api_up = worker_up = False
    while time.monotonic() < deadline:
        for name, child in (("worker", worker), ("API", api)):
            if child.poll() is not None:
                raise click.ClickException(
                    f"the {name} exited during start-up ({_exit_status(child.returncode)}); "
                    "see its output above"
                )
        worker_up = worker_up or worker_ready_file.exists()
        api_up = api_up or api_ready(base_url)
        if api_up and worker_up:
            return
        time.sleep(0.1)
    late = " and ".join(
        name for name, ready in (("the API", api_up), ("the worker", worker_up)) if not ready
    )
    raise click.ClickException(f"{late} did not become ready within {timeout:.0f} s")


def api_ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _exit_status(returncode: int) -> str:
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


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
main.add_command(doctor)
main.add_command(feed)
main.add_command(submissions)
main.add_command(reprocess)
main.add_command(sources)
for _command in CLIENT_COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()

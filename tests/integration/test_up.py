"""`newsflow up` (what `make up` runs) on a machine with nothing configured: embedded
PostgreSQL and Redis, migrations, a worker and the API; the seed goes through; Ctrl-C
stops everything. It says it is ready only once the worker is, and when the worker dies
while starting it says so and exits 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
import psutil
import pytest

from cli.main import api_ready
from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import ROOT, SEED, settings_env

pytestmark = pytest.mark.integration


def test_up_serves_the_seed_from_embedded_servers_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(
        NEWSFLOW_DATA_DIR=str(tmp_path / "data"),
        NEWSFLOW_API_PORT=str(port),
        NEWSFLOW_EMBEDDED_REDIS_PORT=str(free_port()),
    )
    log = (tmp_path / "up.log").open("wb")
    up = _start_up(env, log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: b"newsflow is ready" in (tmp_path / "up.log").read_bytes(), up, 90)
        children = psutil.Process(up.pid).children(recursive=True)
        with httpx.Client(base_url=base_url, timeout=10) as client:
            accepted = client.post(
                "/v1/articles", json={"source": "seed", "text": SEED.read_text()}
            )
            assert accepted.status_code == 202
            document: dict = {}

            def done() -> bool:
                nonlocal document
                document = client.get(f"/v1/articles/{accepted.json()['id']}").json()
                return bool(document["status"] == "done")

            _wait_for(done, up, 60)
        assert document["title"].startswith("Lithuania urges stronger military alliance")
        assert (tmp_path / "data" / "redis" / "appendonlydir").exists() or any(
            (tmp_path / "data" / "redis").glob("*.aof*")
        )
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(60)
        finally:
            log.close()
    output = (tmp_path / "up.log").read_text()
    assert up.returncode == 0, output[-3000:]
    assert "stopping newsflow" in output
    time.sleep(0.5)
    still_running = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert still_running == [], output[-3000:]


def test_up_waits_for_the_worker_and_exits_1_when_it_dies_starting(
    tmp_path: Path, settings: Settings
) -> None:
    """The API answers within a second or two; the worker loads its NLP models for
    seconds more. Here it never gets there: frozen while loading (SIGSTOP), then killed as
    the OOM killer would. `up` must not have claimed readiness meanwhile, and must then
    say what died, stop the API and exit 1 instead of waiting on. (Our own servers this
    time: the NEWSFLOW_DATABASE_URL / NEWSFLOW_REDIS_URL path of `up`.)"""
    port = free_port()
    env = settings_env(settings)
    env.update(NEWSFLOW_DATA_DIR=str(tmp_path / "data"), NEWSFLOW_API_PORT=str(port))
    log_path = tmp_path / "up.log"
    log = log_path.open("wb")
    up = _start_up(env, log)
    worker: psutil.Process | None = None
    try:
        worker = _wait_for_child(up, "worker", 60)
        worker.suspend()  # a fresh interpreter is still importing: far from ready
        api = _wait_for_child(up, "api", 10)
        _wait_for(lambda: api_ready(f"http://127.0.0.1:{port}"), up, 60)
        time.sleep(1)  # ample time for `up` to claim readiness if it watched only the API
        assert b"newsflow is ready" not in log_path.read_bytes()
        worker.kill()
        up.wait(60)
    finally:
        if worker is not None and worker.is_running():
            worker.kill()
        if up.poll() is None:
            up.send_signal(signal.SIGINT)
            up.wait(60)
        log.close()
    output = log_path.read_text()
    assert up.returncode == 1, output[-3000:]
    assert "Error: the worker exited during start-up (killed by SIGKILL)" in output
    assert "newsflow is ready" not in output
    assert not api.is_running() or api.status() == psutil.STATUS_ZOMBIE, output[-3000:]


def _start_up(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "up"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for_child(
    process: subprocess.Popen[bytes], command: str, timeout: float
) -> psutil.Process:
    """The child of `newsflow up` that runs `newsflow <command>`, as soon as it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(process.pid).children():
            try:
                if child.cmdline()[2:4] == ["cli", command]:
                    return child
            except psutil.NoSuchProcess:
                continue
        assert process.poll() is None, "newsflow up exited early"
        time.sleep(0.01)
    raise AssertionError(f"no `newsflow {command}` within {timeout} s")


def _wait_for(condition: object, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        assert process.poll() is None, "newsflow up exited early"
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout} s")

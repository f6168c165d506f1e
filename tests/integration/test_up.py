"""`newsflow up` (what `make up` runs) on a machine with nothing configured: embedded
PostgreSQL and Redis, migrations, a worker and the API; the seed goes through; Ctrl-C
stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from newsflow.embedded import free_port
from tests.conftest import ROOT, SEED

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
    up = subprocess.Popen(
        [sys.executable, "-m", "newsflow.cli", "up"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
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


def _wait_for(condition: object, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        assert process.poll() is None, "newsflow up exited early"
        time.sleep(0.1)
    raise AssertionError(f"not reached within {timeout} s")

"""Clients that send their request a byte at a time are disconnected: a real `newsflow api`
process, raw sockets."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsflow.embedded import free_port
from newsflow.settings import Settings
from tests.conftest import ROOT, settings_env

pytestmark = pytest.mark.integration

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def api_port(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    env = {
        **settings_env(settings),
        "NEWSFLOW_API_PORT": str(port),
        "NEWSFLOW_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "NEWSFLOW_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    log: Path = tmp_path_factory.mktemp("api") / "api.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "api"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(20)


def _drip(port: int, head: bytes, drip: bytes) -> tuple[float, float]:
    """Send ``head`` at once, then ``drip`` a byte every 0.1 s until the server closes the
    connection; (seconds from the head sent to the close, bytes dripped)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        started = time.monotonic()
        for sent in range(len(drip)):
            readable, _, _ = select.select([sock], [], [], 0.1)
            if readable:
                try:
                    while sock.recv(65536):  # a response, if any, then the close
                        pass
                except ConnectionResetError:
                    pass
                return time.monotonic() - started, sent
            try:
                sock.send(drip[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started, sent
    raise AssertionError(f"still connected after dripping {len(drip)} bytes")


def test_a_client_dripping_its_headers_is_disconnected(api_port: int) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 600 + b"\r\n\r\n"

    elapsed, _ = _drip(api_port, b"", request)

    assert HEADER_TIMEOUT * 0.8 <= elapsed < HEADER_TIMEOUT + 2


def test_a_client_dripping_its_body_is_disconnected(api_port: int) -> None:
    body = b'{"source": "slow", "text": "' + b"a" * 1000 + b'"}'
    head = (
        b"POST /v1/articles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )

    elapsed, _ = _drip(api_port, head, body)

    assert BODY_TIMEOUT * 0.8 <= elapsed < BODY_TIMEOUT + 2


def test_an_idle_connection_is_disconnected(api_port: int) -> None:
    with socket.create_connection(("127.0.0.1", api_port)) as sock:
        started = time.monotonic()
        sock.settimeout(HEADER_TIMEOUT + 5)
        assert sock.recv(1) == b""
        assert time.monotonic() - started < HEADER_TIMEOUT + 2


def test_prompt_requests_on_a_kept_alive_connection_are_served(api_port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{api_port}") as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(HEADER_TIMEOUT / 2)  # under the keep-alive and the header timeout
        response = client.post("/v1/articles", json={"source": "prompt", "text": "x " * 100})
        assert response.status_code == 202

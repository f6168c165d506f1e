"""The compose healthcheck of a worker, run for real: the command the file gives, against
a running worker, answers; against a worker name nobody has, it fails."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import yaml

from newsflow.settings import Settings
from tests.conftest import ROOT, WorkerProcess, settings_env

pytestmark = pytest.mark.integration


def _healthcheck(settings: Settings, hostname: str) -> subprocess.CompletedProcess[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["worker"]["healthcheck"]["test"][1]
    command = command.replace("$$HOSTNAME", hostname).replace("celery ", "", 1)
    return subprocess.run(
        [sys.executable, "-m", "celery", *command.split(">")[0].split()],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_healthcheck_answers_for_a_live_worker_only(
    settings: Settings, worker: WorkerProcess
) -> None:
    alive = _healthcheck(settings, socket.gethostname())
    assert alive.returncode == 0, alive.stdout + alive.stderr
    assert "pong" in alive.stdout
    nobody = _healthcheck(settings, "no-such-worker")
    assert nobody.returncode != 0

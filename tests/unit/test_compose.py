"""docker-compose.yml is valid Compose and every service runs a real entry point. There
is no Docker engine here, so the file is checked against the Compose Specification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml

from cli.main import main as newsflow_cli
from newsflow.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"Compose schema not found at {SCHEMA} (../shared is not beside the repo)")
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose)


def test_every_project_service_runs_a_real_newsflow_command(compose: dict[str, Any]) -> None:
    built = {name: s for name, s in compose["services"].items() if "build" in s}
    assert set(built) == {"migrate", "api", "worker", "fetch-worker"}
    for name, service in built.items():
        program, subcommand, *args = service["command"]
        assert program == "newsflow", name  # the console script pyproject.toml installs
        assert isinstance(newsflow_cli, click.Group)
        command = newsflow_cli.get_command(click.Context(newsflow_cli), subcommand)
        assert command is not None, f"{name}: `newsflow {subcommand}` does not exist"
        # the options parse, so the container would not die on start
        command.make_context(subcommand, list(args), resilient_parsing=False)


def test_fetch_queue_has_its_own_worker_group(compose: dict[str, Any]) -> None:
    """Slow sites (url submissions, NEWSFLOW_FETCH_QUEUE) never hold the worker of pushed
    articles (NEWSFLOW_QUEUE)."""
    defaults = Settings(_env_file=None)
    queues = {
        name: next(a for a in compose["services"][name]["command"] if a.startswith("--queues="))
        for name in ("worker", "fetch-worker")
    }
    assert queues == {
        "worker": f"--queues={defaults.queue}",
        "fetch-worker": f"--queues={defaults.fetch_queue}",
    }


def test_redis_is_durable_and_never_evicts(compose: dict[str, Any]) -> None:
    command = compose["services"]["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "always"
    assert options["--maxmemory-policy"] == "noeviction"


def test_console_script_is_declared() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["newsflow"] == "cli.main:main"

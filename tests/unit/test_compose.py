"""docker-compose.yml is valid Compose and every service runs a real entry point. There
is no Docker engine here, so the file is checked against the Compose Specification."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
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
    assert set(built) == {"migrate", "api", "worker", "fetch-worker", "flower"}
    built.pop("flower")  # Celery's own command: test_flower_runs_on_the_workers_celery_app
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


def test_flower_runs_on_the_workers_celery_app(compose: dict[str, Any]) -> None:
    """The same app (broker, key prefix) as the workers, whose task events it shows."""
    flower = compose["services"]["flower"]
    program, app_option, subcommand, *_ = flower["command"]
    assert (program, subcommand) == ("celery", "flower")
    module = app_option.removeprefix("--app=")
    assert module == "worker.celery_app"
    assert importlib.util.find_spec(module) is not None
    commands = importlib.metadata.entry_points(group="celery.commands")
    assert "flower" in commands.names  # the pinned flower package adds `celery flower`
    assert flower["environment"] == compose["services"]["worker"]["environment"]


def _exported_metric_names() -> set[str]:
    """The sample names the API and the worker export, from their real registries."""
    from api.metrics import DEFINED as API_METRICS
    from worker.metrics import DEFINED as WORKER_METRICS
    from worker.metrics import BacklogCollector

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    backlog = BacklogCollector(
        Settings(
            _env_file=None,
            redis_url="redis://127.0.0.1:1/0",
            database_url="postgresql://x@127.0.0.1:1/x",
        )
    )
    families = [*API_METRICS.collect(), *WORKER_METRICS.collect(), *backlog.describe()]
    return {
        family.name + suffix for family in families for suffix in suffixes.get(family.type, ("",))
    }


def test_monitoring_profile_scrapes_the_api_and_every_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"], name
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, not in the repo"
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [t for group in job["static_configs"] for t in group["targets"]]
        for job in config["scrape_configs"]
    }
    env = Settings(
        _env_file=None,
        **{
            key.removeprefix("NEWSFLOW_").lower(): value
            for key, value in compose["x-newsflow-env"].items()
        },
    )
    assert targets["newsflow-api"] == [f"api:{env.api_port}"]
    workers = [
        name
        for name, s in services.items()
        if "newsflow" in s.get("command", [])[:1] and s["command"][1] == "worker"
    ]
    assert sorted(targets["newsflow-worker"]) == sorted(
        f"{name}:{env.worker_metrics_port}" for name in workers
    )
    assert env.worker_metrics_host == "0.0.0.0"  # reachable from the prometheus container


def test_dashboard_queries_name_metrics_the_code_exports() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "newsflow.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    named = {name for query in queries for name in re.findall(r"\bnewsflow_\w+", query)}
    exported = _exported_metric_names()
    assert len(named) >= 10
    assert named - exported == set()
    # and every family newsflow exports has a panel
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in exported}
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in named}
    assert families - shown == set()
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    uids = {source["uid"] for source in datasources["datasources"]}
    panel_uids = {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p}
    assert panel_uids <= uids


def test_every_service_that_stays_up_has_a_healthcheck(compose: dict[str, Any]) -> None:
    """Orchestrators restart what is unhealthy; a service without a check is never seen
    to hang. Only the one-shot `migrate` (restart: "no") has none."""
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            continue
        assert "healthcheck" in service, f"{name} has no healthcheck"
    for name in ("worker", "fetch-worker"):
        test = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert "--app=worker.celery_app inspect ping" in test
        assert importlib.util.find_spec("worker.celery_app") is not None

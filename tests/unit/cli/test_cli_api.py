"""`newsflow api` serves with the options production needs, and as many workers as
NEWSFLOW_API_WORKERS says (`newsflow up` runs it without arguments)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from api.protocol import TimedHttpToolsProtocol
from cli.main import main


def _served_with(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> Any:
    seen: dict[str, Any] = {}

    def run(app: str, **options: Any) -> None:
        metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        seen.update(options, app=app, metrics_dir=metrics_dir)
        seen["metrics_dir_exists"] = metrics_dir is not None and Path(metrics_dir).is_dir()

    monkeypatch.setattr(uvicorn, "run", run)
    result = CliRunner().invoke(
        main, ["api", *args], env={"NEWSFLOW_REDIS_URL": "redis://x", **env}
    )
    assert result.exit_code == 0, result.output
    return seen


def test_api_workers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _served_with(monkeypatch, [], {})["workers"] == 1
    assert _served_with(monkeypatch, [], {"NEWSFLOW_API_WORKERS": "2"})["workers"] == 2
    assert (
        _served_with(monkeypatch, ["--workers", "3"], {"NEWSFLOW_API_WORKERS": "2"})["workers"] == 3
    )


def test_api_runs_uvloop_and_httptools_without_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    options = _served_with(monkeypatch, [], {})
    assert options["app"] == "api.app:create_app"
    assert options["factory"] is True
    assert (options["loop"], options["http"], options["access_log"]) == (
        "uvloop",
        TimedHttpToolsProtocol,  # httptools, with read deadlines
        False,
    )


def test_many_api_workers_count_into_one_private_metrics_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/metrics adds up every uvicorn worker's counts (prometheus_client's multiprocess
    mode): the workers inherit a directory of this run's own, removed when it ends."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert _served_with(monkeypatch, [], {})["metrics_dir"] is None  # one process: no files
    served = _served_with(monkeypatch, ["--workers", "2"], {})
    assert served["metrics_dir_exists"]
    assert not Path(served["metrics_dir"]).exists()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ

"""`newsflow api` serves with the options production needs, and as many workers as
NEWSFLOW_API_WORKERS says (`newsflow up` runs it without arguments)."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from api.protocol import TimedHttpToolsProtocol
from cli.main import main


def _served_with(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> Any:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
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

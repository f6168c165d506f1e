"""The `newsflow` client commands against the real API over HTTP: one-line errors and exit
statuses (the API down, run as a real subprocess; a 4xx), `submit` waiting out a real
rate-limited key's 429, `export` to NDJSON resumed from its saved cursor."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from click.testing import CliRunner

from cli.errors import EXIT_REFUSED, EXIT_UNREACHABLE
from cli.main import main as cli
from newsflow.embedded import free_port
from newsflow.settings import Settings
from newsflow.store.api_keys import NewApiKey, create_api_key
from newsflow.store.db import transaction
from tests.conftest import ROOT, api_over_http
from tests.integration.test_consumers import insert_article

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api_url(settings: Settings) -> Iterator[str]:
    with api_over_http(settings) as url:
        yield url


def _limited_key(settings: Settings, *scopes: str) -> NewApiKey:
    with transaction(settings.require_database_url()) as connection:
        return create_api_key(connection, name="cli-limited", scopes=scopes)


def _end_window_soon(settings: Settings, key: NewApiKey) -> None:
    """End the key's rate-limit window in 1.5 s instead of the rest of its minute."""
    with redis.Redis.from_url(settings.require_redis_url()) as client:
        assert client.pexpire(f"{settings.redis_key_prefix}rate-limit:key:{key.id}", 1500)


@pytest.mark.parametrize(
    "args",
    [
        ["get", str(uuid.uuid4())],
        ["search", "--q", "anything"],
        ["tail", "--once"],
        ["export"],
        ["submit", "-"],
        ["submissions", "list"],
    ],
)
def test_the_api_down_is_one_line_and_exit_3_without_a_traceback(args: list[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "cli", *args, "--api-url", dead],
        input="Some text\n\nto submit.",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == EXIT_UNREACHABLE == 3, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"newsflow: cannot reach the newsflow API at {dead}: [Errno 111] Connection refused"
    ]


def test_a_refused_request_prints_the_problem_and_exits_4(api_url: str) -> None:
    missing = uuid.uuid4()
    result = CliRunner().invoke(cli, ["get", str(missing), "--api-url", api_url])
    assert result.exit_code == EXIT_REFUSED == 4
    assert result.stderr == f"newsflow: 404 Not found: no submission {missing}\n"

    bad = CliRunner().invoke(cli, ["tail", "--once", "--cursor", "nope", "--api-url", api_url])
    assert bad.exit_code == 4
    assert bad.stderr.startswith("newsflow: 422 Invalid request: query.cursor: ")
    assert len(bad.stderr.splitlines()) == 1


def test_version_and_shell_completion() -> None:
    newsflow = [sys.executable, "-m", "cli"]
    version = subprocess.run([*newsflow, "--version"], capture_output=True, text=True, cwd=ROOT)
    assert version.stdout == "newsflow, version 0.1.0\n"
    env = {"_NEWSFLOW_COMPLETE": "bash_complete", "COMP_WORDS": "newsflow ex", "COMP_CWORD": "1"}
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "newsflow")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert "plain,export" in completed.stdout.splitlines()
    script = subprocess.run(
        [str(Path(sys.executable).parent / "newsflow")],
        capture_output=True,
        text=True,
        env={"_NEWSFLOW_COMPLETE": "bash_source"},
    )
    assert "complete -o nosort -F _newsflow_completion newsflow" in script.stdout


def test_submit_waits_out_a_429_through_the_batch_endpoint(
    settings: Settings, tmp_path: Path
) -> None:
    limited = settings.model_copy(update={"auth": "required", "rate_limit_per_minute": 2})
    key = _limited_key(settings, "submit", "read")
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.txt").write_text(f"Story {n}\n\nThe harbour reopened on day {n}.")
    with api_over_http(limited) as url:
        common = ["--api-url", url, "--api-key", key.key]
        first = CliRunner().invoke(
            cli, ["submit", str(folder), "--batch-size", "2", "--json", *common]
        )
        assert first.exit_code == 0, first.output  # two batch requests: the window's two
        assert [item["status"] for item in json.loads(first.stdout)] == ["queued"] * 3

        impatient = CliRunner().invoke(cli, ["submit", str(folder), "--max-wait", "0", *common])
        assert impatient.exit_code == 4
        assert impatient.stderr.splitlines()[-1].startswith("newsflow: 429 Too many requests")

        _end_window_soon(settings, key)
        waited = CliRunner().invoke(
            cli, ["submit", str(folder), "--batch-size", "2", "--json", *common]
        )
    assert waited.exit_code == 0, waited.output  # the 429 was waited out, not refused
    results = json.loads(waited.stdout)
    assert [item["status"] for item in results] == ["queued"] * 3
    assert "3 queued" in waited.stderr
    assert "refused" not in waited.stderr


def test_export_writes_ndjson_and_resumes_from_its_saved_cursor(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    source = f"cli-export-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as db:
        ids = [str(insert_article(db, source=source, title=f"Export {n}")) for n in range(5)]
    limited = settings.model_copy(update={"auth": "required", "rate_limit_per_minute": 2})
    key = _limited_key(settings, "read")
    output = tmp_path / "articles.ndjson"
    with api_over_http(limited) as url:
        common = ["--source", source, "--page-size", "2", "--api-url", url, "--api-key", key.key]
        # two pages fit in the key's window; the third is refused: the export stops there
        cut = CliRunner().invoke(cli, ["export", "-o", str(output), "--max-wait", "0", *common])
        assert cut.exit_code == 4, cut.output
        assert cut.stderr.startswith("newsflow: 429 Too many requests")
        saved = json.loads((tmp_path / "articles.ndjson.cursor").read_text())
        assert saved["documents"] == 4
        assert saved["done"] is False
        with output.open("ab") as half_written:  # a line cut off by a crash
            half_written.write(b'{"id": "half')

        _end_window_soon(settings, key)
        resumed = CliRunner().invoke(cli, ["export", "-o", str(output), "--resume", *common])
        assert resumed.exit_code == 0, resumed.output
        assert "exported 5 documents" in resumed.stderr
        again = CliRunner().invoke(cli, ["export", "-o", str(output), "--resume", *common])
        assert again.exit_code == 0
        assert "complete: nothing to resume" in again.stderr

        _end_window_soon(settings, key)
        to_stdout = CliRunner().invoke(cli, ["export", *common])
    lines = output.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ids[::-1]  # newest first, once each
    assert to_stdout.stdout.splitlines() == lines

    nothing = CliRunner().invoke(cli, ["export", "--resume", "-o", str(tmp_path / "none")])
    assert nothing.exit_code == 2
    assert "nothing to resume" in nothing.stderr

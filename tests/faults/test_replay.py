"""Failed and dead submissions are listed with reason, attempts and raw payload, and
replayed (over HTTP and from the CLI) once the cause is fixed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from cli.main import main as cli
from tests.conftest import WorkerProcess, api_over_http, settings_env
from tests.faults.conftest import FaultStack

pytestmark = pytest.mark.faults
CRASHING = {"source": "faults", "text": "CRASH title\n\nA paragraph the old worker dies on."}


@pytest.fixture
def api_url(stack: FaultStack) -> Iterator[str]:
    """The API over real HTTP, for the CLI."""
    with api_over_http(stack.settings) as url:
        yield url


def test_dead_submission_is_listed_and_replayed_after_the_fix(
    stack: FaultStack, api_url: str
) -> None:
    buggy = stack.start_worker()
    with stack.client() as client:
        dead_id = client.post("/v1/articles", json=CRASHING).json()["id"]
        failed_id = client.post("/v1/articles", json={"source": "f", "text": "ua en ru"}).json()[
            "id"
        ]
        stack.wait_until(
            "dead and failed", lambda: stack.count("status IN ('dead', 'failed')") == 2, 60
        )
        buggy.stop()

        dead = client.get("/v1/submissions", params={"status": "dead"}).json()["items"]
        failed = client.get("/v1/submissions", params={"status": "failed"}).json()["items"]
        assert [item["id"] for item in dead] == [dead_id]
        assert dead[0]["payload"] == CRASHING
        assert dead[0]["attempts"] == stack.settings.max_deliveries + 1
        assert "died" in dead[0]["error"]
        assert [item["id"] for item in failed] == [failed_id]
        assert "navigation" in failed[0]["error"]

        # the fix is deployed: a worker without the crash
        fixed = WorkerProcess(settings_env(stack.settings), stack.tmp_path / "fixed.log")
        stack.workers.append(fixed)
        fixed.wait_ready()

        result = CliRunner().invoke(cli, ["submissions", "replay", dead_id, "--api-url", api_url])
        assert result.exit_code == 0, result.output
        assert "replayed" in result.output
        stack.wait_until("the replay to finish", lambda: stack.count("status = 'done'") == 1, 60)

        article = client.get(f"/v1/articles/{dead_id}").json()
        assert article["status"] == "done"
        assert article["attempts"] == stack.settings.max_deliveries + 2
        again = client.post(f"/v1/submissions/{dead_id}/replay")
        assert again.status_code == 409
        listing = CliRunner().invoke(
            cli, ["submissions", "list", "--status", "dead", "--api-url", api_url]
        )
        assert "no dead submissions" in listing.output

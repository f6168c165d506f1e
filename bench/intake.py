"""Intake throughput: POST /v1/articles requests/s on one uvicorn worker, with wrk as the
load generator in its own process (concurrency 32), against a private Redis started with
`appendfsync always` and with `everysec`, alternating, median of several runs.

    .venv/bin/python bench/intake.py [--runs 3] [--seconds 5]

Needs `wrk` (Debian package). PostgreSQL is not on the intake path; none is started."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsflow.embedded import EmbeddedRedis, free_port  # noqa: E402

SEED = (ROOT / "seeds" / "000_9315569b376cac04.txt").read_text()
WRK_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"source": "bench", "external_id": "' .. math.random(1, 2^30) .. '-' ..
    counter .. '", "text": ' .. SEED .. '}'
  return wrk.format("POST", "/v1/articles", {["Content-Type"] = "application/json"}, body)
end
"""


def run_once(appendfsync: str, seconds: int, tmp: Path) -> dict[str, float]:
    redis = EmbeddedRedis(
        tmp / f"redis-{appendfsync}-{time.monotonic_ns()}", appendfsync=appendfsync
    )
    redis.start()
    port = free_port()
    env = dict(
        os.environ,
        NEWSFLOW_REDIS_URL=redis.url,
        NEWSFLOW_API_PORT=str(port),
        NEWSFLOW_DATABASE_URL="postgresql://unused@127.0.0.1:1/unused",
        NEWSFLOW_RATE_LIMIT_PER_MINUTE="0",
    )
    api = subprocess.Popen(
        [sys.executable, "-m", "newsflow.cli", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        script = tmp / "post.lua"
        script.write_text(f"SEED = {json.dumps(json.dumps(SEED))}\n" + WRK_SCRIPT)
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                "-c32",
                f"-d{seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        api.terminate()
        api.wait(10)
        redis.stop()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    return {
        "requests_per_s": rate,
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "p50_ms": _ms(p50),
        "p99_ms": _ms(p99),
    }


def _ms(match: re.Match[str] | None) -> float:
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    results: dict[str, list[dict[str, float]]] = {"always": [], "everysec": []}
    with tempfile.TemporaryDirectory(prefix="newsflow-intake-") as tmp:
        for _ in range(args.runs):
            for mode in results:  # alternate, so drift on a shared machine hits both
                results[mode].append(run_once(mode, args.seconds, Path(tmp)))
    medians = {
        mode: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for mode, runs in results.items()
    }
    print(f"intake, 1 uvicorn worker, wrk -c32, median of {args.runs} runs of {args.seconds} s")
    for mode, figures in medians.items():
        print(
            f"  appendfsync {mode:<9} {figures['requests_per_s']:8.0f} req/s   "
            f"p50 {figures['p50_ms']:6.1f} ms   p99 {figures['p99_ms']:6.1f} ms   "
            f"non-2xx {figures['non_2xx']:.0f}"
        )
    ratio = medians["always"]["requests_per_s"] / medians["everysec"]["requests_per_s"]
    print(f"  always / everysec = {ratio:.2f}")
    out = ROOT / "bench" / "results" / "intake.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": results, "medians": medians, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()

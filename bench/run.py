"""`make bench`: newsflow's speed on this machine, against real Redis and PostgreSQL and a
real worker and API, each figure a median of several runs.

Servers: NEWSFLOW_BENCH_DATABASE_URL / NEWSFLOW_BENCH_REDIS_URL if set, else embedded ones
in a temporary folder. A fresh database and Redis key prefix per run.

Prints one table and writes bench/results/<date>.json."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsflow.embedded import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from newsflow.store.migrate import upgrade  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from stages import SEEDS_BY_LANGUAGE, parse_rates, stage_costs  # noqa: E402

SEED_TEXT = (ROOT / "seeds" / "000_9315569b376cac04.txt").read_text()
RUNS = int(os.environ.get("NEWSFLOW_BENCH_RUNS", "3"))


def median_of(runs: list[float]) -> float:
    return round(statistics.median(runs), 4)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def resident_mb(processes: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    """Resident memory of the largest worker process and of the API process."""
    import psutil

    worker, api = (psutil.Process(p.pid) for p in processes)
    worker_processes = [worker, *worker.children(recursive=True)]
    return {
        "worker_max_rss_mb": max(p.memory_info().rss for p in worker_processes) / 2**20,
        "api_rss_mb": api.memory_info().rss / 2**20,
    }


def seed_body(tag: str) -> dict[str, Any]:
    return {"source": "bench", "external_id": tag, "text": SEED_TEXT}


def wait_done(client: httpx.Client, submission_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get(f"/v1/articles/{submission_id}").json()["status"] in ("done", "failed"):
            return
        time.sleep(0.002)
    raise RuntimeError(f"{submission_id} not done within {timeout} s")


def light_load_latency(base_url: str, count: int = 40) -> dict[str, float]:
    """Submit-to-done of the seed, one submission at a time (light load)."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(count):
            start = time.perf_counter()
            response = client.post("/v1/articles", json=seed_body(uuid.uuid4().hex))
            response.raise_for_status()
            wait_done(client, response.json()["id"])
            latencies.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 0.99)}


async def _submit_many(base_url: str, count: int, concurrency: int) -> tuple[list[str], float]:
    ids: list[str] = []
    queue = list(range(count))

    async def one(client: httpx.AsyncClient) -> None:
        while queue:
            queue.pop()
            response = await client.post("/v1/articles", json=seed_body(uuid.uuid4().hex))
            response.raise_for_status()
            ids.append(response.json()["id"])

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
        return ids, time.perf_counter() - start


def saturation(base_url: str, database_url: str, count: int = 400) -> dict[str, float]:
    """Submit `count` seeds at concurrency 16; time the API's intake and the worker's
    drain until every one is done (counted in PostgreSQL)."""
    start = time.perf_counter()
    ids, intake_seconds = asyncio.run(_submit_many(base_url, count, 16))
    with psycopg.connect(database_url, autocommit=True) as connection:
        while True:
            (done,) = connection.execute(  # type: ignore[misc]
                "SELECT count(*) FROM newsflow.submissions WHERE id = ANY(%s) AND status = 'done'",
                ([uuid.UUID(i) for i in ids],),
            ).fetchone()
            if done == count:
                break
            time.sleep(0.02)
    total = time.perf_counter() - start
    return {"intake_per_s": count / intake_seconds, "end_to_end_per_s": count / total}


def main() -> None:
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": RUNS,
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp:
        server_url = os.environ.get("NEWSFLOW_BENCH_DATABASE_URL")
        redis_url = os.environ.get("NEWSFLOW_BENCH_REDIS_URL")
        if not server_url:
            postgres = EmbeddedPostgres(Path(tmp) / "postgres").start()
            stack.callback(postgres.stop)
            server_url = postgres.server_url
        if not redis_url:
            redis = EmbeddedRedis(Path(tmp) / "redis", appendfsync="always").start()
            stack.callback(redis.stop)
            redis_url = redis.url
        name = f"newsflow_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        base, _, query = server_url.partition("?")
        database_url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
        stack.callback(_drop_database, server_url, name)
        upgrade(database_url)

        port = free_port()
        env = dict(
            os.environ,
            NEWSFLOW_DATABASE_URL=database_url,
            NEWSFLOW_REDIS_URL=redis_url,
            NEWSFLOW_REDIS_KEY_PREFIX=f"newsflow-bench-{uuid.uuid4().hex[:8]}:",
            NEWSFLOW_API_PORT=str(port),
            NEWSFLOW_WORKER_CONCURRENCY="2",
        )
        log = open(Path(tmp) / "services.log", "wb")  # noqa: SIM115
        processes = []
        for command in (["worker"], ["api"]):
            process = subprocess.Popen(
                [sys.executable, "-m", "newsflow.cli", *command],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, process)
            processes.append(process)
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(base_url, Path(tmp) / "services.log")

        measure: list[tuple[str, Callable[[], dict[str, float]]]] = [
            ("stages", stage_costs),
            ("parsing", parse_rates),
            ("light_load", lambda: light_load_latency(base_url)),
            ("saturation", lambda: saturation(base_url, database_url)),
        ]
        for label, function in measure:
            runs = [function() for _ in range(RUNS)]
            results[label] = {key: median_of([r[key] for r in runs]) for key in runs[0]}
        results["memory"] = resident_mb(processes)

    stages = results["stages"]
    per_article_ms = stages["parse_ms_en"] + stages["enrich_ms_en"]
    rows = [
        *(
            (f"parse, seed {lang} (ms, in-process)", stages[f"parse_ms_{lang}"])
            for lang in SEEDS_BY_LANGUAGE
        ),
        *(
            (f"enrich, seed {lang} (ms, in-process)", stages[f"enrich_ms_{lang}"])
            for lang in SEEDS_BY_LANGUAGE
        ),
        ("parse plain text, seed (articles/s, 1 core)", results["parsing"]["text_per_s"]),
        ("parse HTML, ours (articles/s, 1 core)", results["parsing"]["html_ours_per_s"]),
        (
            "parse HTML, bare trafilatura (articles/s, 1 core)",
            results["parsing"]["html_trafilatura_per_s"],
        ),
        ("HTML: our time / trafilatura's", results["parsing"]["html_ours_cost_ratio"]),
        ("submit-to-done p50, light load (ms)", results["light_load"]["p50_ms"]),
        ("submit-to-done p99, light load (ms)", results["light_load"]["p99_ms"]),
        ("API intake, concurrency 16 (articles/s)", results["saturation"]["intake_per_s"]),
        ("end to end, 2 worker processes (articles/s)", results["saturation"]["end_to_end_per_s"]),
        ("stage-bound ceiling, 2 processes, en (articles/s)", 2000 / per_article_ms),
        ("worker process peak resident (MB)", results["memory"]["worker_max_rss_mb"]),
        ("API process resident (MB)", results["memory"]["api_rss_mb"]),
    ]
    print(
        f"newsflow bench — {results['date']} — {results['machine']['cores']} cores, "
        f"Python {results['machine']['python']}, median of {RUNS} runs"
    )
    for label, value in rows:
        print(f"  {label:<48} {value:>10.1f}")
    out = ROOT / "bench" / "results" / f"{results['date'][:10]}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


def _wait_ready(base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"{base_url}/readyz").status_code == 200
                and b" ready." in log.read_bytes()
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"services did not start:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(40)
    except subprocess.TimeoutExpired:
        process.kill()


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

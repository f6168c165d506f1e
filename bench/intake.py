"""Intake throughput: newsflow's POST /v1/articles against a bare FastAPI baseline
(bench/baseline_app.py: pydantic ``model_validate_json`` of a small model and one Redis
LPUSH), in the same run, on the same private Redis, at the same number of uvicorn workers,
alternating, median of several runs. wrk is the load generator (its own process, 2
threads, 32 connections); every request carries a ~10 KB JSON body (the seed article,
repeated) with a unique ``external_id``.

Variants, each at 1 and 2 uvicorn workers:
- ``baseline``: the bare endpoint;
- ``newsflow``: ``newsflow api``, open on loopback, rate limit off (as ``make up`` runs);
- ``newsflow+wait``: ``NEWSFLOW_REDIS_MIN_REPLICAS=1``: each 202 waits for ``WAIT 1`` (the
  private Redis has one replica, attached in every variant);
- ``newsflow+auth``: ``NEWSFLOW_AUTH=required`` with a real API key (in the Redis mirror,
  as ``newsflow keys create`` puts it) and the per-key rate limit on (a limit high enough
  never to refuse, so every request still counts its window);
- ``--also LABEL=DIR``: newsflow from another checkout (e.g. the previous commit, from
  ``git archive``), to compare a change in the same run.

Then POST /v1/articles/batch (JSON array, 100 and 1000 articles a request), newsflow and
the baseline's batch endpoint, in articles accepted per second (LLEN of the queue after
the run, over the run's duration).

    .venv/bin/python bench/intake.py [--runs 3] [--seconds 5] [--workers 1,2]
        [--batch-sizes 100,1000] [--appendfsync always] [--json PATH] [--also LABEL=DIR]

Needs `wrk` (Debian package). PostgreSQL is not on the intake path; none is started.
Prints the table and returns the figures (``main()``); ``--json`` writes them too."""

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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsflow.apikeys import Principal, generate_key, hash_key, mirror  # noqa: E402
from newsflow.embedded import EmbeddedRedis, free_port  # noqa: E402
from newsflow.settings import Settings  # noqa: E402

SEED = (ROOT / "seeds" / "000_9315569b376cac04.txt").read_text()


def article_text(size: int) -> str:
    return ((SEED + "\n\n") * (1 + size // len(SEED)))[:size]


TEXT = article_text(9800)  # ~10 KB of JSON once escaped
PREFIX = "newsflow:"
NEWSFLOW_QUEUE = f"{PREFIX}newsflow.articles"
BASELINE_QUEUE = "baseline:articles"
UVICORN_OPTIONS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]

# Each wrk thread numbers its requests; RUN and the thread number keep external ids unique
# across threads and runs (Lua's math.random starts from the same seed in every thread).
NUMBERED_THREADS = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
"""
SINGLE_SCRIPT = (
    NUMBERED_THREADS
    + """
request = function()
  counter = counter + 1
  local body = '{"source": "bench", "external_id": "' .. RUN .. '-' .. tid .. '-' ..
    counter .. '", "text": ' .. TEXT .. '}'
  return wrk.format("POST", "/v1/articles", HEADERS, body)
end
"""
)
BATCH_SCRIPT = (
    NUMBERED_THREADS
    + """
request = function()
  counter = counter + 1
  local parts = {}
  for i = 1, SIZE do
    parts[i] = '{"source": "bench", "external_id": "' .. RUN .. '-' .. tid .. '-' ..
      counter .. '-' .. i .. '", "text": ' .. TEXT .. '}'
  end
  return wrk.format("POST", "/v1/articles/batch", HEADERS, '[' .. table.concat(parts, ',') .. ']')
end
"""
)


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def wrk_script(tmp: Path, name: str, template: str, headers: dict[str, str], size: int = 0) -> Path:
    lua_headers = (
        "{" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()) + "}"
    )
    preamble = (
        f"RUN = {_lua_string(name)} .. '-' .. os.time() .. '-' .. math.random(1, 2^30)\n"
        f"TEXT = {_lua_string(json.dumps(TEXT))}\n"
        f"HEADERS = {lua_headers}\n"
        f"SIZE = {size}\n"
    )
    path = tmp / f"{name}-{size}.lua"
    path.write_text(preamble + template)
    return path


@dataclass
class Variant:
    label: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    queue: str
    headers: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None


def variants(redis_url: str, workers: int, also: list[tuple[str, Path]], key: str) -> list[Variant]:
    base_env = dict(
        os.environ,
        NEWSFLOW_REDIS_URL=redis_url,
        NEWSFLOW_REDIS_KEY_PREFIX=PREFIX,
        NEWSFLOW_DATABASE_URL="postgresql://unused@127.0.0.1:1/unused",
        NEWSFLOW_API_HOST="127.0.0.1",
        NEWSFLOW_API_WORKERS=str(workers),
        NEWSFLOW_RATE_LIMIT_PER_MINUTE="0",
        NEWSFLOW_AUTH="auto",
    )
    newsflow = [sys.executable, "-m", "cli", "api", "--workers", str(workers)]
    result = [
        Variant(
            "baseline",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "bench.baseline_app:create_app",
                "--host",
                "127.0.0.1",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                *UVICORN_OPTIONS,
            ],  # fmt: skip
            base_env,
            ROOT,
            BASELINE_QUEUE,
        ),
        Variant("newsflow", newsflow, base_env, ROOT, NEWSFLOW_QUEUE),
        # every 202 after WAIT 1: the submission is on the replica too (see README)
        Variant(
            "newsflow+wait",
            newsflow,
            dict(base_env, NEWSFLOW_REDIS_MIN_REPLICAS="1"),
            ROOT,
            NEWSFLOW_QUEUE,
        ),
        Variant(
            "newsflow+auth",
            newsflow,
            dict(
                base_env,
                NEWSFLOW_AUTH="required",
                NEWSFLOW_RATE_LIMIT_PER_MINUTE=str(10**9),
            ),
            ROOT,
            NEWSFLOW_QUEUE,
            {"Authorization": f"Bearer {key}"},
        ),
    ]
    for label, directory in also:
        env = dict(base_env, PYTHONPATH=str(directory))
        result.append(Variant(label, newsflow, env, directory, NEWSFLOW_QUEUE))
    return result


@contextmanager
def serving(variant: Variant) -> Iterator[Variant]:
    variant.port = free_port()
    env = dict(variant.env, NEWSFLOW_API_PORT=str(variant.port))
    command = [*variant.command]
    if "uvicorn" in command:
        command += ["--port", str(variant.port)]
    variant.process = subprocess.Popen(
        command,
        env=env,
        cwd=variant.cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{variant.port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if variant.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{variant.label} did not start")
            time.sleep(0.2)
        yield variant
    finally:
        variant.process.terminate()
        try:
            variant.process.wait(15)
        except subprocess.TimeoutExpired:
            variant.process.kill()
            variant.process.wait()


def wrk(port: int, script: Path, seconds: float, connections: int = 32) -> dict[str, float]:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c32",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": float(rate.group(1)) if rate else 0.0,
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+)(us|ms|s)", output)),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+)(us|ms|s)", output)),
    }


def _ms(match: re.Match[str] | None) -> float:
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live children (uvicorn's workers)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(
    client: redis.Redis,
    redis_pid: int,
    variant: Variant,
    script: Path,
    seconds: float,
    per_request: int,
    connections: int = 32,
) -> dict[str, float]:
    """wrk's figures, the articles that reached the queue, and the CPU time the API and
    Redis spent per article: on a machine shared with other work, throughput follows the
    share of the cores a run happens to get, while CPU time per article does not."""
    assert variant.process is not None
    api_before, redis_before = cpu_seconds(variant.process.pid), cpu_seconds(redis_pid)
    figures = wrk(variant.port, script, seconds, connections)
    api_cpu = cpu_seconds(variant.process.pid) - api_before
    redis_cpu = cpu_seconds(redis_pid) - redis_before
    # what reached the queue by the time wrk stopped (a request still in flight then may
    # have pushed part of its batch: at most one batch per connection too many)
    articles = client.llen(variant.queue)
    figures["accepted_per_s"] = articles / seconds
    figures["articles_per_s_from_requests"] = figures["requests_per_s"] * per_request
    figures["api_cpu_us_per_article"] = api_cpu / articles * 1e6 if articles else float("nan")
    figures["redis_cpu_us_per_article"] = redis_cpu / articles * 1e6 if articles else float("nan")
    figures["cpu_us_per_article"] = (
        (api_cpu + redis_cpu) / articles * 1e6 if articles else float("nan")
    )
    return figures


def _ratios(section: dict[str, Any], labels: list[str]) -> dict[str, dict[str, float]]:
    """Each variant against the baseline: throughput (articles accepted per second) and
    CPU cost (the baseline's CPU time per article over the variant's: above 1 is cheaper)."""
    base = section["baseline"]["median"]
    ratios = {}
    for label in labels:
        if label == "baseline":
            continue
        ours = section[label]["median"]
        ratios[label] = {
            "throughput": ours["accepted_per_s"] / base["accepted_per_s"]
            if base["accepted_per_s"]
            else float("nan"),
            "cpu": base["cpu_us_per_article"] / ours["cpu_us_per_article"]
            if ours["cpu_us_per_article"]
            else float("nan"),
        }
    return ratios


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


@dataclass
class Fresh:
    """Empties Redis before a run (and shrinks its append-only file), keeping the bench's
    API key in the mirror."""

    client: redis.Redis
    settings: Settings
    key_id: str
    key: str

    def __call__(self) -> None:
        self.client.flushall()
        try:
            self.client.bgrewriteaof()
        except redis.ResponseError:
            pass  # one is already running
        principal = Principal(self.key_id, "bench", frozenset({"submit"}))
        mirror(self.client, self.settings, hash_key(self.key), principal)
        # the replica catches up with the run before (no-WAIT variants outrun it), so
        # every variant starts from a replica with nothing left to apply
        self.client.execute_command("WAIT", 1, 60_000)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    global TEXT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, e.g. 1,2")
    parser.add_argument("--batch-sizes", default="100,1000", help="'' to skip the batches")
    parser.add_argument(
        "--batch-connections", type=int, default=2, help="wrk connections for the batches"
    )
    parser.add_argument(
        "--batch-seconds", type=float, default=10, help="each batch run (a 1000 batch is 10 MB)"
    )
    parser.add_argument("--appendfsync", default="always", choices=("always", "everysec"))
    parser.add_argument(
        "--text-bytes", type=int, default=9800, help="article text length (default ~10 KB)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--also", action="append", default=[], metavar="LABEL=DIR",
        help="newsflow from another checkout, measured alongside",
    )  # fmt: skip
    parser.add_argument("--only", help="comma-separated variant labels to run")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    also = [(label, Path(d).resolve()) for label, _, d in (a.partition("=") for a in args.also)]
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b]
    only = set(args.only.split(",")) if args.only else None
    TEXT = article_text(args.text_bytes)

    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
        "config": {
            "runs": args.runs,
            "seconds": args.seconds,
            "appendfsync": args.appendfsync,
            "wrk": "-t2 -c32",
            "batch_wrk": f"-t2 -c{args.batch_connections}",
            "batch_seconds": args.batch_seconds,
            "body_bytes": len(
                json.dumps({"source": "bench", "external_id": "x" * 20, "text": TEXT})
            ),
        },
        "single": {},
        "batch": {},
    }
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newsflow-intake-")))
        server = EmbeddedRedis(tmp / "redis", appendfsync=args.appendfsync).start()
        stack.callback(server.stop)
        # one replica, for newsflow+wait; attached in every variant, as in production
        # (WAIT counts a write in the replica's memory, not on its disk: everysec there, as
        # replicas usually run; and room to buffer a run's burst, 20 MB/s here, instead of
        # the default 64 MB/256 MB limits that cut the replica off into full resyncs)
        replica = EmbeddedRedis(tmp / "replica", appendfsync="everysec").start()
        stack.callback(replica.stop)
        redis.Redis.from_url(server.url).config_set(
            "client-output-buffer-limit", "replica 1gb 1gb 60"
        )
        redis.Redis(port=replica.port).replicaof("127.0.0.1", server.port)
        client = redis.Redis.from_url(server.url)
        assert server.process is not None
        redis_pid = server.process.pid
        stack.callback(client.close)
        key_id, key = generate_key()
        fresh = Fresh(client, Settings(redis_url=server.url, redis_key_prefix=PREFIX), key_id, key)

        for workers in worker_counts:
            chosen = [
                v
                for v in variants(server.url, workers, also, key)
                if only is None or v.label in only
            ]
            with ExitStack() as servers:
                for variant in chosen:
                    servers.enter_context(serving(variant))
                runs: dict[str, list[dict[str, float]]] = {v.label: [] for v in chosen}
                scripts = {
                    v.label: wrk_script(
                        tmp,
                        v.label,
                        SINGLE_SCRIPT,
                        {"Content-Type": "application/json", **v.headers},
                    )
                    for v in chosen
                }
                for variant in chosen:  # warm up
                    fresh()
                    wrk(variant.port, scripts[variant.label], 1)
                for _ in range(args.runs):
                    for variant in chosen:  # alternate, so drift on a shared machine hits all
                        fresh()
                        runs[variant.label].append(
                            measure(
                                client,
                                redis_pid,
                                variant,
                                scripts[variant.label],
                                args.seconds,
                                1,
                            )
                        )
                section: dict[str, Any] = {
                    label: {"runs": r, "median": _median(r)} for label, r in runs.items()
                }
                if "baseline" in runs:
                    section["ratio_to_baseline"] = _ratios(section, list(runs))
                results["single"][str(workers)] = section

                for size in batch_sizes:
                    batch_variants = [v for v in chosen if v.label in ("baseline", "newsflow")]
                    batch_runs: dict[str, list[dict[str, float]]] = {
                        v.label: [] for v in batch_variants
                    }
                    batch_scripts = {
                        v.label: wrk_script(
                            tmp, v.label, BATCH_SCRIPT, {"Content-Type": "application/json"}, size
                        )
                        for v in batch_variants
                    }
                    for _ in range(args.runs):
                        for variant in batch_variants:
                            fresh()
                            batch_runs[variant.label].append(
                                measure(
                                    client,
                                    redis_pid,
                                    variant,
                                    batch_scripts[variant.label],
                                    args.batch_seconds,
                                    size,
                                    args.batch_connections,
                                )
                            )
                    batch: dict[str, Any] = {
                        label: {"runs": r, "median": _median(r)} for label, r in batch_runs.items()
                    }
                    if "baseline" in batch:
                        batch["ratio_to_baseline"] = _ratios(batch, list(batch_runs))
                    results["batch"].setdefault(str(workers), {})[str(size)] = batch
        fresh()

    report(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return results


def report(results: dict[str, Any]) -> None:
    config = results["config"]
    print(
        f"intake: wrk {config['wrk']}, {config['body_bytes']} B bodies, Redis appendfsync "
        f"{config['appendfsync']}, median of {config['runs']} runs of {config['seconds']} s "
        f"(load average at start {results['machine']['load_average'][0]:.1f})\n"
        "  ratio = newsflow / baseline: throughput, and CPU (baseline's API+Redis CPU time "
        "per article / ours; above 1 is cheaper)"
    )
    sections = [
        (f"POST /v1/articles, {workers} uvicorn worker(s)", section)
        for workers, section in results["single"].items()
    ] + [
        (
            f"POST /v1/articles/batch (JSON array), {size} a request, {workers} uvicorn "
            f"worker(s), wrk {config['batch_wrk']}, {config['batch_seconds']} s runs",
            section,
        )
        for workers, sizes in results["batch"].items()
        for size, section in sizes.items()
    ]
    for title, section in sections:
        print(f"  {title}")
        ratios = section.get("ratio_to_baseline", {})
        for label, data in section.items():
            if label == "ratio_to_baseline":
                continue
            m = data["median"]
            ratio = (
                f"   ratio {ratios[label]['throughput']:.2f} / cpu {ratios[label]['cpu']:.2f}"
                if label in ratios
                else ""
            )
            print(
                f"    {label:<14} {m['requests_per_s']:7.0f} req/s {m['accepted_per_s']:7.0f} "
                f"articles/s  p50 {m['p50_ms']:7.1f} ms  p99 {m['p99_ms']:7.1f} ms  "
                f"{m['cpu_us_per_article']:6.0f} us CPU/article "
                f"(API {m['api_cpu_us_per_article']:.0f})"
                f"  non-2xx {m['non_2xx']:.0f}{ratio}"
            )


if __name__ == "__main__":
    main()

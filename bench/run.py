"""`make bench`: newsflow's pipeline speed on this machine, against real Redis and
PostgreSQL, a real worker (2 processes) and the API, every figure a median of several runs.

    .venv/bin/python bench/run.py [--runs 3] [--articles 150] [--intake-json PATH]

What it measures, and how:

* **Stage-bound ceiling.** On a mixed en/uk/ru corpus (the seeds and generated variants of
  them), this process times parse, enrich and persist (the article's transaction, commit
  included) of every document, models loaded. The ceiling is what 2 worker processes
  could do if they only ran those stages: 2 x documents / sum of the stage times.
* **End to end.** The same documents submitted through the API as fast as it takes them,
  timed from the first submission to the last article committed (PostgreSQL's NOTIFY,
  sent at commit). Overhead = 1 - end-to-end / ceiling: the queue, the landing, the
  status bookkeeping, and everything else that is not a stage.
* **Submit-to-done latency** of an 800-word English article: from just before the POST
  to the moment its article commits (NOTIFY; no polling, so no polling delay), at offered
  loads of 2, 5, 10, 20 and 40 articles/s (open loop: submissions at fixed intervals,
  whether or not earlier ones are done) and at saturation (a burst submitted at once).
  The API's status is checked afterwards for every one of them: it reads the same
  commit, so done there means done for a client.
* **Peak resident memory** (VmHWM) of the API process and of each worker process.

Servers: NEWSFLOW_BENCH_DATABASE_URL / NEWSFLOW_BENCH_REDIS_URL if set, else embedded ones
in a temporary folder. A fresh database and Redis key prefix per run of the script.

Prints one table, writes bench/results/<date>.json, and draws bench/results/<date>.png
(copied to docs/bench.png)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

# as `newsflow worker` runs the pipeline: one BLAS/OpenMP thread per process, so the
# in-process stage costs are what a worker process pays (set before numpy loads)
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import httpx  # noqa: E402
import psycopg  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsflow.embedded import EmbeddedPostgres, EmbeddedRedis, free_port  # noqa: E402
from newsflow.store.migrate import upgrade  # noqa: E402

WORKER_PROCESSES = 2
OFFERED_LOADS = (2.0, 5.0, 10.0, 20.0, 40.0)  # articles/s; then saturation
SEEDS = {
    "en": ROOT / "seeds" / "000_9315569b376cac04.txt",
    "uk": ROOT / "tests" / "fixtures" / "enrich" / "seed_uk.txt",
    "ru": ROOT / "tests" / "fixtures" / "enrich" / "seed_ru.txt",
}
RESULTS = ROOT / "bench" / "results"


# --- the corpus ----------------------------------------------------------------------


def _paragraphs(text: str) -> tuple[list[str], list[str]]:
    """A seed as (head, body): the lines up to and including the title (and the caption
    line when there is one), then the paragraphs."""
    parts = [p for p in text.split("\n\n") if p.strip()]
    head = 2 if parts and len(parts[0].split()) <= 4 else 1  # a language-switcher line
    if len(parts) > head and "Photo:" in parts[head]:
        head += 1
    return parts[:head], parts[head:]


def variant(text: str, number: int) -> str:
    """A generated variant of a seed: its body paragraphs in another order, some of them
    repeated, so every document differs in length, content hash and offsets."""
    head, body = _paragraphs(text)
    if number == 0 or not body:
        return text
    rng = random.Random(number)
    extra = rng.sample(body, k=min(len(body), number % 4))
    paragraphs = body + extra
    rng.shuffle(paragraphs)
    return "\n\n".join(head + paragraphs)


def mixed_corpus(count: int) -> list[tuple[str, str]]:
    """``count`` (language, text) documents, en/uk/ru in turn, seeds first."""
    seeds = {language: path.read_text() for language, path in SEEDS.items()}
    languages = list(seeds)
    return [(languages[n % 3], variant(seeds[languages[n % 3]], n // 3)) for n in range(count)]


def english_article(words: int = 800) -> str:
    """An English article of about ``words`` words, built from the English seed."""
    head, body = _paragraphs(SEEDS["en"].read_text())
    rng = random.Random(800)
    paragraphs: list[str] = []
    while sum(len(p.split()) for p in head + paragraphs) < words:
        batch = body[:]
        rng.shuffle(batch)
        paragraphs += batch
    while len(paragraphs) > 1 and sum(len(p.split()) for p in head + paragraphs) > words + 40:
        paragraphs.pop()
    return "\n\n".join(head + paragraphs)


# --- in-process stage costs ----------------------------------------------------------


def _time_stages(database_url: str, text: str) -> tuple[float, float, float]:
    """Seconds of parse, enrich and persist (its transaction, commit included) of one
    document, in this process; the landing before it is not a stage and is not timed."""
    from newsflow.contract import Submission
    from newsflow.store import submissions
    from newsflow.store.db import transaction
    from worker.persist import persist
    from worker.pipeline.article import SubmissionInfo
    from worker.pipeline.enrich import enrich
    from worker.pipeline.parse import parse

    submission = Submission(source="bench-stages", text=text)
    info = SubmissionInfo(
        id=uuid.uuid4(), source="bench-stages", external_id=None, received_at=_now()
    )
    with transaction(database_url) as connection:
        submissions.land_raw_submission(
            connection,
            submission_id=info.id,
            source=info.source,
            external_id=None,
            idempotency_key=None,
            kind="text",
            payload_json=json.dumps({"source": info.source, "text": text}),
            received_at=info.received_at,
            message="bench",
        )
    start = time.perf_counter()
    parsed = parse(submission)
    parsed_at = time.perf_counter()
    enriched = enrich(parsed)
    enriched_at = time.perf_counter()
    with transaction(database_url) as connection:
        persist(connection, info, enriched)
    return parsed_at - start, enriched_at - parsed_at, time.perf_counter() - enriched_at


def stage_costs(
    database_url: str, documents: list[tuple[str, str]], servers: CpuMeter
) -> dict[str, float]:
    """Parse, enrich and persist every document in this process: milliseconds per
    article, and the ceiling for the worker processes; CPU per article (this process's
    stages, and the database server's meanwhile)."""
    totals = {"parse": 0.0, "enrich": 0.0, "persist": 0.0}
    per_language: dict[str, list[float]] = {}
    cpu = 0.0
    servers_before = servers.read()
    for language, text in documents:
        cpu_start = time.process_time()
        times = _time_stages(database_url, text)
        cpu += time.process_time() - cpu_start
        for name, seconds in zip(totals, times, strict=True):
            totals[name] += seconds
        per_language.setdefault(language, []).append(sum(times))
    servers_after = servers.read()
    count = len(documents)
    server_cpu = sum(servers_after[k] - servers_before[k] for k in servers_after)
    stage_sum = sum(totals.values())
    return {
        **{f"{name}_ms": 1000 * seconds / count for name, seconds in totals.items()},
        "stages_ms": 1000 * stage_sum / count,
        **{f"stages_ms_{lang}": 1000 * statistics.fmean(v) for lang, v in per_language.items()},
        "ceiling_per_s": WORKER_PROCESSES * count / stage_sum,
        "stages_cpu_ms": 1000 * (cpu + server_cpu) / count,
    }


def _now() -> datetime:
    return datetime.now(UTC)


def warm_up_in_process() -> None:
    from newsflow.contract import Submission
    from worker.pipeline.enrich import enrich
    from worker.pipeline.parse import parse
    from worker.pipeline.warmup import warm_up

    warm_up()
    for path in SEEDS.values():
        enrich(parse(Submission(source="bench", text=path.read_text())))


# --- commits, as PostgreSQL announces them -------------------------------------------


class Commits:
    """LISTEN newsflow_articles in a thread: the time each article id's commit arrived."""

    def __init__(self, database_url: str) -> None:
        self._connection = psycopg.connect(database_url, autocommit=True)
        self._connection.execute("LISTEN newsflow_articles")
        self._seen: dict[str, float] = {}
        self._condition = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop:
            for notice in self._connection.notifies(timeout=0.2):
                with self._condition:
                    self._seen.setdefault(notice.payload, time.perf_counter())
                    self._condition.notify_all()

    def wait(self, ids: list[str], timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while not all(i in self._seen for i in ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = sum(i not in self._seen for i in ids)
                    raise RuntimeError(f"{missing} of {len(ids)} not done in {timeout} s")
                self._condition.wait(min(left, 0.5))
            return {i: self._seen[i] for i in ids}

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self._connection.close()


# --- load ----------------------------------------------------------------------------


def _body(text: str) -> dict[str, Any]:
    return {"source": "bench", "external_id": uuid.uuid4().hex, "text": text}


async def _burst(base_url: str, texts: list[str], concurrency: int) -> list[tuple[str, float]]:
    """Submit every text as fast as the API takes them; (id, submitted at) in order."""
    submitted: list[tuple[str, float]] = []
    pending = list(reversed(texts))

    async def one(client: httpx.AsyncClient) -> None:
        while pending:
            text = pending.pop()
            start = time.perf_counter()
            response = await client.post("/v1/articles", json=_body(text))
            response.raise_for_status()
            submitted.append((response.json()["id"], start))

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        await asyncio.gather(*(one(client) for _ in range(concurrency)))
    return submitted


def _paced(base_url: str, text: str, rate: float, count: int) -> list[tuple[str, float]]:
    """Open loop: one submission every 1/rate s, whatever happened to the earlier ones."""
    submitted = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        begin = time.perf_counter()
        for n in range(count):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            start = time.perf_counter()
            response = client.post("/v1/articles", json=_body(text))
            response.raise_for_status()
            submitted.append((response.json()["id"], start))
    return submitted


def _check_api_says_done(base_url: str, ids: list[str]) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for submission_id in ids:
            status = client.get(f"/v1/articles/{submission_id}").json()["status"]
            if status != "done":
                raise RuntimeError(f"{submission_id} committed but the API says {status}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(
    submitted: list[tuple[str, float]], done: dict[str, float], offered: float | None
) -> dict[str, float]:
    latencies = [1000 * (done[i] - start) for i, start in submitted]
    first = min(start for _, start in submitted)
    elapsed = max(done.values()) - first
    return {
        "offered_per_s": offered if offered is not None else float("nan"),
        "achieved_per_s": len(submitted) / elapsed,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
    }


def end_to_end(
    base_url: str, commits: Commits, documents: list[tuple[str, str]], meter: CpuMeter
) -> dict[str, float]:
    """Articles/s through API, queue, 2 worker processes and PostgreSQL, and the CPU
    each process tree spent per article meanwhile."""
    before = meter.read()
    submitted = asyncio.run(_burst(base_url, [text for _, text in documents], 16))
    done = commits.wait([i for i, _ in submitted], timeout=600)
    after = meter.read()
    count = len(submitted)
    figures = {
        "end_to_end_per_s": count / (max(done.values()) - min(s for _, s in submitted)),
    }
    for name in after:
        figures[f"cpu_ms_{name}"] = 1000 * (after[name] - before[name]) / count
    figures["end_to_end_cpu_ms"] = sum(figures[f"cpu_ms_{name}"] for name in after)
    return figures


def load_level(
    base_url: str, commits: Commits, text: str, rate: float | None, count: int
) -> dict[str, float]:
    """Submit-to-done at one offered load (None: saturation, a burst of ``count``)."""
    if rate is None:
        submitted = asyncio.run(_burst(base_url, [text] * count, 16))
    else:
        submitted = _paced(base_url, text, rate, count)
    ids = [i for i, _ in submitted]
    done = commits.wait(ids, timeout=600)
    _check_api_says_done(base_url, ids)
    return _summary(submitted, done, rate)


def level_count(rate: float | None, scale: float) -> int:
    """Submissions per level: about 4 s of offered load, at least 10 and at most 80 (above
    the ceiling the queue grows, and latency with the length of the run: compare levels
    at the same count)."""
    base = 40.0 if rate is None else min(80.0, rate * 4)
    return max(10, int(base * scale))


# --- processes and memory ------------------------------------------------------------


def peak_resident_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CpuMeter:
    """CPU seconds used by a set of process trees (each root and its children, and the
    children it has already reaped): immune to what else runs on the machine, where wall
    time is not."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots

    def read(self) -> dict[str, float]:
        import psutil

        used: dict[str, float] = {}
        for name, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                times = root.cpu_times()
                total = times.user + times.system + times.children_user + times.children_system
                for child in root.children(recursive=True):
                    try:
                        child_times = child.cpu_times()
                        total += child_times.user + child_times.system
                    except psutil.Error:
                        pass
            except psutil.Error:
                total = float("nan")
            used[name] = total
        return used


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def memory(worker: subprocess.Popen[bytes], api: subprocess.Popen[bytes]) -> dict[str, float]:
    import psutil

    parent = psutil.Process(worker.pid)
    children = sorted(parent.children(recursive=True), key=lambda p: p.pid)
    api_processes = [psutil.Process(api.pid), *psutil.Process(api.pid).children(recursive=True)]
    figures = {
        "api_peak_rss_mb": max(peak_resident_mb(p.pid) for p in api_processes),
        "worker_parent_peak_rss_mb": peak_resident_mb(parent.pid),
    }
    for n, child in enumerate(children, 1):
        figures[f"worker_{n}_peak_rss_mb"] = peak_resident_mb(child.pid)
    return figures


# --- environment ---------------------------------------------------------------------


def environment(database_url: str, redis_url: str) -> dict[str, Any]:
    import redis

    with psycopg.connect(database_url) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()
    redis_info = redis.Redis.from_url(redis_url).info("server")
    versions = {"python": platform.python_version()}
    for package in ("celery", "kombu", "redis", "psycopg", "sqlalchemy", "fastapi", "uvicorn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    versions["postgresql"] = postgres[0] if postgres else "?"
    versions["redis-server"] = str(redis_info.get("redis_version", "?"))
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "worker_processes": WORKER_PROCESSES,
    }


# --- the run -------------------------------------------------------------------------


@dataclass
class Services:
    base_url: str
    database_url: str
    redis_url: str
    worker: subprocess.Popen[bytes]
    api: subprocess.Popen[bytes]
    server_pids: dict[str, int]  # the embedded servers' (empty for the machine's own)


@contextmanager
def services(tmp: Path) -> Iterator[Services]:
    with ExitStack() as stack:
        server_url = os.environ.get("NEWSFLOW_BENCH_DATABASE_URL")
        redis_url = os.environ.get("NEWSFLOW_BENCH_REDIS_URL")
        server_pids: dict[str, int] = {}
        if not server_url:
            postgres = EmbeddedPostgres(tmp / "postgres").start()
            stack.callback(postgres.stop)
            server_url = postgres.server_url
            postmaster = _postmaster_pid(postgres.data_dir)
            if postmaster:
                server_pids["postgres"] = postmaster
        if not redis_url:
            redis_server = EmbeddedRedis(tmp / "redis", appendfsync="always").start()
            stack.callback(redis_server.stop)
            redis_url = redis_server.url
            if redis_server.process:
                server_pids["redis"] = redis_server.process.pid
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
            NEWSFLOW_WORKER_CONCURRENCY=str(WORKER_PROCESSES),
        )
        log = stack.enter_context(open(tmp / "services.log", "wb"))  # noqa: SIM115
        started = []
        for command in (["worker"], ["api"]):
            process = subprocess.Popen(
                [sys.executable, "-m", "cli", *command],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, process)
            started.append(process)
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(base_url, tmp / "services.log")
        yield Services(base_url, database_url, redis_url, started[0], started[1], server_pids)


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 4) for key in runs[0]}


def measure(options: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": _now().isoformat(timespec="seconds"),
        "runs": options.runs,
        "articles": options.articles,
    }
    documents = mixed_corpus(options.articles)
    long_article = english_article(800)
    results["corpus"] = {
        "documents": len(documents),
        "words_mean": round(statistics.fmean(len(t.split()) for _, t in documents)),
        "latency_article_words": len(long_article.split()),
    }
    with services(tmp) as running:
        results["environment"] = environment(running.database_url, running.redis_url)
        warm_up_in_process()
        commits = Commits(running.database_url)
        servers = CpuMeter(running.server_pids)
        everything = CpuMeter(
            {"worker": running.worker.pid, "api": running.api.pid, **running.server_pids}
        )
        try:
            # warm the worker processes and the API (first task per process, caches)
            end_to_end(running.base_url, commits, documents[: 3 * WORKER_PROCESSES], everything)
            throughput_runs = []
            for _ in range(options.runs):
                # in-process stages and end to end alternate, so a busier machine in one
                # moment weighs on both sides of the ratio
                stages = stage_costs(running.database_url, documents, servers)
                flow = end_to_end(running.base_url, commits, documents, everything)
                per_s = flow["end_to_end_per_s"]
                cpu_overhead = 1 - stages["stages_cpu_ms"] / flow["end_to_end_cpu_ms"]
                throughput_runs.append(
                    {
                        **stages,
                        **flow,
                        "overhead": 1 - per_s / stages["ceiling_per_s"],
                        "cpu_overhead": cpu_overhead,
                    }
                )
                print(
                    f"  run: ceiling {stages['ceiling_per_s']:.1f}/s, end to end {per_s:.1f}/s, "
                    f"CPU/article stages {stages['stages_cpu_ms']:.0f} ms, "
                    f"end to end {flow['end_to_end_cpu_ms']:.0f} ms",
                    flush=True,
                )
            results["throughput"] = median_of(throughput_runs)
            results["throughput_runs"] = throughput_runs

            sweep: list[dict[str, float]] = []
            for rate in (*OFFERED_LOADS, None):
                count = level_count(rate, options.scale)
                runs = []
                for _ in range(options.runs):
                    if rate == OFFERED_LOADS[0]:
                        # the article's own stages, in-process, just before: what the
                        # lightest load's latency is left with beyond them is the queue
                        stages_ms = 1000 * statistics.median(
                            sum(_time_stages(running.database_url, long_article)) for _ in range(5)
                        )
                    level_run = load_level(running.base_url, commits, long_article, rate, count)
                    if rate == OFFERED_LOADS[0]:
                        level_run["stages_ms"] = stages_ms
                        level_run["beyond_stages_ms"] = level_run["p50_ms"] - stages_ms
                    runs.append(level_run)
                level = median_of(runs)
                level["saturation"] = float(rate is None)
                level["count"] = count
                sweep.append(level)
                label = f"{rate:g}/s" if rate else "saturation"
                print(
                    f"  offered {label}: {level['achieved_per_s']:.1f}/s, "
                    f"p50 {level['p50_ms']:.0f} ms, p99 {level['p99_ms']:.0f} ms",
                    flush=True,
                )
            results["sweep"] = sweep
        finally:
            commits.close()
        results["memory"] = memory(running.worker, running.api)
    return results


def table(results: dict[str, Any], intake: dict[str, Any] | None) -> list[str]:
    env = results["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    t = results["throughput"]
    by_rate = {
        (None if row["saturation"] else row["offered_per_s"]): row for row in results["sweep"]
    }
    light, saturated, lightest = by_rate[10.0], by_rate[None], by_rate[OFFERED_LOADS[0]]
    words = results["corpus"]["latency_article_words"]
    n = WORKER_PROCESSES
    parts = [key.removeprefix("cpu_ms_") for key in t if key.startswith("cpu_ms_")]
    servers = " + PostgreSQL, Redis" if {"postgres", "redis"} <= set(parts) else ""
    cpu_parts = parts
    cpu_values = [f"{t[f'cpu_ms_{part}']:.1f}" for part in parts]
    rows: list[tuple[str, str]] = [
        ("stage costs, mixed en/uk/ru corpus (ms per article, in-process)", ""),
        ("  parse", f"{t['parse_ms']:.1f}"),
        ("  enrich (every enricher)", f"{t['enrich_ms']:.1f}"),
        ("  persist (one transaction, commit included)", f"{t['persist_ms']:.1f}"),
        ("  sum", f"{t['stages_ms']:.1f}"),
        (f"stage-bound ceiling, {n} processes (articles/s)", f"{t['ceiling_per_s']:.1f}"),
        (f"end to end, {n} worker processes (articles/s)", f"{t['end_to_end_per_s']:.1f}"),
        ("pipeline overhead (1 - end to end / ceiling)", f"{100 * t['overhead']:.0f}%"),
        (f"CPU per article: stages{servers} (ms)", f"{t['stages_cpu_ms']:.1f}"),
        (
            f"CPU per article end to end: worker, API{servers} (ms)",
            f"{t['end_to_end_cpu_ms']:.1f}",
        ),
        ("  of which " + ", ".join(cpu_parts), " / ".join(cpu_values)),
        ("pipeline overhead in CPU (1 - stages / end to end)", f"{100 * t['cpu_overhead']:.0f}%"),
        (
            f"submit-to-done, {words}-word article, offered 10/s: p50 / p99 (ms)",
            f"{light['p50_ms']:.0f} / {light['p99_ms']:.0f}",
        ),
        (
            f"submit-to-done, saturation (burst of {saturated['count']:.0f}): p50 / p99 (ms)",
            f"{saturated['p50_ms']:.0f} / {saturated['p99_ms']:.0f}",
        ),
        (
            f"  the {words}-word article's stages, in-process (ms)",
            f"{lightest['stages_ms']:.0f}",
        ),
        (
            f"  p50 at offered {OFFERED_LOADS[0]:g}/s beyond its stages: queue, landing (ms)",
            f"{lightest['beyond_stages_ms']:.0f}",
        ),
    ]
    for name, value in results["memory"].items():
        process = name.removesuffix("_peak_rss_mb").replace("_", " ")
        rows.append((f"peak resident, {process} (MB)", f"{value:.0f}"))
    rows.append((f"offered load sweep, {words}-word article", "achieved/s  p50 ms  p99 ms"))
    for row in results["sweep"]:
        label = "saturation" if row["saturation"] else f"{row['offered_per_s']:g}/s"
        figures = f"{row['achieved_per_s']:7.1f} {row['p50_ms']:7.0f} {row['p99_ms']:7.0f}"
        rows.append((f"  {label}", figures))
    if intake:
        rows.append(("API intake (bench/intake.py)", ""))
        rows += [(f"  {key}", _show(value)) for key, value in _flatten(intake).items()]
    header = [
        f"newsflow bench — {results['date']} — {env['cores']} cores, load average at start "
        f"{env['load_average_at_start'][0]}, median of {results['runs']} runs",
        f"  {versions}",
    ]
    width = max(len(label) for label, _ in rows) + 2
    return header + [f"  {label:<{width}} {value:>12}" for label, value in rows]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}." if prefix or key else ""))
        return {k.rstrip("."): v for k, v in flat.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {prefix: value}
    return {}


def _show(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _set_worker_processes(count: int) -> None:
    global WORKER_PROCESSES
    WORKER_PROCESSES = count


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("NEWSFLOW_BENCH_RUNS", 3)))
    parser.add_argument("--articles", type=int, default=150, help="mixed-corpus documents")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies the submissions per load level"
    )
    parser.add_argument(
        "--intake-json",
        type=Path,
        default=RESULTS / "intake.json",
        help="bench/intake.py --json output to include in the table, if the file exists",
    )
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=WORKER_PROCESSES,
        help="worker processes (1 and 2 give the scaling efficiency in docs/scaling.md)",
    )
    options = parser.parse_args(argv)
    _set_worker_processes(options.worker_processes)
    if options.runs < 1:
        parser.error("--runs must be at least 1")

    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp:
        results = measure(options, Path(tmp))
    intake = None
    if options.intake_json and options.intake_json.exists():
        intake = json.loads(options.intake_json.read_text())
        results["intake"] = {"path": str(options.intake_json), "figures": intake}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{results['date'][:10]}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n".join(table(results, intake)))
    print(f"written to {out.relative_to(ROOT)}")
    if not options.no_plot:
        sys.path.insert(0, str(ROOT / "bench"))
        plot = importlib.import_module("plot")  # matplotlib: loaded only here

        png = plot.draw(results, out.with_suffix(".png"))
        docs = ROOT / "docs" / "bench.png"
        docs.parent.mkdir(exist_ok=True)
        shutil.copyfile(png, docs)
        print(f"plot: {png.relative_to(ROOT)}, copied to {docs.relative_to(ROOT)}")
    return results


def _wait_ready(base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
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

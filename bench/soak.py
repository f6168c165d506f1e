"""`make soak`: newsflow under a steady load for a long time, to show nothing grows: the
resident memory of every process, Redis's memory and the submit-to-done latency.

    .venv/bin/python bench/soak.py [--minutes 30] [--fraction 0.5] [--rate R]

1. **Capacity, measured first** in the same session: a burst of 120 mixed documents
   (en/uk/ru texts and HTML pages) through the API and the 2 worker processes, timed to
   the last commit. The soak's offered load is ``--fraction`` of it (half), unless
   ``--rate`` is given.
2. **The soak:** one submission every 1/rate s (open loop: whether or not earlier ones
   are done), cycling through the mixed corpus, each document a new variant (its own
   content hash), for ``--minutes``.
3. **Every minute** it samples the resident set size (RSS) of the API, the worker's
   parent and each worker child, Redis's ``used_memory`` and the queue's length; and per
   five-minute window, p50/p99 of submit-to-done (PostgreSQL's NOTIFY at commit).

Flat means: after the first window (models loading, caches filling, PostgreSQL's buffers
warming), no sample of a process's RSS is more than 10% above its sample at the end of
that window, Redis's memory likewise (within 10% or 5 MB, a few queued messages are
noise), and the last window's p99 within 1.5x the second window's. The verdict is
printed per figure.

Servers as bench/run.py: NEWSFLOW_BENCH_DATABASE_URL / NEWSFLOW_BENCH_REDIS_URL or embedded
ones. Writes bench/results/soak-<date>.json."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis
from run import (
    RESULTS,
    ROOT,
    Commits,
    Services,
    _now,
    mixed_corpus,
    percentile,
    services,
)

HTML_PAGES = sorted((ROOT / "tests" / "fixtures" / "html").glob("*_article.html"))
WINDOW_SECONDS = 300
RSS_GROWTH_LIMIT = 0.10
REDIS_NOISE_BYTES = 5 * 1024 * 1024
P99_GROWTH_LIMIT = 1.5


def documents(count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` submission bodies: three texts (en, uk, ru) then an HTML page, in turn;
    each text a new variant of its seed."""
    texts = mixed_corpus(count + start)[start:]
    bodies: list[dict[str, Any]] = []
    for n, (_, text) in enumerate(texts, start):
        body: dict[str, Any] = {"source": "soak", "external_id": uuid.uuid4().hex}
        if HTML_PAGES and n % 4 == 3:
            page = HTML_PAGES[(n // 4) % len(HTML_PAGES)].read_text()
            # a comment keeps each copy's content its own, as distinct pages would be
            body["html"] = page.replace("</body>", f"<!-- {n} --></body>")
        else:
            body["text"] = text
        bodies.append(body)
    return bodies


def capacity(service: Services, commits: Commits) -> float:
    """Articles/s at saturation: a burst of 120 mixed documents to the last commit."""
    bodies = documents(120)

    async def burst() -> list[tuple[str, float]]:
        return await _burst_bodies(service.base_url, bodies)

    submitted = asyncio.run(burst())
    done = commits.wait([i for i, _ in submitted], timeout=900)
    return len(submitted) / (max(done.values()) - min(s for _, s in submitted))


async def _burst_bodies(base_url: str, bodies: list[dict[str, Any]]) -> list[tuple[str, float]]:
    # bench/run.py's burst sends texts; the soak sends whole bodies (HTML too)
    pending = list(reversed(bodies))
    submitted: list[tuple[str, float]] = []

    async def one(client: httpx.AsyncClient) -> None:
        while pending:
            body = pending.pop()
            start = time.perf_counter()
            response = await client.post("/v1/articles", json=body)
            response.raise_for_status()
            submitted.append((response.json()["id"], start))

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await asyncio.gather(*(one(client) for _ in range(16)))
    return submitted


def processes(service: Services) -> dict[str, psutil.Process]:
    """The API and every worker process, by a stable name."""
    worker = psutil.Process(service.worker.pid)
    named = {"api": psutil.Process(service.api.pid), "worker_parent": worker}
    for n, child in enumerate(sorted(worker.children(recursive=True), key=lambda p: p.pid), 1):
        named[f"worker_{n}"] = child
    return named


class Sampler:
    """Every ``interval`` s: RSS per process (MB), Redis used_memory and queue length."""

    def __init__(self, service: Services, interval: float) -> None:
        self.service = service
        self.redis = redis.Redis.from_url(service.redis_url)
        self.interval = interval
        self.samples: list[dict[str, float]] = []
        self.began = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> None:
        sample = {"t_s": round(time.perf_counter() - self.began, 1)}
        # listed again each time: a pool child the parent replaced is sampled as its slot
        for name, process in processes(self.service).items():
            try:
                sample[f"{name}_rss_mb"] = round(process.memory_info().rss / 2**20, 1)
            except psutil.Error:
                sample[f"{name}_rss_mb"] = float("nan")  # exited since it was listed
        memory = self.redis.info("memory")
        sample["redis_used_mb"] = round(int(memory["used_memory"]) / 2**20, 2)
        sample["queued"] = sum(  # the bench's queues: lists under its key prefix
            int(self.redis.llen(key))
            for key in self.redis.scan_iter("newsflow-bench-*", count=1000, _type="list")
        )
        self.samples.append(sample)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.take()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.take()
        self.redis.close()


def soak(service: Services, commits: Commits, rate: float, minutes: float) -> dict[str, Any]:
    sampler = Sampler(service, 60.0)
    sampler.take()
    sampler.start()
    submitted: list[tuple[str, float]] = []
    count = int(rate * minutes * 60)
    bodies = itertools.chain.from_iterable(documents(400, s) for s in itertools.count(120, 400))
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        begin = time.perf_counter()
        for n, body in zip(range(count), bodies, strict=False):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            start = time.perf_counter()
            response = client.post("/v1/articles", json=body)
            response.raise_for_status()
            submitted.append((response.json()["id"], start))
    done = commits.wait([i for i, _ in submitted], timeout=900)
    sampler.stop()
    windows = []
    for first in range(0, len(submitted), max(1, int(rate * WINDOW_SECONDS))):
        part = submitted[first : first + int(rate * WINDOW_SECONDS)]
        latencies = [1000 * (done[i] - start) for i, start in part]
        windows.append(
            {
                "from_s": round(part[0][1] - begin),
                "count": len(part),
                "p50_ms": round(percentile(latencies, 0.50), 1),
                "p99_ms": round(percentile(latencies, 0.99), 1),
            }
        )
    return {"submitted": len(submitted), "windows": windows, "samples": sampler.samples}


def verdicts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per figure: its value after warm-up, its highest later sample, growth, flat or not."""
    samples = [s for s in result["samples"] if s["t_s"] >= WINDOW_SECONDS]
    if len(samples) < 2:
        return {}
    base, later = samples[0], samples[1:]
    out: dict[str, dict[str, Any]] = {}
    for key in base:
        if not key.endswith(("_rss_mb", "redis_used_mb")):
            continue
        peak = max(s[key] for s in later)
        growth = peak / base[key] - 1 if base[key] else 0.0
        flat = growth <= RSS_GROWTH_LIMIT or (
            key == "redis_used_mb" and (peak - base[key]) * 2**20 <= REDIS_NOISE_BYTES
        )
        out[key] = {"after_warm_up": base[key], "peak_later": peak, "growth": growth, "flat": flat}
    windows = result["windows"]
    if len(windows) >= 3:
        ratio = windows[-1]["p99_ms"] / windows[1]["p99_ms"]
        out["p99_ms"] = {
            "after_warm_up": windows[1]["p99_ms"],
            "peak_later": max(w["p99_ms"] for w in windows[1:]),
            "growth": ratio - 1,
            "flat": ratio <= P99_GROWTH_LIMIT,
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--fraction", type=float, default=0.5, help="of measured capacity")
    parser.add_argument("--rate", type=float, help="articles/s (instead of --fraction)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsflow-soak-") as folder:
        with services(Path(folder)) as service:
            commits = Commits(service.database_url)
            try:
                measured = capacity(service, commits)
                rate = options.rate or options.fraction * measured
                print(f"capacity {measured:.1f} articles/s; soaking at {rate:.1f}/s", flush=True)
                result = soak(service, commits, rate, options.minutes)
            finally:
                commits.close()
    result.update(
        date=_now().isoformat(timespec="seconds"),
        minutes=options.minutes,
        capacity_per_s=round(measured, 2),
        rate_per_s=round(rate, 2),
        verdicts=verdicts(result),
    )
    print(f"{result['submitted']} submissions, every one done")
    print(f"{'window from':>12} {'count':>6} {'p50 ms':>8} {'p99 ms':>8}")
    for window in result["windows"]:
        print(
            f"{window['from_s']:>11}s {window['count']:>6} "
            f"{window['p50_ms']:>8} {window['p99_ms']:>8}"
        )
    print(f"{'figure':<22} {'warm':>9} {'peak':>9} {'growth':>8}  flat")
    for key, verdict in result["verdicts"].items():
        print(
            f"{key:<22} {verdict['after_warm_up']:>9} {verdict['peak_later']:>9} "
            f"{verdict['growth']:>+8.1%}  {'yes' if verdict['flat'] else 'NO'}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"soak-{result['date'][:10]}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main()

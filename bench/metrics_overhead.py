"""CPU cost of the API's request metrics (api/metrics.py RequestMetrics) per request: a
trivial ASGI app answering 202 at POST /v1/articles, alone and wrapped, alternating,
median of several runs (process CPU time, so other load on the machine counts less).

    .venv/bin/python bench/metrics_overhead.py [--runs 5] [--requests 50000]"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from api.metrics import RequestMetrics

SCOPE = {"type": "http", "method": "POST", "path": "/v1/articles", "root_path": "", "headers": []}


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 202, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _send(message: Any) -> None:
    pass


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _per_request(target: Any, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        await target(dict(SCOPE), _receive, _send)
    return (time.process_time() - started) / requests * 1e6


async def _main(runs: int, requests: int) -> None:
    wrapped = RequestMetrics(_app, submit_path="/v1/articles")
    bare, counted = [], []
    for _ in range(runs):
        bare.append(await _per_request(_app, requests))
        counted.append(await _per_request(wrapped, requests))
    b, c = statistics.median(bare), statistics.median(counted)
    print(f"request metrics: {c - b:.2f} us CPU per request (bare app {b:.2f} us, counted {c:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50000)
    args = parser.parse_args()
    asyncio.run(_main(args.runs, args.requests))

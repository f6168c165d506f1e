"""How a newsflow process serves Prometheus metrics, alone or as one of many.

Many processes (uvicorn workers, Celery's prefork children) use prometheus_client's
multiprocess mode: each process writes its samples to files of its own in
PROMETHEUS_MULTIPROC_DIR, and whichever process serves the metrics adds them all up at
scrape time, so the counts of a process that exited (a pool child restarted, a uvicorn
worker respawned) are kept and one port serves the whole group. prometheus_client reads
the variable when it is first imported: `newsflow worker` and `newsflow api --workers N`
set it (``private_multiprocess_dir``) before importing anything that defines a metric."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: this module must not import prometheus_client
    from prometheus_client import CollectorRegistry
    from prometheus_client.registry import Collector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def private_multiprocess_dir(group: str, *, forked: bool) -> Iterator[str]:
    """Set PROMETHEUS_MULTIPROC_DIR for this process and its children, to a fresh directory
    removed afterwards (nothing of an earlier run is added up); one set already is kept.
    ``forked``: the counting processes are forks of this one (Celery's prefork pool), which
    must then not have imported prometheus_client yet; spawned ones (uvicorn's workers)
    import it afresh."""
    if os.environ.get(MULTIPROC_DIR):
        yield os.environ[MULTIPROC_DIR]
        return
    if forked and "prometheus_client.values" in sys.modules:
        # too late: the metrics already defined would be this process's alone
        raise RuntimeError(f"prometheus_client was imported before {MULTIPROC_DIR} was set")
    path = tempfile.mkdtemp(prefix=f"newsflow-metrics-{group}-")
    os.environ[MULTIPROC_DIR] = path
    try:
        yield path
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(path, ignore_errors=True)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR))


def exposed_registry(defined: CollectorRegistry, *at_scrape: Collector) -> CollectorRegistry:
    """The registry to serve: the samples of the metrics in ``defined`` (of every process
    of the group in multiprocess mode, else of this one), and ``at_scrape``, collectors
    that compute their values when scraped."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = defined
    for collector in at_scrape:
        registry.register(collector)
    return registry

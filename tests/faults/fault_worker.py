"""A real newsflow worker with two faults that tests can trigger through the input:
text starting with "CRASH" kills the process handling it (as an OOM kill or a segfault in
a parser would), "SLOW <seconds>" makes the pipeline take that long. Everything else —
Celery, Redis, PostgreSQL, the task — is the real thing.

Run as: python -m tests.faults.fault_worker [worker options]"""

from __future__ import annotations

import os
import signal
import sys
import time

import worker.process
from cli.main import main
from newsflow.contract import Submission
from worker.pipeline.article import ParsedArticle
from worker.pipeline.parse import parse as real_parse


def parse_with_faults(submission: Submission) -> ParsedArticle:
    text = submission.text or ""
    if text.startswith("CRASH"):
        os.kill(os.getpid(), signal.SIGKILL)
    if text.startswith("SLOW "):
        time.sleep(float(text.split()[1]))
    return real_parse(submission)


if __name__ == "__main__":
    worker.process.parse = parse_with_faults
    main(["worker", *sys.argv[1:]])

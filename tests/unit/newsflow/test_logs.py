"""newsflow/logs.py: the fields bound to a context are on every line, in JSON or text;
request ids and traceparents from outside are checked."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from newsflow import logs

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("newsflow.test", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_json_line_carries_bound_and_extra_fields() -> None:
    with logs.bound(request_id="r1", submission_id="s1"):
        line = logs.JsonFormatter().format(_record("hello", stages_ms={"parse": 1.5}))
    outside = json.loads(logs.JsonFormatter().format(_record("later")))
    parsed = json.loads(line)
    assert parsed["message"] == "hello"
    assert parsed["level"] == "info"
    assert parsed["request_id"] == "r1"
    assert parsed["submission_id"] == "s1"
    assert parsed["stages_ms"] == {"parse": 1.5}
    assert "request_id" not in outside  # unbound when the context ends


def test_json_line_of_an_exception_is_one_line_with_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["error"]


def test_text_line_puts_fields_after_the_message() -> None:
    with logs.bound(request_id="r1"):
        line = logs.TextFormatter().format(_record("hello"))
    assert line.endswith("INFO newsflow.test: hello request_id=r1")


def test_annotate_reaches_only_the_current_request() -> None:
    logs.annotate(submission_id="nowhere")  # no request bound: ignored
    assert logs.current() == {}
    with logs.bound(request_id="r1"):
        logs.annotate(submission_id="s1")
        assert logs.current() == {"request_id": "r1", "submission_id": "s1"}
    assert logs.current() == {}


@pytest.mark.parametrize(
    ("value", "valid"),
    [("abc-123", True), ("a" * 128, True), ("a" * 129, False), ("has space", False), ("", False)],
)
def test_request_id_validation(value: str, valid: bool) -> None:
    assert (logs.valid_request_id(value) == value) is valid


def test_traceparent_is_continued_with_a_new_span() -> None:
    trace = logs.continue_trace(f"00-{TRACE_ID}-00f067aa0ba902b7-01")
    assert trace.trace_id == TRACE_ID
    assert trace.parent_id == "00f067aa0ba902b7"
    assert trace.span_id != trace.parent_id
    assert trace.traceparent == f"00-{TRACE_ID}-{trace.span_id}-01"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "garbage",
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent
        f"ff-{TRACE_ID}-00f067aa0ba902b7-01",  # forbidden version
        f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01",  # upper case is invalid
        f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra",  # version 00 has nothing after flags
    ],
)
def test_invalid_traceparent_starts_a_new_trace(bad: str | None) -> None:
    trace = logs.continue_trace(bad)
    assert trace.parent_id is None
    assert len(trace.trace_id) == 32
    assert trace.trace_id != TRACE_ID


def test_later_version_traceparent_is_read_as_version_00() -> None:
    trace = logs.continue_trace(f"01-{TRACE_ID}-00f067aa0ba902b7-01-more")
    assert trace.trace_id == TRACE_ID


def test_message_headers_carry_the_bound_trace_and_request() -> None:
    assert logs.message_headers() == {}
    trace = logs.continue_trace(None)
    with logs.bound(request_id="r1", **trace.fields()):
        assert logs.message_headers() == {"traceparent": trace.traceparent, "request_id": "r1"}

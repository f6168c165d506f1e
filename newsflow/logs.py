"""Logging for the API, the worker and the CLI, configured in this one place.

Every line carries what is bound to the current context (``bound``/``bind``): the API binds
the request id and trace id of each request, the worker the submission id, delivery,
request id and trace id of each task. ``NEWSFLOW_LOG_FORMAT=json`` writes one JSON object
per line; ``text`` (the default) writes ``time level logger: message key=value…``.

The trace context is W3C ``traceparent`` (https://www.w3.org/TR/trace-context/): the API
takes the caller's (or starts a trace), gives the task messages it builds its own span as
the parent, and the worker logs the same trace id."""

from __future__ import annotations

import logging
import logging.config
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import orjson

LogFormat = Literal["json", "text"]

# The fields of the current request or task; a new dict each time one is bound, so a
# request's (or a task's) fields never leak into another's (the default is never changed).
_NONE: dict[str, Any] = {}
_fields: ContextVar[dict[str, Any]] = ContextVar("newsflow_log_fields", default=_NONE)

# What a LogRecord has of its own; anything else on it came as ``extra=`` and is logged.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's, with terminal escapes
}


def current() -> dict[str, Any]:
    """The fields bound to this context (do not change the dict: bind instead)."""
    return _fields.get()


def bind(**fields: Any) -> Token[dict[str, Any]]:
    """Add ``fields`` to every line logged in this context, until ``unbind(token)``."""
    return _fields.set({**_fields.get(), **fields})


def unbind(token: Token[dict[str, Any]]) -> None:
    _fields.reset(token)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def annotate(**fields: Any) -> None:
    """Add ``fields`` to the lines still to come in the current request (the access log
    line learns the submission id this way), without a new context."""
    current = _fields.get()
    if current is not _NONE:
        current.update(fields)


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    names = record.__dict__.keys() - _RECORD_ATTRIBUTES  # a set operation: no loop in Python
    return {name: record.__dict__[name] for name in names} if names else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the bound fields, the
    record's ``extra=`` fields, and ``error`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_fields.get(),
            **_extra(record),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["error"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value…`` for a terminal, the fields before any
    traceback."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).isoformat(" ", timespec="milliseconds")
        text = f"{when} {record.levelname} {record.name}: {record.getMessage()}"
        fields = {**_fields.get(), **_extra(record)}
        if fields:
            text += " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


def _text_value(value: Any) -> str:
    if isinstance(value, dict | list):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def logging_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of every newsflow process (uvicorn takes it as its
    ``log_config``, so its worker processes log the same way): one stderr handler on the
    root logger; uvicorn's and Celery's loggers propagate to it."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"newsflow": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "newsflow",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery")
        },
    }


def configure(log_format: LogFormat, level: str | int = "INFO") -> None:
    """Configure logging for this process (API, worker or CLI)."""
    if isinstance(level, int):
        level = logging.getLevelName(level)
    logging.config.dictConfig(logging_config(log_format, level))
    logging.captureWarnings(True)  # warnings become log lines too, not bare stderr text
    # neither format writes thread or process names: not looking them up makes each
    # record cheaper (the logging documentation's "Optimization")
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False


# --- request ids and trace context ---------------------------------------------------

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_rng = random.Random()  # trace and span ids need uniqueness, not secrecy: no system call


def valid_request_id(value: str | None) -> str | None:
    """A caller's X-Request-ID when it is 1 to 128 printable, unspaced characters; else
    None (a new one is made: a tracing header never refuses a request)."""
    return value if value is not None and _REQUEST_ID.fullmatch(value) else None


def new_request_id() -> str:
    return f"{_rng.getrandbits(128):032x}"


class TraceContext(NamedTuple):  # a tuple: made once per request, cheaply
    trace_id: str  # 32 hex digits, shared by every span of the trace
    span_id: str  # 16 hex digits: this process's span, the parent of what it sends on
    parent_id: str | None  # the caller's span, when the request had a traceparent
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        """The traceparent of what this span sends on (the task messages)."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def fields(self) -> dict[str, str]:
        fields = {"trace_id": self.trace_id, "span_id": self.span_id}
        if self.flags != "01":
            fields["trace_flags"] = self.flags
        if self.parent_id:
            fields["parent_span_id"] = self.parent_id
        return fields


def continue_trace(traceparent: str | None) -> TraceContext:
    """A new span in the caller's trace when ``traceparent`` is valid (version 00, or a
    later one read as 00 would be), else in a new trace."""
    span_id = f"{_rng.getrandbits(64):016x}"
    if traceparent:
        match = _TRACEPARENT.match(traceparent.strip())
        if match:
            version, trace_id, parent_id, flags = match.groups()
            if (
                version != "ff"
                and (version != "00" or len(traceparent.strip()) == 55)
                and trace_id != "0" * 32
                and parent_id != "0" * 16
            ):
                return TraceContext(trace_id, span_id, parent_id, flags)
    return TraceContext(f"{_rng.getrandbits(128):032x}", span_id, None)


def message_headers() -> dict[str, str]:
    """The headers a task message built in this context carries to the worker: the
    traceparent whose parent is this context's span, and the request id."""
    fields = _fields.get()
    headers = {}
    if "trace_id" in fields and "span_id" in fields:
        flags = fields.get("trace_flags", "01")
        headers["traceparent"] = f"00-{fields['trace_id']}-{fields['span_id']}-{flags}"
    if "request_id" in fields:
        headers["request_id"] = fields["request_id"]
    return headers

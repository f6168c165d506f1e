"""uvicorn's httptools protocol with read deadlines on client connections.

uvicorn bounds only the idle time between two requests of a connection (timeout_keep_alive):
a client that sends its headers or its body a byte at a time holds its connection (and its
memory) for as long as it likes. Here a request's headers must arrive within
NEWSFLOW_HEADER_TIMEOUT_SECONDS of the connection opening (or of the request's first byte
on a kept-alive connection), and its body within NEWSFLOW_BODY_TIMEOUT_SECONDS of the
headers; past either the connection is closed. `newsflow api` serves with this class."""

from __future__ import annotations

import logging
from asyncio import TimerHandle, Transport
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from newsflow.settings import get_settings

log = logging.getLogger("newsflow.api")


class TimedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._header_timeout = settings.header_timeout_seconds
        self._body_timeout = settings.body_timeout_seconds
        self._read_deadline: TimerHandle | None = None

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(seconds, self._read_timed_out, what)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_timed_out(self, what: str) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            log.info("closing a connection from %s: %s", self.client, what)
            self.transport.close()

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout, f"no request headers within {self._header_timeout:g} s")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_deadline is None:  # a later request on a kept-alive connection
            self._arm(self._header_timeout, f"headers not read within {self._header_timeout:g} s")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self._body_timeout, f"body not read within {self._body_timeout:g} s")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

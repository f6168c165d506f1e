"""Refuse oversized or encoded request bodies before they are read into memory."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import Problem, problem_response


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 when Content-Length says the body is too large, or when a chunked body grows
    past the limit while streaming in. Content-Encoding (gzip bombs) is refused: 415."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = larger or {}  # paths that take bigger bodies (batches, feeds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.default_max_bytes)
        headers = dict(scope.get("headers") or [])
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding not in (b"", b"identity"):
            await self._refuse(
                scope,
                receive,
                send,
                415,
                "Unsupported Content-Encoding",
                "send the body uncompressed",
            )
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > max_bytes):
            await self._refuse(
                scope,
                receive,
                send,
                413,
                "Request body too large",
                f"the limit is {max_bytes} bytes",
            )
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if response_started:
                raise
            await self._refuse(
                scope,
                receive,
                send,
                413,
                "Request body too large",
                f"the limit is {max_bytes} bytes",
            )

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, title: str, detail: str
    ) -> None:
        response = problem_response(
            Problem(title=title, status=status, detail=detail), {"Connection": "close"}
        )
        await response(scope, receive, send)

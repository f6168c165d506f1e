"""Refuse oversized or encoded request bodies before they are read into memory."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import Problem, problem_response


class BodyTooLarge(Exception):
    """Raised by the wrapped ``receive`` when a body streams in past the limit; this
    middleware answers 413 (a handler may catch it to answer first, and re-raise)."""


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
        encoding = length = None
        chunked = False
        for name, value in scope.get("headers") or ():  # the last of each, as dict() kept
            if name == b"content-length":
                length = value
            elif name == b"content-encoding":
                encoding = value
            elif name == b"transfer-encoding":
                chunked = True
        if encoding is not None and encoding.strip().lower() not in (b"", b"identity"):
            await self._refuse(
                scope,
                receive,
                send,
                415,
                "Unsupported Content-Encoding",
                "send the body uncompressed",
            )
            return

        async def too_large() -> None:
            detail = f"the limit is {max_bytes} bytes"
            await self._refuse(scope, receive, send, 413, "Request body too large", detail)

        if length is not None and (not length.isdigit() or int(length) > max_bytes):
            await too_large()
            return
        if length is not None and not chunked:
            # the HTTP server never passes on more than Content-Length bytes
            await self.app(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if response_started:
                raise
            await too_large()

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, status: int, title: str, detail: str
    ) -> None:
        response = problem_response(
            Problem(title=title, status=status, detail=detail), {"Connection": "close"}
        )
        await response(scope, receive, send)

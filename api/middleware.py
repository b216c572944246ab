"""A pure-ASGI request-size limit (cheaper than BaseHTTPMiddleware on the hot path)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Answer 413 `{code, message, details}` when a body exceeds `max_bytes`, declared (Content-Length) or
    streamed (chunked). A streamed body is cut where it crosses the limit: the 413 is sent at once, the
    application then sees the client as gone, and anything it still tries to send is dropped — so its own
    "could not parse the body" error can never replace the 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reject(send, 400, "bad_request", "content-length is not a number")
                    return
                if declared > self.max_bytes:
                    await self._reject(send, 413, "payload_too_large",
                                       f"request body exceeds {self.max_bytes} bytes")
                    return
        received = 0
        started = rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    rejected = True
                    if not started:
                        await self._reject(send, 413, "payload_too_large",
                                           f"request body exceeds {self.max_bytes} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _reject(self, send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps({"code": code, "message": message, "details": {"limit_bytes": self.max_bytes}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

"""Run the service under uvicorn with deadlines for slow clients (`advisor serve`, `python -m api.server`).

uvicorn times out idle keep-alive connections but not a client that trickles its request: a connection
that sends half a request line and stops, or a body that stalls after two bytes, would be held open for
as long as the client likes (slowloris). The protocols here give every request a header deadline from
its first byte (or from the connection's opening) and a body deadline once the headers are in; a
request that misses one is answered 408 and the connection closed. Deadlines and connection caps are
settings (`ADVISOR_HEADER_TIMEOUT_SECONDS`, `ADVISOR_BODY_TIMEOUT_SECONDS`, `ADVISOR_LIMIT_CONCURRENCY`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import Settings, load_settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is part of uvicorn[standard]
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

_TIMEOUTS: tuple[float, float] | None = None  # (header, body) seconds, set by `run` or read from the environment


def _timeouts() -> tuple[float, float]:
    global _TIMEOUTS
    if _TIMEOUTS is None:  # a worker process started by uvicorn's multiprocess supervisor
        settings = load_settings()
        _TIMEOUTS = (settings.header_timeout_seconds, settings.body_timeout_seconds)
    return _TIMEOUTS


def _timeout_response(message: str) -> bytes:
    body = json.dumps({"code": "request_timeout", "message": message, "details": {}}).encode()
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class _Deadlines:
    """Mixin for a uvicorn HTTP protocol: a header deadline and a body deadline for every request.

    After each chunk of data: if the newest request's headers are in and its body is not, the body
    deadline runs (armed once per request); once the body is complete the deadline is cleared (the
    application's own time is not limited here); otherwise the client is sending headers, and the header
    deadline runs from the first byte of the request (or from the connection's opening) — later bytes
    never extend it.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.header_timeout, self.body_timeout = _timeouts()
        self._deadline: asyncio.TimerHandle | None = None
        self._body_of: Any = None  # the request cycle whose body is awaited
        self._done: Any = None  # the newest request cycle received completely
        super().connection_made(transport)  # type: ignore[misc]
        self._arm(self.header_timeout, "headers")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        cycle = getattr(self, "cycle", None)
        if cycle is not None and cycle is not self._done:
            if not cycle.more_body:
                self._done = cycle
                self._cancel()
            elif self._body_of is not cycle:
                self._body_of = cycle
                self._arm(self.body_timeout, "body")
        elif self._deadline is None:  # the first bytes of a new request on a kept-alive connection
            self._arm(self.header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self, seconds: float, phase: str) -> None:
        self._cancel()
        self._deadline = self.loop.call_later(seconds, self._expired, phase, seconds)  # type: ignore[attr-defined]

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, phase: str, seconds: float) -> None:
        self._deadline = None
        transport: asyncio.Transport = self.transport  # type: ignore[attr-defined]
        if transport.is_closing():
            return
        cycle = getattr(self, "cycle", None)
        if phase == "body" and cycle is not None:
            cycle.disconnected = True  # the application's receive() sees http.disconnect; its answer is dropped
            cycle.message_event.set()
            if cycle.response_started:
                transport.close()
                return
        transport.write(_timeout_response(f"the request {phase} did not arrive within {seconds:g} s"))
        transport.close()


class DeadlineH11Protocol(_Deadlines, H11Protocol):
    """uvicorn's h11 protocol with request deadlines."""


if HttpToolsProtocol is not None:
    class DeadlineHttpToolsProtocol(_Deadlines, HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """uvicorn's httptools protocol (the faster parser) with request deadlines."""


def protocol_class() -> type[asyncio.Protocol]:
    """The faster httptools parser when installed (uvicorn's own `auto` choice), else h11."""
    return DeadlineHttpToolsProtocol if HttpToolsProtocol is not None else DeadlineH11Protocol


def run(settings: Settings, workers: int = 1, app: Any = None) -> None:
    """Serve on `settings.host:settings.port` with the slow-client deadlines and connection caps."""
    global _TIMEOUTS
    _TIMEOUTS = (settings.header_timeout_seconds, settings.body_timeout_seconds)
    options: dict[str, Any] = dict(host=settings.host, port=settings.port, http=protocol_class(),
                                   timeout_keep_alive=settings.keep_alive_seconds,
                                   limit_concurrency=settings.limit_concurrency, log_level="info",
                                   server_header=False)
    if workers > 1 or app is None:  # workers build their app from the environment (ADVISOR_*)
        uvicorn.run("api.app:create_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(app, **options)


def main(argv: list[str] | None = None) -> None:
    """`python -m api.server [--workers N]`: settings from ADVISOR_* (host, port, secrets, timeouts)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m api.server", description=main.__doc__)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValueError as err:
        print(f"refusing to start: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    from api.app import create_app

    run(settings, args.workers, None if args.workers > 1 else create_app(settings))


if __name__ == "__main__":
    main()

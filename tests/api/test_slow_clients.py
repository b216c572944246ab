"""Against a real server (`python -m api.server`): clients that trickle or stall their request are answered
408 and cut off within the header / body deadlines, and other clients are served meanwhile."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import new_customer_id
from tests.api.live_server import LiveServer
from tests.api.test_live_server import SECRET, headers_for

HEADER_TIMEOUT, BODY_TIMEOUT = 1.0, 1.5


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    """Connection deadlines do not depend on the database: SQLite only."""
    return f"sqlite:///{tmp_path_factory.mktemp('slow') / 'advisor.db'}"


@pytest.fixture(scope="module")
def server(db_url, tmp_path_factory):
    live = LiveServer(db_url, SECRET, tmp_path_factory.mktemp("slow") / "server.log",
                      ADVISOR_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
                      ADVISOR_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT))
    live.start()
    yield live
    live.kill()


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed (monotonic)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic()


def test_partial_headers_are_answered_408_and_closed(server):
    start = time.monotonic()
    sockets = [connect(server) for _ in range(100)]
    for sock in sockets:
        sock.sendall(b"POST /v1/customers/c1/proposals HTTP/1.1\r\nHost: x\r\nContent-")
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(until_closed, sockets))
    for data, _ in results:
        assert data.startswith(b"HTTP/1.1 408"), data[:100]
    assert max(closed for _, closed in results) - start < HEADER_TIMEOUT + 3
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200


def test_a_trickle_does_not_extend_the_header_deadline(server):
    sock = connect(server)
    start = time.monotonic()
    closed = False
    for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            closed = True
            break
        time.sleep(0.1)
    data, ended = until_closed(sock)
    assert closed or data.startswith(b"HTTP/1.1 408")
    assert ended - start < HEADER_TIMEOUT + 4.5  # 4 s of trickling would have kept it open without a deadline


def test_an_idle_connection_is_closed(server):
    sock = connect(server)
    start = time.monotonic()
    _data, closed = until_closed(sock)
    assert closed - start < HEADER_TIMEOUT + 2


def test_a_stalled_body_is_answered_408_and_closed(server):
    sock = connect(server)
    cid = new_customer_id()
    auth = headers_for(cid)["Authorization"]
    sock.sendall(f"POST /v1/customers/{cid}/risk-assessments HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"".encode())
    start = time.monotonic()
    data, closed = until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"request_timeout" in data
    assert closed - start < BODY_TIMEOUT + 2


def test_keep_alive_then_a_partial_request_is_closed(server):
    sock = connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while b'{"status":"ok"}' not in first:
        first += sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    sock.sendall(b"GET /health HTTP/1.1\r\nHo")
    start = time.monotonic()
    data, closed = until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408") and closed - start < HEADER_TIMEOUT + 2

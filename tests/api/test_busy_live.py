"""Against a real server on both databases: while the database is locked, the event loop stays free —
/health answers at once — and the waiting writes get 503 + Retry-After after the busy timeout, never 500."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.conftest import new_customer_id
from tests.api.live_server import LiveServer
from tests.api.test_limits_and_busy import hold_write_lock
from tests.api.test_live_server import SECRET, headers_for, open_proposal


@pytest.fixture(scope="module")
def server(db_url, tmp_path_factory):
    live = LiveServer(db_url, SECRET, tmp_path_factory.mktemp("busy") / "server.log",
                      ADVISOR_DB_BUSY_TIMEOUT_SECONDS="1")
    live.start()
    yield live
    live.kill()


def test_busy_database_never_stalls_the_event_loop(server, db_url):
    cid = new_customer_id("busy")
    open_proposal(server.url, cid)  # assessed, with one proposal stored
    ready = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(db_url, 4.0, ready))
    holder.start()
    try:
        assert ready.wait(10)

        def write(_: int) -> httpx.Response:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                return http.post(f"/v1/customers/{cid}/proposals", headers=headers_for(cid),
                                 json={"amount": 10_000, "horizon_years": 1})

        with ThreadPoolExecutor(8) as pool, httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/health").status_code == 200  # connection open before the writes start
            writes = pool.map(write, range(8))
            time.sleep(0.3)  # the writes are now waiting on the lock
            latencies = []
            for _ in range(7):
                began = time.monotonic()
                assert http.get("/health").status_code == 200
                latencies.append(time.monotonic() - began)
                time.sleep(0.05)
            answers = list(writes)
    finally:
        holder.join()
    # Storage on the event loop held /health for the 1 s busy timeout of each waiting write (up to 2 s seen);
    # in the thread pool it answers in milliseconds (the bounds leave room for a busy machine's hiccups).
    assert max(latencies) < 0.8 and sorted(latencies)[len(latencies) // 2] < 0.2, latencies
    assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
    assert all(a.headers.get("Retry-After") for a in answers)

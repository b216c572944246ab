"""Per-subject write rate limits (429 + Retry-After) and a busy database (503 + Retry-After, never 500)."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.ratelimit import RateLimiter
from tests.api.conftest import Tokens, new_customer_id


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(10.0)  # one token every 10 s
    assert limiter.take("b") == 0.0  # buckets are per subject
    clock.now += 10
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    assert RateLimiter(per_minute=0, burst=1).take("a") == 0.0  # 0 disables


def test_bucket_memory_is_bounded():
    limiter = RateLimiter(per_minute=60, burst=2, max_keys=100, clock=FakeClock())
    for i in range(1000):
        limiter.take(f"s{i}")
    assert len(limiter._buckets) <= 100


@pytest.fixture(scope="module")
def limited(settings, demo_universe):
    strict = settings.model_copy(update={"write_rate_per_minute": 2.0, "write_burst": 3})
    app = create_app(strict, universe=demo_universe)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, Tokens(strict)


def test_writes_beyond_the_limit_get_429_with_retry_after(limited):
    client, tokens = limited
    cid = new_customer_id()
    headers = tokens.customer(cid)
    answers = [client.post(f"/v1/customers/{cid}/risk-assessments", headers=headers, json={"refused": True})
               for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    assert set(refused.json()) == {"code", "message", "details"}
    assert client.get(f"/v1/customers/{cid}/risk-profile", headers=headers).status_code == 200  # reads go on
    other = new_customer_id()
    assert client.post(f"/v1/customers/{other}/risk-assessments", headers=tokens.customer(other),
                       json={"refused": True}).status_code == 201  # another subject has its own bucket


def hold_write_lock(db_url: str, seconds: float, ready: threading.Event) -> None:
    """Keep the proposals table locked for writes from another connection for `seconds`."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=30)
        conn.execute("BEGIN EXCLUSIVE")
        ready.set()
        threading.Event().wait(seconds)
        conn.rollback()
        conn.close()
        return
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE proposals IN ACCESS EXCLUSIVE MODE"))
        ready.set()
        threading.Event().wait(seconds)
        conn.rollback()
    engine.dispose()


def test_busy_database_answers_503_with_retry_after(db_url, settings, demo_universe):
    quick = settings.model_copy(update={"db_busy_timeout_seconds": 0.3})
    app = create_app(quick, universe=demo_universe)
    tokens = Tokens(quick)
    with TestClient(app, raise_server_exceptions=False) as client:
        cid = new_customer_id()
        assert client.post(f"/v1/customers/{cid}/risk-assessments", headers=tokens.customer(cid),
                           json={"refused": True}).status_code == 201
        ready = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(db_url, 3.0, ready))
        holder.start()
        try:
            assert ready.wait(10)
            response = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                                   json={"amount": 10_000, "horizon_years": 1})
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_busy"
            assert int(response.headers["Retry-After"]) == quick.retry_after_seconds
            assert "locked" not in response.text and "lock_timeout" not in response.text
        finally:
            holder.join()
        retry = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid),
                            json={"amount": 10_000, "horizon_years": 1})
        assert retry.status_code == 201, retry.text

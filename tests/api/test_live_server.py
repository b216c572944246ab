"""Against a real uvicorn process: racing duplicate confirmations, and durability through SIGKILL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from api.auth import mint_token
from api.db import make_engine
from api.settings import Settings
from tests.api.conftest import new_customer_id
from tests.api.live_server import LiveServer

SECRET = "live-secret-0123456789abcdef0123456789"
RACERS = 12


@pytest.fixture(scope="module")
def server(db_url, tmp_path_factory):
    live = LiveServer(db_url, SECRET, tmp_path_factory.mktemp("live") / "server.log")
    live.start()
    yield live
    live.kill()


def headers_for(cid: str, **extra: str) -> dict[str, str]:
    token = mint_token(Settings(jwt_secret=SECRET, database_url="sqlite://"), "customer", cid)
    return {"Authorization": f"Bearer {token}", **extra}


def open_proposal(base: str, cid: str) -> str:
    with httpx.Client(base_url=base, timeout=30, headers=headers_for(cid)) as http:
        qn = http.get("/v1/risk/questionnaire").json()
        answers = {q["id"]: q["options"][min(2, len(q["options"]) - 1)]["id"] for q in qn["questions"]}
        assert http.post(f"/v1/customers/{cid}/risk-assessments", json={"answers": answers}).status_code == 201
        response = http.post(f"/v1/customers/{cid}/proposals", json={"amount": 80_000, "horizon_years": 3})
        assert response.status_code == 201, response.text
        return response.json()["id"]


def confirmations(db_url: str, pid: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT id FROM confirmations WHERE proposal_id = :p"),
                                               {"p": pid})]
    finally:
        engine.dispose()


def race(base: str, pid: str, headers: list[dict[str, str]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(headers))

    def fire(h: dict[str, str]) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            return http.post(f"/v1/proposals/{pid}/confirm", headers=h)

    with ThreadPoolExecutor(len(headers)) as pool:
        return list(pool.map(fire, headers))


def test_concurrent_duplicates_with_one_key_record_one_order(server, db_url):
    cid = new_customer_id("race")
    pid = open_proposal(server.url, cid)
    responses = race(server.url, pid, [headers_for(cid, **{"Idempotency-Key": "race-" + cid})] * RACERS)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (RACERS - 1) + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert confirmations(db_url, pid) == [responses[0].json()["id"]]


def test_concurrent_confirmations_with_different_keys_record_one_order(server, db_url):
    cid = new_customer_id("race")
    pid = open_proposal(server.url, cid)
    responses = race(server.url, pid, [headers_for(cid, **{"Idempotency-Key": f"k{i}-{cid}"}) for i in range(6)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 5, [r.text for r in responses]
    assert len(confirmations(db_url, pid)) == 1


def test_acknowledged_confirmation_survives_sigkill(server, db_url):
    cid = new_customer_id("crash")
    pid = open_proposal(server.url, cid)
    key = {"Idempotency-Key": "crash-" + cid}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        acknowledged = http.post(f"/v1/proposals/{pid}/confirm", headers=headers_for(cid, **key))
    assert acknowledged.status_code == 201
    server.kill()
    server.start()
    assert confirmations(db_url, pid) == [acknowledged.json()["id"]]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get(f"/v1/proposals/{pid}", headers=headers_for(cid)).json()["status"] == "confirmed"
        replay = http.post(f"/v1/proposals/{pid}/confirm", headers=headers_for(cid, **key))
    assert replay.status_code == 200
    assert replay.json()["id"] == acknowledged.json()["id"]
    assert replay.json()["orders"] == acknowledged.json()["orders"]

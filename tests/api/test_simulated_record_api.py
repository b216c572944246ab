"""A fresh install serves proposals with the policy's simulated record: computed in the background from the
served data at start, announced as being computed until then, shown once saved — never waited for."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app
from tests.advisor.simulation.test_record import _fake_job
from tests.api.conftest import assess, new_customer_id

BODY = {"amount": 100_000, "horizon_years": 3}


def _history(proposal: dict) -> dict:
    return next(n for n in proposal["explanations"] if n["code"].startswith("history"))


def test_the_service_computes_the_record_at_start_and_shows_it_when_ready(settings, tokens, tmp_path,
                                                                           monkeypatch):
    import advisor.simulation.record as record

    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ADVISOR_SIMULATED_RECORDS", "background")
    monkeypatch.setattr(record, "RECHECK_SECONDS", 0.0)
    monkeypatch.setattr(record, "_DATA_DIRS", {})
    monkeypatch.setattr(record, "_job_command", lambda data_dir, key: _fake_job(tmp_path, key, 3.0))
    record.forget_records()
    app = create_app(settings.model_copy(update={"warm_up": False}))  # the served data: settings.data_dir
    with TestClient(app, raise_server_exceptions=False) as client:
        cid = new_customer_id()
        assess(client, tokens, cid)
        clock = time.perf_counter()
        early = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY)
        assert early.status_code == 201, early.text
        assert time.perf_counter() - clock < 10.0  # answered without waiting for the simulation
        assert early.json()["proposal"]["historical"] is None
        note = _history(early.json()["proposal"])
        assert note["code"] == "history_computing" and "正在计算" in note["zh"]
        deadline = time.time() + 60
        while time.time() < deadline and not list((tmp_path / "simulation" / "records").glob("*.json")):
            time.sleep(0.2)
        late = client.post(f"/v1/customers/{cid}/proposals", headers=tokens.customer(cid), json=BODY).json()
        shown = late["proposal"]["historical"]
        assert shown["kind"] == "simulated_walk_forward" and shown["start"] and shown["end"]
        assert shown["annual_volatility"] is not None and shown["max_drawdown"] is not None
        assert _history(late["proposal"])["code"] == "history" and "模拟业绩" in _history(late["proposal"])["zh"]
    assert (tmp_path / "starts.txt").read_text() == "x"  # one job for the whole service
    record.forget_records()

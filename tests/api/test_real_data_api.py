"""The API over the real 509-fund universe: the shelf, one fund, and a proposal an analyst can check."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import mint_token
from api.settings import Settings
from tests.api.conftest import answers_for


@pytest.fixture(scope="module")
def real_client(real_universe, tmp_path_factory):
    settings = Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('real') / 'a.db'}", warm_up=False,
                        jwt_secret="real-secret-0123456789abcdef0123456789")
    with TestClient(create_app(settings, universe=real_universe)) as client:
        client.headers["Authorization"] = f"Bearer {mint_token(settings, 'ops', 'analyst')}"
        client.app.state.test_settings = settings
        yield client


def test_shelf_pages_and_filters_match_the_universe(real_client, real_universe):
    page = real_client.get("/v1/funds?limit=200").json()
    assert page["page"]["total"] == len(real_universe.funds)
    low = real_client.get("/v1/funds?max_risk_level=2&limit=200").json()
    assert low["page"]["total"] == int((real_universe.funds["risk_level"] <= 2).sum())
    assert all(int(f["risk_level"][1]) <= 2 for f in low["items"])
    money = real_client.get("/v1/funds?asset_class=cash&limit=200").json()["items"]
    assert money and all(f["asset_class"] == "cash" for f in money)


def test_fund_detail_carries_metrics_of_that_fund(real_client, real_universe):
    code = str(real_universe.funds.index[real_universe.funds["fund_type"] == "equity"][0])
    detail = real_client.get(f"/v1/funds/{code}").json()
    assert detail["code"] == code and detail["name"] == real_universe.funds.loc[code, "name"]
    assert -1.0 <= detail["metrics"]["max_drawdown"] <= 0.0
    assert detail["metrics"]["annual_volatility"] > 0


def test_real_proposal_is_suitable_and_adds_up(real_client, real_universe):
    cid = "real-analyst-check"
    own = {"Authorization": f"Bearer {mint_token(real_client.app.state.test_settings, 'customer', cid)}"}
    assert real_client.post(f"/v1/customers/{cid}/risk-assessments", headers=own,
                            json={"answers": answers_for(real_client, own)}).status_code == 201
    created = real_client.post(f"/v1/customers/{cid}/proposals", json={"amount": 200_000, "horizon_years": 5})
    assert created.status_code == 201, created.text
    body = created.json()
    level = int(body["level"][1])
    lines = body["proposal"]["lines"]
    assert lines
    for line in lines:
        assert line["code"] in real_universe.code_index
        assert int(real_universe.funds.loc[line["code"], "risk_level"]) <= level
    total = sum(line["amount"] + line["fee"] for line in lines) + body["proposal"]["cash_remainder"]
    assert total == pytest.approx(200_000, abs=1.0)


def test_fund_detail_says_how_its_return_was_built(real_client, real_universe):
    """The fund with the most 0.00s on falls no market move explains: the API carries the counts and warns."""
    from products.validation import return_repairs

    repairs = return_repairs(real_universe.issues)
    code = str(repairs["unexplained_falls"].idxmax())
    detail = real_client.get(f"/v1/funds/{code}", headers={"Accept-Language": "zh-CN, en"}).json()
    quality = detail["data_quality"]
    assert quality["unexplained_falls"] == repairs.at[code, "unexplained_falls"] > 0
    assert quality["distributions"] == repairs.at[code, "distributions"]
    assert quality["missing_returns_repaired"] == repairs.at[code, "missing_returns"]
    warning = next(w for w in detail["warnings"] if w["code"] == "unexplained_fall")
    assert "分红" in warning["message_zh"]

"""Authorization matrix: every route × every caller kind, and a check that no route is left out."""

from __future__ import annotations

import time

import jwt
import pytest

from api.auth import Role
from tests.api.conftest import answers_for, new_customer_id

SELF, OTHER, RM, OTHER_RM = "mx-self", "mx-other", "mx-rm", "mx-rm-other"

# caller kind → (role, subject); customer data belongs to SELF, who is assigned to RM
CALLERS = {
    "customer_self": (Role.CUSTOMER, SELF),
    "customer_other": (Role.CUSTOMER, OTHER),
    "rm_assigned": (Role.RM, RM),
    "rm_unassigned": (Role.RM, OTHER_RM),
    "ops": (Role.OPS, "mx-ops"),
}
CUSTOMER_SCOPED = {"customer_self", "rm_assigned", "ops"}
EVERYONE = set(CALLERS)
OPS_ONLY = {"ops"}
SELF_ONLY = {"customer_self"}  # acts binding the customer; an RM only with an in-person session (tested apart)
RM_OR_OPS = {"rm_assigned", "rm_unassigned", "ops"}


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    """Authorization is the same logic on either database; the matrix runs on SQLite to stay quick."""
    return f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'advisor.db'}"


@pytest.fixture(scope="module")
def world(client, tokens):
    """SELF assessed, assigned to RM, holding a fund, with an open proposal."""
    ops = tokens.ops()
    assert client.put(f"/v1/customers/{SELF}", headers=ops, json={"rm_ids": [RM], "age": 40}).status_code == 200
    assert client.put(f"/v1/customers/{OTHER}", headers=ops, json={"rm_ids": [OTHER_RM]}).status_code == 200
    own = tokens.customer(SELF)  # the customer answers for themselves (ops may not: docs/api.md § Compliance)
    assert client.post(f"/v1/customers/{SELF}/risk-assessments", headers=own,
                       json={"answers": answers_for(client, own)}).status_code == 201
    fund = client.get("/v1/funds?max_risk_level=1&limit=1", headers=ops).json()["items"][0]["code"]
    holdings = {"holdings": [{"code": fund, "amount": 1000, "purchase_date": "2025-01-02"}]}
    assert client.put(f"/v1/customers/{SELF}/holdings", headers=ops, json=holdings).status_code == 200
    proposal = client.post(f"/v1/customers/{SELF}/proposals", headers=ops,
                           json={"amount": 50_000, "horizon_years": 2}).json()
    plan = client.post(f"/v1/customers/{SELF}/rebalance", headers=ops, json={}).json()
    goal = client.post(f"/v1/customers/{SELF}/goals", headers=ops,
                       json={"target_amount": 100_000, "target_date": "2036-01-01", "monthly_contribution": 500}).json()
    sip = client.post(f"/v1/customers/{SELF}/sip-plans", headers=own, json={"amount": 1000}).json()
    alert_id, task_id = seed_alert_and_task(client, SELF, RM)
    return {"fund": fund, "proposal": proposal["id"], "holdings": holdings, "plan": plan["id"], "goal": goal["id"],
            "sip": sip["id"], "alert": alert_id, "task": task_id}


def seed_alert_and_task(client, customer_id: str, rm_id: str) -> tuple[str, str]:
    """A stored alert and a critical one's RM task (as the nightly outbox import writes them)."""
    from api import lifecycle_store

    row = {"customer_id": customer_id, "rm_id": rm_id, "kind": "drawdown", "severity": "critical",
           "dedupe_key": "drawdown:2026-01-05:2", "as_of": "2026-02-13", "title_zh": "持仓回撤超出承受范围",
           "text_zh": "您的持仓回撤较大。", "title_en": "Drawdown", "text_en": "Your holdings fell.", "details": "{}"}
    with client.app.state.advisor.sessions() as session:
        lifecycle_store.store_alerts(session, [row], [row])
        session.commit()
        _, alerts = lifecycle_store.alerts_of(session, customer_id, 1, 0)
        _, tasks = lifecycle_store.tasks_of(session, rm_id, None, 1, 0)
        return alerts[0].id, tasks[0].id


def requests_for(world: dict) -> dict[tuple[str, str], tuple[str, dict | None, set[str]]]:
    """(method, route path) → (concrete url, json body, caller kinds allowed)."""
    pid = world["proposal"]
    return {
        ("GET", "/v1/risk/questionnaire"): ("/v1/risk/questionnaire", None, EVERYONE),
        ("POST", "/v1/customers/{customer_id}/risk-assessments"):
            (f"/v1/customers/{SELF}/risk-assessments", {"refused": True}, SELF_ONLY),
        ("GET", "/v1/customers/{customer_id}/risk-profile"):
            (f"/v1/customers/{SELF}/risk-profile", None, CUSTOMER_SCOPED),
        ("GET", "/v1/funds"): ("/v1/funds", None, EVERYONE),
        ("GET", "/v1/funds/leaderboard"): ("/v1/funds/leaderboard", None, EVERYONE),
        ("GET", "/v1/funds/{code}"): (f"/v1/funds/{world['fund']}", None, EVERYONE),
        ("GET", "/v1/model-portfolios"): ("/v1/model-portfolios", None, EVERYONE),
        ("POST", "/v1/customers/{customer_id}/proposals"):
            (f"/v1/customers/{SELF}/proposals", {"amount": 10_000, "horizon_years": 1}, CUSTOMER_SCOPED),
        ("GET", "/v1/proposals/{proposal_id}"): (f"/v1/proposals/{pid}", None, CUSTOMER_SCOPED),
        ("POST", "/v1/proposals/{proposal_id}/confirm"): (f"/v1/proposals/{pid}/confirm", None, SELF_ONLY),
        ("POST", "/v1/customers/{customer_id}/mismatch-acknowledgements"):
            (f"/v1/customers/{SELF}/mismatch-acknowledgements",
             {"product_code": world["fund"], "acknowledged": False}, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/diagnosis"): (f"/v1/customers/{SELF}/diagnosis", {}, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/rebalance"): (f"/v1/customers/{SELF}/rebalance", {}, CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/rebalance-plans"):
            (f"/v1/customers/{SELF}/rebalance-plans", None, CUSTOMER_SCOPED),
        ("GET", "/v1/rebalance-plans/{plan_id}"): (f"/v1/rebalance-plans/{world['plan']}", None, CUSTOMER_SCOPED),
        ("POST", "/v1/rebalance-plans/{plan_id}/confirm"):
            (f"/v1/rebalance-plans/{world['plan']}/confirm", None, SELF_ONLY),
        ("GET", "/v1/rm/clients"): ("/v1/rm/clients", None, {"rm_assigned", "rm_unassigned"}),
        ("GET", "/v1/rms/{rm_id}/clients"): (f"/v1/rms/{RM}/clients", None, {"rm_assigned", "ops"}),
        ("PUT", "/v1/customers/{customer_id}"): (f"/v1/customers/{SELF}", {"age": 41}, OPS_ONLY),
        ("PUT", "/v1/customers/{customer_id}/holdings"):
            (f"/v1/customers/{SELF}/holdings", world["holdings"], OPS_ONLY),
        ("GET", "/v1/customers/{customer_id}/holdings"): (f"/v1/customers/{SELF}/holdings", None, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/transactions"):
            (f"/v1/customers/{SELF}/transactions", {"transactions": [
                {"txn_id": "mx-t1", "date": "2025-01-02", "code": world["fund"], "kind": "subscription",
                 "amount": 1000}]}, OPS_ONLY),
        ("GET", "/v1/customers/{customer_id}/transactions"): (f"/v1/customers/{SELF}/transactions", None,
                                                              CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/returns"): (f"/v1/customers/{SELF}/returns", None, CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/statements/{period}"):
            (f"/v1/customers/{SELF}/statements/2025-12", None, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/goals"):
            (f"/v1/customers/{SELF}/goals", {"target_amount": 50_000, "target_date": "2030-06-30"}, CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/goals"): (f"/v1/customers/{SELF}/goals", None, CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/goals/{goal_id}"):
            (f"/v1/customers/{SELF}/goals/{world['goal']}", None, CUSTOMER_SCOPED),
        ("PATCH", "/v1/customers/{customer_id}/goals/{goal_id}"):
            (f"/v1/customers/{SELF}/goals/{world['goal']}", {"monthly_contribution": 800}, CUSTOMER_SCOPED),
        ("DELETE", "/v1/customers/{customer_id}/goals/{goal_id}"):
            (f"/v1/customers/{SELF}/goals/{world['goal']}", None, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/sip-plans"):
            (f"/v1/customers/{SELF}/sip-plans", {"amount": 500}, SELF_ONLY),
        ("GET", "/v1/customers/{customer_id}/sip-plans"): (f"/v1/customers/{SELF}/sip-plans", None, CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/sip-plans/{plan_id}"):
            (f"/v1/customers/{SELF}/sip-plans/{world['sip']}", None, CUSTOMER_SCOPED),
        ("PATCH", "/v1/customers/{customer_id}/sip-plans/{plan_id}"):
            (f"/v1/customers/{SELF}/sip-plans/{world['sip']}", {"status": "paused"}, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/sip-plans/{plan_id}/simulation"):
            (f"/v1/customers/{SELF}/sip-plans/{world['sip']}/simulation", {"start": "2024-01-01"}, CUSTOMER_SCOPED),
        ("GET", "/v1/customers/{customer_id}/alerts"): (f"/v1/customers/{SELF}/alerts", None, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/alerts/{alert_id}/read"):
            (f"/v1/customers/{SELF}/alerts/{world['alert']}/read", None, {"customer_self"}),
        ("GET", "/v1/customers/{customer_id}/alert-preferences"):
            (f"/v1/customers/{SELF}/alert-preferences", None, CUSTOMER_SCOPED),
        ("PUT", "/v1/customers/{customer_id}/alert-preferences"):
            (f"/v1/customers/{SELF}/alert-preferences", {"opted_out": ["nav_swing"]}, CUSTOMER_SCOPED),
        ("POST", "/v1/customers/{customer_id}/alerts/evaluate"):
            (f"/v1/customers/{SELF}/alerts/evaluate", None, OPS_ONLY),
        ("GET", "/v1/rm/tasks"): ("/v1/rm/tasks", None, {"rm_assigned", "rm_unassigned"}),
        ("GET", "/v1/rms/{rm_id}/tasks"): (f"/v1/rms/{RM}/tasks", None, {"rm_assigned", "ops"}),
        ("POST", "/v1/rm/tasks/{task_id}/done"): (f"/v1/rm/tasks/{world['task']}/done", None, {"rm_assigned", "ops"}),
        ("DELETE", "/v1/customers/{customer_id}/rm-assignments/{rm_id}"):
            (f"/v1/customers/{SELF}/rm-assignments/nobody-assigned", None, OPS_ONLY),
    }


def routes_of(client) -> set[tuple[str, str]]:
    """Every operation the app publishes under /v1 (its own OpenAPI spec)."""
    spec = client.get("/openapi.json").json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() if path.startswith("/v1")
            for method in ops}


def test_matrix_covers_every_route(client, world):
    assert set(requests_for(world)) == routes_of(client)


def call(client, method: str, url: str, body: dict | None, headers: dict[str, str]):
    headers = {**headers, "Idempotency-Key": "matrix-key-" + new_customer_id()}
    return client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_each_role_reaches_exactly_what_it_may(client, tokens, world, caller):
    role, sub = CALLERS[caller]
    headers = tokens.headers(role, sub)
    failures = []
    for (method, path), (url, body, allowed) in requests_for(world).items():
        response = call(client, method, url, body, headers)
        if caller in allowed:
            ok = response.status_code not in (401, 403) and response.status_code < 500
        elif path.startswith(("/v1/proposals/", "/v1/rebalance-plans/")) and caller in ("customer_other",
                                                                                        "rm_unassigned"):
            # a foreign proposal or plan is not disclosed: 404 as for an unknown id
            ok = response.status_code == 404 and response.json()["code"] in ("proposal_not_found", "plan_not_found")
        else:
            ok = response.status_code == 403 and response.json()["code"] in (
                "forbidden", "not_permitted_on_behalf", "in_person_session_required")
        if not ok:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)


def test_rm_cannot_ask_for_another_rms_clients(client, tokens):
    response = client.get(f"/v1/rms/{OTHER_RM}/clients", headers=tokens.rm(RM))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-jwt", "bearer a.b.c"])
def test_every_protected_route_needs_a_valid_token(client, world, header):
    headers = {"Authorization": header} if header else {}
    for (method, _path), (url, body, _allowed) in requests_for(world).items():
        response = call(client, method, url, body, headers)
        assert response.status_code == 401, (method, url, response.status_code)
        assert set(response.json()) == {"code", "message", "details"}


def test_expired_wrongly_signed_and_role_less_tokens_are_refused(client, settings, world):
    now = int(time.time())
    base = {"sub": SELF, "role": "customer", "iat": now, "iss": settings.jwt_issuer}
    cases = {
        "token_expired": jwt.encode({**base, "exp": now - 10}, settings.signing_key, algorithm="HS256"),
        "invalid_token": jwt.encode({**base, "exp": now + 60}, "some-other-secret-0123456789abcdef",
                                    algorithm="HS256"),
    }
    cases["bad_role"] = jwt.encode({**base, "role": "admin", "exp": now + 60}, settings.signing_key,
                                   algorithm="HS256")
    cases["none_alg"] = jwt.encode({**base, "exp": now + 60}, None, algorithm="none")
    for name, token in cases.items():
        response = client.get(f"/v1/customers/{SELF}/risk-profile", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
    expired = client.get("/v1/funds", headers={"Authorization": f"Bearer {cases['token_expired']}"})
    assert expired.json()["code"] == "token_expired"


def test_public_routes_need_no_token(client):
    for url in ("/health", "/ready", "/docs", "/openapi.json"):
        assert client.get(url).status_code == 200, url

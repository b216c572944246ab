"""The relationship manager's worklist: only assigned clients, flags a person can verify, urgent first."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.conftest import answers_for, insert_expired_assessment

RM = "rm-worklist"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory):
    """Worklist logic over one batch; SQLite keeps it quick (storage is covered on both databases)."""
    return f"sqlite:///{tmp_path_factory.mktemp('rm') / 'advisor.db'}"


@pytest.fixture(scope="module")
def book(client, tokens, db_url):
    ops = tokens.ops()
    funds = client.get("/v1/funds?limit=200", headers=ops).json()["items"]
    r1 = next(f["code"] for f in funds if f["risk_level"] == "R1")
    r5 = next(f["code"] for f in funds if f["risk_level"] == "R5")
    qn = client.get("/v1/risk/questionnaire", headers=ops).json()
    cautious = {q["id"]: min(q["options"], key=lambda o: o["score"])["id"] for q in qn["questions"]}
    cautious.update({q["id"]: q["options"][2]["id"] for q in qn["questions"] if q["dimension"] == "basic"})
    for cid in ("wl-calm", "wl-mismatch", "wl-expired", "wl-never"):
        assert client.put(f"/v1/customers/{cid}", headers=ops, json={"rm_ids": [RM], "age": 45}).status_code == 200
    client.put("/v1/customers/wl-other", headers=ops, json={"rm_ids": ["rm-someone-else"]})
    client.post("/v1/customers/wl-calm/risk-assessments", headers=tokens.customer("wl-calm"),
                json={"answers": answers_for(client, ops)})
    client.post("/v1/customers/wl-mismatch/risk-assessments", headers=tokens.customer("wl-mismatch"),
                json={"answers": cautious})
    insert_expired_assessment(db_url, "wl-expired")
    client.put("/v1/customers/wl-mismatch/holdings", headers=ops,
               json={"holdings": [{"code": r5, "amount": 80_000, "purchase_date": "2024-02-01"}]})
    client.put("/v1/customers/wl-calm/holdings", headers=ops,
               json={"holdings": [{"code": r1, "amount": 20_000, "purchase_date": "2024-02-01"}]})
    return client.get("/v1/rm/clients", headers=tokens.rm(RM)).json()


def test_only_assigned_clients_are_listed(book):
    assert {c["customer_id"] for c in book["items"]} == {"wl-calm", "wl-mismatch", "wl-expired", "wl-never"}


def test_flags_name_what_a_person_can_see(book):
    by_id = {c["customer_id"]: c for c in book["items"]}
    assert "risk_mismatch" in by_id["wl-mismatch"]["flags"]
    assert "assessment_expired" in by_id["wl-expired"]["flags"]
    assert by_id["wl-never"]["flags"] == ["assessment_missing"]
    assert "risk_mismatch" not in by_id["wl-calm"]["flags"]


def test_most_urgent_first(book):
    urgency = [c["urgency"] for c in book["items"]]
    assert urgency == sorted(urgency, reverse=True)
    by_id = {c["customer_id"]: c for c in book["items"]}
    assert by_id["wl-mismatch"]["urgency"] > by_id["wl-calm"]["urgency"]


def test_ops_name_the_rm_in_the_path_and_both_doors_agree(client, tokens):
    """The spec said `rm_id` was optional, yet ops without it got 422: ops now name the RM in the path."""
    refused = client.get("/v1/rm/clients", headers=tokens.ops())
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    by_ops = client.get(f"/v1/rms/{RM}/clients", headers=tokens.ops())
    own = client.get("/v1/rm/clients", headers=tokens.rm(RM))
    assert by_ops.status_code == own.status_code == 200
    assert by_ops.json()["items"] == own.json()["items"] and by_ops.json()["rm_id"] == RM
    assert client.get(f"/v1/rms/{RM}/clients", headers=tokens.rm(RM)).status_code == 200


# --- flags are cached per client, and never older than what they are computed from ------------------------

MOVING_RM = "rm-moving"


def _flags(client, tokens, cid: str) -> dict:
    items = client.get("/v1/rm/clients", headers=tokens.rm(MOVING_RM)).json()["items"]
    return next(c for c in items if c["customer_id"] == cid)


def test_cached_flags_equal_a_fresh_check(client, tokens, book):
    from api.worklist import flag_cache

    cache = flag_cache(client.app.state.advisor)
    first = client.get("/v1/rm/clients", headers=tokens.rm(RM)).json()["items"]
    hits = cache.hits
    again = client.get("/v1/rm/clients", headers=tokens.rm(RM)).json()["items"]
    assert cache.hits - hits == 3  # the three assessed clients; the unassessed one needs no check
    cache._items.clear()
    fresh = client.get("/v1/rm/clients", headers=tokens.rm(RM)).json()["items"]
    assert first == again == fresh


def test_a_change_shows_on_the_next_request(client, tokens, db_url):
    """New holdings, a new assessment and a new day each change the flags at once, cache or not."""
    from datetime import timedelta

    from api.worklist import worklist

    ops = tokens.ops()
    funds = client.get("/v1/funds?limit=200", headers=ops).json()["items"]
    r1 = next(f["code"] for f in funds if f["risk_level"] == "R1")
    r5 = next(f["code"] for f in funds if f["risk_level"] == "R5")
    cid = "wl-moving"
    client.put(f"/v1/customers/{cid}", headers=ops, json={"rm_ids": [MOVING_RM], "age": 45})
    me = tokens.customer(cid)
    client.post(f"/v1/customers/{cid}/risk-assessments", headers=me, json={"answers": answers_for(client, me)})
    client.put(f"/v1/customers/{cid}/holdings", headers=ops,
               json={"holdings": [{"code": r1, "amount": 20_000, "purchase_date": "2024-02-01"}]})
    calm = _flags(client, tokens, cid)
    assert "risk_mismatch" not in calm["flags"] and calm["level"] == "C3"

    client.put(f"/v1/customers/{cid}/holdings", headers=ops,
               json={"holdings": [{"code": r5, "amount": 80_000, "purchase_date": "2024-02-01"}]})
    assert "risk_mismatch" in _flags(client, tokens, cid)["flags"]

    bold = answers_for(client, me, pick="E")
    client.post(f"/v1/customers/{cid}/risk-assessments", headers=me, json={"answers": bold})
    reassessed = _flags(client, tokens, cid)
    assert reassessed["level"] != "C3" and "risk_mismatch" not in reassessed["flags"]

    state = client.app.state.advisor
    expires = date.fromisoformat(reassessed["assessment_expires_on"])
    with state.sessions() as session:
        before, after = (next(c for c in worklist(state, session, MOVING_RM, day) if c.customer_id == cid)
                         for day in (expires - timedelta(days=1), expires))
    assert "assessment_expired" not in before.flags and "assessment_expired" in after.flags

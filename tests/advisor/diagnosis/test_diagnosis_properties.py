"""Properties of the health check over random customers (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.diagnosis import default_rules, diagnose_customer
from tests.advisor.diagnosis.diagnosis_helpers import AS_OF

# checks whose value is a share, a count, a level or a ratio: the same for a customer three times as rich
# (not the C-class check: subscription fees are tiered by amount)
SCALE_FREE = [rule.id for rule in default_rules() if rule.id not in ("no_insurance", "c_class_long")]


@st.composite
def customers(draw, codes: list[str]):
    lots = draw(st.lists(st.tuples(st.sampled_from(codes), st.floats(100, 200_000), st.integers(0, 2_000)),
                         min_size=1, max_size=12))
    return {
        "customer_id": "p", "risk_level": f"C{draw(st.integers(1, 5))}",
        "lowest_category": draw(st.booleans()) and draw(st.booleans()),
        "assessment_expires_on": str(np.datetime64(AS_OF) + draw(st.integers(-400, 400))),
        "age": draw(st.integers(18, 90)), "horizon_years": draw(st.sampled_from([0.5, 1, 2, 3, 5, 10])),
        "monthly_expenses": draw(st.floats(500, 50_000)), "cash": draw(st.floats(0, 500_000)),
        "insurance": draw(st.sampled_from([None, 0.0, 100_000.0])),
        "holdings": [{"code": code, "amount": amount, "purchase_date": str(np.datetime64(AS_OF) - days)}
                     for code, amount, days in lots],
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scores_are_bounded_and_scale_free(ctx, data):
    payload = data.draw(customers([str(c) for c in ctx.codes]))
    report = diagnose_customer(ctx, payload, as_of=AS_OF)
    assert 0 <= report["health_score"] <= 100
    assert all(0 <= s <= 100 for s in report["sub_scores"].values())
    assert len(report["actions"]) <= 3
    # every fired finding explains itself in both languages
    assert all(f["explanation_zh"] and f["explanation_en"] for f in report["findings"])
    richer = {**payload, "cash": payload["cash"] * 3, "monthly_expenses": payload["monthly_expenses"] * 3,
              "holdings": [{**lot, "amount": lot["amount"] * 3} for lot in payload["holdings"]]}
    scaled = diagnose_customer(ctx, richer, as_of=AS_OF)
    for rule in SCALE_FREE:
        assert scaled["checks"][rule]["severity"] == report["checks"][rule]["severity"], rule
    # the lowest category never holds anything above R1 without a finding
    if payload["lowest_category"]:
        levels = {h["risk_level"] for h in report["portfolio"]["holdings"]}
        assert levels <= {"R1"} or report["checks"]["above_level"]["severity"] in ("warning", "critical")

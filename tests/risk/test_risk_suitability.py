"""Suitability matrix, purchase decisions, whole-portfolio rating and the recommendation guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from products.errors import BadInputError, SuitabilityError
from risk.suitability import (
    SUITABILITY_MATRIX,
    PurchaseDecision,
    allowed_max_product_level,
    assess_purchase,
    check_recommendation,
    is_suitable,
    portfolio_risk_level,
    portfolio_risk_levels,
    purchase_decision,
    purchase_decisions,
)


def test_matrix_matches_the_regulation_table() -> None:
    # C1 → R1; C2 → R1–R2; ... C5 → R1–R5
    for c in range(1, 6):
        assert SUITABILITY_MATRIX[c - 1].tolist() == [r <= c for r in range(1, 6)]
        assert is_suitable([c] * 5, [1, 2, 3, 4, 5]).tolist() == [r <= c for r in range(1, 6)]


def test_levels_accept_labels_and_lowest_category_is_r1_only() -> None:
    assert is_suitable(["C3", "C3"], ["R3", "R4"]).tolist() == [True, False]
    assert allowed_max_product_level("C5", lowest_category=True) == 1
    assert is_suitable(5, [1, 2], lowest_category=True).tolist() == [True, False]
    grid = is_suitable(np.arange(1, 6)[:, None], np.arange(1, 6)[None, :])
    assert grid.shape == (5, 5) and (grid == SUITABILITY_MATRIX).all()


@pytest.mark.parametrize(("customer", "product", "kind", "lowest", "expected"), [
    ("C3", "R3", "fund", False, PurchaseDecision.ALLOW),
    ("C3", "R4", "fund", False, PurchaseDecision.WARN_AND_CONFIRM),
    ("C3", "R4", "wealth_management", False, PurchaseDecision.BLOCK),
    ("C1", "R2", "fund", True, PurchaseDecision.BLOCK),
    ("C1", "R2", "fund", False, PurchaseDecision.WARN_AND_CONFIRM),
    ("C1", "R1", "wealth_management", True, PurchaseDecision.ALLOW),
])
def test_purchase_decisions(customer: str, product: str, kind: str, lowest: bool,
                            expected: PurchaseDecision) -> None:
    assert purchase_decision(customer, product, kind, lowest) is expected
    assert assess_purchase(customer, product, kind, lowest).decision is expected


def test_vectorized_decisions_match_scalar() -> None:
    rng = np.random.default_rng(3)
    c, r = rng.integers(1, 6, 400), rng.integers(1, 6, 400)
    kinds = rng.choice(["fund", "wealth_management"], 400)
    lowest = rng.random(400) < 0.2
    batch = purchase_decisions(c, r, kinds, lowest)
    assert [purchase_decision(*args).value for args in zip(c, r, kinds, lowest, strict=True)] == batch.tolist()


def test_bad_levels_and_kinds_are_named() -> None:
    with pytest.raises(BadInputError, match="customer_level"):
        purchase_decision("C9", "R1")
    with pytest.raises(BadInputError, match="kind"):
        purchase_decision("C3", "R1", "crypto")
    with pytest.raises(BadInputError, match="product_levels"):
        is_suitable([3], [6])


def test_portfolio_rule_worked_examples() -> None:
    assert portfolio_risk_level([0.2, 0.4, 0.4], [1, 2, 3]) == 3  # mean 2.2 → 3
    assert portfolio_risk_level([0.9, 0.1], [1, 5]) == 2  # mean 1.4 → 2, R5 below 20%
    assert portfolio_risk_level([0.8, 0.2], [1, 5]) == 5  # R5 at 20% dominates
    assert portfolio_risk_level([600, 400], [2, 2]) == 2  # amounts are normalized
    assert portfolio_risk_level([0.85, 0.15], [1, 5], dominant_weight=0.1) == 5


@settings(max_examples=200, deadline=None)
@given(weights=arrays(float, 6, elements=st.floats(0, 1e6)), levels=arrays(np.int64, 6, elements=st.integers(1, 5)))
def test_portfolio_level_between_mean_and_max(weights: np.ndarray, levels: np.ndarray) -> None:
    if weights.sum() <= 0:
        return
    level = portfolio_risk_level(weights, levels)
    held = levels[weights > 0]
    assert level <= held.max()  # never above the riskiest holding → suitable products give a suitable portfolio
    assert level >= np.average(levels, weights=weights) - 1e-9
    assert portfolio_risk_levels(weights[None, :], levels)[0] == level


def test_portfolio_rejects_negative_weights() -> None:
    with pytest.raises(BadInputError, match="row 1"):
        portfolio_risk_levels(np.array([[0.5, 0.5], [-0.1, 1.1]]), [1, 2])


def test_check_recommendation_names_offending_funds() -> None:
    check_recommendation("C3", [1, 2, 3], codes=["a", "b", "c"])
    with pytest.raises(SuitabilityError) as err:
        check_recommendation("C3", [1, 4, 5], codes=["a", "b", "c"])
    assert err.value.details["products"] == ["b", "c"] and "b (R4)" in err.value.message
    with pytest.raises(SuitabilityError):
        check_recommendation("C5", [1, 2], lowest_category=True)


def test_batch_inputs_from_tables() -> None:
    customers = pd.Series(["C3", "C1", "平衡型", "c5"], dtype="string")
    products = np.array(["R3", "R2", "中风险", "R5"], dtype=object)
    assert is_suitable(customers, products).tolist() == [True, False, True, True]
    assert is_suitable(np.array([3.0, 2.0]), [2, 3]).tolist() == [True, False]
    with pytest.raises(BadInputError, match="position 1 is missing"):
        is_suitable(np.array(["C3", None], dtype=object), [1, 1])
    with pytest.raises(BadInputError, match="position 0"):
        is_suitable([np.nan], [1])


def test_portfolio_recommendation_guard() -> None:
    from risk.suitability import check_portfolio_recommendation

    assert check_portfolio_recommendation("C3", [0.3, 0.3, 0.4], [1, 2, 3]) == 3
    with pytest.raises(SuitabilityError, match="f4"):
        check_portfolio_recommendation("C3", [0.5, 0.5], [2, 4], codes=["f2", "f4"])
    with pytest.raises(SuitabilityError):
        check_portfolio_recommendation("C4", [0.5, 0.5], [1, 2], lowest_category=True)


@pytest.mark.parametrize("level", ["C1", "C2", "C3", "C4", "C5", 3, "进取型"])
def test_lowest_category_is_c1_and_r1_whatever_level_is_stated(level: object) -> None:
    """A stated C3 + lowest category is treated as C1 (R1 only) everywhere, including the audit verdict."""
    from risk.suitability import effective_customer_level

    assert effective_customer_level(level, True) == 1
    assert allowed_max_product_level(level, lowest_category=True) == 1
    assert allowed_max_product_level(level, lowest_category=np.bool_(True)) == 1
    verdict = assess_purchase(level, "R2", "fund", lowest_category=True).to_dict()
    assert verdict["customer_level"] == "C1" and verdict["allowed_max_product_level"] == "R1"
    assert verdict["decision"] == "block" and verdict["lowest_category"] is True


def test_check_at_confirmation_one_rule_for_every_stored_recommendation() -> None:
    from datetime import date

    from products.errors import StaleDataError
    from risk.suitability import check_at_confirmation

    today = date(2026, 6, 1)
    ok = dict(basis_assessment_id="a1", current_assessment_id="a1", customer_level="C3", lowest_category=False,
              expires_on=date(2026, 12, 1), today=today)
    assert check_at_confirmation(**ok, product_levels=["R1", 3, "R2"], codes=["x", "y", "z"]) == 3
    assert check_at_confirmation(**ok, product_levels=[]) == 3  # sales only
    with pytest.raises(StaleDataError) as err:
        check_at_confirmation(**{**ok, "current_assessment_id": "a2"}, product_levels=["R1"])
    assert err.value.code == "assessment_changed"
    with pytest.raises(StaleDataError) as err:  # valid strictly before the expiry day
        check_at_confirmation(**{**ok, "expires_on": today}, product_levels=["R1"])
    assert err.value.code == "assessment_expired"
    with pytest.raises(StaleDataError) as err:
        check_at_confirmation(**{**ok, "current_assessment_id": None, "expires_on": None}, product_levels=["R1"])
    assert err.value.code == "assessment_required"
    with pytest.raises(SuitabilityError) as err:
        check_at_confirmation(**ok, product_levels=["R2", "R4"], codes=["110011", "000001"])
    assert err.value.code == "above_level" and err.value.details["products"] == ["000001"]
    with pytest.raises(SuitabilityError):  # the lowest category: R1 only, whatever level is stated
        check_at_confirmation(**{**ok, "lowest_category": True}, product_levels=["R2"])

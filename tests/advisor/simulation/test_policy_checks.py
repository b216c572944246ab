"""The grid's policy checks flag what an investment committee would: turnover, budgets, risk order."""

from __future__ import annotations

import pytest

from advisor.simulation.backtest import policy_checks


def _row(level: int, years: float, vol: float, dd: float, turnover: float = 0.5) -> dict:
    return {"level": f"C{level}", "horizon_years": years, "annual_volatility": vol, "max_drawdown": dd,
            "turnover_per_year": turnover, "volatility_budget": 0.04 * level, "drawdown_tolerance": 0.05 * level}


def test_a_sound_grid_has_no_finding():
    rows = [_row(lv, h, 0.03 * lv, -0.04 * lv) for lv in range(1, 6) for h in (0.5, 5.0)]
    assert policy_checks(rows) == []


def test_each_rule_is_flagged_with_its_group_and_numbers():
    rows = [_row(1, 5.0, 0.045, -0.01), _row(2, 5.0, 0.05, -0.03, turnover=1.3), _row(3, 5.0, 0.046, -0.2),
            _row(4, 0.5, 0.05, -0.05), _row(5, 0.5, 0.06, -0.05)]
    found = {(f["check"], f["group"], f.get("measure")): f for f in policy_checks(rows)}
    assert found[("turnover_above_1x", "C2/5y", None)]["value"] == 1.3
    assert found[("volatility_over_budget", "C1/5y", None)]["limit"] == 0.04  # 4.5% against C1's 4%
    assert ("volatility_over_budget", "C2/5y", None) not in found  # 5% within C2's 8%
    assert found[("drawdown_beyond_tolerance", "C3/5y", None)]["limit"] == pytest.approx(-0.15)  # −20% against 15%
    below = found[("risk_not_increasing", "C3/5y", "annual_volatility")]  # C3 4.6% < C2 5%
    assert below["below"] == "C2" and below["value"] == 0.046 and below["limit"] == 0.05
    assert ("risk_not_increasing", "C5/0.5y", "max_drawdown") not in found  # equal is not "less risky"
    assert not any(f["group"] == "C4/0.5y" for f in found.values())  # horizons are compared apart
    assert len(found) == 4


def test_a_longer_horizon_must_not_be_less_risky():
    rows = [_row(2, 0.5, 0.015, -0.04), _row(2, 2.0, 0.014, -0.04), _row(2, 5.0, 0.02, -0.05)]
    found = [f for f in policy_checks(rows) if f["check"] == "risk_falls_with_horizon"]
    assert [(f["group"], f["shorter"], f["value"], f["limit"]) for f in found] == [("C2/2y", "0.5y", 0.014, 0.015)]

"""Model portfolios: 15 models within their risk budgets and bounds, stable against previous models."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy.stats import norm

from advisor.assumptions import CLASSES, AssumptionConfig, estimate_assumptions
from advisor.model_portfolios import (
    DEFAULT_BUDGETS,
    DEFAULT_HORIZONS,
    MODEL_VERSION,
    LevelBudget,
    ModelPolicy,
    build_model_portfolios,
    horizon_bucket,
    model_portfolio,
    model_portfolio_table,
    parse_level,
)
from products.errors import BadInputError
from products.taxonomy import FundType
from tests.advisor.proposals_synthetic import make_universe


@pytest.fixture(scope="module")
def universe():
    return make_universe(5)


@pytest.fixture(scope="module")
def table(universe):
    return model_portfolio_table(universe)


def test_fifteen_models_sum_to_one_within_bounds(table):
    assert len(table) == 15
    assert set(zip(table["level"], table["horizon"], strict=True)) == {
        (f"C{lvl}", h) for lvl in range(1, 6) for h in ("short", "medium", "long")}
    weights = table[list(CLASSES)].to_numpy()
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-9)
    assert (weights >= -1e-9).all()
    assert (table["model_version"] == MODEL_VERSION).all()
    for row in table.itertuples():
        level = int(row.level[1])
        budget, rule = DEFAULT_BUDGETS[level], DEFAULT_HORIZONS[row.horizon]
        assert row.cash >= rule.cash_floor - 1e-4
        assert row.cn_equity + row.global_equity <= budget.max_equity * rule.equity_scale + 1e-4
        assert row.global_equity <= budget.max_global + 1e-4
        assert row.gold <= budget.max_gold + 1e-4
        assert row.solver_step == "clarabel"
        assert -1.0 < row.hist_max_drawdown <= 0.0


def test_risk_budget_holds(universe, table):
    cma = estimate_assumptions(universe)
    mu, cov = cma.expected_returns[list(CLASSES)].to_numpy(), cma.covariance.to_numpy()
    z = norm.pdf(norm.ppf(0.95)) / 0.05
    for row in table.itertuples():
        w = np.array([getattr(row, c) for c in CLASSES])
        vol = float(np.sqrt(w @ cov @ w))
        budget = DEFAULT_BUDGETS[int(row.level[1])]
        assert vol <= budget.max_volatility + 2e-4  # rounding to basis points
        assert z * vol - mu @ w <= budget.max_cvar + 5e-4
        assert row.expected_volatility == pytest.approx(vol, rel=1e-9)


def test_more_risk_tolerance_and_longer_horizon_mean_more_equity(table):
    equity = table.assign(eq=table["cn_equity"] + table["global_equity"]).set_index(["level", "horizon"])["eq"]
    for h in ("short", "medium", "long"):
        levels = [equity[(f"C{lvl}", h)] for lvl in range(1, 6)]
        assert all(b >= a - 1e-4 for a, b in itertools.pairwise(levels)), (h, levels)
    for lvl in range(1, 6):
        by_h = [equity[(f"C{lvl}", h)] for h in ("short", "medium", "long")]
        assert all(b >= a - 1e-4 for a, b in itertools.pairwise(by_h)), (lvl, by_h)


def test_classes_without_an_eligible_fund_get_no_weight():
    # everything equity-like rated R5: C1–C4 models hold no equity, gold or global equity
    u = make_universe(6, risk_levels={p: 5 for p in range(6, 16)})
    t = model_portfolio_table(u).set_index("level")
    for lvl in ("C1", "C2", "C3", "C4"):
        assert (t.loc[lvl, ["cn_equity", "global_equity", "gold"]].to_numpy() == 0).all()
    assert t.loc["C1", "cash"].min() == 1.0  # bond funds are R2: the C1 model is all cash


def test_turnover_penalty_keeps_models_near_the_previous_ones(universe):
    # a day-to-day wiggle in the assumptions: +0.3% equity, -0.15% bonds
    base = estimate_assumptions(universe).expected_returns
    moved = AssumptionConfig(return_overrides={"cn_equity": base["cn_equity"] + 0.003,
                                               "bond": base["bond"] - 0.0015})
    before = model_portfolio_table(universe)
    fresh = build_model_portfolios(universe, assumptions=moved)
    damped = build_model_portfolios(universe, assumptions=moved, previous=before)
    prev = before.set_index(["level", "horizon"])
    total_fresh = total_damped = 0.0
    for (lvl, h), model in damped.items():
        w_prev = prev.loc[(f"C{lvl}", h), list(CLASSES)].to_numpy(dtype=float)
        total_damped += np.abs(model.weights.to_numpy() - w_prev).sum()
        total_fresh += np.abs(fresh[(lvl, h)].weights.to_numpy() - w_prev).sum()
    assert total_fresh > 0.05  # without the penalty the models do move
    assert total_damped < 0.5 * total_fresh
    # unchanged assumptions with the previous models: nothing moves
    same = build_model_portfolios(universe, previous=before)
    for (lvl, h), model in same.items():
        assert np.allclose(model.weights.to_numpy(), prev.loc[(f"C{lvl}", h), list(CLASSES)].to_numpy(float),
                           atol=2e-4)


def test_unreachable_risk_budget_answers_through_the_fallback_chain():
    # no money-market fund and a budget below the least risky bond mix: relaxed step, with a note
    u = make_universe(7, drop_types=(FundType.MONEY_MARKET,))
    tight = {lvl: dataclasses.replace(b, max_volatility=1e-5, max_cvar=-0.5) for lvl, b in DEFAULT_BUDGETS.items()}
    models = build_model_portfolios(u, policy=ModelPolicy(budgets=tight))
    m = models[(3, "long")]
    assert m.report.answered_by == "relaxed_risk_budget"
    assert m.report.degraded
    assert any(n.code == "model_relaxed" for n in m.report.notes)
    assert m.weights.sum() == pytest.approx(1.0)
    assert m.weights["cash"] == 0.0


def test_impossible_bounds_fall_back_to_the_safe_portfolio():
    u = make_universe(8, drop_types=(FundType.MONEY_MARKET,))
    # nothing may be held: all caps zero and bonds capped → no feasible mix → safe portfolio
    zero = {lvl: LevelBudget(0.01, 0.01, 1.0, 0.0, 0.0, 0.0, max_bond=0.0) for lvl in range(1, 6)}
    m = build_model_portfolios(u, policy=ModelPolicy(budgets=zero))[(2, "medium")]
    assert m.report.answered_by == "safe_portfolio"
    assert m.weights.sum() == pytest.approx(1.0)
    assert m.weights["bond"] == 1.0  # least volatile available class when there is no cash fund


def test_model_portfolio_contract(universe):
    w = model_portfolio("C4", 5, universe=universe)
    assert list(w.index) == list(CLASSES)
    assert w.sum() == pytest.approx(1.0)
    assert w.equals(model_portfolio(4, 10.0, universe=universe))


@pytest.mark.parametrize("bad", ["C9", "C0", "x", 6, True, None])
def test_bad_level_names_the_field(bad):
    with pytest.raises(BadInputError) as err:
        parse_level(bad)
    assert err.value.details["field"] == "level"


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "soon"])
def test_bad_horizon_names_the_field(bad):
    with pytest.raises(BadInputError) as err:
        horizon_bucket(bad)
    assert err.value.details["field"] == "horizon_years"


def test_horizon_buckets():
    assert [horizon_bucket(x) for x in (0.01, 0.99, 1, 3, 3.01, 50)] == [
        "short", "short", "medium", "medium", "long", "long"]
    for bad in (0, -1, 50.5, float("nan"), "x", True):
        with pytest.raises(BadInputError) as err:
            horizon_bucket(bad)
        assert err.value.details["field"] == "horizon_years"

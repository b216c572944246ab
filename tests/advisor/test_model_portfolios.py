"""Model portfolios: the written policy per level (risk budget, class ranges) and the glide path."""

from __future__ import annotations

import dataclasses
import itertools
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.assumptions import CLASSES, AssumptionConfig, estimate_assumptions
from advisor.eligibility import available_classes
from advisor.model_portfolios import (
    DEFAULT_HORIZONS,
    DEFAULT_POLICIES,
    HORIZONS,
    MODEL_VERSION,
    RISK_CLASSES,
    HorizonRule,
    LevelPolicy,
    ModelPolicy,
    build_model_portfolios,
    historical_drawdown,
    horizon_bucket,
    model_portfolio,
    model_portfolio_table,
    parse_level,
    strategic_bounds,
)
from products.errors import BadInputError
from products.taxonomy import FundType
from tests.advisor.proposals_synthetic import cached_universe, make_universe

RISK = list(RISK_CLASSES)
YEARS = (0.01, 0.25, 0.5, 0.99, 1.0, 1.5, 2.0, 3.0, 3.01, 5.0, 10.0, 30.0)


@pytest.fixture(scope="module")
def universe():
    return make_universe(5)


@pytest.fixture(scope="module")
def table(universe):
    return model_portfolio_table(universe)


def _check_policy(universe, table, policy: ModelPolicy | None = None) -> None:
    """Every model within its level's ranges (long horizon), risk budget (all horizons) and glide path."""
    policy = policy or ModelPolicy()
    cma = estimate_assumptions(universe)
    cov = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    rows = table.set_index(["level", "horizon"])
    for level in range(1, 6):
        lp = policy.policies[level]
        lower, upper, risk_min, risk_max = strategic_bounds(lp, available_classes(universe, level))
        long = rows.loc[(f"C{level}", "long"), list(CLASSES)].to_numpy(dtype=float)
        step = rows.loc[(f"C{level}", "long"), "solver_step"]
        if step != "safe_portfolio":  # ranges that can be met are (the budget outranks their minimums)
            assert (long <= upper + 1e-4).all(), (level, long, upper)
            assert long[[CLASSES.index(c) for c in RISK]].sum() <= risk_max + 1e-4
        if step not in ("safe_portfolio", "budget_below_ranges"):
            assert (long >= lower - 1e-4).all(), (level, long, lower)
            assert risk_min - 1e-4 <= long[[CLASSES.index(c) for c in RISK]].sum()
        risk_by_horizon = []
        for horizon in HORIZONS:
            w = rows.loc[(f"C{level}", horizon), list(CLASSES)].to_numpy(dtype=float)
            assert w.sum() == pytest.approx(1.0, abs=1e-9) and (w >= 0).all()
            # risk budget: ex-ante volatility and historical drawdown of the mix within the level's budget
            assert np.sqrt(w @ cov @ w) <= lp.max_volatility + 2e-4, (level, horizon)
            drawdown = historical_drawdown(cma.drawdown_history, w)
            assert drawdown is None or -drawdown <= lp.max_drawdown + 1e-3, (level, horizon, drawdown)
            # glide path: every risk class is the long-horizon share times the horizon's scale
            scale = policy.horizons[horizon].risk_scale
            for c in RISK:
                k = CLASSES.index(c)
                assert w[k] == pytest.approx(long[k] * scale, abs=2e-4), (level, horizon, c)
            assert w[CLASSES.index("cash")] >= min(policy.horizons[horizon].cash_floor,
                                                   1 - w[[CLASSES.index(c) for c in RISK]].sum()) - 1e-4 \
                or not available_classes(universe, level)[0]
            risk_by_horizon.append(w[[CLASSES.index(c) for c in RISK]].sum())
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(risk_by_horizon)), (level, risk_by_horizon)


def test_fifteen_models_follow_the_written_policy(universe, table):
    assert len(table) == 15
    assert set(zip(table["level"], table["horizon"], strict=True)) == {
        (f"C{lvl}", h) for lvl in range(1, 6) for h in HORIZONS}
    assert (table["model_version"] == MODEL_VERSION).all()
    assert (table["solver_step"] == "clarabel").all()
    _check_policy(universe, table)


def test_more_risk_tolerance_means_more_risk_at_every_horizon(table):
    rows = table.set_index(["level", "horizon"])
    for horizon in HORIZONS:
        risk = [rows.loc[(f"C{lvl}", horizon), "risk_assets"] for lvl in range(1, 6)]
        vol = [rows.loc[(f"C{lvl}", horizon), "expected_volatility"] for lvl in range(1, 6)]
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(risk)), (horizon, risk)
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(vol)), (horizon, vol)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 3), level=st.integers(1, 5),
       years=st.lists(st.sampled_from(YEARS), min_size=2, max_size=2, unique=True))
def test_glide_path_risk_never_falls_as_the_horizon_grows(seed, level, years):
    u = cached_universe(seed)
    short, long = sorted(years)
    a, b = model_portfolio(level, short, universe=u), model_portfolio(level, long, universe=u)
    assert a[RISK].sum() <= b[RISK].sum() + 1e-9
    for c in RISK:  # global equity and gold scale with the horizon like A-share equity
        assert a[c] <= b[c] + 1e-9


@settings(max_examples=6, deadline=None)
@given(scales=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2),
       floors=st.lists(st.floats(0.0, 0.3), min_size=3, max_size=3))
def test_any_valid_glide_path_is_followed(scales, floors):
    scales, floors = [*sorted(scales), 1.0], sorted(floors, reverse=True)
    horizons = MappingProxyType({h: HorizonRule(s, f) for h, s, f in zip(HORIZONS, scales, floors, strict=True)})
    policy = ModelPolicy(horizons=horizons)
    u = cached_universe(1)
    _check_policy(u, model_portfolio_table(u, policy=policy), policy)


def test_a_falling_glide_path_is_refused():
    bad = dict(DEFAULT_HORIZONS, long=HorizonRule(risk_scale=0.2, cash_floor=0.05))
    with pytest.raises(BadInputError) as err:
        ModelPolicy(horizons=bad)
    assert err.value.details["field"] == "risk_scale"
    with pytest.raises(BadInputError):  # the long horizon is the strategic mix itself
        ModelPolicy(horizons=dict(DEFAULT_HORIZONS, long=HorizonRule(risk_scale=0.9, cash_floor=0.05)))
    with pytest.raises(BadInputError):
        LevelPolicy(0.1, 0.2, 1.0, (0.5, 0.4), MappingProxyType({"cash": (0.0, 1.0)}))


def test_classes_without_an_eligible_fund_get_no_weight():
    # everything equity-like rated R5: C1–C4 models hold no equity, gold or global equity
    u = make_universe(6, risk_levels={p: 5 for p in range(6, 16)})
    t = model_portfolio_table(u).set_index("level")
    for lvl in ("C1", "C2", "C3", "C4"):
        assert (t.loc[lvl, ["cn_equity", "global_equity", "gold"]].to_numpy() == 0).all()
    assert t.loc["C1", "cash"].min() == 1.0  # bond funds are R2: the C1 model is all cash
    assert (t.loc["C5", "risk_assets"] > 0.5).all() or (t.loc["C5", "horizon"] == "short").any()


def test_a_weak_fund_does_not_make_its_class_available():
    """The only fund of a class that the quality rule calls weak does not open the class (selection would
    never buy it), so the model puts nothing there."""
    from products.research.quality import weak_mask

    u = make_universe(9)
    weak = weak_mask(u)
    classes = u.funds["asset_class"].to_numpy()
    for cls in ("global_equity", "gold"):
        only_weak = ((classes == cls) & ~weak).sum() == 0
        assert available_classes(u, 5)[CLASSES.index(cls)] != only_weak


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
    assert total_fresh > 0.02  # without the penalty the models do move
    assert total_damped < 0.5 * total_fresh
    same = build_model_portfolios(universe, previous=before)
    for (lvl, h), model in same.items():
        assert np.allclose(model.weights.to_numpy(), prev.loc[(f"C{lvl}", h), list(CLASSES)].to_numpy(float),
                           atol=2e-4)


def test_unreachable_risk_budget_answers_through_the_fallback_chain():
    u = make_universe(7, drop_types=(FundType.MONEY_MARKET,))
    tight = MappingProxyType({lvl: dataclasses.replace(p, max_volatility=1e-5) for lvl, p in DEFAULT_POLICIES.items()})
    models = build_model_portfolios(u, policy=ModelPolicy(policies=tight))
    m = models[(3, "long")]
    assert m.report.answered_by == "relaxed_risk_budget"
    assert m.report.degraded
    assert any(n.code == "model_relaxed" for n in m.report.notes)
    assert m.weights.sum() == pytest.approx(1.0)
    assert m.weights["cash"] == 0.0
    # the glide path still holds on the relaxed mix
    assert models[(3, "short")].risk_assets <= models[(3, "medium")].risk_assets <= m.risk_assets + 1e-9


def test_a_budget_the_ranges_cannot_meet_cuts_risk_below_the_range_minimum(universe):
    """The budget outranks the ranges' floors: C4 may hold 45–70% risk assets, but with a 2% volatility
    budget it holds what 2% allows, says so, and still never more than C5."""
    cma = estimate_assumptions(universe)
    cov = cma.covariance.loc[list(CLASSES), list(CLASSES)].to_numpy()
    tight = MappingProxyType({**DEFAULT_POLICIES, 4: dataclasses.replace(DEFAULT_POLICIES[4], max_volatility=0.02)})
    models = build_model_portfolios(universe, policy=ModelPolicy(policies=tight))
    m = models[(4, "long")]
    assert m.report.answered_by == "budget_below_ranges"
    assert any(n.code == "model_below_ranges" for n in m.report.notes)
    w = m.weights.reindex(list(CLASSES)).to_numpy()
    assert np.sqrt(w @ cov @ w) <= 0.02 + 2e-4
    assert m.risk_assets < DEFAULT_POLICIES[4].risk_assets[0]
    assert models[(3, "long")].risk_assets <= models[(5, "long")].risk_assets


def test_the_drawdown_history_keeps_each_class_over_its_own_record(universe):
    """A young class does not shorten the history the drawdown tolerance is checked on."""
    from advisor.assumptions import stress_returns

    cma = estimate_assumptions(universe)
    stress = stress_returns(universe)
    assert stress.index[0] <= cma.history.index[0]
    joint = stress.loc[cma.history.index, cma.history.columns]
    assert np.allclose(joint.to_numpy(), cma.history.to_numpy(), atol=1e-12)
    assert not stress.isna().any().any()


def test_impossible_ranges_fall_back_to_the_safe_portfolio():
    u = make_universe(8, drop_types=(FundType.MONEY_MARKET,))
    # every class must be at least 60% and no mix meets the budget: safe portfolio (least volatile class)
    ranges = MappingProxyType({c: (0.6, 1.0) for c in CLASSES})
    stuck = MappingProxyType({lvl: LevelPolicy(1e-6, 0.9, 1.0, (0.0, 1.0), ranges) for lvl in range(1, 6)})
    m = build_model_portfolios(u, policy=ModelPolicy(policies=stuck))[(5, "medium")]
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


def test_demo_models_follow_the_policy(demo_universe):
    table = model_portfolio_table(demo_universe)
    _check_policy(demo_universe, table)
    rows = table.set_index(["level", "horizon"])
    assert rows.loc[("C5", "long"), "risk_assets"] >= 0.65  # the C5 range holds where funds exist


def test_real_models_follow_the_policy(real_universe):
    table = model_portfolio_table(real_universe)
    _check_policy(real_universe, table)
    assert (table["solver_step"] == "clarabel").all()
    rows = table.set_index(["level", "horizon"])
    risk = [rows.loc[(f"C{lvl}", "long"), "risk_assets"] for lvl in range(2, 6)]
    assert all(b > a for a, b in itertools.pairwise(risk)), risk


def test_every_model_is_built_to_fall_less_than_its_level_tolerates():
    """The model's drawdown budget sits inside the one tolerance table the health check, the alerts and the
    rebalancing triggers use: a customer holding the model is not told it falls beyond what they accept."""
    from advisor.model_portfolios import ModelPolicy
    from risk.levels import DRAWDOWN_TOLERANCE

    for level, policy in ModelPolicy().policies.items():
        assert 0 < policy.max_drawdown < DRAWDOWN_TOLERANCE[level - 1], level

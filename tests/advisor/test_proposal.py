"""Proposals: the properties a customer and a compliance officer rely on, over random universes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import lognorm

from advisor.proposal import (
    ProposalConfig,
    _context,
    goal_probability,
    historical_backtest,
    in_sample_backtest,
    propose,
    target_fund_weights,
)
from products.analytics import compute_metrics
from products.errors import BadInputError
from products.taxonomy import FundType
from tests.advisor.proposals_synthetic import cached_universe, make_universe


def _cents(x: float) -> int:
    return round(x * 100)


def _check_invariants(universe, proposal, level: int, lowest: bool, amount: float) -> None:
    funds = universe.funds
    max_r = 1 if lowest else level
    total = sum(_cents(line.amount) + _cents(line.fee) for line in proposal.lines) + _cents(proposal.cash_remainder)
    assert total == _cents(amount)  # amounts + fees + remainder == amount, to the cent
    assert proposal.cash_remainder >= 0
    for line in proposal.lines:
        row = funds.loc[line.code]
        assert line.risk_level == row["risk_level"] <= max_r  # suitability: nothing above the level
        assert line.amount + line.fee >= row["min_purchase"] - 1e-9  # minimum purchase on the amount paid
        assert line.fee >= 0 and line.amount > 0
        assert row["status"] in ("open", "limited")
    assert proposal.strategy_risk_level <= max_r  # the strategy as a whole
    if proposal.lines:
        assert sum(line.weight for line in proposal.lines) == pytest.approx(1.0, abs=1e-5)
        assert len({line.code for line in proposal.lines}) == len(proposal.lines)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 3), level=st.integers(1, 5), lowest=st.booleans(),
       amount=st.one_of(st.integers(1, 200_000), st.integers(200_000, 500_000_000)).map(lambda fen: fen / 100),
       horizon=st.sampled_from([0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 20.0]))
def test_proposal_properties_over_random_universes(seed, level, lowest, amount, horizon):
    universe = cached_universe(seed)
    proposal = propose(universe, f"C{level}", amount, horizon, lowest_category=lowest)
    _check_invariants(universe, proposal, level, lowest, amount)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(100, 10_000), drop=st.sets(st.sampled_from(list(FundType)), max_size=6),
       mins=st.lists(st.sampled_from([1.0, 10.0, 100.0, 1000.0, 5000.0]), min_size=1, max_size=4),
       level=st.integers(1, 5), amount=st.integers(5_000, 30_000_000).map(lambda fen: fen / 100),
       horizon=st.floats(0.01, 15))
def test_properties_hold_on_freshly_drawn_universes(seed, drop, mins, level, amount, horizon):
    universe = make_universe(seed, drop_types=tuple(drop), random_risk=True, min_purchases=tuple(mins),
                             n_days=500)
    proposal = propose(universe, level, amount, horizon, target_return=0.04)
    _check_invariants(universe, proposal, level, False, amount)


def test_deterministic_for_the_same_inputs():
    u = cached_universe(0)
    a = propose(u, "C4", 123_456.78, 4, target_return=0.05).to_dict()
    b = propose(u, 4, 123_456.78, 4.0, target_return=0.05).to_dict()
    assert a == b
    fresh = make_universe(0, random_risk=True)  # same data, a new snapshot object
    assert propose(fresh, "C4", 123_456.78, 4, target_return=0.05).to_dict() == a


def test_json_shape():
    d = propose(cached_universe(1), "C3", 100_000, 3, target_return=0.05).to_dict()
    for key in ("level", "strategy_risk_level", "lines", "cash_remainder", "expected_return", "expected_volatility",
                "goal_probability", "historical", "explanations", "universe_as_of", "model_version"):
        assert key in d
    assert d["level"] == "C3" and d["strategy_risk_level"] in ("R1", "R2", "R3")
    assert set(d["lines"][0]) >= {"code", "name", "asset_class", "risk_level", "amount", "weight", "fee"}
    hist = d["historical"]  # the simulated record (tests/advisor/simulation/test_record.py) or None
    assert hist is None or set(hist) >= {"start", "end", "annual_return", "annual_volatility", "max_drawdown"}
    assert all(set(n) == {"code", "zh", "en"} for n in d["explanations"])
    assert 0 <= d["goal_probability"] <= 1


def test_lowest_category_gets_r1_only():
    u = cached_universe(2)
    p = propose(u, "C5", 80_000, 10, lowest_category=True)
    assert p.lines and all(line.risk_level == 1 for line in p.lines)
    assert p.strategy_risk_level == 1


def test_lowest_category_is_reported_as_c1_with_a_note():
    """`--level C3 --lowest-category` is a C1 customer: the proposal says C1 and explains why."""
    u = cached_universe(2)
    d = propose(u, "C3", 80_000, 10, lowest_category=True).to_dict()
    assert d["level"] == "C1" and d["lowest_category"] is True
    assert all(line["risk_level"] == "R1" for line in d["lines"])
    note = next(n for n in d["explanations"] if n["code"] == "lowest_category_is_c1")
    assert "C3" in note["en"] and "C1" in note["zh"]
    plain = propose(u, "C1", 80_000, 10, lowest_category=True).to_dict()
    assert plain["level"] == "C1" and all(n["code"] != "lowest_category_is_c1" for n in plain["explanations"])
    assert propose(u, "C3", 80_000, 10).to_dict()["level"] == "C3"


@pytest.mark.parametrize("kwargs, field", [
    ({"amount": 0}, "amount"), ({"amount": -5}, "amount"), ({"amount": float("nan")}, "amount"),
    ({"amount": float("inf")}, "amount"), ({"amount": "lots"}, "amount"), ({"amount": 0.001}, "amount"),
    ({"level": "C9"}, "level"), ({"level": "R3"}, "level"), ({"horizon_years": -1}, "horizon_years"),
    ({"horizon_years": float("nan")}, "horizon_years"), ({"target_return": 5.0}, "target_return"),
    ({"target_return": float("nan")}, "target_return"), ({"lowest_category": "yes"}, "lowest_category"),
])
def test_bad_input_names_the_field(kwargs, field):
    args = {"level": "C3", "amount": 10_000, "horizon_years": 3, **kwargs}
    with pytest.raises(BadInputError) as err:
        propose(cached_universe(0), args.pop("level"), args.pop("amount"), args.pop("horizon_years"), **args)
    assert err.value.details["field"] == field


def test_small_amount_is_one_cash_or_bond_fund_with_an_explanation():
    u = cached_universe(0)
    short = propose(u, "C4", 800, 0.5)
    assert len(short.lines) == 1 and short.lines[0].asset_class == "cash"
    longer = propose(u, "C4", 800, 5)
    assert len(longer.lines) == 1 and longer.lines[0].asset_class == "bond"
    assert any(n.code == "small_amount" for n in longer.explanations)
    nothing = propose(u, "C3", 5, 5)  # below every minimum purchase
    assert nothing.lines == () and nothing.cash_remainder == 5.0
    assert any(n.code == "amount_below_minimum" for n in nothing.explanations)


def test_funds_below_minimum_are_dropped_and_weights_re_solved():
    u = make_universe(31, min_purchases=(1000.0,))
    p = propose(u, "C5", 3_000, 5)
    assert any(n.code in ("few_lines", "below_minimum_dropped") for n in p.explanations)
    assert all(line.amount + line.fee >= 1000 for line in p.lines)
    _check_invariants(u, p, 5, False, 3_000)


def test_universe_without_bond_funds_answers_with_a_note():
    u = make_universe(32, drop_types=(FundType.BOND, FundType.BOND_INDEX, FundType.MIXED_BOND))
    p = propose(u, "C2", 50_000, 3)
    assert p.lines
    assert all(line.asset_class != "bond" for line in p.lines)
    _check_invariants(u, p, 2, False, 50_000)


def test_unmeetable_look_through_cap_is_reported_not_raised():
    from advisor.construction import ConstructionPolicy

    config = ProposalConfig(construction=ConstructionPolicy(industry_cap=1e-4))
    p = propose(cached_universe(1), "C5", 200_000, 5, config=config)
    assert p.solver["answered_by"] == "relaxed_soft_constraints"
    assert any(n.code == "construction_relaxed" for n in p.explanations)


def test_in_sample_backtest_matches_products_analytics():
    u = cached_universe(3)
    p = propose(u, "C4", 250_000, 5)
    hist = in_sample_backtest(u, p)
    assert (pd.Timestamp(hist["end"]) - pd.Timestamp(hist["start"])).days > 365  # advisory rule: > 1 year
    codes = [line.code for line in p.lines]
    weights = np.array([_cents(line.amount) for line in p.lines], dtype=float)  # net holdings, exact
    window = u.returns.loc[hist["start"]:, codes].fillna(0.0)
    series = pd.DataFrame({"portfolio": window.to_numpy() @ (weights / weights.sum())}, index=window.index)
    ref = compute_metrics(series).loc["portfolio"]
    for key in ("annual_return", "annual_volatility", "max_drawdown"):
        assert hist[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12)
    ctx = _context(u, ProposalConfig())
    again = historical_backtest(ctx, u.index_of(codes), weights)
    assert again["annual_return"] == hist["annual_return"]


def test_goal_probability_is_the_lognormal_tail():
    mu, sigma, years, target = 0.06, 0.12, 5.0, 0.04
    s2 = math.log1p(sigma**2 / (1 + mu) ** 2)
    m = math.log1p(mu) - s2 / 2
    wealth = lognorm(s=math.sqrt(s2 * years), scale=math.exp(m * years))
    expected = 1 - wealth.cdf((1 + target) ** years)
    assert goal_probability(mu, sigma, years, target) == pytest.approx(expected, rel=1e-9)
    probs = [goal_probability(mu, sigma, years, t) for t in (0.0, 0.03, 0.06, 0.1)]
    assert probs == sorted(probs, reverse=True)
    assert goal_probability(0.02, 0.0, 1.0, 0.01) == 1.0


def test_target_above_expectation_is_explained_not_chased():
    u = cached_universe(1)
    modest = propose(u, "C2", 100_000, 3)
    greedy = propose(u, "C2", 100_000, 3, target_return=0.2)
    assert [line.code for line in greedy.lines] == [line.code for line in modest.lines]
    assert greedy.goal_probability < 0.05
    assert any(n.code == "goal_above_expected" for n in greedy.explanations)


def test_target_fund_weights_contract():
    u = cached_universe(2)
    w = target_fund_weights(u, "C3", 2)
    assert w.sum() == pytest.approx(1.0)
    assert (u.funds.loc[w.index, "risk_level"] <= 3).all()
    assert w.equals(target_fund_weights(u, 3, 2.5))
    short = target_fund_weights(u, "C3", 0.3)
    assert (u.funds.loc[short.index, "share_class"] != "A").all()  # C classes (or no class) for 4 months


def test_demo_universe_end_to_end(demo_universe):
    p = propose(demo_universe, "C3", 100_000, 3, target_return=0.05)
    _check_invariants(demo_universe, p, 3, False, 100_000)
    assert len(p.lines) >= 4
    assert p.goal_probability is not None
    assert any(n.code in ("history", "history_unavailable") for n in p.explanations)


def test_real_data_proposal(real_universe):
    p = propose(real_universe, "C4", 200_000, 5, target_return=0.06)
    _check_invariants(real_universe, p, 4, False, 200_000)
    classes = {line.asset_class for line in p.lines}
    assert {"bond", "cn_equity"} <= classes
    hist = in_sample_backtest(real_universe, p)
    assert (pd.Timestamp(hist["end"]) - pd.Timestamp(hist["start"])).days > 365
    assert -0.6 < hist["max_drawdown"] < 0 and 0 < hist["annual_volatility"] < 0.3
    companies = real_universe.funds.loc[[line.code for line in p.lines], "company"]
    assert companies.value_counts().max() <= 2


def test_no_eligible_fund_at_the_level_is_explained():
    # every fund rated R3 or above: a C2 customer has nothing to buy, and is told so
    u = make_universe(33, risk_levels={p: 3 for p in range(16)})
    p = propose(u, "C2", 50_000, 3)
    assert p.lines == () and p.cash_remainder == 50_000.0
    assert any(n.code == "no_eligible_fund" for n in p.explanations)


def test_threads_share_a_universe_and_get_the_serial_answers():
    from concurrent.futures import ThreadPoolExecutor

    u = make_universe(34, min_purchases=(100.0, 1000.0))
    asks = [(lvl, amt, h) for lvl in (2, 3, 4, 5) for amt in (1_500.0, 4_000.0, 60_000.0) for h in (0.5, 5.0)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda a: propose(u, *a).to_dict(), asks))
    assert parallel == [propose(u, *a).to_dict() for a in asks]


def test_warm_up_leaves_typical_requests_without_a_solve(monkeypatch):
    import advisor.proposal as proposal_module

    u = make_universe(35, min_purchases=(100.0, 1000.0))
    proposal_module.warm_up(u, amounts=(1_000.0, 2_500.0))
    calls = []
    original = proposal_module.construct
    monkeypatch.setattr(proposal_module, "construct", lambda *a, **k: calls.append(1) or original(*a, **k))
    for level in (2, 4, 5):
        for amount in (1_000.0, 2_500.0, 30_000.0, 400_000.0):
            propose(u, level, amount, 5.0)
    assert calls == []


def test_a_small_amount_is_told_the_strategy_record_is_not_its_own(demo_universe, monkeypatch):
    """The simulated record describes the strategy's mix; when a small amount buys one or two funds far from
    that mix, the proposal says so beside the record. The classes closed by the amount are explained once (the
    few-lines note), never as 'no eligible fund at your level' when the level has one."""
    import advisor.proposal as proposal_module

    record = {"start": "2015-01-05", "end": "2026-02-13", "annual_return": 0.07, "annual_volatility": 0.08,
              "max_drawdown": -0.15}
    monkeypatch.setattr(proposal_module, "walk_forward_record", lambda *a, **k: dict(record))
    small = propose(demo_universe, "C4", 1_000, 3)
    codes = [n.code for n in small.explanations]
    assert "history" in codes and "history_differs" in codes
    assert "class_moved" not in [n.code for n in small.explanations] + [n["code"] for n in small.solver["notes"]]
    caveat = next(n for n in small.explanations if n.code == "history_differs")
    held = {line.asset_class for line in small.lines}
    assert all(proposal_module.ASSET_CLASS_NAMES_ZH[proposal_module.AssetClass(c)] in caveat.zh for c in held)
    large = propose(demo_universe, "C4", 200_000, 3)
    assert "history" in [n.code for n in large.explanations]
    assert "history_differs" not in [n.code for n in large.explanations]

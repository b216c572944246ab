"""Fund selection: suitability, per-class and per-company limits, overlap, share class by holding cost."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.eligibility import EligibilityPolicy
from advisor.selection import (
    SelectionPolicy,
    choose_share_classes,
    holding_cost,
    holdings_overlap,
    select_funds,
)
from products.universe import Universe
from tests.advisor.proposals_synthetic import make_universe


@pytest.fixture(scope="module")
def universe():
    return make_universe(11, random_risk=True)


@pytest.mark.parametrize("max_level", [1, 2, 3, 4, 5])
def test_nothing_above_the_limit_and_class_limits_hold(universe, max_level):
    policy = SelectionPolicy()
    sel = select_funds(universe, max_level, policy)
    levels = universe.funds["risk_level"].to_numpy()
    for members in sel.members:
        assert all(levels[p] <= max_level for p in members)
    for cls, count in sel.class_counts().items():
        assert count <= policy.max_funds[cls]
    _, per_company = np.unique(sel.company, return_counts=True)
    assert (per_company <= policy.max_per_company).all()
    # a family appears once: no two selected families share a member
    flat = [p for m in sel.members for p in m]
    assert len(flat) == len(set(flat))


def test_company_cap_of_one():
    u = make_universe(12, companies=2)
    sel = select_funds(u, 5, SelectionPolicy(max_per_company=1))
    assert len(sel) == 2
    assert len(set(sel.company)) == 2


def test_identical_equity_books_are_not_both_selected():
    # layout positions 7 (equity) and 9 (enhanced index) get the same holdings as 6 (mixed equity A/C)
    u = make_universe(13, same_book=((8, 10), (8, 13)), companies=16)
    codes = u.funds.index.tolist()
    ov = holdings_overlap(u, [codes[8], codes[10], codes[13]])
    assert ov.iloc[0, 1] == pytest.approx(1.0) and ov.iloc[0, 2] == pytest.approx(1.0)
    sel = select_funds(u, 5, SelectionPolicy(max_overlap=0.5))
    chosen = {codes[p] for m in sel.members for p in m}
    assert len(chosen & {codes[8], codes[9], codes[10], codes[13]}) <= 2  # at most one family of that book
    loose = select_funds(u, 5, SelectionPolicy(max_overlap=1.01, max_shared_stocks=10**6,
                                               eligibility=EligibilityPolicy(exclude_weak=False)))
    assert len({codes[p] for m in loose.members for p in m} & {codes[8], codes[9], codes[10], codes[13]}) > 2


def test_young_funds_are_not_selected():
    u = make_universe(14, young=(3, 7))
    sel = select_funds(u, 5)
    young_codes = {u.funds.index[p] for p in range(len(u.funds)) if u.returns.iloc[:, p].notna().sum() < 300}
    assert young_codes
    assert not young_codes & {u.funds.index[p] for m in sel.members for p in m}


def test_share_class_follows_holding_cost(universe):
    sel = select_funds(universe, 5)
    pairs = [i for i, m in enumerate(sel.members) if len(m) == 2]
    assert pairs
    amounts = np.full(len(sel), 20_000.0)
    short = choose_share_classes(universe, sel, 0.25, amounts)
    long = choose_share_classes(universe, sel, 5.0, amounts)
    classes = universe.funds["share_class"].to_numpy()
    for i in pairs:
        assert classes[short[i]] == "C"  # 3 months: no subscription fee beats the service fee
        assert classes[long[i]] == "A"  # 5 years: the service fee adds up
        # and the choice is the cheaper one by the stated cost formula
        for years, pick in ((0.25, short[i]), (5.0, long[i])):
            members = np.array(sel.members[i])
            cost = holding_cost(universe.fees, members, years, np.full(2, 20_000.0), universe.fee_discount)
            assert pick == members[np.argmin(cost)]


def test_holding_cost_by_hand():
    u = make_universe(15)
    a = int(np.flatnonzero(u.funds["share_class"].to_numpy() == "A")[0])
    c = a + 1
    # bond A: 0.8% list rate at 10% discount (外扣), 0.05% redemption under 2 years; bond C: 0.3%/year service
    cost = holding_cost(u.fees, np.array([a, c]), 1.5, np.array([10_000.0, 10_000.0]), 0.1)
    sub = 10_000 - 10_000 / 1.0008
    assert cost[0] == pytest.approx(sub / 10_000 + 0.0005, rel=1e-9)
    assert cost[1] == pytest.approx(0.003 * 1.5, rel=1e-9)


def test_lock_up_funds_are_left_out():
    u = make_universe(16)
    funds = u.funds.copy()
    target = funds.index[funds["asset_class"] == "bond"][0]
    funds.loc[target, "name"] = "测试稳健一年持有混合A"
    locked = Universe(as_of=u.as_of, funds=funds, fees=u.fees, returns=u.returns, holdings=u.holdings,
                      stock_industry=u.stock_industry, benchmarks=u.benchmarks, source="synthetic")
    chosen = {locked.funds.index[p] for m in select_funds(locked, 5).members for p in m}
    assert target not in chosen
    loose = select_funds(locked, 5, SelectionPolicy(eligibility=EligibilityPolicy(exclude_lockups=False)))
    assert target in {locked.funds.index[p] for m in loose.members for p in m}


def test_without_holdings_equity_funds_are_still_selected_with_a_note(universe):
    import dataclasses

    bare = dataclasses.replace(universe, holdings=universe.holdings.iloc[:0])
    sel = select_funds(bare, 5, SelectionPolicy())
    assert sel.class_counts().get("cn_equity", 0) > 0
    assert [n.code for n in sel.notes].count("overlap_unavailable") == 1
    assert "overlap_unavailable" not in [n.code for n in select_funds(universe, 5, SelectionPolicy()).notes]

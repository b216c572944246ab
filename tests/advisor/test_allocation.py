"""Discrete allocation: cents add up exactly, minimums and increments hold, the greedy bound holds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.allocation import below_minimum, discretize, ideal_paid, to_cents
from products.fees import FeeTable, default_schedule

TYPES = ("money_market", "bond", "mixed_equity", "index", "qdii_equity", "gold")
FEES = FeeTable.from_schedules([default_schedule(t) for t in TYPES] + [default_schedule("equity", "C")])
MONEY = FEES.money_market


@settings(max_examples=150, deadline=None)
@given(
    amount=st.floats(min_value=1_000, max_value=20_000_000, allow_nan=False),
    raw=st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=7),
    mins=st.lists(st.sampled_from([10, 100, 1000]), min_size=7, max_size=7),
    incs=st.lists(st.sampled_from([0.01, 1, 10, 100]), min_size=7, max_size=7),
)
def test_cents_add_up_and_lines_are_purchasable(amount, raw, mins, incs):
    n = len(raw)
    idx = np.arange(n)
    weights = np.array(raw) / sum(raw)
    cents = to_cents(amount)
    ideal = ideal_paid(cents, idx, weights, FEES, 0.1)
    min_c = np.array(mins[:n]) * 100
    inc_c = np.round(np.array(incs[:n]) * 100).astype(np.int64)
    ok = ~below_minimum(ideal, min_c)
    if not ok.any():
        return
    keep = idx[ok]
    ideal = ideal_paid(cents, keep, weights[ok], FEES, 0.1)
    if below_minimum(ideal, min_c[ok]).any():
        return  # the proposal re-solves in this case; covered there
    alloc = discretize(cents, keep, ideal, min_c[ok], inc_c[ok], FEES, 0.1, MONEY[keep])
    # exact to the cent: net + fee + remainder == amount
    assert int(alloc.net_cents.sum() + alloc.fee_cents.sum()) + alloc.remainder_cents == cents
    assert alloc.remainder_cents >= 0
    pos = {int(k): i for i, k in enumerate(keep)}
    # money raised to reach a minimum that is not a multiple of the increment is trimmed from other lines
    raised = sum(max(0.0, p - ideal[pos[int(f)]]) for f, p in zip(alloc.fund_idx, alloc.paid_cents, strict=True))
    for f, paid in zip(alloc.fund_idx, alloc.paid_cents, strict=True):
        i = pos[int(f)]
        assert paid >= min_c[ok][i]
        assert paid % inc_c[ok][i] == 0
        # greedy bound: within one increment of the ideal, plus what minimums forced elsewhere
        if not MONEY[f]:
            assert abs(paid - ideal[i]) < inc_c[ok][i] + raised + 1e-6
    # fees are the fee table's (外扣法, discounted), rounded to cents
    expected = np.round(FEES.subscription_fee(alloc.fund_idx, alloc.paid_cents / 100.0, 0.1) * 100)
    assert np.array_equal(alloc.fee_cents, expected.astype(np.int64))
    if MONEY[keep].any():
        assert alloc.remainder_cents < inc_c[ok][MONEY[keep]].min()
    else:
        assert alloc.remainder_cents < inc_c[ok].max() * len(keep)


def test_net_holdings_follow_the_target_weights():
    idx = np.array([1, 2, 3])
    weights = np.array([0.5, 0.3, 0.2])
    ideal = ideal_paid(10_000_000, idx, weights, FEES, 0.1)
    fee = FEES.subscription_fee(idx, ideal / 100, 0.1) * 100
    net = ideal - fee
    assert np.allclose(net / net.sum(), weights, atol=1e-9)
    assert abs(ideal.sum() - 10_000_000) < 1e-6


def test_fee_tiers_and_flat_fee_are_used():
    # equity list rate 1.5% under ¥500k, 1.2% to ¥5M, flat ¥1000 above ¥10M; bank discount 10%
    eq = np.array([2])
    small = FEES.subscription_fee(eq, np.array([100_000.0]), 0.1)[0]
    mid = FEES.subscription_fee(eq, np.array([1_000_000.0]), 0.1)[0]
    big = FEES.subscription_fee(eq, np.array([20_000_000.0]), 0.1)[0]
    assert small == 100_000 - 100_000 / 1.0015
    assert mid == 1_000_000 - 1_000_000 / 1.0012
    assert big == 1000.0
    alloc = discretize(2_000_000_000, eq, np.array([2_000_000_000.0]), np.array([10_000]), np.array([100]),
                       FEES, 0.1)
    assert alloc.fee_cents[0] == 100_000  # ¥1,000 flat


def test_minimum_raise_never_overspends():
    # two lines whose ideal amounts sit just at their minimum with coarse increments
    idx = np.array([1, 2])
    alloc = discretize(200_050, idx, np.array([100_025.0, 100_025.0]), np.array([100_010, 100_010]),
                       np.array([1_000, 1_000]), FEES, 0.1)
    assert int(alloc.paid_cents.sum()) + alloc.remainder_cents == 200_050
    assert alloc.remainder_cents >= 0
    assert (alloc.paid_cents >= 100_010).all() or len(alloc.paid_cents) < 2

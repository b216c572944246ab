"""Construction: the compiled QP meets the class targets, agrees with a from-scratch solve, and falls
back step by step instead of failing."""

from __future__ import annotations

import dataclasses

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor import construction
from advisor.assumptions import CLASSES
from advisor.construction import (
    ConstructionPolicy,
    compiled,
    construct,
    prepare,
    problem_shape,
    reference_solve,
)
from advisor.fallback import StepFailed
from advisor.selection import select_funds
from products.taxonomy import FundType
from tests.advisor.proposals_synthetic import cached_universe, make_universe

TARGETS = np.array([0.1, 0.35, 0.35, 0.1, 0.1])


@pytest.fixture(scope="module")
def data():
    u = make_universe(21)
    return prepare(u, select_funds(u, 5), 11)


def _class_sums(data, w):
    return data.membership[:, : data.n_funds] @ w


def test_targets_bounds_and_diversification(data):
    res = construct(data, TARGETS)
    assert res.report.answered_by == "compiled_clarabel"
    assert np.allclose(_class_sums(data, res.weights), TARGETS, atol=1e-7)
    assert (res.weights >= 0).all() and res.weights.sum() == pytest.approx(1.0)
    fund_class = np.argmax(data.membership[:, : data.n_funds], axis=0)
    counts = data.membership[:, : data.n_funds].sum(axis=1)
    for i, c in enumerate(fund_class):
        if counts[c] >= 2:
            assert res.weights[i] <= 0.6 * TARGETS[c] + 1e-7


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 3), level=st.integers(2, 5),
       raw=st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5),
       drop=st.lists(st.booleans(), min_size=11, max_size=11))
def test_compiled_agrees_with_a_from_scratch_solve(seed, level, raw, drop):
    u = cached_universe(seed)
    sel = select_funds(u, level)
    d = prepare(u, sel, 11)
    targets = np.array(raw) + 1e-3
    targets = targets / targets.sum()
    active = ~np.array(drop[: d.n_funds])
    if not active.any():
        active[0] = True
    res = construct(d, targets, active)
    if res.report.answered_by != "compiled_clarabel":
        return  # soft constraints relaxed: the reference below is the strict problem
    ref = reference_solve(d, targets, active)
    ref = np.where(active, np.clip(ref, 0, None), 0.0)
    assert np.abs(res.weights - ref / ref.sum()).max() < 1e-6


def test_one_compiled_problem_per_shape_is_reused():
    u = make_universe(22)
    d3, d5 = prepare(u, select_funds(u, 3), 11), prepare(u, select_funds(u, 5), 11)
    construct(d5, TARGETS)
    if problem_shape(d3) == problem_shape(d5):
        assert compiled(*problem_shape(d3), 0.2) is compiled(*problem_shape(d5), 0.2)
    problem = compiled(*problem_shape(d5), ConstructionPolicy().alpha)
    assert problem.strict.is_dpp()
    before = problem.strict._cache.param_prog
    construct(d5, np.array([0.2, 0.3, 0.3, 0.1, 0.1]))
    assert problem.strict._cache.param_prog is before  # re-solved, not recompiled


def test_industry_cap_binds_and_holds(data):
    loose = construct(data, TARGETS, policy=ConstructionPolicy(industry_cap=None, stock_cap=None))
    n = data.n_funds
    exposure = data.industry[:n].T @ loose.weights
    # the smallest achievable worst-industry exposure under the same class and single-fund limits
    w = cp.Variable(n)
    member = data.membership[:, :n]
    upper = np.where(member.sum(axis=1)[np.argmax(member, axis=0)] >= 2, 0.6, 1.0) * TARGETS[np.argmax(member, 0)]
    lowest = cp.Problem(cp.Minimize(cp.max(data.industry[:n].T @ w)), [member @ w == TARGETS, w >= 0, w <= upper])
    lowest.solve(solver="CLARABEL")
    cap = (float(lowest.value) + float(exposure.max())) / 2  # feasible, and below the uncapped answer
    assert cap < float(exposure.max()) - 1e-6
    capped = construct(data, TARGETS, policy=ConstructionPolicy(industry_cap=cap, stock_cap=None))
    assert capped.report.answered_by == "compiled_clarabel"
    assert (data.industry[: data.n_funds].T @ capped.weights <= cap + 1e-7).all()
    assert np.allclose(_class_sums(data, capped.weights), TARGETS, atol=1e-7)


def test_unmeetable_cap_relaxes_soft_constraints_with_a_note(data):
    res = construct(data, TARGETS, policy=ConstructionPolicy(industry_cap=1e-4))
    assert res.report.answered_by == "relaxed_soft_constraints"
    assert any(n.code == "construction_relaxed" for n in res.report.notes)
    assert np.allclose(_class_sums(data, res.weights), TARGETS, atol=1e-7)


def test_primary_solver_failure_uses_the_second_solver(data, monkeypatch):
    original = construction.CompiledConstruction.solve

    def flaky(self, solver, relaxed=False):
        if solver == "CLARABEL":
            raise StepFailed("simulated failure")
        return original(self, solver, relaxed)

    monkeypatch.setattr(construction.CompiledConstruction, "solve", flaky)
    res = construct(data, TARGETS)
    assert res.report.answered_by == "compiled_osqp"
    assert res.report.attempts[0].message.endswith("simulated failure")
    monkeypatch.undo()
    good = construct(data, TARGETS)
    assert np.abs(res.weights - good.weights).max() < 1e-5


def test_every_solver_failing_gives_the_equal_split(data, monkeypatch):
    def broken(self, solver, relaxed=False):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(construction.CompiledConstruction, "solve", broken)
    res = construct(data, TARGETS)
    assert res.report.answered_by == "safe_equal_split"
    member = data.membership[:, : data.n_funds]
    for c in range(len(CLASSES)):
        ws = res.weights[member[c] > 0]
        if len(ws):
            assert np.allclose(ws, TARGETS[c] / len(ws))


def test_class_without_fund_moves_its_target_to_its_substitute_with_a_note():
    u = make_universe(23, drop_types=(FundType.GOLD,))
    d = prepare(u, select_funds(u, 5), 11)
    res = construct(d, TARGETS)
    assert res.targets[CLASSES.index("gold")] == 0.0
    assert res.targets[CLASSES.index("bond")] == pytest.approx(0.45)  # gold's stand-in is bonds
    note = next(n for n in res.report.notes if n.code == "class_moved")
    assert "黄金商品类" in note.zh and "债券类" in note.zh and "gold" not in note.zh
    assert res.weights.sum() == pytest.approx(1.0)
    # global equity without a fund goes to A-share equity: the equity share is kept
    v = make_universe(24, drop_types=(FundType.QDII_EQUITY, FundType.QDII_OTHER))
    dv = prepare(v, select_funds(v, 5), 11)
    moved = construct(dv, TARGETS)
    assert moved.targets[CLASSES.index("cn_equity")] == pytest.approx(0.45)


def _with_focus(data, focused: np.ndarray, fund_cap: float = 0.10, total_cap: float = 0.20):
    flags = np.zeros(data.n_slots)
    flags[: data.n_funds] = focused
    return dataclasses.replace(data, focused=flags, focused_fund_cap=fund_cap, focused_total_cap=total_cap)


@settings(max_examples=15, deadline=None)
@given(flags=st.lists(st.booleans(), min_size=11, max_size=11), fund_cap=st.sampled_from([0.05, 0.1, 0.15]),
       total_cap=st.sampled_from([0.1, 0.2, 0.3]), seed=st.integers(0, 3))
def test_sector_and_theme_caps_hold_whatever_funds_are_focused(flags, fund_cap, total_cap, seed):
    u = cached_universe(seed)
    base = prepare(u, select_funds(u, 5), 11)
    equity = (base.membership[CLASSES.index("cn_equity"), : base.n_funds]
              + base.membership[CLASSES.index("global_equity"), : base.n_funds]) > 0
    focused = np.array(flags[: base.n_funds], dtype=bool) & equity  # only equity mandates have a focus
    data = _with_focus(base, focused.astype(float), fund_cap, total_cap)
    res = construct(data, TARGETS)
    assert (res.weights[focused] <= fund_cap + 1e-7).all()
    assert res.weights[focused].sum() <= total_cap + 1e-7
    assert res.weights.sum() == pytest.approx(1.0)
    # what the focused funds could not carry moved to a stand-in class, and the class sums say so
    assert np.allclose(_class_sums(data, res.weights), res.targets, atol=1e-6)


def test_a_class_of_only_sector_funds_keeps_its_cap_and_hands_the_rest_on(data):
    member = data.membership[:, : data.n_funds]
    focused = member[CLASSES.index("global_equity")] > 0  # every global equity fund is a sector fund
    capped = _with_focus(data, focused.astype(float), 0.03, 0.20)
    res = construct(capped, TARGETS)
    cap = min(0.03 * focused.sum(), 0.20)
    assert res.targets[CLASSES.index("global_equity")] == pytest.approx(min(cap, 0.1))
    assert res.targets[CLASSES.index("cn_equity")] == pytest.approx(0.35 + 0.1 - min(cap, 0.1))
    assert any(n.code == "class_moved" and "行业/主题" in n.zh for n in res.report.notes)


def test_policy_is_a_frozen_value():
    policy = ConstructionPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.alpha = 1.0  # type: ignore[misc]

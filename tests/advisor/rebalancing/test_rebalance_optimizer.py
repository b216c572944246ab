"""The batched dual solver agrees with a from-scratch cvxpy solve; cleanup honours minimum sizes."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.rebalancing.optimizer import (
    DenseProblem,
    cash_need,
    cleanup,
    objective,
    reference_solve,
    solve,
    turnover,
)


def random_problems(seed: int, n: int = 40, width: int = 9, depth: int = 3) -> DenseProblem:
    rng = np.random.default_rng(seed)
    h = rng.dirichlet(np.ones(width), n) * (rng.random((n, width)) < 0.7) * rng.uniform(0.6, 1.0, (n, 1))
    w = rng.dirichlet(np.ones(width), n) * (rng.random((n, width)) < 0.6) + 1e-9
    w = w / w.sum(axis=1, keepdims=True)
    seg_len = h[..., None] * rng.dirichlet(np.ones(depth), (n, width))
    seg_rate = np.sort(rng.choice([0.0, 0.0005, 0.0025, 0.005, 0.015], (n, width, depth)), axis=-1)
    return DenseProblem(
        h=h, w=w, lam=rng.uniform(0.003, 0.08, (n, width)),
        lin=np.where(rng.random((n, width)) < 0.1, 0.02, 0.0),
        buy_rate=rng.choice([0.0, 0.0008, 0.0015], (n, width)),
        buy_cap=np.where(rng.random((n, width)) < 0.2, 0.0, np.inf),
        seg_len=seg_len, seg_rate=seg_rate,
        budget=1.0 - h.sum(axis=1) + rng.normal(0.0, 0.05, n),  # deposits and withdrawals
        turnover_cap=np.where(rng.random(n) < 0.4, rng.uniform(0.02, 0.3, n), np.inf),
        kappa=0.25, cash_drag=0.02 if seed % 2 else 0.0,
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_batch_solver_matches_cvxpy_reference(seed: int) -> None:
    p = random_problems(seed)
    sol = solve(p)
    ours = objective(p, sol.b, sol.u)
    uncapped = DenseProblem(**{**p.__dict__, "turnover_cap": np.full(p.n_customers, np.inf)})
    checked = capped = 0
    for row in range(p.n_customers):
        if not sol.feasible[row]:
            continue
        _, _, ref = reference_solve(p, row)
        if sol.nu[row] == 0:  # the cap does not bind: the exact optimum
            assert ours[row] == pytest.approx(ref, rel=1e-4, abs=1e-8), row
            checked += 1
            continue
        # the cap binds: a feasible plan of the capped problem, on the segment toward the uncapped optimum
        assert ours[row] >= ref - 1e-8, row
        b_free, u_free, _ = reference_solve(uncapped, row)
        if p.budget[row] == 0:
            theta = 1.0 - sol.nu[row]
            move, free_move = sol.y[row], b_free - u_free.sum(axis=-1)
            assert np.allclose(move, theta * free_move, atol=1e-5), row
        capped += 1
    assert checked >= 20 and capped >= 5
    feasible = sol.feasible
    assert np.all(cash_need(p, sol.b, sol.u)[feasible] <= p.budget[feasible] + 1e-10)
    assert np.all(turnover(sol.b, sol.u) <= p.turnover_cap + 1e-10)
    assert np.all(sol.b[p.buy_cap == 0] == 0)
    assert np.all((sol.u >= -1e-15) & (sol.u <= p.seg_len + 1e-15))


def test_capped_plan_moves_every_fund_toward_target_and_improves() -> None:
    """The reviewer's case: the cap binds; sales without their matching buys made drift worse."""
    p = random_problems(5)
    p = DenseProblem(**{**p.__dict__, "budget": np.zeros(p.n_customers), "turnover_cap": np.full(p.n_customers, 0.1),
                        "lin": np.zeros_like(p.lin), "buy_cap": np.full_like(p.buy_cap, np.inf)})
    sol = solve(p)
    assert (sol.nu > 0).sum() > 30
    free = solve(DenseProblem(**{**p.__dict__, "turnover_cap": np.full(p.n_customers, np.inf)}))
    theta = 1.0 - sol.nu
    assert np.allclose(sol.y, theta[:, None] * free.y, atol=1e-9)  # one coherent move, scaled
    none = np.zeros_like(sol.b), np.zeros_like(sol.u)
    assert np.all(objective(p, sol.b, sol.u) <= objective(p, *none) + 1e-12)
    assert np.all(turnover(sol.b, sol.u) <= 0.1 + 1e-10)


def test_on_target_and_no_cash_flow_gives_no_trade() -> None:
    p = random_problems(3)
    p = DenseProblem(**{**p.__dict__, "h": p.w.copy(), "seg_len": p.w[..., None] * np.array([0.5, 0.3, 0.2]),
                        "budget": np.zeros(p.n_customers), "lin": np.zeros_like(p.lin)})
    sol = solve(p)
    assert np.abs(sol.b).max() < 1e-12 and np.abs(sol.u).max() < 1e-12


def test_withdrawal_larger_than_holdings_is_flagged_infeasible() -> None:
    p = random_problems(4, n=3)
    p = DenseProblem(**{**p.__dict__, "budget": -np.ones(3) * 5.0, "turnover_cap": np.full(3, np.inf)})
    sol = solve(p)
    assert not sol.feasible.any()
    assert np.allclose(sol.u.sum(axis=-1), p.seg_len.sum(axis=-1))  # everything sellable is sold


def test_cleanup_drops_small_trades_and_avoids_tiny_remainders() -> None:
    # one customer, T = ¥10,000: fund 0 overweight with a sale leaving ¥50, fund 1 a ¥30 buy
    h = np.array([[0.5, 0.2, 0.3]])
    p = DenseProblem(h=h, w=np.array([[0.0, 0.203, 0.797]]), lam=np.full((1, 3), 0.05), lin=np.zeros((1, 3)),
                     buy_rate=np.zeros((1, 3)), buy_cap=np.full((1, 3), np.inf), seg_len=h[..., None],
                     seg_rate=np.zeros((1, 3, 1)), budget=np.zeros(1), turnover_cap=np.full(1, np.inf), kappa=0.25)
    sol = solve(p)
    scale = np.array([10_000.0])
    # pretend the optimizer left ¥50 in fund 0 and bought ¥30 of fund 1
    sol_u = sol.u.copy()
    sol_u[0, 0, 0] = 0.495
    sol_b = sol.b.copy()
    sol_b[0, 1] = 0.003
    patched = type(sol)(b=sol_b, u=sol_u, mu=sol.mu, nu=sol.nu, feasible=sol.feasible)
    b, u = cleanup(p, patched, scale, np.full((1, 3), 100.0), 100.0, 100.0)
    sold = u.sum(axis=-1)[0] * scale[0]
    assert sold[0] == pytest.approx(5000.0)  # full exit rather than a ¥50 remainder
    assert b[0, 1] == 0.0  # the ¥30 buy is below the minimum purchase
    assert cash_need(p, b, u)[0] <= 1e-12

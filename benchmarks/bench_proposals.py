"""Proposals: our compiled path vs the same work with PyPortfolioOpt objects built per request.

Both sides get the same per-universe preparation (model portfolios, fund selection, covariances, look-through
exposures), then answer the same stream of customer requests (levels C1–C5, amounts ¥2k–¥500k log-uniform,
horizons 0.5 / 2 / 5 years, a target return on a third of them):

* **ours** — `advisor.proposal.propose`: compiled construction QP (re-solved only when an amount forces funds
  below their minimum), share class by cost, greedy discrete allocation with fees, expected figures, a
  historical backtest and bilingual explanations;
* **PyPortfolioOpt per request** — a new `EfficientFrontier` with the same objective (variance + pull toward
  equal weights in a class − score tilt), the same class-target, single-fund and look-through constraints,
  solved with Clarabel, then `DiscreteAllocation(...).greedy_portfolio()` on ¥1 units, dropping funds below
  their minimum and re-solving as ours does. It computes no fees, figures, backtest or explanations, so the
  ratio understates the gap.

Also timed: one compiled re-solve vs a from-scratch cvxpy solve of the same problem.

    python benchmarks/bench_proposals.py [--data DIR] [--requests 400] [--baseline 60]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import cvxpy as cp
import numpy as np
import pandas as pd
from pypfopt import EfficientFrontier
from pypfopt.discrete_allocation import DiscreteAllocation

from advisor.assumptions import CLASSES
from advisor.construction import (
    ConstructionPolicy,
    _parameters,
    construct,
    effective_targets,
    problem_shape,
    reference_solve,
)
from advisor.proposal import ProposalConfig, _context, propose, warm_up
from products.loading import load_universe

warnings.filterwarnings("ignore")


def requests(n: int, seed: int = 7) -> list[tuple[int, float, float, float | None]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        level = int(rng.integers(1, 6))
        amount = float(np.round(np.exp(rng.uniform(np.log(2_000), np.log(500_000))), 2))
        horizon = float(rng.choice([0.5, 2.0, 5.0]))
        target = float(rng.choice([0.03, 0.05, 0.08])) if rng.random() < 1 / 3 else None
        out.append((level, amount, horizon, target))
    return out


def pypfopt_request(universe, ctx, level: int, amount: float, horizon: float) -> dict[str, float]:
    """The same per-request work with PyPortfolioOpt objects built for this request."""
    from advisor.model_portfolios import horizon_bucket

    sel, data = ctx.selection(level)
    n = data.n_funds
    targets = ctx.models[(level, horizon_bucket(horizon))].weights.reindex(list(CLASSES)).to_numpy()
    policy = ConstructionPolicy()
    active = np.ones(n, dtype=bool)
    codes = [str(universe.funds.index[p]) for p in sel.representative]
    minimum = universe.funds["min_purchase"].to_numpy(dtype=float)[sel.representative]
    for _ in range(n + 1):
        effective, _ = effective_targets(targets, data, active)
        values, _, anchor = _parameters(data, effective, active, policy, problem_shape(data))
        upper = values["upper"][:n]
        cov = pd.DataFrame(data.covariance[:n, :n] + 1e-10 * np.eye(n), index=codes, columns=codes)
        ef = EfficientFrontier(None, cov, weight_bounds=(0, 1), solver="CLARABEL")
        member = data.membership[:, :n]
        for c in range(len(CLASSES)):
            if member[c].any() or effective[c] > 0:
                ef.add_constraint(lambda w, m=member[c], t=float(values["targets"][c]): m @ w == t)
        ef.add_constraint(lambda w, u=upper: w <= u)
        ef.add_constraint(lambda w, f=data.focused[:n]: f @ w <= data.focused_total_cap)  # sector / theme total
        if data.industry.shape[1]:
            ef.add_constraint(lambda w, e=data.industry[:n]: e.T @ w <= policy.industry_cap)
        if data.stock.shape[1]:
            ef.add_constraint(lambda w, s=data.stock[:n]: s.T @ w <= policy.stock_cap)
        score = data.score[:n]

        def objective(w, sigma=cov.to_numpy(), a=anchor[:n], s=score):
            return cp.quad_form(w, cp.psd_wrap(sigma)) + policy.alpha * cp.sum_squares(w - a) - policy.beta * s @ w

        weights = ef.convex_objective(objective, weights_sum_to_one=True)
        w = pd.Series(weights).clip(lower=0)
        w = w[w > 1e-6]
        prices = pd.Series(1.0, index=w.index)  # ¥1 purchase units
        alloc, _ = DiscreteAllocation(w.to_dict(), prices, total_portfolio_value=amount).greedy_portfolio()
        bought = pd.Series(alloc, dtype=float).reindex(codes).fillna(0.0).to_numpy()
        bad = (bought > 0) & (bought < minimum) | ((w.reindex(codes).fillna(0).to_numpy() > 0) & (bought == 0))
        bad &= active
        if not bad.any():
            return dict(zip(codes, bought, strict=True))
        active &= ~bad
        if not active.any():
            return {}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data directory (default: the embedded demo universe)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--baseline", type=int, default=60, help="requests timed on the PyPortfolioOpt side")
    args = parser.parse_args()

    universe = load_universe(args.data)
    t0 = time.perf_counter()
    warm_up(universe)
    prep = time.perf_counter() - t0
    ctx = _context(universe, ProposalConfig())
    stream = requests(args.requests)
    print(f"universe: {len(universe.funds)} funds, as of {universe.as_of}; per-universe preparation {prep:.2f} s")

    # wall time, and CPU time of this process (what a request costs whatever the machine's load)
    ours, ours_cpu = [], []
    for level, amount, horizon, target in stream:
        t, c = time.perf_counter(), time.process_time()
        propose(universe, level, amount, horizon, target_return=target)
        ours.append(time.perf_counter() - t)
        ours_cpu.append(time.process_time() - c)
    theirs, theirs_cpu = [], []
    for level, amount, horizon, _ in stream[: args.baseline]:
        t, c = time.perf_counter(), time.process_time()
        pypfopt_request(universe, ctx, level, amount, horizon)
        theirs.append(time.perf_counter() - t)
        theirs_cpu.append(time.process_time() - c)

    # one re-solve: compiled (parameters refilled) vs from scratch, on a fresh active set each time
    _, data = ctx.selection(5)
    targets = ctx.models[(5, "long")].weights.reindex(list(CLASSES)).to_numpy()
    rng = np.random.default_rng(1)
    compiled_t, scratch_t = [], []
    for _ in range(30):
        active = rng.random(data.n_funds) > 0.2
        active[0] = True
        t = time.perf_counter()
        construct(data, targets, active)
        compiled_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        reference_solve(data, targets, active)
        scratch_t.append(time.perf_counter() - t)

    med_ours, med_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"proposals, ours ({len(ours)} requests): median {med_ours * 1e3:.3f} ms, mean {np.mean(ours) * 1e3:.3f} ms, "
          f"p90 {np.percentile(ours, 90) * 1e3:.2f} ms")
    print(f"proposals, PyPortfolioOpt per request ({len(theirs)} requests): median {med_theirs * 1e3:.2f} ms, "
          f"mean {np.mean(theirs) * 1e3:.2f} ms")
    print(f"ratio (median): {med_theirs / med_ours:.0f}x   target: ours <= 2 ms and >= 10x")
    cpu_ours, cpu_theirs = statistics.median(ours_cpu), statistics.median(theirs_cpu)
    print(f"CPU time per request (median): ours {cpu_ours * 1e3:.3f} ms, PyPortfolioOpt {cpu_theirs * 1e3:.2f} ms, "
          f"ratio {cpu_theirs / cpu_ours:.0f}x")
    fast, slow = statistics.median(compiled_t), statistics.median(scratch_t)
    print(f"one construction re-solve: compiled {fast * 1e3:.2f} ms vs from-scratch cvxpy {slow * 1e3:.2f} ms "
          f"({slow / fast:.1f}x)")


if __name__ == "__main__":
    main()

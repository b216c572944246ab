"""The per-customer rebalancing problem and its batched exact solver.

Formulation (all quantities are fractions of ``T`` = current fund value + net cash flow):

    minimize    Σ_i λ_i (h_i + b_i − Σ_k u_ik − w_i)²          risk-weighted tracking error to target
              + Σ_i π_i (h_i + b_i − Σ_k u_ik)                  penalty on holdings above the level
              + κ (Σ_i r_i b_i + Σ_ik ρ_ik u_ik)                trading cost (fraction of T)
              + δ (f − Σ (1 + r_i) b_i + Σ (1 − ρ_ik) u_ik)      cash drag on money left uninvested
    subject to  0 ≤ b_i ≤ cap_i          net buy; cap_i = 0 for funds above the level, closed or replaced
                0 ≤ u_ik ≤ len_ik        sale from FIFO segment k (oldest first, ρ_i1 ≤ ρ_i2 ≤ …)
                Σ (1 + r_i) b_i − Σ (1 − ρ_ik) u_ik ≤ f   cash: buys are paid by sales and the cash flow f
                Σ u_ik ≤ τ + withdrawal / (1 − ρ_max)     turnover cap (one-way: sales)

λ_i = σ_i² + floor², r_i is the linearized subscription rate (外扣法, tier at the gap to target), ρ_ik
the redemption rate of the k-th FIFO segment. Because ρ rises along FIFO order, the cost of selling is
convex piecewise linear and the model is exact for it; the problem is a convex QP.

Solver (hand-written because it is the hot path of the nightly batch, verified against cvxpy in the
tests): the problem is separable across funds except for the two coupling constraints, so it is solved
by Lagrangian duality. For multipliers (μ, ν) each fund's minimizer has a closed form (a clipped
shrinkage through the FIFO segments). The cash used is a decreasing piecewise-linear function of μ
whose breakpoints are known in closed form, so μ is found exactly by a binary search over the sorted
breakpoints (log2 of ~100 evaluations) and a linear interpolation inside the final bracket. Where the
turnover cap binds, the plan is scaled back along the segment from the cash-flow-only plan to the
uncapped optimum (one more solve; see `solve`), so the capped move stays coherent. Everything is
vectorized over the customers of a chunk. Arrays are padded: customers × fund slots × FIFO segments.

After the continuous solve, `cleanup` enforces minimum trade, minimum remaining holding (or a full exit),
and re-fits the cash budget; the batch layer then prices the result exactly and keeps it only if it
beats not trading.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

_TOL = 1e-12


@dataclass(frozen=True)
class DenseProblem:
    """A batch of customer problems, padded to N fund slots and L FIFO segments."""

    h: np.ndarray  # (C, N) current weights
    w: np.ndarray  # (C, N) target weights
    lam: np.ndarray  # (C, N) risk weights > 0
    lin: np.ndarray  # (C, N) linear penalty on post-trade weight (above-level holdings)
    buy_rate: np.ndarray  # (C, N)
    buy_cap: np.ndarray  # (C, N) ≥ 0, may be inf
    seg_len: np.ndarray  # (C, N, L)
    seg_rate: np.ndarray  # (C, N, L)
    budget: np.ndarray  # (C,) cash flow f as a fraction of T (negative: a withdrawal)
    turnover_cap: np.ndarray  # (C,) on Σ u (sales), may be inf
    kappa: float
    cash_drag: float = 0.0  # objective per unit of cash left uninvested (expected return given up)

    @property
    def n_customers(self) -> int:
        return self.h.shape[0]

    def take(self, rows: np.ndarray) -> DenseProblem:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return DenseProblem(**{k: (v if k in ("kappa", "cash_drag") else v[rows]) for k, v in values.items()})


@dataclass(frozen=True)
class Solution:
    b: np.ndarray  # (C, N) net buy
    u: np.ndarray  # (C, N, L) sold per segment
    mu: np.ndarray  # (C,) price of cash
    nu: np.ndarray  # (C,) price of turnover
    feasible: np.ndarray  # (C,) False when even selling everything cannot fund a withdrawal

    @property
    def y(self) -> np.ndarray:
        return self.b - self.u.sum(axis=-1)


def objective(p: DenseProblem, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The objective value of each customer's plan (continuous model)."""
    x = p.h + b - u.sum(axis=-1)
    tracking = (p.lam * (x - p.w) ** 2).sum(axis=-1)
    penalty = (p.lin * x).sum(axis=-1)
    cost = (p.buy_rate * b).sum(axis=-1) + (p.seg_rate * u).sum(axis=(-1, -2))
    return tracking + penalty + p.kappa * cost + p.cash_drag * (p.budget - cash_need(p, b, u))


def cash_need(p: DenseProblem, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    return (b * (1.0 + p.buy_rate)).sum(axis=-1) - (u * (1.0 - p.seg_rate)).sum(axis=(-1, -2))


def turnover(b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sales as a fraction of T (one-way turnover: buys are bounded by sales plus the cash flow)."""
    del b
    return u.sum(axis=(-1, -2))


class _Prepared:
    """Per-chunk constants: each fund's Lagrangian minimizer is affine in (μ, ν) before clipping.

    buy  b = clip(b0 − μ·b1, 0, cap)                     with b0 = d − (π + κr)/2λ, b1 = (1 + r)/2λ
    sale u_k = clip(s0_k + μ·s1_k − ν/2λ, 0, len_k)     with s0_k = −d − (κρ_k − π)/2λ − U_{k−1},
                                                              s1_k = (1 − ρ_k)/2λ
    """

    def __init__(self, p: DenseProblem) -> None:
        d = p.w - p.h
        inv = 0.5 / p.lam
        self.cap = p.buy_cap
        self.seg_len = p.seg_len
        self.b0 = d - (p.lin + p.kappa * p.buy_rate) * inv
        self.b1 = (1.0 + p.buy_rate) * inv
        self.buy_cash = 1.0 + p.buy_rate
        prev = np.cumsum(p.seg_len, axis=-1) - p.seg_len
        self.s0 = (-d - (p.kappa * p.seg_rate.transpose(2, 0, 1) - p.lin) * inv).transpose(1, 2, 0) - prev
        self.s1 = (1.0 - p.seg_rate) * inv[..., None]
        self.s2 = inv[..., None]
        self.sell_cash = 1.0 - p.seg_rate
        total_len = p.seg_len.sum(axis=-1)
        rho_max = p.seg_rate.max(axis=-1, initial=0.0)
        scale = (2.0 * p.lam * (total_len + np.abs(d) + 1.0) + p.kappa + np.abs(p.lin)) / (1.0 - rho_max)
        self.base_hi = scale.max(axis=-1, initial=1.0) + 1.0  # (C,) μ (and ν) beyond which nothing changes
        self.budget = p.budget
        self.turnover_cap = p.turnover_cap
        self.floor = np.full(len(p.budget), -p.cash_drag)  # μ − δ: the multiplier shifted by the cash drag

    def take(self, rows: np.ndarray) -> _Prepared:
        out = object.__new__(_Prepared)
        for name, value in vars(self).items():
            setattr(out, name, value[rows])
        return out

    def prox(self, mu: np.ndarray, nu: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        b = self.b0 - mu[:, None] * self.b1
        np.maximum(b, 0.0, out=b)
        np.minimum(b, self.cap, out=b)
        u = self.s1 * mu[:, None, None]
        u += self.s0
        if nu is not None:
            u -= self.s2 * nu[:, None, None]
        np.maximum(u, 0.0, out=u)
        np.minimum(u, self.seg_len, out=u)
        return b, u

    def breakpoints(self, nu: np.ndarray | None, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Every μ where some buy or FIFO segment starts or stops moving, within [lo, hi], sorted (R, K).

        Between two neighbours every b and u is affine in μ, so the cash used is too.
        """
        shift = self.s0 if nu is None else self.s0 - self.s2 * nu[:, None, None]
        rows = len(lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts = [self.b0 / self.b1, (self.b0 - self.cap) / self.b1,
                     (-shift / self.s1).reshape(rows, -1), ((self.seg_len - shift) / self.s1).reshape(rows, -1)]
        points = np.concatenate([lo[:, None], *parts, hi[:, None]], axis=1)
        points = np.where(np.isfinite(points), points, lo[:, None])
        np.clip(points, lo[:, None], hi[:, None], out=points)
        points.sort(axis=1)
        return points

    def cash(self, b: np.ndarray, u: np.ndarray) -> np.ndarray:
        return np.einsum("cn,cn->c", b, self.buy_cash) - np.einsum("cnl,cnl->c", u, self.sell_cash)


def _bracket_breakpoints(func, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binary search over each row's sorted breakpoints for the two neighbours around the root.

    `func` is decreasing, positive at the first point; log2(K) evaluations give an exact bracket.
    """
    rows = np.arange(points.shape[0])
    lo_i = np.zeros(len(rows), dtype=np.int64)
    hi_i = np.full(len(rows), points.shape[1] - 1, dtype=np.int64)
    while True:
        open_ = hi_i - lo_i > 1
        if not open_.any():
            break
        mid = (lo_i + hi_i) // 2
        above = func(points[rows, mid]) > 0
        lo_i = np.where(open_ & above, mid, lo_i)
        hi_i = np.where(open_ & ~above, mid, hi_i)
    return points[rows, lo_i], points[rows, hi_i]


def _solve_mu(prep: _Prepared, nu: np.ndarray | None, steps: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smallest μ ≥ 0 meeting the cash constraint for a given ν; returns (b, u, μ − δ, feasible).

    Exact: a binary search over the breakpoints of the piecewise-linear cash function, then linear
    interpolation inside the last bracket. `steps` is unused here (kept for the outer search).
    """
    del steps
    n = len(prep.budget)
    start = prep.floor.copy()
    b, u = prep.prox(start, nu)
    excess0 = prep.cash(b, u) - prep.budget
    need = excess0 > _TOL
    feasible = np.ones(n, dtype=bool)
    mu = start
    if not need.any():
        return b, u, mu, feasible
    rows = np.flatnonzero(need)
    q = prep if len(rows) == n else prep.take(rows)  # avoid copying when every row needs the search
    nu_q = None if nu is None else nu[rows]
    nu_v = np.zeros(len(rows)) if nu_q is None else nu_q

    def excess(m: np.ndarray) -> np.ndarray:
        bm, um = q.prox(m, nu_q)
        return q.cash(bm, um) - q.budget

    lo = q.floor.copy()
    hi = q.base_hi * (1.0 + nu_v) + nu_v
    lo, hi = _bracket_breakpoints(excess, q.breakpoints(nu_q, lo, hi))
    b_lo, u_lo = q.prox(lo, nu_q)
    b_hi, u_hi = q.prox(hi, nu_q)
    g_lo, g_hi = q.cash(b_lo, u_lo), q.cash(b_hi, u_hi)
    ok_hi = g_hi <= q.budget + 1e-12
    gap = g_lo - g_hi
    theta = np.where(ok_hi & (gap > _TOL), np.clip((q.budget - g_hi) / np.where(gap > _TOL, gap, 1.0), 0, 1), 0.0)
    b[rows] = theta[:, None] * b_lo + (1 - theta[:, None]) * b_hi
    u[rows] = theta[:, None, None] * u_lo + (1 - theta[:, None, None]) * u_hi
    mu[rows] = theta * lo + (1 - theta) * hi
    feasible[rows] = ok_hi
    return b, u, mu, feasible


def solve(p: DenseProblem, steps: int = 40) -> Solution:
    """Solve every customer's problem; a binding turnover cap scales the whole move toward the optimum.

    Without the cap each customer's continuous optimum is exact (to root-finding precision). When the
    optimum sells more than the cap, the plan is the point on the segment from the cash-flow-only plan
    (no sales for a deposit or no flow, no buys for a withdrawal) to the uncapped optimum where sales meet
    the cap: every fund moves the same fraction θ of the way. Because the objective, the class weights'
    distances to target and the FIFO fees are convex along that segment, the capped plan is never worse than
    the better end in objective, never drifts further than the worse end, and stays cash-feasible. (The
    exact capped QP instead sells the cheapest-to-sell funds and leaves their buys unfunded, which moved
    class weights away from target.) `nu` reports θ's complement: > 0 where the cap bound.
    """
    del steps
    prep = _Prepared(p)
    nu = np.zeros(p.n_customers)
    b, u, mu, feasible = _solve_mu(prep, None, 0)
    t_opt = turnover(b, u)
    over = t_opt - p.turnover_cap > 1e-12
    if over.any():
        rows = np.flatnonzero(over)
        base = p.take(rows)
        withdrawing = base.budget < 0
        base = DenseProblem(**{**{f.name: getattr(base, f.name) for f in fields(base)},
                               "seg_len": np.where(withdrawing[:, None, None], base.seg_len, 0.0),
                               "buy_cap": np.where(withdrawing[:, None], 0.0, base.buy_cap)})
        b0, u0, _, feas0 = _solve_mu(_Prepared(base), None, 0)
        s0, s1 = u0.sum(axis=-1), u[rows].sum(axis=-1)
        t0 = s0.sum(axis=-1)
        span = t_opt[rows] - t0
        theta = np.clip(np.divide(p.turnover_cap[rows] - t0, span, out=np.zeros(len(rows)), where=span > _TOL),
                        0.0, 1.0)
        b[rows] = b0 + theta[:, None] * (b[rows] - b0)
        u[rows] = fill_fifo(p.seg_len[rows], s0 + theta[:, None] * (s1 - s0))
        nu[rows] = 1.0 - theta
        feasible[rows] = feasible[rows] & np.where(theta > 0, True, feas0)
    return Solution(b=b, u=u, mu=mu + p.cash_drag, nu=nu, feasible=feasible)


def fill_fifo(seg_len: np.ndarray, sell: np.ndarray) -> np.ndarray:
    """Split total sales (..., N) over FIFO segments (..., N, L), oldest first."""
    prev = np.cumsum(seg_len, axis=-1) - seg_len
    return np.clip(sell[..., None] - prev, 0.0, seg_len)


def cleanup(p: DenseProblem, sol: Solution, scale: np.ndarray, min_buy: np.ndarray, min_trade: float,
            min_holding: float) -> tuple[np.ndarray, np.ndarray]:
    """Enforce minimum trade and minimum remaining holding, then re-fit the cash budget.

    `scale` (C,) is T in yuan; `min_buy` (C, N) the fund's minimum purchase in yuan. Sales under
    `min_trade` are dropped unless they empty the position or pay a withdrawal. A partial sale that
    would leave less than `min_holding` becomes either a full exit or a sale down to `min_holding`,
    whichever the fund's own terms of the objective prefer (always the exit for a withdrawal). Buys
    shrink proportionally when the cleaned sales no longer fund them; buys that fall under their
    minimum are dropped.
    """
    T = scale[:, None]
    b = sol.b.copy()
    sellable = p.seg_len.sum(axis=-1)
    sell = sol.u.sum(axis=-1)
    withdrawing = (p.budget < 0)[:, None]  # a withdrawal must be paid: its sales are never shrunk
    full_exit = sell >= sellable - 1e-12
    sell = np.where((sell * T < min_trade) & ~full_exit & ~withdrawing, 0.0, sell)
    remain = p.h - sell
    partial = (sell > 0) & (remain * T < min_holding) & (remain > 1e-15)
    if partial.any():
        r, c = np.nonzero(partial)
        h, held, bb = p.h[r, c], sellable[r, c], b[r, c]
        down = np.minimum(np.maximum(h - min_holding / T[r, 0], 0.0), held)
        down = np.where(down * T[r, 0] < min_trade, 0.0, down)
        can_exit = held >= h - 1e-15  # locked lots make a full exit impossible

        def fund_terms(s: np.ndarray) -> np.ndarray:
            x = h + bb - s
            fee = (p.seg_rate[r, c] * fill_fifo(p.seg_len[r, c], s)).sum(-1)
            return p.lam[r, c] * (x - p.w[r, c]) ** 2 + p.lin[r, c] * x + p.kappa * fee

        prefer_exit = can_exit & ((fund_terms(held) <= fund_terms(down)) | withdrawing[r, 0])
        sell[r, c] = np.where(prefer_exit, held, down)
    u = fill_fifo(p.seg_len, sell)
    floor = (np.maximum(min_buy, min_trade) + 0.01) / T  # a cent of margin: orders are rounded down to cents
    b = np.where(b * (1.0 + p.buy_rate) < floor, 0.0, b)
    proceeds = (u * (1.0 - p.seg_rate)).sum(axis=(-1, -2)) + p.budget
    for _ in range(3):  # shrink buys to the cash available, then drop those below minimum
        spend = (b * (1.0 + p.buy_rate)).sum(axis=-1)
        over = spend > proceeds + 1e-12
        if not over.any():
            break
        factor = np.where(over, np.clip(proceeds / np.where(spend > 0, spend, 1.0), 0, 1), 1.0)
        b = b * factor[:, None]
        b = np.where(b * (1.0 + p.buy_rate) < floor * (1 - 1e-9), 0.0, b)
    return b, u


def reference_solve(p: DenseProblem, row: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The same continuous problem for one customer, written directly in cvxpy (Clarabel): the check."""
    import cvxpy as cp

    h, w, lam, lin = p.h[row], p.w[row], p.lam[row], p.lin[row]
    r, cap = p.buy_rate[row], p.buy_cap[row]
    seg_len, seg_rate = p.seg_len[row], p.seg_rate[row]
    n, n_seg = seg_len.shape
    b = cp.Variable(n, nonneg=True)
    u = cp.Variable((n, n_seg), nonneg=True)
    x = h + b - cp.sum(u, axis=1)
    cost = r @ b + cp.sum(cp.multiply(seg_rate, u))
    need = cp.sum(cp.multiply(1.0 + r, b)) - cp.sum(cp.multiply(1.0 - seg_rate, u))
    obj = (cp.sum(cp.multiply(lam, cp.square(x - w))) + lin @ x + p.kappa * cost
           + p.cash_drag * (p.budget[row] - need))
    cons = [u <= seg_len, need <= p.budget[row]]
    finite = np.isfinite(cap)
    if finite.any():
        cons.append(b[np.flatnonzero(finite)] <= cap[finite])
    if np.isfinite(p.turnover_cap[row]):
        cons.append(cp.sum(u) <= p.turnover_cap[row])
    problem = cp.Problem(cp.Minimize(obj), cons)
    problem.solve(solver=cp.CLARABEL)
    return np.asarray(b.value), np.asarray(u.value), float(problem.value)

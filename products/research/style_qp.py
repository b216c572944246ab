"""A batched exact solver for many small style-analysis QPs: min ½wᵀGw − cᵀw, w ≥ 0, Σw = 1.

Why hand-written: rolling style analysis of every fund is ~50,000 problems of 7 variables. A Python
loop of cvxpy / scipy solves costs milliseconds each (minutes in all); this solver handles all problems
at once and is exact. For k variables it enumerates the 2ᵏ − 1 candidate supports S (k = 7 → 127); for
each it solves the equality-constrained KKT system [G_SS 1; 1ᵀ 0][w_S; ν] = [c_S; 1] for the whole
batch with one `numpy.linalg.solve`, and keeps, per problem, the candidate that satisfies the KKT
conditions of the full problem (w_S ≥ 0 and gradient + ν ≥ 0 off the support) with the lowest
objective. For a convex QP a KKT point is a global optimum, so the answer is exact to rounding (and a
problem leaves the batch at its first KKT point: supports are tried smallest first); tests
check it against cvxpy / scipy to 1e-6. Cost grows as 2ᵏ: meant for k ≤ ~10.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

RIDGE = 1e-12  # relative diagonal loading so singular G (collinear styles) still solves


def solve_simplex_qp(G: np.ndarray, c: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Solve min ½wᵀG_bw − c_bᵀw on the probability simplex for every batch member b.

    G: (n, k, k) symmetric positive semi-definite; c: (n, k). Returns w: (n, k). Problems with
    non-finite input get NaN.
    """
    G = np.asarray(G, dtype=float)
    c = np.asarray(c, dtype=float)
    n, k = c.shape
    finite = np.isfinite(G).all(axis=(1, 2)) & np.isfinite(c).all(axis=1)
    G = np.where(finite[:, None, None], G, np.eye(k)[None])
    c = np.where(finite[:, None], c, 0.0)
    scale = np.maximum(np.trace(G, axis1=1, axis2=2) / k, 1e-300)
    G = G / scale[:, None, None]  # scale-free tolerances
    c = c / scale[:, None]
    G = G + RIDGE * np.eye(k)[None]

    best_w = np.full((n, k), np.nan)
    best_obj = np.full(n, np.inf)
    fallback_w = np.full((n, k), np.nan)
    fallback_obj = np.full(n, np.inf)
    pending = np.arange(n)  # problems without a KKT point yet; small supports come first and settle most
    for size in range(1, k + 1):
        for support in combinations(range(k), size):
            if pending.size == 0:
                break
            s = np.array(support)
            Gp, cp_ = G[pending], c[pending]
            m = len(pending)
            kkt = np.zeros((m, size + 1, size + 1))
            kkt[:, :size, :size] = Gp[:, s[:, None], s[None, :]]
            kkt[:, :size, size] = 1.0
            kkt[:, size, :size] = 1.0
            rhs = np.zeros((m, size + 1))
            rhs[:, :size] = cp_[:, s]
            rhs[:, size] = 1.0
            try:
                sol = np.linalg.solve(kkt, rhs[..., None])[..., 0]
            except np.linalg.LinAlgError:
                sol = np.stack([np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(kkt, rhs, strict=True)])
            w = np.zeros((m, k))
            w[:, s] = sol[:, :size]
            nu = sol[:, size]
            grad = np.einsum("nij,nj->ni", Gp, w) - cp_
            multipliers = grad + nu[:, None]  # must be ≥ 0 off the support
            off = np.ones(k, dtype=bool)
            off[s] = False
            feasible = (w[:, s] >= -tol).all(axis=1)
            ok = feasible & (multipliers[:, off] >= -tol).all(axis=1) if off.any() else feasible
            obj = 0.5 * np.einsum("ni,ni->n", w, grad - cp_)  # ½wᵀGw − cᵀw = ½wᵀ(Gw − c) − ½cᵀw
            done = pending[ok]
            best_w[done] = np.clip(w[ok], 0.0, None)
            best_obj[done] = obj[ok]
            # fallback if rounding defeats every KKT check: the best feasible candidate
            better = feasible & ~ok & (obj < fallback_obj[pending])
            fallback_w[pending[better]] = np.clip(w[better], 0.0, None)
            fallback_obj[pending[better]] = obj[better]
            pending = pending[~ok]
    unsolved = ~np.isfinite(best_obj)
    best_w[unsolved] = fallback_w[unsolved]
    best_w = best_w / best_w.sum(axis=1, keepdims=True)
    best_w[~finite] = np.nan
    return best_w

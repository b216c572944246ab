"""Money-weighted return (XIRR) for many cash-flow series at once.

Each series is a group of (time in years, cash flow) rows — investor's view: money paid in is negative,
money received (and the closing value) positive. The annual rate r solves Σ cf_i (1 + r)^(−t_i) = 0.
We solve for x = ln(1 + r), where the NPV is a sum of exponentials, with Newton steps safeguarded by a
bracket that bisection keeps (`rtsafe`), all groups in one vectorized loop over the still-unsolved ones.
A group without a sign change in its NPV over r ∈ (−99.99%, 10,000%) has no rate there: NaN.

Tests check every rate against `scipy.optimize.brentq` on the same NPV, group by group.
"""

from __future__ import annotations

import numpy as np

X_LOW = float(np.log1p(-0.9999))  # r = −99.99% a year
X_HIGH = float(np.log1p(1e4))  # r = 10,000% a year
MAX_ITER = 80
TOL = 1e-12


def npv(x: np.ndarray, group: np.ndarray, t: np.ndarray, cf: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(NPV, d NPV / dx) per group at x = ln(1 + r) (x given per group)."""
    disc = np.exp(-x[group] * t)
    value = np.bincount(group, weights=cf * disc, minlength=n)
    slope = np.bincount(group, weights=-cf * t * disc, minlength=n)
    return value, slope


def xirr(group: np.ndarray, t: np.ndarray, cf: np.ndarray, n: int) -> np.ndarray:
    """Annual money-weighted rate per group 0…n-1 (rows of a group need not be contiguous); NaN if none."""
    group = np.asarray(group, dtype=np.int64)
    t = np.asarray(t, dtype=float)
    cf = np.asarray(cf, dtype=float)
    scale = np.bincount(group, weights=np.abs(cf), minlength=n)
    lo = np.full(n, X_LOW)
    hi = np.full(n, X_HIGH)
    f_lo, _ = npv(lo, group, t, cf, n)
    f_hi, _ = npv(hi, group, t, cf, n)
    ok = (scale > 0) & (np.sign(f_lo) * np.sign(f_hi) < 0)
    # orient so that f(lo) < 0 < f(hi)
    flip = f_lo > 0
    lo, hi = np.where(flip, hi, lo), np.where(flip, lo, hi)
    # start from the simple return spread over the average time money was invested
    paid = -np.bincount(group, weights=np.minimum(cf, 0.0), minlength=n)
    got = np.bincount(group, weights=np.maximum(cf, 0.0), minlength=n)
    span = np.bincount(group, weights=t * np.abs(cf), minlength=n) / np.maximum(scale, 1e-300)
    ratio = np.divide(got, paid, out=np.ones(n), where=(paid > 0) & (got > 0))
    guess = np.log(ratio) / np.maximum(span, 1.0 / 365.0)
    x = np.clip(np.where(np.isfinite(guess), guess, 0.0), X_LOW + 1e-6, X_HIGH - 1e-6)
    out = np.full(n, np.nan)
    active = np.flatnonzero(ok)
    step_prev = np.abs(hi - lo)
    for _ in range(MAX_ITER):
        if not len(active):
            break
        is_active = np.zeros(n, dtype=bool)
        is_active[active] = True
        rows = is_active[group]
        local = np.full(n, -1, dtype=np.int64)
        local[active] = np.arange(len(active))
        g = local[group[rows]]
        f, df = npv(x[active], g, t[rows], cf[rows], len(active))
        a_lo, a_hi, a_x = lo[active], hi[active], x[active]
        neg = f < 0
        a_lo = np.where(neg, a_x, a_lo)
        a_hi = np.where(neg, a_hi, a_x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = a_x - f / df
        inside = np.isfinite(newton) & ((newton - a_lo) * (newton - a_hi) < 0)
        shrinking = np.abs(newton - a_x) < 0.5 * step_prev[active]
        bisect = 0.5 * (a_lo + a_hi)
        x_new = np.where(inside & shrinking, newton, bisect)
        step_prev[active] = np.abs(x_new - a_x)
        at_root = np.abs(f) <= TOL * scale[active]
        x_new = np.where(at_root, a_x, x_new)
        done = at_root | (np.abs(x_new - a_x) < 1e-11) | (np.abs(a_hi - a_lo) < 1e-13)
        lo[active], hi[active], x[active] = a_lo, a_hi, x_new
        out[active[done]] = x_new[done]
        active = active[~done]
    return np.expm1(out)

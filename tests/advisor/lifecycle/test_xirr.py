"""The vectorized XIRR solver against scipy's brentq, series by series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from advisor.lifecycle.xirr import xirr


def reference(t: np.ndarray, cf: np.ndarray) -> float:
    f = lambda r: float(np.sum(cf * (1.0 + r) ** (-t)))  # noqa: E731
    if f(-0.9999) * f(1e4) > 0:
        return float("nan")
    return brentq(f, -0.9999, 1e4, xtol=1e-14, maxiter=500)


def test_many_random_series_agree_with_brentq():
    rng = np.random.default_rng(7)
    n = 400
    groups, times, flows, expected = [], [], [], []
    for g in range(n):
        k = int(rng.integers(2, 14))
        t = np.sort(rng.uniform(0, 6, k))
        t[0] = 0.0
        cf = -rng.gamma(2.0, 1000.0, k)  # deposits …
        growth = np.exp(rng.normal(0.05, 0.25) * (t[-1] - t))
        cf[-1] = float(-(cf[:-1] * growth[:-1]).sum()) * rng.uniform(0.5, 1.6)  # … and a closing value
        if rng.random() < 0.3:  # some withdrawals on the way
            j = int(rng.integers(1, k - 1)) if k > 2 else 0
            cf[j] = abs(cf[j]) * 0.3
        groups.append(np.full(k, g))
        times.append(t)
        flows.append(cf)
        expected.append(reference(t, cf))
    got = xirr(np.concatenate(groups), np.concatenate(times), np.concatenate(flows), n)
    assert np.isfinite(expected).sum() > 0.9 * n
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_series_without_a_root_give_nan_and_do_not_disturb_the_others():
    group = np.array([0, 0, 1, 1, 2, 2])
    t = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 2.0])
    cf = np.array([-100.0, -5.0, -100.0, 110.0, -100.0, 121.0])  # group 0 only pays in
    got = xirr(group, t, cf, 3)
    assert np.isnan(got[0])
    assert got[1] == pytest.approx(0.10, abs=1e-12)
    assert got[2] == pytest.approx(0.10, abs=1e-12)

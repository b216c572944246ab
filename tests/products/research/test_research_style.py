"""Style analysis: the batched solver against cvxpy and scipy, known loadings, drift, real funds."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from products.errors import BadInputError, NotFoundError
from products.research import STYLE_NAMES, holdings_tilts, rolling_style, style_analysis
from products.research.style_qp import solve_simplex_qp


def _random_problems(n: int, k: int = 7, t: int = 52, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, t, k)) * np.array([0.02, 0.025, 0.003, 0.01, 0.012, 0.015, 1e-5])[:k]
    x[:, :, 1] += 0.9 * x[:, :, 0]  # collinear styles, as large and mid-small caps are
    w = rng.dirichlet(np.full(k, 0.5), size=n)
    y = np.einsum("ntk,nk->nt", x, w) + rng.normal(size=(n, t)) * 0.006
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    return np.einsum("nti,ntj->nij", xc, xc), np.einsum("nti,nt->ni", xc, yc)


def test_batched_solver_matches_cvxpy_to_1e6():
    G, c = _random_problems(40)
    w = solve_simplex_qp(G, c)
    assert np.all(w >= 0) and np.allclose(w.sum(axis=1), 1.0)
    for i in range(len(c)):
        v = cp.Variable(7)
        cp.Problem(cp.Minimize(0.5 * cp.quad_form(v, cp.psd_wrap(G[i])) - c[i] @ v), [v >= 0, cp.sum(v) == 1]) \
            .solve(solver="CLARABEL", tol_gap_abs=1e-14, tol_gap_rel=1e-14, tol_feas=1e-14)
        np.testing.assert_allclose(w[i], v.value, atol=1e-6)


def test_batched_solver_matches_scipy_objective():
    G, c = _random_problems(30, seed=11)
    w = solve_simplex_qp(G, c)
    for i in range(len(c)):
        res = minimize(lambda v, i=i: 0.5 * v @ G[i] @ v - c[i] @ v, np.full(7, 1 / 7),
                       jac=lambda v, i=i: G[i] @ v - c[i], bounds=[(0, 1)] * 7, method="SLSQP",
                       constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
                       options={"ftol": 1e-16, "maxiter": 1000})
        ours = 0.5 * w[i] @ G[i] @ w[i] - c[i] @ w[i]
        assert ours <= res.fun + 1e-12  # never worse than SLSQP
        np.testing.assert_allclose(w[i], res.x, atol=1e-5)


def test_solver_edge_cases():
    G = np.tile(np.eye(3), (3, 1, 1))
    c = np.array([[5.0, 0, 0], [0, 0, 0], [np.nan, 0, 0]])
    w = solve_simplex_qp(G, c)
    np.testing.assert_allclose(w[0], [1, 0, 0], atol=1e-12)  # corner solution
    np.testing.assert_allclose(w[1], [1 / 3] * 3, atol=1e-12)  # interior solution
    assert np.isnan(w[2]).all()  # bad input is NaN, not a crash


def test_known_mix_is_recovered(synthetic_universe):
    style = style_analysis(synthetic_universe, ["300001", "200001", "300002"])
    assert list(style.columns[:len(STYLE_NAMES)]) == list(STYLE_NAMES)
    mix = style.loc["300001"]
    assert mix["cn_large_cap"] == pytest.approx(0.6, abs=0.01) and mix["cn_bond"] == pytest.approx(0.4, abs=0.01)
    assert mix["r_squared"] > 0.999
    assert style.loc["300002", "cn_large_cap"] > 0.9 and style.loc["300002", "r_squared"] > 0.9
    bond = style.loc["200001"]
    assert bond["cn_bond"] + bond["cash"] > 0.95


def test_drift_flags_a_style_switch(synthetic_universe):
    style = style_analysis(synthetic_universe, ["300001", "300008"])
    assert style.loc["300008", "drift"] > 0.2 > style.loc["300001", "drift"]
    history = rolling_style(synthetic_universe, ["300008"])
    assert history.iloc[0]["cn_large_cap"] > 0.9 and history.iloc[-1]["gold"] > 0.9


def test_point_in_time_and_errors(synthetic_universe):
    early = style_analysis(synthetic_universe, ["300008"], as_of="2023-06-30")
    assert early.loc["300008", "window_end"] <= pd.Timestamp("2023-06-30")
    assert early.loc["300008", "cn_large_cap"] > 0.9  # the switch to gold happened later
    with pytest.raises(NotFoundError):
        style_analysis(synthetic_universe, ["999999"])
    with pytest.raises(BadInputError):
        style_analysis(synthetic_universe, ["300001"], window=20)


def test_holdings_tilts(synthetic_universe):
    tilts = holdings_tilts(synthetic_universe, ["100001", "100003", "100004"], quarter="2024-Q3")
    boards = tilts["boards"]
    assert boards.loc["100003", "chinext"] == pytest.approx(0.5)  # 300750
    assert boards.loc["100004", "star"] == pytest.approx(1 / 3) and boards.loc["100004", "overseas"] == \
        pytest.approx(2 / 3)
    assert boards.loc["100001", "HK"] == pytest.approx(0.05 / 0.23)
    tilt = tilts["industry_tilt"]
    assert tilt.loc["100001", "银行"] > 0 > tilt.loc["100004", "银行"]
    np.testing.assert_allclose(tilt.sum(axis=1), 0.0, atol=1e-12)  # mixes minus the average mix


# ---------------------------------------------------------------------------------------------
# Real data: what an analyst checks by hand
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_style(real_universe) -> pd.DataFrame:
    funds = real_universe.funds
    codes = [*funds.index[funds["fund_type"].isin(["gold", "bond", "bond_index"])],
             "000051", "000613", "000312", "000008", "000962"]
    return style_analysis(real_universe, codes).join(funds[["name", "fund_type"]])


def test_real_csi300_index_funds_load_on_large_caps(real_style):
    # 华夏 / 国寿安保沪深300ETF联接, 华安沪深300增强
    for code in ("000051", "000613", "000312"):
        assert real_style.loc[code, "cn_large_cap"] > 0.8, code
        assert real_style.loc[code, "r_squared"] > 0.9, code


def test_real_csi500_index_funds_load_on_mid_small_caps(real_style):
    for code in ("000008", "000962"):  # 嘉实中证500ETF联接, 天弘中证500指数A
        row = real_style.loc[code]
        assert row["cn_mid_small_cap"] > 0.75 and row["r_squared"] > 0.9, code


def test_real_gold_feeders_load_on_gold(real_style):
    gold = real_style[real_style["fund_type"] == "gold"]
    assert len(gold) >= 5
    assert (gold["gold"] > 0.9).all() and (gold["r_squared"] > 0.95).all()


def test_real_bond_funds_load_on_fixed_income(real_style):
    bonds = real_style[real_style["fund_type"].isin(["bond", "bond_index"])].dropna(subset=["cn_bond"])
    fixed_income = bonds["cn_bond"] + bonds["cash"]
    assert fixed_income.median() > 0.9
    index = real_style[real_style["fund_type"] == "bond_index"]
    explained = index.dropna(subset=["cn_bond"])  # a few payout days booked as losses can leave one unexplained
    assert len(explained) >= 0.8 * len(index)
    assert explained["cn_bond"].mean() > 0.5
    assert (explained["cn_large_cap"] + explained["cn_mid_small_cap"] < 0.05).all()


def test_real_nasdaq_qdii_load_on_us_tech(real_universe):
    # 广发纳指100ETF联接 / 大成纳斯达克100ETF联接: Nasdaq-100 feeders, judged over the windows since 2023
    history = rolling_style(real_universe, ["000055", "000834"])
    recent = history[history["end"] >= pd.Timestamp("2023-01-01")]
    median = recent.groupby("code")[list(STYLE_NAMES)].median()
    assert (median.idxmax(axis=1) == "us_tech").all()
    assert (median["us_tech"] > 0.8).all()
    assert (recent.groupby("code")["r_squared"].median() > 0.85).all()
    latest = style_analysis(real_universe, ["000055", "000834"])
    assert (latest[list(STYLE_NAMES)].idxmax(axis=1) == "us_tech").all()


def test_a_fund_the_styles_cannot_explain_is_unexplained_not_cash(synthetic_universe):
    """Pure noise: R² near 0, so no weights are reported (a fit would put it in cash) and the card says so."""
    import dataclasses

    from products.research import research_card

    returns = synthetic_universe.returns.copy()
    returns["300003"] = np.random.default_rng(5).normal(0, 0.01, len(returns))
    noisy = dataclasses.replace(synthetic_universe, returns=returns)
    row = style_analysis(noisy, ["300003", "300002"]).loc["300003"]
    assert row["r_squared"] < 0.3 and not row["explained"] and row["unexplained"] > 0.7
    assert row[list(STYLE_NAMES)].isna().all()
    card = research_card(noisy, "300003")["style"]
    assert card["weights"] == {} and card["warning"]["code"] == "style_unexplained"
    assert "R²" in card["warning"]["zh"] and "not cash" in card["warning"]["en"]


def test_bond_funds_get_a_bond_style(synthetic_universe):
    style = style_analysis(synthetic_universe, ["200001", "300001"])
    bond = style.loc["200001"]  # 60 % bonds + 40 % cash
    assert bond["duration_years"] == pytest.approx(bond["cn_bond"] * 8.0)
    assert bond["equity_share"] < 0.05
    assert np.isnan(style.loc["300001", "duration_years"])  # an index fund has no bond style


def test_real_style_rules(real_universe):
    """Every fund: low R² → no weights; bond-type funds → duration and equity share; Hang Seng trackers load
    on the Hang Seng series."""
    from products.benchmark import benchmark_specs

    style = style_analysis(real_universe)
    low = style["r_squared"] < 0.3
    assert low.sum() >= 10 and style.loc[low, list(STYLE_NAMES)].isna().all().all()
    assert style.loc[~low & style["r_squared"].notna(), "cn_large_cap"].notna().all()
    types = real_universe.funds["fund_type"].reindex(style.index)
    bonds = style[types.isin(["bond", "bond_index", "convertible", "mixed_bond"]) & ~low]
    assert len(bonds) >= 50 and bonds[["duration_years", "equity_share"]].notna().all().all()
    specs = benchmark_specs(real_universe)  # funds benchmarked on the Hang Seng Index itself (not a variant)
    hk = [c for c, spec in specs.items() if sum(t.weight for t in spec.terms
                                                if t.exact and t.series == {"hk_equity": 1.0}) >= 0.9]
    assert len(hk) >= 3
    for code in hk:
        assert style.loc[code, list(STYLE_NAMES)].idxmax() == "hk_equity", code
        assert style.loc[code, "r_squared"] > 0.8

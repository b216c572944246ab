"""Investment style: returns-based style analysis (Sharpe 1992) and holdings-based tilts.

Returns-based: over a rolling window, fund returns are regressed on the style index returns
(`universe.benchmarks`: cn_large_cap, cn_mid_small_cap, cn_bond, gold, us_equity, us_tech, cash) with
weights ≥ 0 that sum to 1, minimizing the variance of the residual (the fund's "selection" return).
The fit uses weekly (Friday) returns: QDII NAVs and the style ETFs close on different clocks and
daily noise would bias the loadings. R² = 1 − Var(residual) / Var(fund). Style drift = the average
distance ½Σ|w_t − w̄| of the rolling weights from their mean over the last 3 years (0 = constant style).
All funds and all windows are solved at once by `products.research.style_qp.solve_simplex_qp`.

Holdings-based (where top-10 holdings exist): industry tilt of the disclosed stocks against the
average fund of that quarter, and the board mix (main board / ChiNext / STAR / Beijing / HK /
overseas) as a growth & size proxy — the holdings data has no market caps, so no size box is claimed.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from products.errors import BadInputError, NotFoundError
from products.research._common import cached, to_timestamp
from products.research.style_qp import solve_simplex_qp
from products.universe import BENCHMARK_NAMES, CORE_BENCHMARKS, Universe

OPTIONAL_STYLES: tuple[str, ...] = ("hk_equity",)  # in the basis where the universe has the series
STYLE_NAMES: tuple[str, ...] = (*CORE_BENCHMARKS, *OPTIONAL_STYLES)  # stable output names, fixed order
STYLE_NAMES_ZH: dict[str, str] = {
    "cn_large_cap": "A股大盘", "cn_mid_small_cap": "A股中小盘", "cn_bond": "中国债券", "gold": "黄金",
    "us_equity": "美股", "us_tech": "美股科技", "cash": "现金", "hk_equity": "港股",
}
STYLE_NAMES_EN: dict[str, str] = {
    "cn_large_cap": "China large caps", "cn_mid_small_cap": "China mid and small caps", "cn_bond": "China bonds",
    "gold": "gold", "us_equity": "US equity", "us_tech": "US tech", "cash": "cash", "hk_equity": "Hong Kong equity",
}
# Below this R² the style series do not explain the fund: its weights are not reported (they would read as
# "cash" or noise), the window is `unexplained`, and it does not count toward style drift.
MIN_R_SQUARED = 0.3
BOND_TYPES = ("bond", "bond_index", "convertible", "mixed_bond")
BOND_PROXY_DURATION = 8.0  # years: the modified duration of the 10-year treasury series (511260)
EQUITY_STYLES = ("cn_large_cap", "cn_mid_small_cap", "us_equity", "us_tech", "hk_equity")


def style_label(name: str, lang: str = "zh") -> str:
    """The reader's name of a style series (`lang` "zh" or "en"); an unnamed series shows its benchmark name."""
    names = STYLE_NAMES_ZH if lang == "zh" else STYLE_NAMES_EN
    return names.get(name) or BENCHMARK_NAMES.get(name, name)
FOREIGN_STYLES = ("us_equity", "us_tech")  # may be China-listed ETFs that price the foreign close a day late
WEEKS_PER_YEAR = 52
MIN_COVERAGE = 0.8  # share of the window's weeks a fund must have
DRIFT_YEARS = 3


def weekly_returns(prices_or_returns: pd.DataFrame, *, are_returns: bool) -> pd.DataFrame:
    """Friday-to-Friday returns; a week with no observation is NaN."""
    if are_returns:
        log = np.log1p(prices_or_returns)
        weekly = log.resample("W-FRI").sum(min_count=1)
        return np.expm1(weekly)
    levels = prices_or_returns.resample("W-FRI").last()
    return levels.pct_change(fill_method=None)


def _style_returns(universe: Universe, last_day: pd.Timestamp) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Weekly style returns from the benchmark levels known at `last_day`, and the last day they use.

    A QDII NAV dated T is valued at the foreign close of T. If the foreign styles are China-listed ETFs
    (513500, 513100), that close first shows in their price on the next China trading day, so those series
    are moved one observation earlier; US-dated series (SPY / QQQ) are not moved. The lag per style is the
    one `products.benchmark.style_lags` detects on the data (a property of the data source, decided once
    per universe); measured with the China-listed ETFs, the shift raised QDII R² from ~0.62 to ~0.75.
    """
    bench = _style_basis(universe)
    names = basis_names(universe)
    levels = bench[names].sort_index().loc[:last_day].copy()
    if len(levels) < 2:
        raise BadInputError(f"no style data on or before {last_day.date()}", code="style_basis_missing",
                            details={"as_of": str(last_day.date())})
    lags = _foreign_lags(universe)
    for style in FOREIGN_STYLES:
        if lags.get(style, 0) and style in levels:
            own = levels[style].dropna()
            levels[style] = own.shift(-lags[style]).reindex(levels.index)
    if any(lags.get(style, 0) for style in FOREIGN_STYLES):
        levels = levels.iloc[:-1]  # the last day has no next-day foreign close yet
    ends = [levels[c].last_valid_index() for c in names]
    if any(e is None for e in ends):
        raise BadInputError(f"no style data on or before {last_day.date()}", code="style_basis_missing",
                            details={"as_of": str(last_day.date())})
    basis_end = min(ends)  # the last day every style is known: the fund side is cut there too
    return weekly_returns(levels.loc[:basis_end], are_returns=False), basis_end


def _style_basis(universe: Universe) -> pd.DataFrame:
    """The benchmark levels, or a clear `style_basis_missing` error when style cannot be computed."""
    bench = universe.benchmarks
    if bench is None or bench.empty or bench.dropna(how="all").empty or universe.returns.empty:
        what = "fund returns" if universe.returns.empty else "style benchmark series (benchmarks table empty or absent)"
        raise BadInputError(f"style unavailable: the data has no {what} / 缺少风格基准数据，风格分析不可用",
                            code="style_basis_missing", details={"missing": what})
    missing = [s for s in CORE_BENCHMARKS if s not in bench.columns]
    if missing:
        raise BadInputError(f"style basis incomplete: benchmarks lack {missing}", code="style_basis_missing",
                            details={"missing": missing})
    return bench


def basis_names(universe: Universe) -> list[str]:
    """The style series this universe's basis uses: the core ones, and the optional ones it has data for."""
    bench = universe.benchmarks
    return [*CORE_BENCHMARKS, *(s for s in OPTIONAL_STYLES if s in bench and bench[s].notna().any())]


def _foreign_lags(universe: Universe) -> dict[str, int]:
    """Observations by which each foreign style trails the QDII NAV calendar (0 when undecidable)."""
    try:
        from products.benchmark import style_lags
    except ImportError:  # pragma: no cover - the analytics package ships it
        return {}
    try:
        return {k: int(v) for k, v in style_lags(universe).items()}
    except (KeyError, ValueError):
        return {}


def _weeks(window: int) -> int:
    if window < 60:
        raise BadInputError("style window must be at least 60 trading days", details={"window": window})
    return round(window * WEEKS_PER_YEAR / 252)


def rolling_style(universe: Universe, codes: list[str] | None = None, window: int = 252, step: int = 21,
                  as_of: date | str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Style weights and R² of every fund in every rolling window ending at or before `as_of`.

    `window` and `step` are in trading days (converted to weeks). Long DataFrame: `end` (window end),
    `code`, the style weights by name, `r_squared`, `n_weeks`. Windows where a fund has under 80% of
    the weeks are left out.
    """
    ts = to_timestamp(as_of)
    code_list = _codes(universe, codes)
    key = (tuple(code_list), window, step, None if ts is None else ts.isoformat())
    return cached("rolling_style", universe, key, lambda: _rolling_style(universe, code_list, window, step, ts))


def _codes(universe: Universe, codes: list[str] | None) -> list[str]:
    if codes is None:
        return list(universe.codes)
    code_list = [str(c) for c in codes]
    unknown = [c for c in code_list if c not in universe.code_index]
    if unknown:
        raise NotFoundError(f"fund(s) {unknown} are not in the universe", code="fund_not_found",
                            details={"codes": unknown})
    return code_list


def _rolling_style(universe: Universe, codes: list[str], window: int, step: int,
                   as_of: pd.Timestamp | None) -> pd.DataFrame:
    weeks = _weeks(window)
    step_weeks = max(1, round(step / 5))
    bench = _style_basis(universe)
    last_day = min(universe.returns.index[-1], bench.index[-1])
    if as_of is not None:
        last_day = min(last_day, as_of)
    styles, basis_end = _style_returns(universe, last_day)
    funds = weekly_returns(universe.returns[codes].loc[:basis_end], are_returns=True)  # same days as the basis
    styles = styles.dropna(how="any")  # weeks where the whole basis is known
    funds = funds.reindex(styles.index)
    X = styles.to_numpy()  # (T, k)
    Y = funds.to_numpy()  # (T, n)
    T, k = X.shape
    n = Y.shape[1]
    ends = np.arange(T - 1, weeks - 2, -step_weeks)[::-1]  # window end positions, the last one included
    if len(ends) == 0 or n == 0:
        return pd.DataFrame(columns=["end", "code", *STYLE_NAMES, "r_squared", "n_weeks"])
    G_all, c_all, var_all, cnt_all = [], [], [], []
    for e in ends:  # a loop over time windows (~100), each vectorized over all funds
        x = X[e - weeks + 1: e + 1]
        y = Y[e - weeks + 1: e + 1]
        m = np.isfinite(y).astype(float)
        y0 = np.nan_to_num(y)
        cnt = m.sum(axis=0)
        safe = np.maximum(cnt, 1.0)
        sx = m.T @ x  # (n, k) masked sums
        sy = y0.sum(axis=0)
        sxx = np.einsum("tn,ti,tj->nij", m, x, x)
        sxy = np.einsum("tn,ti->ni", y0, x)
        syy = (y0 * y0).sum(axis=0)
        G_all.append(sxx - sx[:, :, None] * sx[:, None, :] / safe[:, None, None])
        c_all.append(sxy - sx * (sy / safe)[:, None])
        var_all.append(syy - sy * sy / safe)
        cnt_all.append(cnt)
    G = np.concatenate(G_all)  # (W·n, k, k), window-major
    c = np.concatenate(c_all)
    var_y = np.concatenate(var_all)
    count = np.concatenate(cnt_all)
    usable = (count >= MIN_COVERAGE * weeks) & (var_y > 0)
    w = np.full((len(c), k), np.nan)
    if usable.any():
        w[usable] = solve_simplex_qp(G[usable], c[usable])
    resid = var_y - 2 * np.einsum("ni,ni->n", w, c) + np.einsum("ni,nij,nj->n", w, G, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.clip(1.0 - resid / var_y, 0.0, 1.0)
    out = pd.DataFrame(w, columns=list(styles.columns)).reindex(columns=list(STYLE_NAMES))
    out.insert(0, "code", np.tile(np.asarray(codes, dtype=object), len(ends)))
    out.insert(0, "end", np.repeat(styles.index[ends].to_numpy(), n))
    out["r_squared"] = r2
    out["n_weeks"] = count.astype(int)
    return out[usable].reset_index(drop=True)


def style_analysis(universe: Universe, codes: list[str] | None = None, window: int = 252, step: int = 21,
                   as_of: date | str | pd.Timestamp | None = None,
                   min_r_squared: float = MIN_R_SQUARED) -> pd.DataFrame:
    """Latest style of each fund: weights by style name, `r_squared`, `unexplained` (1 − R²), `explained`,
    `drift`, `window_end`, `n_windows`, and for bond-type funds `duration_years` and `equity_share`.

    A latest window with R² below `min_r_squared` is unexplained: its weights are NaN (not "cash"), and
    drift counts only explained windows. Funds without a full enough window get NaN weights (still listed).
    Bond style (returns-based, an estimate): `duration_years` = the 10-year treasury weight × its duration
    (`BOND_PROXY_DURATION`), `equity_share` = the equity styles' weight.
    """
    code_list = _codes(universe, codes)
    history = rolling_style(universe, code_list, window, step, as_of)
    out = pd.DataFrame(index=pd.Index(code_list, name="code"),
                       columns=[*STYLE_NAMES, "r_squared", "unexplained", "explained", "drift", "window_end",
                                "n_windows", "duration_years", "equity_share"], dtype=float)
    out["window_end"] = pd.NaT
    out["explained"] = False
    if history.empty:
        return out
    latest = history.sort_values("end").drop_duplicates("code", keep="last").set_index("code")
    out.loc[latest.index, [*STYLE_NAMES, "r_squared"]] = latest[[*STYLE_NAMES, "r_squared"]].to_numpy()
    out.loc[latest.index, "window_end"] = latest["end"]
    out["unexplained"] = 1.0 - out["r_squared"]
    explained = out["r_squared"] >= min_r_squared
    out["explained"] = explained
    out.loc[~explained, list(STYLE_NAMES)] = np.nan
    drift = style_drift(history[history["r_squared"] >= min_r_squared])
    out["drift"] = drift.reindex(out.index).to_numpy()
    out["n_windows"] = history.groupby("code").size().reindex(out.index).fillna(0).to_numpy()
    types = universe.funds["fund_type"].reindex(out.index).astype(str)
    bond = types.isin(BOND_TYPES) & explained
    out.loc[bond, "duration_years"] = out.loc[bond, "cn_bond"] * BOND_PROXY_DURATION
    out.loc[bond, "equity_share"] = out.loc[bond, list(EQUITY_STYLES)].fillna(0.0).sum(axis=1)
    return out


def bond_style_label(duration_years: float, equity_share: float, lang: str = "zh") -> str:
    """A bond fund's style in words: equity-enhanced (固收+) from 20 % equity, else by duration."""
    if not (np.isfinite(duration_years) and np.isfinite(equity_share)):
        return ""
    if equity_share >= 0.2:
        return f"固收+（权益约{equity_share:.0%}）" if lang == "zh" else f"bond plus equity (about {equity_share:.0%})"
    if duration_years < 2:
        return "短久期债券" if lang == "zh" else "short duration"
    if duration_years < 5:
        return "中等久期债券" if lang == "zh" else "medium duration"
    return "长久期债券" if lang == "zh" else "long duration"


def style_drift(history: pd.DataFrame, years: float = DRIFT_YEARS) -> pd.Series:
    """Per fund: mean over the windows of the last `years` of ½Σ|w_t − w̄| (w̄ = their mean weights)."""
    if history.empty:
        return pd.Series(dtype=float)
    cutoff = history.groupby("code")["end"].transform("max") - pd.DateOffset(years=years)
    recent = history[history["end"] > cutoff]
    weights = recent[list(STYLE_NAMES)].fillna(0.0)
    mean = weights.groupby(recent["code"]).transform("mean")
    distance = 0.5 * (weights - mean).abs().sum(axis=1)
    return distance.groupby(recent["code"]).mean()


# ---------------------------------------------------------------------------------------------
# Holdings-based tilts
# ---------------------------------------------------------------------------------------------

BOARDS = ("main_board", "chinext", "star", "beijing", "HK", "overseas")
BOARD_NAMES_ZH = {"main_board": "主板", "chinext": "创业板", "star": "科创板", "beijing": "北交所",
                  "HK": "港股", "overseas": "海外"}


def board_of(stock_codes: pd.Series, markets: pd.Series) -> pd.Series:
    """Board from the market and the A-share code prefix (300/301 ChiNext, 688/689 STAR, 8/4/92 Beijing)."""
    code = stock_codes.astype(str)
    market = markets.astype(str)
    board = np.select(
        [market.str.contains("港") | market.eq("HK"), ~(market.str.contains("A") | market.str.contains("沪")
                                                        | market.str.contains("深")),
         code.str.match(r"^30[01]"), code.str.match(r"^68[89]"), code.str.match(r"^(8|4|92)")],
        ["HK", "overseas", "chinext", "star", "beijing"], default="main_board")
    return pd.Series(board, index=stock_codes.index)


def holdings_tilts(universe: Universe, codes: list[str] | None = None, quarter: object = None,
                   as_of: date | str | pd.Timestamp | None = None) -> dict[str, pd.DataFrame]:
    """Holdings-based style of funds with disclosed stocks.

    `industry_tilt`: fund × SW L1 share of the disclosed stocks minus the average fund's share in the
    same quarter (percentage points as fractions; + = overweight). `boards`: fund × board share of the
    disclosed stocks; `growth_share` = ChiNext + STAR.
    """
    from products.research.lookthrough import SPECIAL_BUCKETS, clean_holdings, look_through

    result = look_through(universe, codes, quarter, as_of)
    industries = result.industries
    stock_cols = [c for c in industries.columns if c not in SPECIAL_BUCKETS or c in ("HK", "overseas")]
    disclosed = industries[stock_cols]
    total = disclosed.sum(axis=1)
    mix = disclosed.div(total.where(total > 0), axis=0)
    clean = clean_holdings(universe)
    quarters = result.summary["as_of"].dropna().unique()
    # average fund per quarter: each fund's disclosed-stock mix, equally weighted
    rows = clean.holdings[clean.holdings["quarter_end"].isin(quarters)]
    per_fund = rows.pivot_table(index=["quarter_end", "fund_code"], columns="bucket", values="weight",
                                aggfunc="sum", fill_value=0.0, observed=True)
    per_fund = per_fund.div(per_fund.sum(axis=1), axis=0)
    average = per_fund.groupby(level="quarter_end").mean()
    fund_quarter = result.summary["as_of"].reindex(mix.index)
    avg_rows = average.reindex(columns=mix.columns, fill_value=0.0).reindex(fund_quarter.to_numpy())
    avg_rows.index = mix.index
    tilt = mix - avg_rows.fillna(0.0)

    top = result.top_stocks
    board = board_of(top["stock_code"], top["market"])
    boards = top.assign(board=board).pivot_table(index="code", columns="board", values="weight",
                                                 aggfunc="sum", fill_value=0.0)
    boards = boards.reindex(columns=list(BOARDS), fill_value=0.0)
    boards = boards.div(boards.sum(axis=1).where(lambda s: s > 0), axis=0).reindex(mix.index)
    boards["growth_share"] = boards["chinext"] + boards["star"]
    return {"industry_tilt": tilt, "boards": boards}

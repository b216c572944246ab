"""The 8-dimension fund leaderboard (基金大数据榜单): peer-group percentiles → composite → 1–5 stars.

Every dimension is a percentile (0–100, 100 = best) inside the fund's peer group, computed over the
trailing rating window (3 years) that ends at `as_of`; only data up to `as_of` is read (returns, fund
inception, manager start). Funds with under 3 years of history are listed but unrated. Formulas are in
docs/research-methodology.md. All funds are computed at once: metrics come from
`products.analytics.compute_metrics` over the whole returns matrix, the rest is numpy / groupby.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from products.errors import BadInputError
from products.research._common import (
    MARKET_NEUTRAL_GROUP,
    MIN_PEERS,
    PEER_GROUP_FALLBACK,
    PEER_GROUP_OF_TYPE,
    SECTOR_INDEX_GROUP,
    SECTOR_INDEX_TYPES,
    cached,
    first_observation,
    peer_percentile,
    to_timestamp,
)
from products.share_classes import returns_in_currency, to_yuan, yuan_class_of
from products.taxonomy import modelled_mask
from products.universe import Universe

DIMENSIONS: tuple[str, ...] = (
    "consistency",  # beats its benchmark month after month and over rolling 12-month windows
    "excess_return",  # annualized return above its benchmark
    "drawdown_control",  # depth of the worst drawdown and how long it took to recover
    "volatility_control",  # annual volatility and downside deviation
    "risk_adjusted_return",  # Sharpe and Sortino
    "persistence",  # a good year followed by a good year
    "manager_stability",  # tenure of the longest-serving current manager
    "cost_and_scale",  # yearly cost and size inside a healthy band
)
DIMENSION_NAMES_ZH: dict[str, str] = {
    "consistency": "持续跑赢基准", "excess_return": "超额收益", "drawdown_control": "回撤控制",
    "volatility_control": "波动控制", "risk_adjusted_return": "风险调整收益", "persistence": "业绩持续性",
    "manager_stability": "经理稳定性", "cost_and_scale": "费用与规模",
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "consistency": 0.15, "excess_return": 0.15, "drawdown_control": 0.15, "volatility_control": 0.10,
    "risk_adjusted_return": 0.20, "persistence": 0.10, "manager_stability": 0.05, "cost_and_scale": 0.10,
}
RATING_YEARS = 3
TRADING_DAYS = 252
HISTORY_TOLERANCE_DAYS = 10  # a NAV series may start a few days after the 3-year mark (holidays)
PERSISTENCE_YEARS = 5
# Size (亿元) inside which a fund is neither too small to be viable nor too large to stay nimble.
HEALTHY_AUM_BAND: dict[str, tuple[float, float]] = {"bond": (5.0, 300.0), "money_market": (10.0, 2000.0)}
DEFAULT_AUM_BAND = (2.0, 100.0)
FRONT_LOAD_HOLDING_YEARS = 3.0  # the discounted first-tier subscription fee is spread over this hold
STAR_SPLIT = (0.10, 0.225, 0.35, 0.225, 0.10)  # 5★, 4★, 3★, 2★, 1★ (Morningstar)
# Index trackers whose daily returns differ by less than this tracking error (annualized) and whose
# yearly returns differ by less than TRACKING_MAX_GAP over the rating window deliver the same thing:
# they share one rating (the mean of their scores), so the stars do not split hairs in the fourth decimal.
TRACKING_MAX_ERROR = 0.01
TRACKING_MAX_GAP = 0.02
TRACKING_MIN_CORRELATION = 0.995  # so that low-volatility funds (bond indices) need the same index too


def peer_groups(universe: Universe, rated: pd.Series | None = None) -> pd.Series:
    """Peer group of every fund: by type, then by mandate (`products.research.mandate`: sector and theme
    index funds → `sector_index`, hedged funds → `market_neutral`); groups with fewer than MIN_PEERS rated
    funds join their fallback."""
    from products.research.mandate import focused_mask, text_mandates

    funds = universe.funds
    groups = funds["fund_type"].astype(str).map(PEER_GROUP_OF_TYPE).fillna("other")
    mandates = text_mandates(universe).reindex(funds.index)
    focused = focused_mask(mandates) & funds["fund_type"].astype(str).isin(SECTOR_INDEX_TYPES).to_numpy()
    groups = groups.where(~focused, SECTOR_INDEX_GROUP)
    groups = groups.where(~mandates["market_neutral"].fillna(False).astype(bool), MARKET_NEUTRAL_GROUP)
    if rated is None:
        return groups.rename("peer_group")
    for small, target in PEER_GROUP_FALLBACK.items():
        n_small = int((rated & (groups == small)).sum())
        if 0 < n_small < MIN_PEERS and (groups == target).any():
            groups = groups.where(groups != small, target)
    return groups.rename("peer_group")


def tracking_groups(window: pd.DataFrame, groups: pd.Series, passive: pd.Series, rated: pd.Series) -> pd.Series:
    """Label per fund (its own code, or the smallest code of its cluster): rated passive funds of one peer
    group whose returns over `window` are near-identical (tracking error ≤ TRACKING_MAX_ERROR, yearly
    return gap ≤ TRACKING_MAX_GAP and correlation ≥ TRACKING_MIN_CORRELATION with some member: single
    linkage) form one cluster."""
    labels = pd.Series(window.columns.astype(str), index=window.columns)
    candidates = (passive.reindex(window.columns).fillna(False).astype(bool)
                  & rated.reindex(window.columns).fillna(False).astype(bool))
    grouped = groups.reindex(window.columns)[candidates]
    for _, members in grouped.groupby(grouped):
        codes = list(members.index)
        if len(codes) < 2:
            continue
        values = window[codes].to_numpy(dtype=float)
        mask = np.isfinite(values)
        x = np.where(mask, values, 0.0)
        both = mask.T.astype(float) @ mask.astype(float)
        # Σ (a − b)² and Σ (a − b) over the days both funds report, for every pair at once
        xx = (x * x).T @ mask  # [a, b] = Σ a² over the days both report
        cross = x.T @ x
        sq = xx + xx.T - 2.0 * cross
        s_a = x.T @ mask  # [a, b] = Σ a over the days both report
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (s_a - s_a.T) / both
            var = (sq - both * mean * mean) / (both - 1.0)
            error = np.sqrt(np.clip(var, 0.0, None) * TRADING_DAYS)
            gap = np.abs(mean) * TRADING_DAYS
            cov = cross - s_a * s_a.T / both
            corr = cov / np.sqrt((xx - s_a * s_a / both) * (xx - s_a * s_a / both).T)
        linked = ((both >= TRADING_DAYS) & (error <= TRACKING_MAX_ERROR) & (gap <= TRACKING_MAX_GAP)
                  & (corr >= TRACKING_MIN_CORRELATION))
        _, component = connected_components(sparse.csr_matrix(np.triu(linked, 1)), directed=False)
        for k in np.unique(component):
            cluster = [codes[i] for i in np.flatnonzero(component == k)]
            if len(cluster) > 1:
                labels[cluster] = min(cluster)
    return labels


def normalize_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Validated dimension weights (unknown names, negatives or an all-zero set are errors), summing to 1."""
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    unknown = sorted(set(weights) - set(DIMENSIONS))
    if unknown:
        raise BadInputError(f"unknown leaderboard dimension(s) {unknown}; valid: {list(DIMENSIONS)}",
                            details={"weights": unknown})
    full = {d: float(weights.get(d, 0.0)) for d in DIMENSIONS}
    if any(not np.isfinite(v) or v < 0 for v in full.values()) or sum(full.values()) <= 0:
        raise BadInputError("dimension weights must be non-negative and not all zero",
                            details={"weights": {k: v for k, v in full.items() if v}})
    total = sum(full.values())
    return {d: v / total for d, v in full.items()}


def leaderboard(universe: Universe, as_of: date | str | pd.Timestamp | None = None,
                weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Rank every fund alive at `as_of` inside its peer group.

    Returns a DataFrame indexed by code with `name, category (peer group), fund_type, score (0–100),
    stars (1–5, NaN if unrated), rated, history_years` and the eight dimension percentiles, sorted by
    category then score. Cached per universe, date and weights.
    """
    wts = normalize_weights(weights)
    ts = to_timestamp(as_of)
    date_key = None if ts is None else ts.isoformat()
    key = (date_key, tuple(sorted(wts.items())))

    def build() -> pd.DataFrame:
        dims = cached("leaderboard_dimensions", universe, date_key, lambda: _dimensions(universe, ts))
        return _score(dims, wts)

    return cached("leaderboard", universe, key, build).copy()


def leaderboard_dimensions(universe: Universe, as_of: date | str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The leaderboard's dimension table before weighting (peer group, rated flag, the eight percentiles),
    as cached for `leaderboard`; a copy."""
    ts = to_timestamp(as_of)
    date_key = None if ts is None else ts.isoformat()
    return cached("leaderboard_dimensions", universe, date_key, lambda: _dimensions(universe, ts)).copy()


def adopt_dimensions(universe: Universe, dims: pd.DataFrame, as_of: date | str | pd.Timestamp | None = None) -> None:
    """Give `universe` the dimension table computed on another view of the same funds at the same date (e.g.
    a lighter copy with fewer rows of returns and no disclosures), so its leaderboard — and every rule that
    reads it — is that view's without being computed again. The funds must be the same, in the same order."""
    if not dims.index.equals(universe.funds.index[universe.funds.index.isin(dims.index)]):
        raise BadInputError("the adopted leaderboard lists other funds than the universe",
                            details={"field": "dims"})
    ts = to_timestamp(as_of)
    date_key = None if ts is None else ts.isoformat()
    table = dims.copy()
    cached("leaderboard_dimensions", universe, date_key, lambda: table)


def _score(dims: pd.DataFrame, wts: dict[str, float]) -> pd.DataFrame:
    """Composite score and stars from the dimension table (cheap: re-weighting needs no new metrics).

    A share class `rated_as` another (a dollar class of a yuan fund) is no peer: it takes that class's
    score and stars after the stars are dealt."""
    rated = dims["rated"]
    weight_vec = np.array([wts[d] for d in DIMENSIONS])
    score = pd.Series(dims[list(DIMENSIONS)].to_numpy() @ weight_vec, index=dims.index).where(rated)
    # near-identical index trackers share one rating: the mean score of their tracking group
    rating = score.groupby(dims["tracking_group"]).transform("mean").where(rated)
    # a dollar class carries its yuan class's score, rating and stars
    rated_as = dims["rated_as"] if "rated_as" in dims else pd.Series("", index=dims.index)
    as_class = rated_as.ne("").to_numpy()
    stars = assign_stars(rating.where(~as_class), dims["category"])
    if as_class.any():
        score[as_class] = score.reindex(rated_as[as_class]).to_numpy()
        rating[as_class] = rating.reindex(rated_as[as_class]).to_numpy()
        stars[as_class] = stars.reindex(rated_as[as_class]).to_numpy()
    table = dims.copy()
    table.insert(2, "score", score)
    table.insert(3, "stars", stars)
    table.insert(4, "rating_score", rating)
    table.attrs = {"as_of": dims.attrs["as_of"], "weights": wts}
    order = table.assign(_s=table["score"].fillna(-1.0)).reset_index().sort_values(
        ["category", "_s", "code"], ascending=[True, False, True], kind="stable")
    out = order.drop(columns="_s").set_index("code")
    out.attrs = table.attrs
    return out


def _dimensions(universe: Universe, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Peer group, rated flag and the eight dimension percentiles of every fund listed at `as_of`."""
    returns = universe.returns
    if returns.empty:
        raise BadInputError("the universe has no return series to rank")
    last = returns.index[-1]
    as_of = last if as_of is None else min(as_of, last)
    returns = returns.loc[:as_of]
    if returns.empty:
        raise BadInputError(f"no return data on or before {as_of.date()}: the data starts "
                            f"{universe.returns.index[0].date()}", details={"as_of": str(as_of.date())})
    funds = universe.funds
    returns = returns_in_currency(universe).loc[:as_of]  # dollar classes measured in yuan, like their peers
    first = first_observation(returns)
    inception = pd.to_datetime(funds["inception"], errors="coerce") if "inception" in funds else first
    listed = first.notna() & ~(inception > as_of)
    window_start = as_of - pd.DateOffset(years=RATING_YEARS)
    rated = listed & (first <= window_start + pd.Timedelta(days=HISTORY_TOLERANCE_DAYS))
    # placeholders (modelled money funds) are never ranked; a dollar class of a listed yuan fund is that
    # fund's share class, not its peer: it is rated as the yuan class (see `_score`)
    yuan_class = yuan_class_of(funds)
    rated_as = yuan_class.where(yuan_class.isin(listed.index[listed]), "")
    rated = rated & ~modelled_mask(funds) & rated_as.eq("")
    groups = peer_groups(universe, rated)
    group_size = rated.groupby(groups).transform("sum")
    rated = rated & (group_size >= MIN_PEERS)  # too few peers to rank against: listed, not rated

    raw = _raw_measures(universe, returns, window_start, as_of, groups, listed)

    def pct(col: str, higher: bool = True) -> pd.Series:
        return peer_percentile(raw[col], groups, rated, higher)

    def blend(*parts: pd.Series) -> pd.Series:
        return peer_percentile(pd.concat(parts, axis=1).mean(axis=1), groups, rated)

    dims = pd.DataFrame(index=funds.index)
    dims["consistency"] = blend(pct("monthly_win_rate"), pct("rolling_win_share"))
    dims["excess_return"] = pct("excess_return")
    dims["drawdown_control"] = blend(pct("max_drawdown"), pct("underwater_days", higher=False))
    dims["volatility_control"] = blend(pct("annual_volatility", higher=False),
                                       pct("downside_deviation", higher=False))
    dims["risk_adjusted_return"] = blend(pct("sharpe"), pct("sortino"))
    dims["persistence"] = pct("persistence")
    dims["manager_stability"] = pct("manager_tenure_years")
    dims["cost_and_scale"] = blend(pct("yearly_cost", higher=False), pct("size_fit"))

    from products.research.mandate import text_mandates

    passive = text_mandates(universe)["passive"].reindex(funds.index).fillna(False).astype(bool)
    window = returns.loc[returns.index > window_start]
    groups_of_own = tracking_groups(window, groups, passive, rated).reindex(funds.index)  # own ratings only
    if rated_as.ne("").any():  # the share class carries its yuan class's rating and dimensions
        cls = rated_as.ne("")
        dims.loc[cls] = dims.reindex(rated_as[cls]).to_numpy()
        rated = rated | (cls & rated.reindex(rated_as.where(cls, rated_as.index)).to_numpy())
        groups_of_own = groups_of_own.where(~cls, groups_of_own.reindex(rated_as.where(cls, "")).to_numpy())
    table = pd.DataFrame({
        "name": funds["name"], "category": groups, "fund_type": funds["fund_type"].astype(str), "rated": rated,
        "history_years": ((as_of - first).dt.days / 365.25).where(listed), "rated_as": rated_as,
        "tracking_group": groups_of_own,
    })
    table = pd.concat([table, dims], axis=1).loc[listed]
    table.index.name = "code"
    table.attrs["as_of"] = as_of.date().isoformat()
    return table


def assign_stars(score: pd.Series, groups: pd.Series) -> pd.Series:
    """1–5 stars inside each group by score rank: top 10% 5★, next 22.5% 4★, 35% 3★, 22.5% 2★, 10% 1★.

    The cut points are `n × cumulative share` rounded half up, so with distinct scores each star count is
    within one fund of its share. Equal scores always get equal stars: a fund's position is the average
    rank of its tie group (pandas `rank(method="average")`), so a tie straddling a cut goes to the side
    that holds most of it (the higher star on an even split) — nothing depends on the fund code. NaN
    scores stay NaN.
    """
    valid = score.notna()
    values, group = score[valid], groups[valid]
    position = (values.groupby(group).rank(method="average", ascending=False) - 1.0).to_numpy()
    n = values.groupby(group).transform("size").to_numpy()
    cumulative = np.cumsum(STAR_SPLIT)[:-1]  # 0.10, 0.325, 0.675, 0.90
    cuts = np.floor(n[:, None] * cumulative[None, :] + 0.5)  # round half up
    stars = 5 - (position[:, None] >= cuts).sum(axis=1)
    out = pd.Series(np.nan, index=score.index)
    out[valid.to_numpy()] = stars.astype(float)
    return out


def _raw_measures(universe: Universe, returns: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp,
                  groups: pd.Series, listed: pd.Series) -> pd.DataFrame:
    """The raw (un-ranked) measure behind each dimension, one row per fund."""
    from products.analytics import compute_metrics, fund_benchmark_returns

    window = returns.loc[returns.index > start]
    if as_of >= universe.returns.index[-1]:
        bench_all = fund_benchmark_returns(universe)
    else:
        # The benchmark builder makes data-driven choices over the whole history (e.g. the QDII style lag):
        # build it from a snapshot cut at as_of so that nothing later can leak in.
        past = dataclasses.replace(universe, returns=returns, benchmarks=universe.benchmarks.loc[:as_of])
        bench_all = fund_benchmark_returns(past)
    bench = to_yuan(bench_all, universe).reindex(index=window.index, columns=window.columns)
    metrics = compute_metrics(window, bench)
    raw = pd.DataFrame(index=returns.columns)
    for col in ("annual_volatility", "downside_deviation", "max_drawdown", "sharpe", "sortino", "excess_return",
                "monthly_win_rate"):
        raw[col] = pd.to_numeric(metrics[col], errors="coerce") if col in metrics else np.nan
    raw["underwater_days"] = _underwater_days(metrics, as_of)
    raw["rolling_win_share"] = _rolling_win_share(window, bench)
    raw["persistence"] = _persistence(returns, as_of, groups, listed)
    raw["manager_tenure_years"] = _tenure_years(universe, as_of)
    raw["yearly_cost"] = _yearly_cost(universe)
    raw["size_fit"] = _size_fit(universe, groups)
    return raw


def _underwater_days(metrics: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Days from the worst drawdown's peak to recovery; still under water → days to `as_of` (a floor)."""
    days = pd.to_numeric(metrics.get("recovery_days"), errors="coerce")
    if "peak_date" in metrics:
        peak = pd.to_datetime(metrics["peak_date"], errors="coerce")
    else:
        peak = pd.to_datetime(metrics.get("trough_date"), errors="coerce")
    open_days = (as_of - peak).dt.days
    days = days.where(days.notna(), open_days)
    drawdown = pd.to_numeric(metrics.get("max_drawdown"), errors="coerce")
    return days.where(~(drawdown >= 0), 0.0)


def _monthly(returns: pd.DataFrame) -> pd.DataFrame:
    """Compounded calendar-month returns; NaN for months with no observation."""
    month = returns.index.to_period("M")
    log = np.log1p(returns)
    out = log.groupby(month).sum(min_count=1)
    return np.expm1(out)


def _rolling_win_share(window: pd.DataFrame, bench: pd.DataFrame) -> pd.Series:
    """Share of rolling 12-month windows (stepping monthly) in which the fund beat its benchmark; a fund's
    return after a gap is compared with the benchmark compounded over the same dates (`pair_benchmark`)."""
    from products.analytics import pair_benchmark

    paired = pair_benchmark(window.to_numpy(dtype=float), bench.to_numpy(dtype=float))
    fund_m = np.log1p(_monthly(window))
    bench_m = np.log1p(_monthly(pd.DataFrame(paired, index=window.index, columns=window.columns)))
    f12 = fund_m.rolling(12, min_periods=12).sum()
    b12 = bench_m.rolling(12, min_periods=12).sum()
    both = f12.notna() & b12.notna()
    wins = ((f12 > b12) & both).sum()
    count = both.sum()
    return (wins / count.replace(0, np.nan)).reindex(window.columns)


def _persistence(returns: pd.DataFrame, as_of: pd.Timestamp, groups: pd.Series, listed: pd.Series) -> pd.Series:
    """Mean over consecutive 12-month blocks (ending at `as_of`) of min(peer pct in year t, in year t+1).

    A fund that stays in the top of its peers scores high; one that alternates good and bad years scores
    as low as its bad years; blocks the fund did not fully live through are skipped.
    """
    first = first_observation(returns)
    cum = np.log1p(returns.fillna(0.0)).cumsum()
    bounds = [as_of - pd.DateOffset(years=k) for k in range(PERSISTENCE_YEARS + 1)]  # newest first
    pos = cum.index.searchsorted(bounds, side="right") - 1
    level = np.where(pos[:, None] >= 0, cum.to_numpy()[np.maximum(pos, 0)], 0.0)  # (K+1, n)
    yearly = np.expm1(level[:-1] - level[1:])  # block k: (bound[k+1], bound[k]]
    alive = np.array([(first <= b + pd.Timedelta(days=HISTORY_TOLERANCE_DAYS)).to_numpy() for b in bounds[1:]])
    pcts = []
    for k in range(PERSISTENCE_YEARS):
        block = pd.Series(np.where(alive[k], yearly[k], np.nan), index=returns.columns)
        eligible = listed & block.notna()
        pcts.append(peer_percentile(block, groups, eligible).to_numpy())
    p = np.vstack(pcts)  # newest first
    pair = np.fmin(p[:-1], p[1:])
    valid = ~(np.isnan(p[:-1]) | np.isnan(p[1:]))
    count = valid.sum(axis=0)
    total = np.where(valid, pair, 0.0).sum(axis=0)
    score = np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)
    return pd.Series(score, index=returns.columns)


def _tenure_years(universe: Universe, as_of: pd.Timestamp) -> pd.Series:
    """Years since `manager_since`; unknown, or a manager who started after `as_of`, → NaN (neutral 50)."""
    if "manager_since" not in universe.funds:
        return pd.Series(np.nan, index=universe.funds.index)
    since = pd.to_datetime(universe.funds["manager_since"], errors="coerce")
    years = (as_of - since).dt.days / 365.25
    return years.where(since <= as_of)


def _yearly_cost(universe: Universe) -> pd.Series:
    """Running cost per year + the bank-discounted first-tier subscription rate spread over 3 years."""
    fees = universe.fees
    front = fees.sub_rate[:, 0] * universe.fee_discount if len(fees) else np.zeros(0)
    front = np.where(np.isnan(fees.sub_flat[:, 0]), front, 0.0) if len(fees) else front
    return pd.Series(fees.running_cost + front / FRONT_LOAD_HOLDING_YEARS, index=universe.funds.index)


def _size_fit(universe: Universe, groups: pd.Series) -> pd.Series:
    """−|log(aum / nearest point of the healthy band)|: 0 inside the band, more negative further out."""
    if "aum_yi" not in universe.funds:
        return pd.Series(np.nan, index=universe.funds.index)
    aum = pd.to_numeric(universe.funds["aum_yi"], errors="coerce")
    lo = groups.map(lambda g: HEALTHY_AUM_BAND.get(g, DEFAULT_AUM_BAND)[0]).astype(float)
    hi = groups.map(lambda g: HEALTHY_AUM_BAND.get(g, DEFAULT_AUM_BAND)[1]).astype(float)
    aum = aum.where(aum > 0)
    return -np.abs(np.log(aum / aum.clip(lower=lo, upper=hi)))


def category_names() -> tuple[list[str], list[str]]:
    """(peer groups, fund types): every name `filter_category` accepts (the API publishes them as an enum)."""
    return sorted(set(PEER_GROUP_OF_TYPE.values())), sorted(str(t) for t in PEER_GROUP_OF_TYPE)


def filter_category(board: pd.DataFrame, category: str) -> pd.DataFrame:
    """Rows of one peer group (`active_equity`) or one fund type (`equity`) — the same filter for the CLI
    and the API; anything else is a `BadInputError` naming `category` and listing what is valid."""
    wanted = category.strip()
    groups, types = category_names()
    groups = sorted(set(groups) | set(board["category"].dropna().astype(str)))
    if wanted in groups:
        return board[board["category"] == wanted]
    if wanted in types:
        return board[board["fund_type"].astype(str) == wanted]
    raise BadInputError(f"unknown category {category!r}; valid peer groups: {', '.join(groups)}; "
                        f"or a fund type: {', '.join(types)}", code="unknown_category",
                        details={"field": "category", "value": category, "valid": groups + types})

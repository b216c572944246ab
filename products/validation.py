"""Data validation that reports, per fund and row, what it found, and never crashes a load.

Every check is vectorized over long tables (one row per fund × date or holding) and returns findings as
a DataFrame with `ISSUE_COLUMNS`:

``code`` fund code (or "" when the finding is about a file) · ``date`` the observation's date (NaT if
none) · ``row`` source line number (1 = header; NA when the row has no source line) · ``check`` machine
name (see `CHECKS`) · ``severity`` error / warning / info · ``message`` English text an analyst can act
on · ``source`` the file or table.

Severity: **error** = the row or fund-quarter was excluded from the universe; **warning** = kept but
suspicious; **info** = expected feature of the data (dividends, weekly stretches) recorded for audit.
Thresholds are parameters (`ValidationParams`), defaults documented there and in docs/data-format.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from products.taxonomy import ASSET_CLASS_OF_TYPE

ISSUE_COLUMNS = ["code", "date", "row", "check", "severity", "message", "source"]
SEVERITIES = ("error", "warning", "info")

CHECKS: dict[str, str] = {
    "bad_date": "unparseable NAV date; row dropped",
    "missing_nav": "unit NAV missing (daily return kept)",
    "non_positive_nav": "unit NAV ≤ 0; unit NAV ignored",
    "missing_return": "daily return missing, or stated 0.00 while the unit NAV moved; taken from the unit-NAV ratio",
    "bad_row": "a row that could not be parsed at all; dropped",
    "duplicate_date": "the same date appears twice for a fund; last row kept",
    "unordered_dates": "a date earlier than the row before it; rows sorted",
    "gap": "calendar gap between two observations longer than max_gap_days",
    "weekly_stretch": "a stretch of weekly (not daily) observations",
    "stale": "the series ends more than stale_days before as_of",
    "implausible_move": "one-period return beyond the plausible limit for the fund type",
    "dividend": "a distribution (dividend/split): a non-zero stated return disagrees with the unit-NAV fall; kept",
    "zero_on_large_fall": "a 0.00 repaired from a unit-NAV fall no market move explains: probably a distribution "
                          "paid on a day whose return is missing (the fund's return may be understated)",
    "unit_nav_jump": "unit NAV rose more than the dividend-adjusted return (data error or reverse split)",
    "duplicate_holding": "the same position reported twice; duplicate dropped",
    "repeated_stock_code": "one stock code at several ranks of a fund-quarter (placeholder code); kept",
    "holdings_over_100": "top-10 weights of a fund-quarter sum above 100% of NAV; fund-quarter excluded",
    "bad_weight": "holding weight missing or negative; row dropped",
    "unknown_code": "a code in holdings or fees that is not in the fund list",
    "profile_missing": "NAV without a fund profile; profile inferred",
    "stale_shelf_row": "a shelf row describes another product (name or type changed); type defaults used",
    "risk_raised": "a risk rating too low for the measured 3-year volatility; raised",
    "modelled_money_funds": "money-market placeholders modelled from a yield path were added (or not)",
    "unparsed_fee": "a fee-table row that could not be parsed; default schedule used",
    "unknown_type": "fund type text not recognized; type inferred",
    "missing_column": "a required column is absent",
    "data_missing": "a required file is missing or holds no usable rows (e.g. no NAV); the data cannot be loaded",
    "bad_data": "a file is unreadable or inconsistent; the data cannot be loaded",
    "optional_table_empty": "an optional table is empty or absent; the features that need it answer unavailable",
}
# optional universe tables → what stops working without them (reported by `optional_table_findings`)
OPTIONAL_TABLE_FEATURES: dict[str, str] = {
    "holdings": "holdings look-through, overlap and holdings-based style unavailable",
    "stock_industry": "industry look-through unavailable (stocks unclassified)",
    "benchmarks": "returns-based style and benchmark-relative metrics unavailable",
}


@dataclass(frozen=True)
class ValidationParams:
    """Thresholds. Chinese holidays close markets up to 9–11 calendar days (Spring Festival), hence 12."""

    max_gap_days: int = 12
    stale_days: int = 10
    weekly_min_days: int = 5  # an interval of 5–9 calendar days counts as weekly
    weekly_max_days: int = 9
    weekly_min_run: int = 4  # at least 4 weekly intervals in a row make a weekly stretch
    max_daily_move: float = 0.20  # A-share limits are ±10% / ±20%, a diversified fund moves far less
    max_daily_move_qdii: float = 0.25  # foreign markets have no limits (and gold/commodity funds)
    dividend_tolerance: float = 0.002  # unit-NAV change vs daily return; covers 4-decimal rounding
    holdings_tolerance: float = 0.005  # weights are rounded to 0.01% of NAV; 10 of them
    # A stated 0.00 beside a unit-NAV fall beyond this many standard deviations of the fund's own recent
    # daily returns (scaled by √ weekdays in the interval) is still a missing return taken from the ratio
    # (the rule has no exception), but is flagged: no market move explains it, so it is probably a
    # distribution paid on a day whose return the source left out (bond funds' dividends).
    distribution_zscore: float = 6.0
    volatility_window: int = 60  # trailing observations for that (robust) standard deviation
    volatility_min_obs: int = 20  # fewer: the type's prior daily volatility (`PRIOR_DAILY_VOLATILITY`)
    zero_move_tolerance: float = 0.0005  # a stated 0.00 means |r| < 0.005 %; a larger NAV move is a return


DEFAULT_PARAMS = ValidationParams()
# Daily volatility assumed for a fund with too little history of its own (by fund type; others 1.2%);
# a quarter of it is the floor of a fund's own estimate (a series of flat 0.00 days says little).
PRIOR_DAILY_VOLATILITY: dict[str, float] = {"money_market": 0.0002, "bond": 0.001, "bond_index": 0.001,
                                            "convertible": 0.006, "mixed_bond": 0.003, "fof": 0.004}
DEFAULT_PRIOR_DAILY_VOLATILITY = 0.012
VOLATILITY_FLOOR_SHARE = 0.25
_WIDE_MOVE_TYPES = ("qdii_equity", "qdii_other", "gold", "commodity")


def issues_frame(records: Iterable[Mapping[str, object]] | pd.DataFrame | None = None) -> pd.DataFrame:
    """Findings with exactly `ISSUE_COLUMNS` and stable dtypes (empty when no records)."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records or []))
    frame = frame.reindex(columns=ISSUE_COLUMNS)

    def text(col: str, default: str = "") -> pd.Series:
        values = frame[col].astype(object)
        return values.where(values.notna(), default).astype("str")

    return pd.DataFrame({
        "code": text("code"),
        "date": pd.to_datetime(frame["date"], errors="coerce").astype("datetime64[ns]"),
        "row": pd.to_numeric(frame["row"], errors="coerce").astype("Int64"),
        "check": text("check"),
        "severity": text("severity", "warning"),
        "message": text("message"),
        "source": text("source"),
    }).reset_index(drop=True)


def concat_issues(parts: Iterable[pd.DataFrame]) -> pd.DataFrame:
    frames = [issues_frame(p) for p in parts if p is not None and len(p)]
    return issues_frame(pd.concat(frames, ignore_index=True)) if frames else issues_frame()


def summarize(issues: pd.DataFrame) -> pd.DataFrame:
    """Counts by check and severity, errors first (what `advisor data check` prints)."""
    if issues.empty:
        return pd.DataFrame(columns=["check", "severity", "count", "funds", "description"])
    order = {s: i for i, s in enumerate(SEVERITIES)}
    grouped = issues.groupby(["check", "severity"], sort=False).agg(
        count=("message", "size"), funds=("code", lambda c: int(c[c != ""].nunique()))).reset_index()
    grouped["description"] = grouped["check"].map(CHECKS).fillna("")
    grouped["_o"] = grouped["severity"].map(order)
    grouped = grouped.sort_values(["_o", "count"], ascending=[True, False]).drop(columns="_o")
    return grouped.reset_index(drop=True)


Message = str | Callable[[np.ndarray], Iterable[str]]


def _frame(mask: np.ndarray | pd.Series, table: pd.DataFrame, check: str, severity: str, message: Message,
           source: str | pd.Series = "") -> pd.DataFrame:
    """Findings for the rows of `table` where `mask` holds; `message` may be a function of their positions
    (so that text is only built for the flagged rows)."""
    pos = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(pos) == 0:
        return issues_frame()
    sub = table.iloc[pos]
    text = message if isinstance(message, str) else np.asarray(list(message(pos)), dtype=object)
    src = source if isinstance(source, str) else source.iloc[pos].to_numpy()
    return issues_frame(pd.DataFrame({
        "code": sub["code"].to_numpy(), "date": sub["date"].to_numpy() if "date" in sub else pd.NaT,
        "row": sub["row"].to_numpy() if "row" in sub else pd.NA, "check": check, "severity": severity,
        "message": text, "source": src,
    }))


def _fmt(values: np.ndarray | pd.Series, digits: int) -> list[str]:
    return [f"{v:.{digits}f}" for v in np.asarray(values, dtype=float)]


def _day(values: np.ndarray | pd.Series) -> list[str]:
    return [str(v)[:10] if pd.notna(v) else "?" for v in pd.DatetimeIndex(np.asarray(values))]


# --------------------------------------------------------------------------------------------------
# NAV series
# --------------------------------------------------------------------------------------------------

def _shift(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The previous row's value within each fund (rows grouped by fund); NaN / NaT on a fund's first row."""
    out = np.empty_like(values)
    out[1:] = values[:-1]
    if out.dtype.kind == "M":
        out[first] = np.datetime64("NaT")
    else:
        out = out.astype(float)
        out[first] = np.nan
    return out


def _firsts(code_ids: np.ndarray) -> np.ndarray:
    return np.r_[True, code_ids[1:] != code_ids[:-1]] if len(code_ids) else np.zeros(0, dtype=bool)


def clean_nav(nav: pd.DataFrame, as_of: pd.Timestamp | None = None,
              fund_types: Mapping[str, str] | pd.Series | None = None,
              params: ValidationParams = DEFAULT_PARAMS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check and clean a long NAV table; returns (clean rows sorted by code/date, findings).

    `nav` columns: code, date (datetime, NaT if unparseable), unit_nav, daily_return (fraction, the
    dividend-adjusted return), optionally row (source line) and source (file); rows of one fund are
    contiguous (one file per fund, or any order for a single table: they are grouped first).
    Clean rows have a date, no duplicate (code, date), and a daily return. Where the source has none,
    or states exactly 0.00 while the unit NAV moved (the first NAV after a gap — foreign holidays of QDII
    funds, weekly stretches — often carries 0.00), the return is missing and is taken from the unit-NAV
    ratio, whatever its sign (reported as `missing_return`). A distribution is a day whose non-zero stated
    return disagrees with the unit-NAV ratio (`dividend`; stated return kept). So over any window without a
    distribution, total return is unit-NAV growth. A 0.00 beside a fall no market move explains (beyond
    `distribution_zscore` standard deviations of the fund's recent returns over the interval) follows the
    same rule and is also flagged `zero_on_large_fall`: the data cannot tell the return of that day.
    """
    nav = nav.reset_index(drop=True)
    if "row" not in nav:
        nav["row"] = pd.NA
    if "source" not in nav:
        nav["source"] = ""
    code_ids, _ = pd.factorize(nav["code"])
    if len(code_ids) and (np.diff(code_ids) < 0).any():  # not grouped: group stably by first appearance
        order = np.argsort(code_ids, kind="stable")
        nav, code_ids = nav.iloc[order].reset_index(drop=True), code_ids[order]
    found: list[pd.DataFrame] = []
    src = nav["source"]

    dates = nav["date"].to_numpy(dtype="datetime64[ns]")
    bad_date = np.isnat(dates)
    found.append(_frame(bad_date, nav, "bad_date", "error", "NAV date missing or unparseable; row dropped", src))
    unit = nav["unit_nav"].to_numpy(dtype=float)
    non_pos = (unit <= 0) & ~bad_date
    found.append(_frame(non_pos, nav, "non_positive_nav", "error",
                        lambda i: [f"unit NAV {v} is not positive; ignored" for v in unit[i]], src))
    found.append(_frame(np.isnan(unit) & ~bad_date, nav, "missing_nav", "warning",
                        "unit NAV missing; daily return kept", src))
    keep = ~bad_date
    nav = nav.loc[keep].reset_index(drop=True)
    nav["unit_nav"] = np.where(unit[keep] > 0, unit[keep], np.nan)
    code_ids, dates = code_ids[keep], dates[keep]

    # order (in file order per fund) and duplicates
    first = _firsts(code_ids)
    prev_date = _shift(dates, first)
    unordered = dates < prev_date
    found.append(_frame(unordered, nav, "unordered_dates", "warning",
                        lambda i: [f"date earlier than the row before it ({d}); rows sorted"
                                   for d in _day(prev_date[i])], nav["source"]))
    order = np.lexsort((np.arange(len(nav)), dates, code_ids))
    nav, code_ids, dates = nav.iloc[order].reset_index(drop=True), code_ids[order], dates[order]
    dup = np.r_[(code_ids[1:] == code_ids[:-1]) & (dates[1:] == dates[:-1]), False]  # keep the later row
    found.append(_frame(dup, nav, "duplicate_date", "warning", "date repeated for this fund; later row kept",
                        nav["source"]))
    nav, code_ids = nav.loc[~dup].reset_index(drop=True), code_ids[~dup]

    # returns: derive from unit NAV where the source has none or a 0 that the unit NAV contradicts
    first = _firsts(code_ids)
    unit = nav["unit_nav"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        implied = unit / _shift(unit, first) - 1.0
    ret = nav["daily_return"].to_numpy(dtype=float)
    no_ret = np.isnan(ret) & ~first
    # A stated 0.00 beside a unit-NAV move is a missing return (the move is the return), whatever its sign.
    moved = np.nan_to_num(implied)
    zero_ret = (ret == 0) & ~first & (np.abs(moved) > params.zero_move_tolerance)
    z_score = _move_zscore(nav, code_ids, first, ret, implied, fund_types, params)
    unexplained = zero_ret & (moved < -params.dividend_tolerance) & (z_score < -params.distribution_zscore)
    # The row after such a 0.00 (often an extra year-end valuation) may state its return from the NAV
    # before it, spanning both rows: then its own return is missing too (else the move counts twice).
    anchor = _shift(pd.Series(np.where(zero_ret, np.nan, unit)).groupby(code_ids).ffill().to_numpy(), first)
    with np.errstate(invalid="ignore", divide="ignore"):
        spanning = unit / anchor - 1.0
    spans = (~first & (_shift(zero_ret.astype(float), first) == 1) & ~zero_ret & ~np.isnan(ret)
             & (np.abs(ret - spanning) <= params.dividend_tolerance)
             & (np.abs(np.nan_to_num(implied) - ret) > params.dividend_tolerance))
    found.append(_frame(no_ret, nav, "missing_return", "warning",
                        lambda i: np.where(np.isfinite(implied[i]), "daily return missing; taken from unit NAV "
                                           "change", "daily return missing and not derivable; left empty"),
                        nav["source"]))
    found.append(_frame(zero_ret, nav, "missing_return", "warning",
                        lambda i: [f"daily return 0 while unit NAV moved {x}%; taken from unit NAV change"
                                   for x in _fmt(implied[i] * 100, 2)], nav["source"]))
    found.append(_frame(spans, nav, "missing_return", "warning",
                        lambda i: [f"stated return {a}% spans the 0.00 row before it; taken from unit NAV change "
                                   f"({b}%)" for a, b in zip(_fmt(ret[i] * 100, 2), _fmt(implied[i] * 100, 2),
                                                             strict=True)], nav["source"]))
    found.append(_frame(unexplained, nav, "zero_on_large_fall", "warning",
                        lambda i: [f"stated 0.00 while unit NAV fell {x}% ({z:.0f} standard deviations beyond "
                                   "its asset class's move): probably a distribution on a day whose return is "
                                   "missing; taken from unit NAV change as the rule requires, so the fund's "
                                   "return may be understated by about that much"
                                   for x, z in zip(_fmt(-implied[i] * 100, 2), -z_score[i], strict=True)],
                        nav["source"]))
    fixed = np.where(no_ret | zero_ret | spans, implied, ret)
    nav["daily_return"] = np.where(first & np.isnan(fixed), 0.0, fixed)

    found.append(nav_findings(nav, as_of, fund_types, params, code_ids=code_ids))
    return nav, concat_issues(found)


def _move_zscore(nav: pd.DataFrame, code_ids: np.ndarray, first: np.ndarray, ret: np.ndarray,
                 implied: np.ndarray, fund_types: Mapping[str, str] | pd.Series | None,
                 params: ValidationParams) -> np.ndarray:
    """Each row's unit-NAV move beyond its asset class's move (`_peer_moves`), in daily standard deviations
    of the fund scaled by √(weekdays since the previous row). The deviation is robust (1.4826 × the median
    absolute return of the `volatility_window` rows before, same fund; a stated 0.00 counts as its
    unit-NAV move), so the distributions themselves do not inflate it; floored at a quarter of the type's
    prior, which stands in for a short history."""
    x = np.where((ret == 0) & np.isfinite(implied), implied, ret)
    x[first] = np.nan
    absolute = pd.Series(np.abs(x))
    rolling = absolute.groupby(code_ids, sort=True).rolling(params.volatility_window, min_periods=1)
    median = _shift(rolling.median().to_numpy(), first)
    count = _shift(rolling.count().to_numpy(), first)
    types = pd.Series(fund_types) if fund_types is not None else pd.Series(dtype=object)
    prior = nav["code"].map(types.map(PRIOR_DAILY_VOLATILITY)).fillna(DEFAULT_PRIOR_DAILY_VOLATILITY)
    prior = prior.to_numpy(dtype=float)
    sigma = np.where(count >= params.volatility_min_obs,
                     np.fmax(1.4826 * median, VOLATILITY_FLOOR_SHARE * prior), prior)
    dates = nav["date"].to_numpy(dtype="datetime64[D]")
    prev = _shift(nav["date"].to_numpy(dtype="datetime64[ns]"), first).astype("datetime64[D]")
    weekdays = np.ones(len(x))
    ok = ~np.isnat(prev)
    weekdays[ok] = np.maximum(np.busday_count(prev[ok], dates[ok]), 1)
    peers = _peer_moves(nav, first, np.where(ret == 0, np.nan, ret), types)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (implied - peers) / (sigma * np.sqrt(weekdays))


def _peer_moves(nav: pd.DataFrame, first: np.ndarray, stated: np.ndarray, types: pd.Series) -> np.ndarray:
    """The move of the fund's asset class over each row's interval: the median stated return of the
    class's funds, compounded from the previous row's date to this row's (0 where no fund reported).
    A fall the whole market shared (the 2015 crash, a foreign market after a holiday) is no distribution."""
    class_of = {code: str(ASSET_CLASS_OF_TYPE.get(t, "other")) for code, t in types.items()}
    classes = nav["code"].map(class_of).astype(object).fillna("other")
    class_ids, class_names = pd.factorize(classes)
    days = nav["date"].to_numpy(dtype="datetime64[ns]")
    day_ids, day_index = pd.factorize(days, sort=True)
    median = pd.DataFrame({"c": class_ids, "d": day_ids, "r": stated}).groupby(["d", "c"])["r"].median()
    grid = np.zeros((len(day_index), len(class_names)))
    d_pos, c_pos = (median.index.get_level_values(i).to_numpy() for i in (0, 1))
    grid[d_pos, c_pos] = np.nan_to_num(np.log1p(median.to_numpy()))
    level = np.cumsum(grid, axis=0)
    prev_day = _shift(day_ids.astype(float), first)
    ok = ~np.isnan(prev_day)
    out = np.zeros(len(nav))
    out[ok] = np.expm1(level[day_ids[ok], class_ids[ok]] - level[prev_day[ok].astype(np.int64), class_ids[ok]])
    return out


def return_repairs(issues: pd.DataFrame) -> pd.DataFrame:
    """Per fund: how many returns were missing (taken from the unit-NAV ratio), how many days were
    distributions (a non-zero stated return kept, the unit NAV fell by the amount paid), and how many of
    the missing ones were falls no market move explains (`zero_on_large_fall`) — from load findings."""
    checks = ["missing_return", "dividend", "zero_on_large_fall"]
    cols = ["missing_returns", "distributions", "unexplained_falls"]
    if issues is None or issues.empty:
        return pd.DataFrame(columns=cols, dtype="int64").rename_axis("code")
    kinds = issues.loc[issues["check"].isin(checks) & (issues["code"] != "")]
    table = pd.crosstab(kinds["code"], kinds["check"]).reindex(columns=checks, fill_value=0)
    table.columns = cols
    table.index.name = "code"
    return table.astype("int64")


def nav_findings(nav: pd.DataFrame, as_of: pd.Timestamp | None = None,
                 fund_types: Mapping[str, str] | pd.Series | None = None,
                 params: ValidationParams = DEFAULT_PARAMS, code_ids: np.ndarray | None = None) -> pd.DataFrame:
    """Gaps, weekly stretches, stale series, implausible moves and dividends on a clean table sorted by
    code and date (`code_ids`: integer fund ids of the rows, computed when not given)."""
    if nav.empty:
        return issues_frame()
    nav = nav.reset_index(drop=True)
    if "row" not in nav:
        nav = nav.assign(row=pd.NA)
    src = nav["source"] if "source" in nav else pd.Series("", index=nav.index)
    if code_ids is None:
        code_ids = pd.factorize(nav["code"])[0]
    first = _firsts(code_ids)
    dates = nav["date"].to_numpy(dtype="datetime64[ns]")
    prev_date = _shift(dates, first)
    gap = (dates - prev_date).astype("timedelta64[D]").astype(float)
    gap[first] = np.nan
    found: list[pd.DataFrame] = []
    found.append(_frame(~first & (gap > params.max_gap_days), nav, "gap", "warning",
                        lambda i: [f"no NAV for {int(n)} calendar days before this date (since {d})"
                                   for n, d in zip(gap[i], _day(prev_date[i]), strict=True)], src))

    # weekly stretches: runs of ≥ weekly_min_run consecutive 5–9-day intervals
    weekly = ~first & (gap >= params.weekly_min_days) & (gap <= params.weekly_max_days)
    new_run = np.r_[True, (weekly[1:] != weekly[:-1]) | first[1:]]
    run_id = np.cumsum(new_run) - 1
    run_len = np.bincount(run_id, weights=weekly.astype(float))[run_id]
    start = weekly & new_run & (run_len >= params.weekly_min_run)
    if start.any():
        run_last = np.r_[np.flatnonzero(new_run)[1:] - 1, len(nav) - 1][run_id]
        found.append(_frame(start, nav, "weekly_stretch", "info",
                            lambda i: [f"weekly observations: {int(n)} intervals from {a} to {b}"
                                       for n, a, b in zip(run_len[i], _day(prev_date[i]),
                                                          _day(dates[run_last[i]]), strict=True)], src))

    if as_of is not None:
        last = np.r_[first[1:], True]
        limit_date = np.datetime64(pd.Timestamp(as_of) - pd.Timedelta(days=params.stale_days), "ns")
        found.append(_frame(last & (dates < limit_date), nav, "stale", "warning",
                            lambda i: [f"last NAV on {d}, more than {params.stale_days} days before as-of "
                                       f"{pd.Timestamp(as_of):%Y-%m-%d}" for d in _day(dates[i])], src))

    limit = np.full(len(nav), params.max_daily_move)
    if fund_types is not None:
        wide = pd.Series(fund_types).isin(_WIDE_MOVE_TYPES)
        limit = np.where(nav["code"].map(wide).fillna(False).to_numpy(dtype=bool), params.max_daily_move_qdii,
                         limit)
    r = nav["daily_return"].to_numpy(dtype=float)
    found.append(_frame(~first & (np.abs(np.nan_to_num(r)) > limit), nav, "implausible_move", "warning",
                        lambda i: [f"return {a}% in one period (limit ±{b}%)"
                                   for a, b in zip(_fmt(r[i] * 100, 2), _fmt(limit[i] * 100, 0), strict=True)],
                        src))

    # unit NAV change vs the dividend-adjusted return: distributions and unexplained jumps
    unit = nav["unit_nav"].to_numpy(dtype=float)
    prev_unit = _shift(unit, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = (unit / prev_unit - 1.0) - r
    per_unit = prev_unit * (1.0 + r) - unit  # distribution per unit implied by the two series

    def describe(i: np.ndarray, tail: str) -> list[str]:
        return [f"unit NAV {p} → {u} while the adjusted return is {x}%{tail}"
                for p, u, x in zip(_fmt(prev_unit[i], 4), _fmt(unit[i], 4), _fmt(r[i] * 100, 2), strict=True)]

    found.append(_frame(~first & (diff < -params.dividend_tolerance), nav, "dividend", "info",
                        lambda i: [m + f": distribution of about {d} per unit"
                                   for m, d in zip(describe(i, ""), _fmt(per_unit[i], 4), strict=True)], src))
    found.append(_frame(~first & (diff > params.dividend_tolerance), nav, "unit_nav_jump", "warning",
                        lambda i: describe(i, ": unit NAV rose more than the return"), src))
    return concat_issues(found)


# --------------------------------------------------------------------------------------------------
# Holdings
# --------------------------------------------------------------------------------------------------

_MARKET_PREFERENCE = {"A股": 0, "港股": 1}


def clean_holdings(holdings: pd.DataFrame, params: ValidationParams = DEFAULT_PARAMS,
                   source: str = "holdings", excluded: str = "warning") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop duplicate positions and bad weights, exclude fund-quarters whose weights sum above 100%.

    `excluded` is the severity of rows the loader leaves out (bad weights, over-100% fund-quarters): a
    `warning` when loading a source — the data the service uses is clean, so `data check` of the shipped
    data does not fail on rows already excluded — and an `error` when checking stored tables, which
    should hold none.

    A duplicate is a row with the same (quarter, fund_code, stock_code, rank, weight) as another: the
    same position reported twice (the source lists some A-shares a second time under market 其他); the
    A股 / 港股 row is kept. Rows sharing (quarter, fund_code, stock_code) at different ranks are distinct
    positions under a placeholder code (e.g. ``FUND`` in QDII funds of funds): kept, reported as info.
    Fund-quarters whose weights sum above 100% (+ tolerance) cannot be right for a top-10 list and are
    excluded rather than rescaled: rescaling would invent weights the fund never reported.
    """
    h = holdings.reset_index(drop=True)
    if "row" not in h:
        h["row"] = np.arange(len(h)) + 2
    table = h.rename(columns={"fund_code": "code"})
    label = h["quarter"].astype(str) + " " + h["stock_code"].astype(str)
    found: list[pd.DataFrame] = []

    weight = h["weight"].to_numpy(dtype=float)
    bad_w = ~np.isfinite(weight) | (weight < 0)
    found.append(_frame(bad_w, table, "bad_weight", excluded,
                        lambda i: [f"{q}: weight {w}% of NAV; row dropped"
                                   for q, w in zip(label.iloc[i], _fmt(weight[i] * 100, 2), strict=True)], source))

    pref = h["market"].map(_MARKET_PREFERENCE).fillna(9) if "market" in h else pd.Series(0, index=h.index)
    order = np.lexsort((np.arange(len(h)), pref.to_numpy()))
    dup = np.zeros(len(h), dtype=bool)
    position = h[["quarter", "fund_code", "stock_code", "rank", "weight"]]
    dup[order] = position.iloc[order].duplicated().to_numpy()
    found.append(_frame(dup, table, "duplicate_holding", "warning",
                        lambda i: [f"{q} listed twice at rank {k}; duplicate dropped"
                                   for q, k in zip(label.iloc[i], h["rank"].iloc[i], strict=True)], source))
    kept_keys = position.loc[~dup].duplicated(["quarter", "fund_code", "stock_code"], keep=False)
    repeated = kept_keys.reindex(h.index, fill_value=False).to_numpy(dtype=bool)
    found.append(_frame(repeated, table, "repeated_stock_code", "info",
                        lambda i: [f"{q} appears at several ranks; kept as separate positions"
                                   for q in label.iloc[i]], source))

    usable = ~dup & ~bad_w
    q_ids, q_names = pd.factorize(h["quarter"])
    f_ids, _ = pd.factorize(h["fund_code"])
    group = f_ids.astype(np.int64) * max(len(q_names), 1) + q_ids
    g_ids, _ = pd.factorize(group)
    totals = np.bincount(g_ids, weights=np.where(usable, np.nan_to_num(weight), 0.0))[g_ids]
    over = usable & (totals > 1.0 + params.holdings_tolerance)
    first_of_group = over & ~pd.Series(g_ids).where(over).duplicated().to_numpy()
    found.append(_frame(first_of_group, table, "holdings_over_100", excluded,
                        lambda i: [f"{q}: top-10 weights sum to {t}% of NAV; fund-quarter excluded"
                                   for q, t in zip(h["quarter"].iloc[i], _fmt(totals[i] * 100, 2), strict=True)],
                        source))
    clean = h.loc[usable & ~over].drop(columns=["row"], errors="ignore").reset_index(drop=True)
    return clean, concat_issues(found)


def holdings_findings(holdings: pd.DataFrame, params: ValidationParams = DEFAULT_PARAMS) -> pd.DataFrame:
    """Findings on an already-loaded holdings table (duplicates and over-100% sums; nothing dropped): rows
    that should have been excluded are errors here."""
    _, found = clean_holdings(holdings, params, source="holdings", excluded="error")
    return found


def unknown_codes(known: Iterable[str], codes: pd.Series, source: str, severity: str = "warning",
                  summary: bool = False, sample: int = 10) -> pd.DataFrame:
    """Codes in `codes` that are not `known`: one finding per code, or one summary line."""
    known_set = pd.Index(pd.Series(list(known), dtype=str))
    distinct = pd.Index(pd.Series(codes, dtype=str).dropna().unique())
    missing = distinct.difference(known_set)
    if len(missing) == 0:
        return issues_frame()
    if summary:
        shown = ", ".join(missing[:sample])
        return issues_frame([{"code": "", "check": "unknown_code", "severity": severity, "source": source,
                              "message": f"{len(missing)} codes are not in the fund list (e.g. {shown})"}])
    return issues_frame(pd.DataFrame({"code": missing.to_numpy(), "check": "unknown_code",
                                      "severity": severity, "message": "code is not in the fund list",
                                      "source": source}))


# --------------------------------------------------------------------------------------------------
# A whole universe (what `advisor data check` runs on a canonical directory)
# --------------------------------------------------------------------------------------------------

def nav_long(universe: object) -> pd.DataFrame:
    """The universe's NAV as a long table (code, date, unit_nav, daily_return) where either is present."""
    returns: pd.DataFrame = universe.returns  # type: ignore[attr-defined]
    unit: pd.DataFrame = universe.unit_nav  # type: ignore[attr-defined]
    r = returns.rename_axis(index="date", columns="code").melt(ignore_index=False, value_name="daily_return")
    r = r.reset_index()
    if unit is not None and not unit.empty:
        u = unit.reindex(index=returns.index, columns=returns.columns)
        u = u.rename_axis(index="date", columns="code")
        r["unit_nav"] = u.melt(ignore_index=False, value_name="unit_nav")["unit_nav"].to_numpy()
    else:
        r["unit_nav"] = np.nan
    present = r["daily_return"].notna() | r["unit_nav"].notna()
    out = r.loc[present, ["code", "date", "unit_nav", "daily_return"]]
    return out.sort_values(["code", "date"], kind="stable").reset_index(drop=True)


def optional_table_findings(universe: object) -> pd.DataFrame:
    """One `info` finding per optional table (holdings, stock_industry, benchmarks) that is empty or absent."""
    records = []
    for name, lost in OPTIONAL_TABLE_FEATURES.items():
        table = getattr(universe, name, None)
        if table is None or table.empty or table.dropna(how="all").empty:
            records.append({"check": "optional_table_empty", "severity": "info", "source": name,
                            "message": f"{name} is empty or absent: {lost}"})
    return issues_frame(records)


def validate_universe(universe: object, params: ValidationParams = DEFAULT_PARAMS) -> pd.DataFrame:
    """Re-run the NAV and holdings checks and the code cross-checks on a loaded universe."""
    funds: pd.DataFrame = universe.funds  # type: ignore[attr-defined]
    nav = nav_long(universe)
    found = [nav_findings(nav, universe.as_of, funds["fund_type"], params)]  # type: ignore[attr-defined]
    found.append(_frame((nav["unit_nav"] <= 0).to_numpy(), nav, "non_positive_nav", "error",
                        "unit NAV is not positive"))
    holdings: pd.DataFrame = universe.holdings  # type: ignore[attr-defined]
    if holdings is not None and not holdings.empty:
        found.append(holdings_findings(holdings, params))
        found.append(unknown_codes(funds.index, holdings["fund_code"], "holdings", "info", summary=True))
    return concat_issues(found)

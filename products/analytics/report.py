"""Fund listing and fund report payloads (plain dicts / frames) for the CLI and the API.

`fund_listing(universe, ...)` is one row per fund with its type, asset class, risk level, headline fees
and minimum purchase; `fund_report(universe, code, ...)` is everything `advisor funds show` prints:
profile, fees, metrics over a window, the rolling 1y / 3y / 5y summary and the parsed benchmark.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from products.analytics._matrix import TRADING_DAYS, slice_window
from products.analytics.metrics import SPARSE_OBS_PER_YEAR, compute_metrics
from products.analytics.rolling import rolling_metrics
from products.benchmark import benchmark_spec, fund_benchmark_returns
from products.errors import BadInputError
from products.fees import SHORT_HOLD_DAYS, SHORT_HOLD_MIN_RATE, FeeSchedule
from products.taxonomy import (
    ASSET_CLASS_NAMES_ZH,
    FUND_TYPE_NAMES_ZH,
    AssetClass,
    FundType,
    RiskLevel,
    parse_fund_type,
)
from products.universe import Universe

ROLLING_WINDOWS_YEARS = (1, 3, 5)
PROFILE_FIELDS = ("name", "full_name", "company", "managers", "manager_since", "inception", "share_class",
                  "sibling_codes", "fund_type", "asset_class", "aum_yi", "benchmark_text", "status",
                  "min_purchase", "purchase_increment", "min_sip")


def parse_type_option(value: str) -> FundType:
    """A fund type from its code (`bond`) or a source text (`债券型`, `混合型-偏股`)."""
    try:
        return parse_fund_type(value)
    except BadInputError:
        raise BadInputError(f"unknown fund type {value!r}", code="bad_option", details={
            "option": "--type", "allowed": ", ".join(t.value for t in FundType)}) from None


def parse_asset_class_option(value: str) -> AssetClass:
    try:
        return AssetClass(value.strip().lower())
    except ValueError:
        raise BadInputError(f"unknown asset class {value!r}", code="bad_option", details={
            "option": "--asset-class", "allowed": ", ".join(a.value for a in AssetClass)}) from None


def parse_risk_option(value: str, option: str = "--max-risk") -> RiskLevel:
    try:
        return RiskLevel.parse(value)
    except BadInputError:
        raise BadInputError(f"unknown risk level {value!r}; expected R1–R5", code="bad_option",
                            details={"field": option.lstrip("-").replace("-", "_"), "option": option}) from None


def parse_date_option(value: str | None, option: str) -> pd.Timestamp | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        stamp = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        raise BadInputError(f"{option} must be a date like 2021-01-31, got {value!r}", code="bad_option",
                            details={"option": option, "value": str(value)})
    return stamp


def redemption_summary(schedule: FeeSchedule) -> str:
    """Holding-period tiers as charged, e.g. `<7d 1.50% · <365d 0.50% · <730d 0.25% · ≥730d 0`.

    The regulatory 1.5% floor under 7 days is shown even where the schedule itself starts lower.
    """
    if schedule.money_market:
        return "none 无"
    tiers = [(t.upper_days, t.rate) for t in schedule.redemption]
    if tiers[0][0] > SHORT_HOLD_DAYS or tiers[0][1] < SHORT_HOLD_MIN_RATE:
        tiers = [(float(SHORT_HOLD_DAYS), max(tiers[0][1], SHORT_HOLD_MIN_RATE)),
                 *[(u, r) for u, r in tiers if u > SHORT_HOLD_DAYS]]
    parts = []
    lower = 0.0
    for upper, rate in tiers:
        text = f"{rate:.2%}" if rate else "0"
        parts.append(f"<{upper:g}d {text}" if math.isfinite(upper) else f"≥{lower:g}d {text}")
        lower = upper
    return " · ".join(parts)


def fee_summary(schedule: FeeSchedule, discount: float) -> dict[str, Any]:
    """Headline fees: first-tier subscription list rate (and after the bank discount), redemption, running."""
    first = schedule.subscription[0]
    return {
        "subscription_rate": None if first.flat is not None else first.rate,
        "subscription_rate_discounted": None if first.flat is not None else first.rate * discount,
        "subscription_flat_fee": first.flat,
        "redemption": redemption_summary(schedule),
        "running_cost": schedule.running_cost,
    }


def fee_detail(schedule: FeeSchedule, discount: float) -> dict[str, Any]:
    """Every tier of the schedule, for `funds show`."""
    return {
        **fee_summary(schedule, discount),
        "discount": discount,
        "subscription_tiers": [
            {"below_amount": t.upper if math.isfinite(t.upper) else None, "rate": None if t.flat is not None
             else t.rate, "flat_fee": t.flat} for t in schedule.subscription],
        "redemption_tiers": [
            {"below_days": t.upper_days if math.isfinite(t.upper_days) else None, "rate": t.rate}
            for t in schedule.redemption],
        "management_fee": schedule.management_fee,
        "custody_fee": schedule.custody_fee,
        "sales_service_fee": schedule.sales_service_fee,
    }


def fund_listing(universe: Universe, fund_type: FundType | None = None, asset_class: AssetClass | None = None,
                 max_risk: RiskLevel | None = None) -> list[dict[str, Any]]:
    """One dict per fund matching the filters (code order)."""
    funds = universe.funds
    keep = np.ones(len(funds), dtype=bool)
    if fund_type is not None:
        keep &= (funds["fund_type"] == fund_type.value).to_numpy()
    if asset_class is not None:
        keep &= (funds["asset_class"] == asset_class.value).to_numpy()
    if max_risk is not None:
        keep &= (funds["risk_level"].to_numpy() <= int(max_risk))
    rows = []
    for i in np.flatnonzero(keep):
        code = funds.index[i]
        row = funds.iloc[i]
        rows.append({
            "code": code,
            "name": row["name"],
            "type": row["fund_type"],
            "type_zh": FUND_TYPE_NAMES_ZH.get(FundType(row["fund_type"]), ""),
            "asset_class": row["asset_class"],
            "risk_level": RiskLevel(int(row["risk_level"])).label,
            "fees": fee_summary(universe.fees.schedules[i], universe.fee_discount),
            "min_purchase": row["min_purchase"],
        })
    return rows


BENCHMARK_COVERAGE_MIN = 0.95  # paired days / fund days below this: the relative metrics' span is stated
MIN_ANNUALIZED_DAYS = 365  # GIPS: a return over a shorter period is never annualized
ANNUALIZED_RETURNS = ("annual_return", "benchmark_annual_return", "excess_return", "alpha", "calmar")
# ratios whose numerator is an annualized mean return: as meaningless as that return under one year
ANNUALIZED_RATIOS = ("sharpe", "sortino", "information_ratio")


def metrics_for_readers(metrics: pd.DataFrame) -> pd.DataFrame:
    """`compute_metrics` output as people may read it (the fund card, the API): cumulative figures over the
    window always (`total_return`; `paired_total_return` (the fund), `benchmark_total_return` and
    `excess_total_return` over the days the benchmark covers), and the annualized returns
    (`ANNUALIZED_RETURNS`) and the ratios built on them (`ANNUALIZED_RATIOS`: Sharpe, Sortino,
    information ratio) nulled where the fund's window spans under one year (GIPS: returns for periods
    under a year must not be annualized). `data_warnings` says so (`not_annualized`)."""
    out = metrics.copy()
    pairs = pd.to_numeric(out["n_pair_days"], errors="coerce").astype(float)
    bench = pd.to_numeric(out["benchmark_annual_return"], errors="coerce")
    fund_on_pairs = bench + pd.to_numeric(out["excess_return"], errors="coerce")
    out["benchmark_total_return"] = ((1.0 + bench) ** (pairs / TRADING_DAYS) - 1.0).where(pairs > 0)
    # the fund over the same days as the benchmark: the excess is this minus the benchmark's
    out["paired_total_return"] = ((1.0 + fund_on_pairs) ** (pairs / TRADING_DAYS) - 1.0).where(pairs > 0)
    out["excess_total_return"] = out["paired_total_return"] - out["benchmark_total_return"]
    span = (pd.to_datetime(out["end"]) - pd.to_datetime(out["start"])).dt.days
    short = span < MIN_ANNUALIZED_DAYS
    out.loc[short, [c for c in (*ANNUALIZED_RETURNS, *ANNUALIZED_RATIOS) if c in out]] = np.nan
    out["span_days"] = span
    return out


def data_warnings(metrics: dict[str, Any]) -> list[dict[str, str]]:
    """Warnings an adviser must see next to a fund's figures (zh + en)."""
    warnings = []
    per_year = metrics.get("obs_per_year")
    if per_year is not None and pd.notna(per_year) and per_year < SPARSE_OBS_PER_YEAR:
        warnings.append({
            "code": "sparse_nav",
            "message": f"NAV observed on only {per_year:.0f} days a year (weekly stretches or suspensions): "
                       "annualized figures overstate; use a later --start",
            "message_zh": "净值披露不连续（含周度净值或停牌期），年化指标可能偏高，建议选择更晚的起始日期",
        })
    n_days, n_pairs = metrics.get("n_days", 0) or 0, metrics.get("n_pair_days", 0) or 0
    if n_days and n_pairs == 0:
        warnings.append({
            "code": "benchmark_unavailable",
            "message": "the benchmark's series do not cover any day of this window: no relative metrics",
            "message_zh": "本区间内缺少业绩比较基准数据，无法计算相对基准的指标",
        })
    elif n_days and n_pairs < BENCHMARK_COVERAGE_MIN * n_days:
        start, end = (pd.Timestamp(metrics[k]).date().isoformat() for k in ("benchmark_start", "benchmark_end"))
        warnings.append({
            "code": "benchmark_partial",
            "message": f"the benchmark covers only {start} to {end} ({n_pairs} of {n_days} days): relative "
                       "metrics (excess return, tracking error, beta, win rate, capture) are on that span",
            "message_zh": f"业绩比较基准数据仅覆盖{start}至{end}（{n_days}个交易日中的{n_pairs}个），"
                          "超额收益、跟踪误差等相对指标只按该区间计算",
        })
    span = metrics.get("span_days")
    if span is not None and pd.notna(span) and span < MIN_ANNUALIZED_DAYS:
        warnings.append({
            "code": "not_annualized",
            "message": f"the window spans {int(span)} days, under one year: returns are shown for the window "
                       "(total, benchmark, excess), not annualized, and no Sharpe, Sortino or information ratio",
            "message_zh": f"所选区间仅{int(span)}天，不足一年：收益按区间累计展示"
                          "（区间收益、基准收益、超额收益），不做年化，也不计算夏普、索提诺和信息比率",
        })
    if metrics.get("n_days", 0) < TRADING_DAYS:
        warnings.append({
            "code": "short_history",
            "message": "under one year of data: annualized figures are not meaningful and may not be shown "
                       "to customers",
            "message_zh": "数据不足一年，年化指标不具参考意义，不宜向客户展示",
        })
    return warnings


def return_quality(universe: Universe, code: str) -> dict[str, Any]:
    """How the fund's total return was built from its NAV table: returns that were missing (a 0.00 or
    nothing beside a unit-NAV move, taken from the unit-NAV ratio), distributions (a non-zero stated return
    kept), and the missing ones that were falls no market move explains (probably distributions on a day
    whose return the source left out: the data cannot tell that day's return)."""
    found = universe.issues
    if found is None or found.empty:
        return {"missing_returns_repaired": 0, "distributions": 0, "distribution_dates": [],
                "unexplained_falls": 0, "unexplained_fall_dates": []}
    mine = found[found["code"] == code]
    dividends = mine.loc[mine["check"] == "dividend", "date"].dropna()
    falls = mine.loc[mine["check"] == "zero_on_large_fall", "date"].dropna()
    return {
        "missing_returns_repaired": int((mine["check"] == "missing_return").sum()),
        "distributions": len(dividends),
        "distribution_dates": [d.date().isoformat() for d in sorted(dividends)],
        "unexplained_falls": len(falls),
        "unexplained_fall_dates": [d.date().isoformat() for d in sorted(falls)],
    }


def unexplained_fall_warning(quality: dict[str, Any], start: Any, end: Any) -> dict[str, str] | None:
    """A warning when the window holds a repaired 0.00 on a fall no market move explains."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    days = [d for d in quality["unexplained_fall_dates"] if lo <= pd.Timestamp(d) <= hi]
    if not days:
        return None
    listed = ", ".join(days[:5]) + (" …" if len(days) > 5 else "")
    return {
        "code": "unexplained_fall",
        "message": f"on {listed} the source states a 0.00 return while the unit NAV fell more than any market "
                   "move explains: probably a distribution whose return is missing; the fall is counted as a "
                   "loss, so returns over this window may be understated",
        "message_zh": f"{listed}数据源的日增长率为0，但单位净值的跌幅远超市场波动，可能是未记录收益率的分红日；"
                      "该跌幅按亏损计入，本区间收益可能被低估",
    }


def _require_prices_in(returns: pd.Series, code: str, start: object, end: object) -> None:
    """A window holding no price of the fund is an error naming the option and the data's span, not a card
    of dashes."""
    known = returns.dropna().index
    if start is None and end is None:
        return
    lo = pd.Timestamp(start) if start is not None else None
    hi = pd.Timestamp(end) if end is not None else None
    inside = known[((known >= lo) if lo is not None else True) & ((known <= hi) if hi is not None else True)]
    if len(inside):
        return
    span = f"{known[0].date()} … {known[-1].date()}" if len(known) else "none"
    field = "end" if (hi is not None and len(known) and hi < known[0]) else "start"
    raise BadInputError(f"the window has no prices of {code}: its data runs {span}", code="empty_window",
                        field=field, details={"option": f"--{field}",
                                              "data_start": str(known[0].date()) if len(known) else None,
                                              "data_end": str(known[-1].date()) if len(known) else None})


def fund_report(universe: Universe, code: str, *, start: pd.Timestamp | None = None,
                end: pd.Timestamp | None = None, risk_free: float = 0.0) -> dict[str, Any]:
    """Profile, fees, metrics, rolling summary and benchmark of one fund (raises NotFoundError)."""
    row = universe.fund(code)
    i = universe.code_index[code]
    returns = universe.returns[[code]]
    _require_prices_in(returns[code], code, start, end)
    bench_all = fund_benchmark_returns(universe)
    metrics = metrics_for_readers(compute_metrics(returns, bench_all[[code]], risk_free=risk_free, start=start,
                                                  end=end))
    metric_row = metrics.loc[code].to_dict()
    window = slice_window(returns, start, end)
    rolling: dict[str, Any] = {}
    for years in ROLLING_WINDOWS_YEARS:
        summary = rolling_metrics(window, years, risk_free=risk_free).summary().loc[code].to_dict()
        summary["n_windows"] = int(summary["n_windows"])
        rolling[f"{years}y"] = summary
    warnings = data_warnings(metric_row)
    quality = return_quality(universe, code)
    fall = unexplained_fall_warning(quality, metric_row["start"], metric_row["end"])
    if fall is not None:
        warnings.append(fall)
    level = RiskLevel(int(row["risk_level"]))
    profile = {k: row[k] for k in PROFILE_FIELDS if k in row.index}
    profile["type_zh"] = FUND_TYPE_NAMES_ZH.get(FundType(row["fund_type"]), "")
    profile["asset_class_zh"] = ASSET_CLASS_NAMES_ZH.get(AssetClass(row["asset_class"]), "")
    return {
        "code": code,
        "name": row["name"],
        "type": row["fund_type"],
        "asset_class": row["asset_class"],
        "risk_level": level.label,
        "risk_level_zh": level.name_zh,
        "risk_source": row.get("risk_source", ""),
        "profile": profile,
        "fees": fee_detail(universe.fees.schedules[i], universe.fee_discount),
        "window": {"start": metric_row.pop("start"), "end": metric_row.pop("end"), "risk_free": risk_free},
        "metrics": metric_row,
        "rolling": rolling,
        "warnings": warnings,
        "data_quality": quality,
        "benchmark": benchmark_spec(universe, code).to_dict(),
        "as_of": universe.as_of,
        "data_version": universe.version,
    }

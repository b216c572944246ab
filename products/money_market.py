"""Modeled money-market funds: the real NAV set has none, yet every universe needs cash.

A money-market fund keeps its unit NAV at 1.00 and pays its yield daily. We model a few such funds from
an annual yield series:

* the yield path is configurable; the default `DEFAULT_YIELD_BY_YEAR` is a documented approximation of
  the average 7-day annualized yield of large Chinese money-market funds (2003–2026, 1.2 %–4.4 %), and
  `shibor_yields` reads a Shibor table (e.g. `cn_shelf_2017/Shibor.csv`) to override the dates it covers;
* each fund earns the path plus its own spread (different companies run at different yields);
* income accrues per calendar day (yield / 365) and is booked on trading days, so the return of a
  trading day is ``yield × calendar days since the previous trading day / 365`` (Friday → Monday = 3
  days), exactly how a money fund's 万份收益 accrues over a weekend.

Everything is deterministic: the same trading days and yields give the same series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from products.errors import DataError
from products.fees import FeeSchedule, default_schedule
from products.taxonomy import ASSET_CLASS_OF_TYPE, DEFAULT_RISK_OF_TYPE, FundType

DAYS_PER_YEAR = 365

# Approximate average 7-day annualized yield of large money-market funds by calendar year (fractions).
DEFAULT_YIELD_BY_YEAR: dict[int, float] = {
    2003: 0.020, 2004: 0.022, 2005: 0.020, 2006: 0.022, 2007: 0.030, 2008: 0.032, 2009: 0.014,
    2010: 0.018, 2011: 0.035, 2012: 0.036, 2013: 0.040, 2014: 0.044, 2015: 0.032, 2016: 0.025,
    2017: 0.039, 2018: 0.034, 2019: 0.025, 2020: 0.021, 2021: 0.022, 2022: 0.018, 2023: 0.019,
    2024: 0.016, 2025: 0.013, 2026: 0.012,
}


@dataclass(frozen=True)
class MoneyFundSpec:
    """One modeled money-market fund. Codes use the reserved 99xxxx range so they never clash."""

    code: str
    name: str
    full_name: str
    company: str
    spread: float  # added to the yield path (fraction per year)
    inception: str = "2003-12-30"


DEFAULT_MONEY_FUNDS: tuple[MoneyFundSpec, ...] = (
    MoneyFundSpec("990001", "稳利货币A(模拟)", "稳利货币市场基金(按收益率曲线模拟)", "模拟一号基金管理有限公司", 0.0),
    MoneyFundSpec("990002", "安心现金货币A(模拟)", "安心现金货币市场基金(按收益率曲线模拟)",
                  "模拟二号基金管理有限公司", 0.0015),
    MoneyFundSpec("990003", "日日盈货币A(模拟)", "日日盈货币市场基金(按收益率曲线模拟)",
                  "模拟三号基金管理有限公司", -0.001),
)


def load_money_fund_specs(path: str | Path) -> tuple[MoneyFundSpec, ...]:
    """Money-fund specs from a JSON list (or a CSV) with `code`, `name`, optional `full_name`, `company`,
    `spread` (fraction a year), `inception` — a bank's own money funds, modelled from the yield path until
    their NAVs are in the data. An empty list means: no modelled money funds."""
    file = Path(path)
    try:
        if file.suffix.lower() == ".csv":
            records = pd.read_csv(file, dtype=str).fillna("").to_dict("records")
        else:
            import json

            records = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read money-fund specs {file}: {err}", details={"path": str(file)}) from err
    if not isinstance(records, list):
        raise DataError(f"{file}: expected a list of money funds", details={"path": str(file)})
    specs = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or not str(rec.get("code", "")).strip() or not str(rec.get("name", "")).strip():
            raise DataError(f"{file}: money fund #{i + 1} needs a code and a name", details={"row": i + 1})
        try:
            spread = float(rec.get("spread") or 0.0)
        except (TypeError, ValueError) as err:
            raise DataError(f"{file}: money fund {rec['code']}: spread {rec.get('spread')!r} is not a number",
                            details={"row": i + 1, "field": "spread"}) from err
        specs.append(MoneyFundSpec(code=str(rec["code"]).strip(), name=str(rec["name"]).strip(),
                                   full_name=str(rec.get("full_name") or rec["name"]),
                                   company=str(rec.get("company") or ""), spread=spread,
                                   inception=str(rec.get("inception") or "2003-12-30")))
    return tuple(specs)


def yield_path(dates: pd.DatetimeIndex, by_year: Mapping[int, float] | None = None,
               override: pd.Series | None = None) -> pd.Series:
    """Annual yield (fraction) on each date: the yearly path, replaced by `override` where it has values.

    A year missing from the table takes the latest listed year before it (the first year before that).
    `override` (DatetimeIndex → fraction) is forward-filled inside its own date range only.
    """
    table = dict(by_year or DEFAULT_YIELD_BY_YEAR)
    if not table:
        raise DataError("yield path is empty")
    years = np.array(sorted(table))
    values = np.array([table[y] for y in years], dtype=float)
    # the latest listed year ≤ the date's year; dates before the first year take the first year
    idx = np.clip(np.searchsorted(years, dates.year.to_numpy(), side="right") - 1, 0, len(years) - 1)
    out = pd.Series(values[idx], index=dates, name="yield")
    if override is not None and not override.dropna().empty:
        ov = override.dropna().sort_index()
        inside = (dates >= ov.index[0]) & (dates <= ov.index[-1])
        out[inside] = ov.reindex(dates[inside], method="ffill").to_numpy()
    return out


def shibor_yields(path: str | Path, tenor: str = "1M") -> pd.Series:
    """A Shibor tenor column (percent per year) as fractions indexed by date."""
    frame = pd.read_csv(path)
    if "date" not in frame.columns or tenor not in frame.columns:
        raise DataError(f"{path}: expected columns 'date' and {tenor!r}", details={"columns": list(frame.columns)})
    dates = pd.to_datetime(frame["date"], errors="coerce")
    rates = pd.to_numeric(frame[tenor], errors="coerce") / 100.0
    return pd.Series(rates.to_numpy(), index=pd.DatetimeIndex(dates)).loc[lambda s: s.index.notna()].dropna()


def accrual_returns(trading_days: pd.DatetimeIndex, yields: pd.Series) -> pd.Series:
    """Daily returns of a constant-NAV fund: yield × calendar days since the previous trading day / 365."""
    days = pd.DatetimeIndex(trading_days)
    if len(days) == 0:
        return pd.Series(dtype=float)
    gaps = np.diff(days.to_numpy().astype("datetime64[D]").astype(np.int64)).astype(float)
    calendar_days = np.concatenate([[1.0], gaps])
    return pd.Series(yields.reindex(days).to_numpy() * calendar_days / DAYS_PER_YEAR, index=days)


@dataclass(frozen=True)
class MoneyMarketSet:
    """Modeled money funds ready to append to a universe (aligned on `funds.index`)."""

    funds: pd.DataFrame
    schedules: tuple[FeeSchedule, ...]
    returns: pd.DataFrame
    unit_nav: pd.DataFrame


def money_market_funds(trading_days: pd.DatetimeIndex, specs: Sequence[MoneyFundSpec] = DEFAULT_MONEY_FUNDS,
                       by_year: Mapping[int, float] | None = None,
                       override: pd.Series | None = None) -> MoneyMarketSet:
    """Funds rows (all `FUND_COLUMNS`), fee schedules, returns and unit NAV (1.0) of the modeled funds."""
    days = pd.DatetimeIndex(trading_days)
    base = yield_path(days, by_year, override)
    schedule = default_schedule(FundType.MONEY_MARKET.value)
    returns, navs, rows = {}, {}, []
    for spec in specs:
        start = pd.Timestamp(spec.inception)
        r = accrual_returns(days, (base + spec.spread).clip(lower=0.0))
        returns[spec.code] = r.where(days >= start)
        navs[spec.code] = pd.Series(1.0, index=days).where(days >= start)
        rows.append({
            "code": spec.code, "name": spec.name, "full_name": spec.full_name, "company": spec.company,
            "managers": "", "manager_since": pd.NaT, "inception": start, "share_class": "A",
            "sibling_codes": "", "fund_type": FundType.MONEY_MARKET.value,
            "asset_class": ASSET_CLASS_OF_TYPE[FundType.MONEY_MARKET].value,
            "risk_level": int(DEFAULT_RISK_OF_TYPE[FundType.MONEY_MARKET]), "risk_source": "type_default",
            "aum_yi": np.nan, "benchmark_text": "七天通知存款利率(税后)", "status": "open",
            "min_purchase": 0.01, "purchase_increment": 0.01, "min_sip": 10.0,
            "management_fee": schedule.management_fee, "custody_fee": schedule.custody_fee,
            "sales_service_fee": schedule.sales_service_fee, "currency": "CNY", "modelled": True,
        })
    funds = pd.DataFrame(rows).set_index("code")
    return MoneyMarketSet(funds=funds, schedules=tuple(schedule for _ in specs),
                          returns=pd.DataFrame(returns, index=days), unit_nav=pd.DataFrame(navs, index=days))


def cash_index(dates: pd.DatetimeIndex, by_year: Mapping[int, float] | None = None,
               override: pd.Series | None = None, base: float = 1.0) -> pd.Series:
    """A money-market price index (the `cash` benchmark): the yield path accrued over `dates`."""
    r = accrual_returns(pd.DatetimeIndex(dates), yield_path(pd.DatetimeIndex(dates), by_year, override))
    return base * (1.0 + r).cumprod()

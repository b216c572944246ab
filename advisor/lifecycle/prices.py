"""Prices for valuing holdings on any date, built once per universe snapshot.

Two price tables, days × funds, forward-filled over non-trading days of each fund:

* **unit** — the published unit NAV (单位净值). It drops on distribution days, so a ledger valued at unit
  prices must carry its dividend rows (cash or reinvested), as a bank's transfer-agent feed does.
* **total** — a dividend-adjusted price: the total-return index rescaled so that its last value equals the
  last unit NAV. Shares × total price grows as if every distribution had been reinvested, and on the last
  day both tables value a share the same. It prices what carries no dividend rows: money-market funds
  (unit NAV 1.00, income paid daily as shares), funds without a unit NAV series, and positions known only
  as lots (their cost basis is then estimated from the total return since purchase).

Dates are integer days since 1970-01-01 (`epoch_days`); a date between trading days takes the price of
the last trading day on or before it. `distributions` recovers each fund's per-share distributions from
the two series (unit NAV fell more than the adjusted return), for demo ledgers and dividend checks.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from advisor.batch_io import latest_unit_nav
from products.universe import Universe

UNIT, TOTAL = 0, 1  # price modes (row of `PriceTable.prices`)
EPOCH = np.datetime64("1970-01-01", "D")
DISTRIBUTION_TOLERANCE = 0.002  # relative unit-NAV drop beyond the adjusted return (products.validation)


def epoch_days(values: object) -> np.ndarray:
    """Dates (datetime64, date, Timestamp, ISO text) as int64 days since 1970-01-01."""
    array = np.asarray(values)
    if array.dtype.kind == "i":
        return array.astype(np.int64)
    return (np.asarray(pd.to_datetime(array), dtype="datetime64[D]") - EPOCH).astype(np.int64)


def day_of(value: date | str) -> int:
    return int((np.datetime64(value, "D") - EPOCH).astype(np.int64))


def date_of(day: int | np.integer) -> date:
    return (EPOCH + np.timedelta64(int(day), "D")).astype(object)


@dataclass(frozen=True, eq=False)
class PriceTable:
    """Unit and dividend-adjusted prices of every fund on every trading day of the universe."""

    days: np.ndarray  # int64 epoch days of the trading dates, ascending
    prices: np.ndarray  # (2, T, F) float64: [UNIT] and [TOTAL], forward-filled, NaN before a fund's first price
    first_day: np.ndarray  # (F,) epoch day of each fund's first price (max int where none)
    money_market: np.ndarray  # (F,) bool
    has_unit: np.ndarray  # (F,) bool: a unit NAV series exists
    codes: np.ndarray
    names: np.ndarray

    @property
    def n_funds(self) -> int:
        return self.prices.shape[2]

    @property
    def last_day(self) -> int:
        return int(self.days[-1]) if len(self.days) else 0

    def row(self, days: np.ndarray) -> np.ndarray:
        """Row of the last trading day on or before each day (-1 before the first): looked up in a table of
        every calendar day of the price history (millions of ledger days: a gather, not a binary search)."""
        days = np.asarray(days, dtype=np.int64)
        if not len(self.days):
            return np.full(days.shape, -1, dtype=np.int64)
        first, rows = self._calendar_rows()
        return rows[np.clip(days - first + 1, 0, len(rows) - 1)]

    def _calendar_rows(self) -> tuple[int, np.ndarray]:
        """(first trading day, row per calendar day from the day before it to the last trading day + 1)."""
        cached = self.__dict__.get("_calendar")
        if cached is None:
            first = int(self.days[0])
            calendar = np.arange(first - 1, int(self.days[-1]) + 2, dtype=np.int64)
            cached = (first, np.searchsorted(self.days, calendar, side="right") - 1)
            object.__setattr__(self, "_calendar", cached)
        return cached

    def price(self, mode: np.ndarray | int, days: np.ndarray, fund: np.ndarray) -> np.ndarray:
        """Price per (mode, day, fund) triple (NaN before the fund's first price or the first trading day)."""
        rows = self.row(days)
        fund = np.asarray(fund, dtype=np.int64)
        mode = np.broadcast_to(np.asarray(mode, dtype=np.int64), rows.shape)
        out = self.prices[mode, np.maximum(rows, 0), fund]
        return np.where(rows >= 0, out, np.nan)

    def default_mode(self, fund: np.ndarray) -> np.ndarray:
        """TOTAL for money-market funds and funds without unit NAV, else UNIT."""
        fund = np.asarray(fund, dtype=np.int64)
        return np.where(self.money_market[fund] | ~self.has_unit[fund], TOTAL, UNIT).astype(np.int8)


_TABLES: weakref.WeakKeyDictionary[Universe, PriceTable] = weakref.WeakKeyDictionary()


def price_table(universe: Universe) -> PriceTable:
    """The price table of `universe` (built on first use, cached for the universe's lifetime)."""
    table = _TABLES.get(universe)
    if table is None:
        table = _TABLES[universe] = _build(universe)
    return table


def _build(universe: Universe) -> PriceTable:
    funds = universe.funds
    codes = funds.index
    returns = universe.returns
    days = epoch_days(returns.index.to_numpy()) if len(returns) else np.zeros(0, dtype=np.int64)
    values = returns.to_numpy(dtype=float)
    # a fund is priced from the day before its first return (the base the first return is measured from)
    observed = ~np.isnan(values)
    base = np.zeros_like(observed)
    base[:-1] = observed[1:]
    started = np.maximum.accumulate(observed | base, axis=0) if len(values) else np.zeros_like(values, bool)
    growth = np.cumprod(1.0 + np.nan_to_num(values), axis=0)
    growth = np.where(started, growth, np.nan)
    last_unit = latest_unit_nav(universe)
    last_growth = growth[-1] if len(growth) else np.ones(len(codes))
    total = growth / np.where(np.isfinite(last_growth) & (last_growth > 0), last_growth, 1.0) * last_unit
    unit = np.full_like(total, np.nan)
    has_unit = np.zeros(len(codes), dtype=bool)
    if universe.unit_nav is not None and not universe.unit_nav.empty:
        frame = universe.unit_nav.reindex(index=returns.index, columns=codes).ffill()
        raw = frame.to_numpy(dtype=float)
        raw = np.where(raw > 0, raw, np.nan)
        has_unit = np.isfinite(raw).any(axis=0)
        # where a unit NAV is missing on a priced day (the base day before the first return, a gap), carry
        # the unit/adjusted ratio from the nearest day that has both
        ratio = pd.DataFrame(raw / total).bfill().ffill().to_numpy()
        unit = np.where(started, np.where(np.isfinite(raw), raw, total * ratio), np.nan)
    money = funds["fund_type"].astype("str").to_numpy() == "money_market"
    use_total = money | ~has_unit
    unit[:, use_total] = total[:, use_total]
    first_row = np.where(started.any(axis=0), started.argmax(axis=0), -1) if len(values) else np.full(len(codes), -1)
    first_day = np.where(first_row >= 0, days[np.maximum(first_row, 0)] if len(days) else 0,
                         np.iinfo(np.int64).max)
    prices = np.ascontiguousarray(np.stack([unit, total]))
    prices.setflags(write=False)
    return PriceTable(days=days, prices=prices, first_day=first_day.astype(np.int64), money_market=money,
                      has_unit=has_unit & ~money, codes=codes.to_numpy(dtype=object),
                      names=funds["name"].fillna("").astype("str").to_numpy(dtype=object))


def distributions(universe: Universe, tolerance: float = DISTRIBUTION_TOLERANCE) -> pd.DataFrame:
    """Per-share distributions implied by unit NAV and the adjusted return: `code, date, per_share, nav`
    (`nav` = the unit NAV after the distribution, at which reinvested shares are bought)."""
    if universe.unit_nav is None or universe.unit_nav.empty or universe.returns.empty:
        return pd.DataFrame({"code": pd.Series(dtype="str"), "date": pd.Series(dtype="datetime64[ns]"),
                             "per_share": pd.Series(dtype=float), "nav": pd.Series(dtype=float)})
    unit = universe.unit_nav.reindex(index=universe.returns.index, columns=universe.funds.index)
    r = universe.returns.to_numpy(dtype=float)
    u = unit.to_numpy(dtype=float)
    prev = np.vstack([np.full((1, u.shape[1]), np.nan), u[:-1]])
    with np.errstate(invalid="ignore"):
        per_share = prev * (1.0 + r) - u
        drop = (u / prev - 1.0) - r
    money = (universe.funds["fund_type"].astype("str") == "money_market").to_numpy()
    hit = (drop < -tolerance) & np.isfinite(per_share) & (per_share > 0) & ~money[None, :]
    rows, cols = np.nonzero(hit)
    return pd.DataFrame({"code": universe.funds.index.to_numpy()[cols].astype(str),
                         "date": universe.returns.index[rows], "per_share": per_share[rows, cols],
                         "nav": u[rows, cols]}).sort_values(["code", "date"], ignore_index=True)

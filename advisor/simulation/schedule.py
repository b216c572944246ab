"""When things happen in a simulation: the trading calendar and its decision dates.

* **Trading days** are the universe's return dates (`universe.returns.index`).
* **Research dates** (leaderboard, style, holdings, capital market assumptions, models, selection and
  fund targets recomputed point in time): the first trading day after each quarter's holdings
  disclosure (quarter end + `DISCLOSURE_LAG_DAYS`); the first decisions use the last research date
  before them. Cadence `quarterly` (default), `semiannual` (after the half-year and annual reports),
  `yearly` (after the annual report) or `monthly` (every first trading day of a month, plus the
  disclosure days).
* **Start days**: the first trading day of each month; a customer who starts that day decides the
  evening before (research as of then) and buys at that day's NAV.
* **Review days** of the rebalancing calendar: the first trading day of each quarter (or month).

All dates are row numbers into the trading-day index; a decision taken on row t fills on row t + 1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from products.errors import BadInputError
from products.research.lookthrough import DISCLOSURE_LAG_DAYS

Cadence = Literal["monthly", "quarterly", "semiannual", "yearly"]
CADENCES: tuple[str, ...] = ("monthly", "quarterly", "semiannual", "yearly")
_QUARTER_MONTHS: dict[str, tuple[int, ...]] = {
    "monthly": (3, 6, 9, 12), "quarterly": (3, 6, 9, 12), "semiannual": (6, 12), "yearly": (12,),
}


def first_rows_of_period(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Row of the first trading day of each month (`freq='M'`) or quarter (`'Q'`)."""
    if len(dates) == 0:
        return np.zeros(0, dtype=np.int64)
    period = dates.to_period(freq).asi8
    first = np.ones(len(dates), dtype=bool)
    first[1:] = period[1:] != period[:-1]
    return np.flatnonzero(first)


def row_on_or_after(dates: pd.DatetimeIndex, when: pd.Timestamp) -> int:
    return int(dates.searchsorted(when, side="left"))


def research_rows(dates: pd.DatetimeIndex, first: int, last: int, cadence: str = "quarterly") -> np.ndarray:
    """Research dates for decisions in [first, last] (module docstring): every disclosure day in (first, last],
    led by the last one on or before `first` (the data's first day when none). The calendar depends only on
    the dates, never on which customers are simulated, so a customer gets the same research in any book."""
    if cadence not in CADENCES:
        raise BadInputError(f"research cadence must be one of {', '.join(CADENCES)}", details={"field": "cadence"})
    rows: set[int] = set()
    hi = dates[last]
    for year in range(dates[0].year - 1, hi.year + 1):
        for month in _QUARTER_MONTHS[cadence]:
            q_end = pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)
            row = row_on_or_after(dates, q_end + pd.Timedelta(days=DISCLOSURE_LAG_DAYS))
            if row <= last:
                rows.add(row)
    if cadence == "monthly":
        rows.update(int(r) for r in first_rows_of_period(dates, "M") if r <= last)
    ordered = np.array(sorted(rows), dtype=np.int64)
    before = ordered[ordered <= first]
    lead = int(before[-1]) if before.size else 0
    return np.concatenate([[lead], ordered[ordered > first]]).astype(np.int64)


def review_rows(dates: pd.DatetimeIndex, first: int, last: int, calendar: str) -> np.ndarray:
    """First trading day of each quarter (`quarterly`) or month (`monthly`) in [first, last]."""
    rows = first_rows_of_period(dates, "Q" if calendar == "quarterly" else "M")
    return rows[(rows >= first) & (rows <= last)]


def month_start_rows(dates: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """First trading day of every month from `start` to `end` (rows ≥ 1, so there is an evening before)."""
    rows = first_rows_of_period(dates, "M")
    keep = (dates[rows] >= start) & (dates[rows] <= end) & (rows >= 1)
    return rows[keep]


def default_start(universe_returns: pd.DataFrame, asset_class: np.ndarray, min_history_days: int) -> pd.Timestamp:
    """First date on which every asset class present has a fund with `min_history_days` of history: the
    earliest day the policy's whole menu exists (before it, models would leave classes out)."""
    valid = universe_returns.notna().to_numpy()
    counts = np.cumsum(valid, axis=0)
    reached = counts >= min_history_days
    has = reached.any(axis=0)
    first_row = np.where(has, reached.argmax(axis=0), len(universe_returns))
    rows = [int(first_row[asset_class == cls].min()) for cls in pd.unique(asset_class)]
    row = max(rows) if rows else 0
    if row >= len(universe_returns):
        raise BadInputError("the data is too short: some asset class never reaches the history the selection "
                            f"needs ({min_history_days} days)", details={"field": "start"})
    return universe_returns.index[row]

"""The universe as it was known on a past date: the one input of every simulated decision.

`point_in_time(universe, t)` returns an ordinary `Universe` that the service's own code (research,
models, selection, construction, proposals, rebalancing) can run on unchanged. What it keeps:

* **Funds alive then with enough history**: funds with at least `min_history_days` daily returns up
  to `t` (the selection's history rule, so the model never asks for a class no eligible fund can fill).
  A fund silent for `silence_days` trading days (no NAV) is marked `closed`: it cannot be bought, and
  the simulator pays its holders out at the last NAV (see `advisor.simulation.book`).
* **Prices up to `t`**: returns, unit NAV and benchmark series are cut at `t` (inclusive).
* **Holdings disclosed by then**: a quarter's top-10 holdings become known `DISCLOSURE_LAG_DAYS` after
  the quarter end (15 working days, the research module's rule); SW industries effective on or
  before `t`.
* **Snapshot fields with no date** are neutralised, because the data only knows their value today:
  fund size (`aum_yi`) is unknown (NaN) and the sales status is `open` (unless silent as above).
  Manager tenure is handled by the leaderboard (a manager who started after `t` counts as unknown).
  Fee schedules and shelf ratings are static in the data and used as they are (a documented bias).
* **Risk ratings known then**: the service's floor from measured risk (`products.risk_rating.
  apply_risk_floor`: a rating too low for the 3-year volatility is raised) is applied again on the returns
  up to `t`, so a fund whose volatility was already too high for its rating at `t` is rated as the service
  would have rated it then. (A rating the data raised for volatility measured after `t` stays raised: the
  data keeps no rating from before its floor — a conservative bias, listed in docs/simulation.md.)

Everything is a function of the data up to `t` plus the static fund table, so deleting every row
after `t` from the data gives the same view (tested).
"""

from __future__ import annotations

import dataclasses
import weakref
from datetime import date

import numpy as np
import pandas as pd

from products.fees import FeeTable
from products.research.lookthrough import DISCLOSURE_LAG_DAYS
from products.risk_rating import apply_risk_floor
from products.universe import Universe

DEFAULT_SILENCE_DAYS = 20  # trading days without a NAV after which a fund counts as gone (longest real gap: 6)
UNDATED_SNAPSHOT_COLUMNS = ("aum_yi",)
RATING_WINDOW_ROWS = 800  # the rating floor measures 3 years (756 trading days) of volatility


def as_timestamp(value: date | str | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def last_valid_rows(valid: np.ndarray) -> np.ndarray:
    """Row of each column's last True (−1 when none)."""
    rows = valid.shape[0]
    last = rows - 1 - np.argmax(valid[::-1], axis=0)
    return np.where(valid.any(axis=0), last, -1)


def silent_funds(returns: pd.DataFrame, silence_days: int = DEFAULT_SILENCE_DAYS) -> np.ndarray:
    """Bool per column: no return in the last `silence_days` rows of `returns` (a fund gone quiet)."""
    if returns.empty:
        return np.zeros(returns.shape[1], dtype=bool)
    last = last_valid_rows(returns.notna().to_numpy())
    return last < len(returns) - silence_days


def quarter_ends(labels: pd.Series) -> pd.Series:
    """`2022-Q4` / `2022Q4` → 2022-12-31 (normalized timestamps), one parse per distinct label."""
    uniq = pd.unique(labels.astype(str))
    lookup = {q: pd.Period(q.strip().upper().replace("-Q", "Q"), freq="Q").end_time.normalize() for q in uniq}
    return pd.to_datetime(labels.astype(str).map(lookup))


_DISCLOSED: dict[int, tuple[weakref.ref, np.ndarray]] = {}  # id(holdings) → (the frame, disclosure day per row)


def disclosure_days(holdings: pd.DataFrame) -> np.ndarray:
    """Day each holdings row became known (quarter end + the disclosure lag), kept per holdings frame: a
    simulation cuts the same table at every research date."""
    hit = _DISCLOSED.get(id(holdings))
    if hit is not None and hit[0]() is holdings:
        return hit[1]
    days = (quarter_ends(holdings["quarter"]) + pd.Timedelta(days=DISCLOSURE_LAG_DAYS)).to_numpy()
    if len(_DISCLOSED) > 8:
        _DISCLOSED.clear()
    _DISCLOSED[id(holdings)] = (weakref.ref(holdings), days)
    return days


def disclosed_holdings(holdings: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Holdings rows of the quarters whose reports were out by `as_of`."""
    if holdings is None or holdings.empty or "quarter" not in holdings.columns:
        return holdings
    return holdings.loc[disclosure_days(holdings) <= np.datetime64(as_of)]


def take_fees(fees: FeeTable, positions: np.ndarray) -> FeeTable:
    """The fee table rows of `positions` (same schedules, same arrays)."""
    pos = np.asarray(positions, dtype=np.intp)
    return FeeTable(
        sub_upper=fees.sub_upper[pos], sub_rate=fees.sub_rate[pos], sub_flat=fees.sub_flat[pos],
        red_upper=fees.red_upper[pos], red_rate=fees.red_rate[pos], running_cost=fees.running_cost[pos],
        sales_service_fee=fees.sales_service_fee[pos], money_market=fees.money_market[pos],
        schedules=tuple(fees.schedules[i] for i in pos) if len(fees.schedules) == len(fees) else (),
    )


def point_in_time(universe: Universe, as_of: date | str | pd.Timestamp, *, min_history_days: int = 300,
                  silence_days: int = DEFAULT_SILENCE_DAYS) -> Universe:
    """The universe as known at the close of `as_of` (module docstring)."""
    ts = as_timestamp(as_of)
    returns = universe.returns.loc[:ts]
    history = returns.notna().sum(axis=0).to_numpy()
    keep = history >= min_history_days
    positions = np.flatnonzero(keep)
    codes = universe.funds.index[positions]
    funds = universe.funds.iloc[positions].copy()
    silent = silent_funds(returns.iloc[:, positions], silence_days)
    if "status" in funds.columns:
        funds["status"] = np.where(silent, "closed", "open")
    for column in UNDATED_SNAPSHOT_COLUMNS:
        if column in funds.columns:
            funds[column] = np.nan
    if {"risk_level", "fund_type"} <= set(funds.columns) and len(funds):
        funds, _ = apply_risk_floor(funds, returns.iloc[-RATING_WINDOW_ROWS:, positions], as_of=ts)
    unit_nav = universe.unit_nav
    if unit_nav is not None and not unit_nav.empty:
        unit_nav = unit_nav.loc[:ts].reindex(columns=codes)
    industry = universe.stock_industry
    if industry is not None and not industry.empty and "effective_date" in industry.columns:
        industry = industry.loc[(pd.to_datetime(industry["effective_date"]) <= ts).to_numpy()]
    benchmarks = universe.benchmarks.loc[:ts] if not universe.benchmarks.empty else universe.benchmarks
    return dataclasses.replace(
        universe, as_of=ts.date(), funds=funds, fees=take_fees(universe.fees, positions),
        returns=returns.iloc[:, positions], holdings=disclosed_holdings(universe.holdings, ts),
        stock_industry=industry, benchmarks=benchmarks, unit_nav=unit_nav, issues=pd.DataFrame(),
    )


def truncated(universe: Universe, as_of: date | str | pd.Timestamp) -> Universe:
    """The data as it stood at `as_of`: every dated row after it deleted (for the no-look-ahead proof).

    Unlike `point_in_time` nothing is filtered or neutralised: this is what a data feed cut at `as_of`
    would have delivered (funds not launched yet are gone; static fields stay as they are)."""
    ts = as_timestamp(as_of)
    returns = universe.returns.loc[:ts]
    launched = returns.notna().any(axis=0).to_numpy()
    positions = np.flatnonzero(launched)
    codes = universe.funds.index[positions]
    unit_nav = universe.unit_nav
    if unit_nav is not None and not unit_nav.empty:
        unit_nav = unit_nav.loc[:ts].reindex(columns=[c for c in codes if c in unit_nav.columns])
    industry = universe.stock_industry
    if industry is not None and not industry.empty and "effective_date" in industry.columns:
        industry = industry.loc[(pd.to_datetime(industry["effective_date"]) <= ts).to_numpy()]
    return dataclasses.replace(
        universe, as_of=ts.date(), funds=universe.funds.iloc[positions], fees=take_fees(universe.fees, positions),
        returns=returns.iloc[:, positions], holdings=disclosed_holdings(universe.holdings, ts),
        stock_industry=industry, benchmarks=universe.benchmarks.loc[:ts] if not universe.benchmarks.empty
        else universe.benchmarks, unit_nav=unit_nav,
    )

"""Simulated customers and their cash flows: validation and the standard grid.

A simulated customer is one row: `customer_id`, `level` (C1–C5), `horizon_years`, `start` (the first
purchase is on the first trading day on or after it), `amount` (first purchase, yuan, ≥ 0), optional
`monthly` (a 定投 contribution on the first trading day of every later month; when `amount` is 0 the
start month's contribution is the first purchase) and `lowest_category`. Extra cash flows (more
contributions, withdrawals) come as a table `customer_id, date, amount` (deposit > 0, withdrawal < 0).

Money arriving while a customer holds nothing is invested by a one-click proposal (as a new customer
would); later money goes to the rebalancing engine as a deposit (buy what is underweight first) and a
withdrawal as a negative cash flow (sell what is overweight first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor import limits
from advisor.model_portfolios import parse_level
from advisor.simulation.schedule import first_rows_of_period, month_start_rows
from products.errors import BadInputError

CUSTOMER_COLUMNS = ("customer_id", "level", "horizon_years", "start", "amount")
DEFAULT_AMOUNT = 100_000.0
DEFAULT_HORIZONS: tuple[float, ...] = (0.5, 2.0, 5.0)
DEFAULT_LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)


def grid_customers(dates: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, *,
                   levels: Sequence[int] = DEFAULT_LEVELS, horizons: Sequence[float] = DEFAULT_HORIZONS,
                   amount: float = DEFAULT_AMOUNT, monthly: float = 0.0) -> pd.DataFrame:
    """One customer per level × horizon × month start in [start, end] (the standard grid)."""
    rows = month_start_rows(dates, start, end)
    starts = dates[rows]
    frame = pd.DataFrame([(lvl, float(h), s) for s in starts for lvl in levels for h in horizons],
                         columns=["level", "horizon_years", "start"])
    frame.insert(0, "customer_id", [f"C{lv}-{h:g}y-{s:%Y-%m}" for lv, h, s in frame.itertuples(index=False)])
    frame["amount"] = float(amount)
    frame["monthly"] = float(monthly)
    frame["lowest_category"] = False
    return frame


@dataclass(frozen=True)
class CustomerArrays:
    """Validated customers as arrays (row i = customer i of the input)."""

    ids: np.ndarray  # object
    level: np.ndarray  # int
    lowest: np.ndarray  # bool
    horizon: np.ndarray  # float years
    start_row: np.ndarray  # trading row of the first purchase
    first_amount: np.ndarray  # yuan of the first purchase
    flow_cust: np.ndarray  # later flows: customer, row, amount (deposit > 0, withdrawal < 0)
    flow_row: np.ndarray
    flow_amount: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def _number(frame: pd.DataFrame, column: str, default: float | None) -> np.ndarray:
    if column not in frame.columns:
        if default is None:
            raise BadInputError(f"customers table is missing column {column}", details={"field": column})
        return np.full(len(frame), default)
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    if default is not None:  # an optional column: an empty cell is the default, text is still an error
        values = np.where(raw.isna().to_numpy(), default, values)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise BadInputError(f"customers row {row}: {column} must be a number", details={"field": column, "row": row})
    return values


def validate_customers(customers: pd.DataFrame, dates: pd.DatetimeIndex, flows: pd.DataFrame | None = None,
                       last_row: int | None = None) -> CustomerArrays:
    """Check the customers (and flows) and place them on the trading calendar; errors name field and row."""
    if not isinstance(customers, pd.DataFrame) or customers.empty:
        raise BadInputError("no customers to simulate", details={"field": "customers"})
    missing = [c for c in ("level", "horizon_years", "start") if c not in customers.columns]
    if missing:
        raise BadInputError(f"customers table is missing columns {missing}", details={"field": missing[0]})
    last_row = len(dates) - 1 if last_row is None else last_row
    n = len(customers)
    ids = (customers["customer_id"].astype(str).to_numpy(dtype=object) if "customer_id" in customers.columns
           else np.array([f"c{i}" for i in range(n)], dtype=object))
    if len(set(ids.tolist())) != n:
        raise BadInputError("customer_id must be unique", details={"field": "customer_id"})
    level = np.empty(n, dtype=np.int64)
    for i, value in enumerate(customers["level"].tolist()):
        try:
            level[i] = parse_level(value)
        except BadInputError:
            raise BadInputError(f"customers row {i}: level must be C1–C5, got {value!r}",
                                details={"field": "level", "row": i}) from None
    horizon = _number(customers, "horizon_years", None)
    amount = _number(customers, "amount", 0.0)
    monthly = _number(customers, "monthly", 0.0)
    for row in range(n):  # the service's input limits (advisor.limits), with the row named
        try:
            limits.horizon_years(horizon[row])
            limits.money(amount[row], "amount", allow_zero=True)
            limits.money(monthly[row], "monthly", allow_zero=True)
        except BadInputError as err:
            raise BadInputError(f"customers row {row}: {err.message}", details={**err.details, "row": row}) from None
    lowest = (customers["lowest_category"].fillna(False).astype(bool).to_numpy()
              if "lowest_category" in customers.columns else np.zeros(n, dtype=bool))
    start = pd.to_datetime(customers["start"], errors="coerce")
    if start.isna().any():
        row = int(np.flatnonzero(start.isna().to_numpy())[0])
        raise BadInputError(f"customers row {row}: start must be a date", details={"field": "start", "row": row})
    start_row = dates.searchsorted(start.to_numpy(), side="left").astype(np.int64)
    late = (start_row > last_row) | (start_row < 1)
    if late.any():
        row = int(np.flatnonzero(late)[0])
        raise BadInputError(f"customers row {row}: start {start.iloc[row].date()} is outside the data "
                            f"({dates[1].date()} … {dates[last_row].date()})", details={"field": "start", "row": row})

    # monthly contributions: every first trading day of a month after the start month
    month_rows = first_rows_of_period(dates, "M")
    month_rows = month_rows[month_rows <= last_row]
    f_cust, f_row, f_amt = [], [], []
    sip = np.flatnonzero(monthly > 0)
    if sip.size:
        later = month_rows[None, :] > start_row[sip, None]
        cust_idx, col = np.nonzero(later)
        f_cust.append(sip[cust_idx])
        f_row.append(month_rows[col])
        f_amt.append(monthly[sip][cust_idx])
    first_amount = np.where(amount > 0, amount, monthly)
    if flows is not None and len(flows):
        fc, fr, fa = _validate_flows(flows, ids, dates, start_row, last_row)
        f_cust.append(fc)
        f_row.append(fr)
        f_amt.append(fa)
    no_money = first_amount <= 0
    if no_money.any():
        row = int(np.flatnonzero(no_money)[0])
        raise BadInputError(f"customers row {row}: amount or monthly must be positive (nothing to invest)",
                            details={"field": "amount", "row": row})
    flow_cust = np.concatenate(f_cust) if f_cust else np.zeros(0, dtype=np.int64)
    flow_row = np.concatenate(f_row) if f_row else np.zeros(0, dtype=np.int64)
    flow_amount = np.concatenate(f_amt) if f_amt else np.zeros(0)
    order = np.lexsort((flow_cust, flow_row))
    return CustomerArrays(ids=ids, level=level, lowest=lowest, horizon=horizon, start_row=start_row,
                          first_amount=first_amount, flow_cust=flow_cust[order].astype(np.int64),
                          flow_row=flow_row[order].astype(np.int64), flow_amount=flow_amount[order])


def _validate_flows(flows: pd.DataFrame, ids: np.ndarray, dates: pd.DatetimeIndex, start_row: np.ndarray,
                    last_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    for col in ("customer_id", "date", "amount"):
        if col not in flows.columns:
            raise BadInputError(f"flows table is missing column {col}", details={"field": col})
    lookup = {c: i for i, c in enumerate(ids.tolist())}
    cust = np.array([lookup.get(str(c), -1) for c in flows["customer_id"].tolist()], dtype=np.int64)
    if (cust < 0).any():
        row = int(np.flatnonzero(cust < 0)[0])
        raise BadInputError(f"flows row {row}: unknown customer_id", details={"field": "customer_id", "row": row})
    when = pd.to_datetime(flows["date"], errors="coerce")
    amount = pd.to_numeric(flows["amount"], errors="coerce").to_numpy(dtype=float)
    bad = when.isna().to_numpy() | ~np.isfinite(amount) | (amount == 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise BadInputError(f"flows row {row}: needs a date and a non-zero amount",
                            details={"field": "date" if when.isna().iloc[row] else "amount", "row": row})
    rows = dates.searchsorted(when.to_numpy(), side="left").astype(np.int64)
    early = rows <= start_row[cust]
    if early.any():
        row = int(np.flatnonzero(early)[0])
        raise BadInputError(f"flows row {row}: a flow must come after the customer's first purchase",
                            details={"field": "date", "row": row})
    keep = rows <= last_row
    return cust[keep], rows[keep], amount[keep]

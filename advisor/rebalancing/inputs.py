"""Validation of the batch inputs: customers and valued lots, bad rows reported with table, row, field, reason.

Rows that cannot be used are rejected and the run goes on; a customer with any unusable lot is skipped
as a whole (trades on a partial picture would be wrong).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from advisor import limits
from products.errors import BadInputError

REJECT_COLUMNS = ["table", "customer_id", "row", "field", "reason"]


def reject_frame(table: str, ids: np.ndarray, rows: np.ndarray, field: str, reason: object) -> pd.DataFrame:
    return pd.DataFrame({"table": table, "customer_id": pd.Series(ids, dtype="str"), "row": rows.astype(np.int64),
                         "field": field, "reason": reason})


def _levels(values: pd.Series) -> np.ndarray:
    """C1…C5 (or 1…5) as floats, NaN where unreadable; text is parsed once per distinct value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":
        return values.to_numpy().astype(float, copy=False)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    codes, uniques = pd.factorize(values)
    parsed = np.array([_level_of(v) for v in uniques] + [np.nan])
    return parsed[codes]


def _level_of(value: object) -> float:
    text = str(value).strip().upper().removeprefix("C")
    return float(text) if text.isdigit() else np.nan


def numbers(frame: pd.DataFrame, column: str, default: float) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), default)
    values = frame[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":
        return values.to_numpy().astype(float, copy=False)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def text_ids(values: pd.Series) -> pd.Series:
    out = values if isinstance(values.dtype, pd.StringDtype) else values.astype("str")
    plain = isinstance(out.index, pd.RangeIndex) and out.index.start == 0 and out.index.step == 1
    return out if plain else out.reset_index(drop=True)


def positions(values: pd.Series, value_set: pd.Series) -> np.ndarray:
    """Position of each value in `value_set` (-1 where absent): an Arrow hash join, zero-copy on str columns."""
    import pyarrow.compute as pc

    if len(value_set) <= 16:  # a handful of customers (the API): a dict beats building a hash table
        lookup: dict[object, int] = {}
        for i, v in enumerate(value_set.tolist()):
            lookup.setdefault(v, i)  # the first occurrence, like Arrow's index_in
        return np.fromiter((lookup.get(v, -1) for v in values.tolist()), dtype=np.int64, count=len(values))
    found = pc.index_in(pa.array(values.array), value_set=pa.array(value_set.array))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def dates_or_nat(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    values = frame[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return values.to_numpy().astype("datetime64[D]")
    return pd.to_datetime(values, errors="coerce").to_numpy(dtype="datetime64[D]")


@dataclass(frozen=True)
class Customers:
    ids: pd.Series  # str
    rows: np.ndarray
    level: np.ndarray
    lowest: np.ndarray
    bucket: np.ndarray
    flow: np.ndarray
    previous_level: np.ndarray
    last_review: np.ndarray
    horizon: np.ndarray  # years (3 where unknown)
    cash: np.ndarray  # cash at the bank, yuan (0 where unknown)
    monthly_expenses: np.ndarray  # yuan (0 where unknown: no reserve)
    expires_on: np.ndarray | None  # assessment expiry (NaT: never assessed); None: not given, not checked


def validate_customers(customers: pd.DataFrame) -> tuple[Customers, np.ndarray, list[pd.DataFrame]]:
    for col in ("customer_id", "risk_level"):
        if col not in customers.columns:
            raise BadInputError(f"customers table is missing column {col}", code="missing_columns",
                                details={"table": "customers", "missing": [col]})
    n = len(customers)
    ids = text_ids(customers["customer_id"])
    rows = customers["row"].to_numpy(dtype=np.int64) if "row" in customers.columns else np.arange(n)
    level = _levels(customers["risk_level"])
    lowest = (customers["lowest_category"].to_numpy(dtype=bool, na_value=False)
              if "lowest_category" in customers.columns else np.zeros(n, dtype=bool))
    horizon = numbers(customers, "horizon_years", np.nan)
    flow = numbers(customers, "cash_flow", 0.0)
    cash = numbers(customers, "cash", 0.0)
    expenses = numbers(customers, "monthly_expenses", 0.0)
    prev = _levels(customers["previous_risk_level"]) if "previous_risk_level" in customers.columns else level
    rejects: list[pd.DataFrame] = []
    bad = np.zeros(n, dtype=bool)
    known = (level >= 1) & (level <= 5) & (level == np.round(level))
    checks = (
        (~known, "risk_level", "unknown risk level; expected C1–C5"),
        (np.isfinite(horizon) & ((horizon <= 0) | (horizon > limits.MAX_HORIZON_YEARS)), "horizon_years",
         f"horizon_years must be more than 0 and at most {limits.MAX_HORIZON_YEARS:g} years"),
        (~np.isfinite(flow) & ~np.isnan(flow), "cash_flow", "cash_flow is not finite"),
        (~np.isnan(cash) & (~np.isfinite(cash) | (cash < 0)), "cash", "cash must be a finite amount ≥ 0"),
        (~np.isnan(expenses) & (~np.isfinite(expenses) | (expenses < 0)), "monthly_expenses",
         "monthly_expenses must be a finite amount ≥ 0"),
        (ids.duplicated().to_numpy() if n > 1 else np.zeros(n, dtype=bool), "customer_id",
         "duplicate customer_id (first row kept)"),
    )
    for mask, field, reason in checks:
        if mask.any():
            rejects.append(reject_frame("customers", ids[mask].to_numpy(dtype=object), rows[mask], field, reason))
            bad |= mask
    level = np.where(known, level, 1).astype(np.int64)
    prev = np.where((prev >= 1) & (prev <= 5) & (prev == np.round(prev)), prev, level).astype(np.int64)
    horizon = np.where(np.isfinite(horizon), horizon, 3.0)
    bucket = np.where(horizon < 1.0, 0, np.where(horizon <= 3.0, 1, 2)).astype(np.int64)
    data = Customers(ids=ids, rows=rows, level=level, lowest=lowest, bucket=bucket,
                      # money in cents: a flow under half a cent is no deposit or withdrawal (-0.0 → 0.0)
                      flow=np.round(np.nan_to_num(flow, nan=0.0), 2) + 0.0, previous_level=prev,
                      last_review=dates_or_nat(customers, "last_rebalance_date"), horizon=horizon,
                      cash=np.nan_to_num(cash, nan=0.0, posinf=0.0), monthly_expenses=np.nan_to_num(
                          expenses, nan=0.0, posinf=0.0),
                      expires_on=(dates_or_nat(customers, "assessment_expires_on")
                                  if "assessment_expires_on" in customers.columns else None))
    return data, bad, rejects


def rejects_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All rejected rows in one frame with the columns `REJECT_COLUMNS` (empty but typed when none)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str" if c != "row" else "int64") for c in REJECT_COLUMNS})
    return pd.concat(parts, ignore_index=True)[REJECT_COLUMNS]

"""Batch formats of the nightly run's other tables (Parquet, CSV or frames), read and validated.

``goals``       customer_id, goal_id, target_amount, target_date; optional name, kind (target | reserve),
                current_amount (default 0), monthly_contribution (default 0), level (C1–C5, default and
                at most the customer's level), previous_probability (from the last run)
``sip_plans``   customer_id, plan_id; optional name, amount, target_return, on_target (stop | take_profit),
                status (active | paused | stopped, default active), cycle_start (date the current cycle
                began; ledger rows of the plan before it are not part of its return), codes (the plan's
                funds: a list or comma-separated codes; with the plan's ledger rows, checked for holds)
``sip_debits``  customer_id, plan_id, date, status (ok | failed); optional amount, reason
``alert_preferences``  customer_id, kind, opted_out (bool, default true)
``alert_history``      customer_id, kind, dedupe_key, as_of, channel (customer | rm_task)
``fund_events`` code, event; optional date, note

Rows that cannot be used come back as rejects (``table, customer_id, row, field, reason``), never stop a run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from advisor import batch_io
from advisor.limits import MAX_MONEY
from products.errors import BadInputError

GOAL_KINDS = ("target", "reserve")
PLAN_STATUS = ("active", "paused", "stopped")
ON_TARGET = ("stop", "take_profit")


def _read(source: batch_io.PathOrFrame, table: str, required: Sequence[str],
          text: Sequence[str]) -> tuple[pd.DataFrame, batch_io._Rejects]:
    raw = batch_io.read_table(source, string_columns=tuple(text))
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise BadInputError(f"{table} table is missing column(s) {', '.join(missing)}", code="missing_columns",
                            details={"table": table, "missing": missing})
    trim = not raw.attrs.get("typed", False)
    frame = pd.DataFrame(index=raw.index)
    for column in text:
        if column in raw.columns:
            frame[column] = batch_io._text(raw[column], trim)
    rejects = batch_io._Rejects(table, frame["customer_id"] if "customer_id" in frame else
                                pd.Series([None] * len(raw), dtype=object))
    for column in text:
        if column in required:
            rejects.add(frame[column].isna().to_numpy(), column, f"{column} is empty")
    frame.attrs["raw"] = raw
    return frame, rejects


def _numbers(frame: pd.DataFrame, rejects: batch_io._Rejects, columns: dict[str, tuple[float, float, float]]) -> None:
    raw = frame.attrs["raw"]
    for name, (low, high, default) in columns.items():
        if name in raw.columns:
            values, bad = batch_io._number(raw[name])
            rejects.add(bad, name, f"{name} is not a number")
            rejects.add(~np.isnan(values) & ((values < low) | (values > high)), name,
                        f"{name} must be between {low:g} and {high:g}")
            values = np.where(np.isnan(values), default, values)
        else:
            values = np.full(len(frame), default)
        frame[name] = values


def _dates(frame: pd.DataFrame, rejects: batch_io._Rejects, name: str, required: bool) -> None:
    raw = frame.attrs["raw"]
    if name not in raw.columns:
        frame[name] = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
        return
    values, bad = batch_io._dates(raw[name])
    rejects.add(bad, name, f"{name} is not a date")
    if required:
        rejects.add(np.isnat(values), name, f"{name} is missing")
    frame[name] = values


def _choice(frame: pd.DataFrame, rejects: batch_io._Rejects, name: str, allowed: Sequence[str], default: str) -> None:
    if name not in frame.columns:
        frame[name] = default
        return
    values = frame[name].fillna(default).str.lower()
    rejects.add(~values.isin(allowed).to_numpy(), name, f"{name} must be one of {', '.join(allowed)}")
    frame[name] = values


def _done(frame: pd.DataFrame, rejects: batch_io._Rejects) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = frame.assign(row=np.arange(len(frame), dtype=np.int64))
    frame.attrs.pop("raw", None)
    keep = ~rejects.bad
    return frame.loc[keep].reset_index(drop=True), rejects.frame()


def read_goals(source: batch_io.PathOrFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame, rejects = _read(source, "goals", ("customer_id", "goal_id", "target_amount", "target_date"),
                           ("customer_id", "goal_id", "name", "kind", "level"))
    _numbers(frame, rejects, {"target_amount": (0.01, MAX_MONEY, np.nan), "current_amount": (0.0, MAX_MONEY, 0.0),
                              "monthly_contribution": (0.0, MAX_MONEY, 0.0),
                              "previous_probability": (0.0, 1.0, np.nan)})
    rejects.add(np.isnan(frame["target_amount"].to_numpy()), "target_amount", "target_amount is missing")
    _dates(frame, rejects, "target_date", required=True)
    _choice(frame, rejects, "kind", GOAL_KINDS, "target")
    if "level" in frame.columns:
        level = frame["level"].str.upper().str.removeprefix("C")
        parsed = pd.to_numeric(level, errors="coerce")
        rejects.add(frame["level"].notna().to_numpy() & ~parsed.isin([1, 2, 3, 4, 5]).to_numpy(), "level",
                    "level must be C1–C5")
        frame["level"] = parsed.fillna(0).astype(np.int64)
    else:
        frame["level"] = 0
    if "name" not in frame.columns:
        frame["name"] = ""
    return _done(frame, rejects)


def read_plans(source: batch_io.PathOrFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame, rejects = _read(source, "sip_plans", ("customer_id", "plan_id"),
                           ("customer_id", "plan_id", "name", "on_target", "status"))
    _numbers(frame, rejects, {"amount": (0.0, MAX_MONEY, np.nan), "target_return": (0.0, 1.0, np.nan)})
    _choice(frame, rejects, "on_target", ON_TARGET, "stop")
    _choice(frame, rejects, "status", PLAN_STATUS, "active")
    _dates(frame, rejects, "cycle_start", required=False)
    if "name" not in frame.columns:
        frame["name"] = ""
    raw = frame.attrs["raw"]
    if "codes" in raw.columns:  # the plan's funds: a list, or codes joined by commas
        frame["codes"] = raw["codes"].map(lambda v: [c.strip() for c in v.split(",") if c.strip()]
                                          if isinstance(v, str) else (list(v) if v is not None and
                                                                      not isinstance(v, float) else []))
    return _done(frame, rejects)


def read_debits(source: batch_io.PathOrFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame, rejects = _read(source, "sip_debits", ("customer_id", "plan_id", "date", "status"),
                           ("customer_id", "plan_id", "status", "reason"))
    _numbers(frame, rejects, {"amount": (0.0, MAX_MONEY, np.nan)})
    _dates(frame, rejects, "date", required=True)
    _choice(frame, rejects, "status", ("ok", "failed"), "ok")
    return _done(frame, rejects)


def read_preferences(source: batch_io.PathOrFrame, kinds: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame, rejects = _read(source, "alert_preferences", ("customer_id", "kind"), ("customer_id", "kind"))
    rejects.add(~frame["kind"].isin(kinds).to_numpy(), "kind", f"kind must be one of {', '.join(kinds)}")
    raw = frame.attrs["raw"]
    if "opted_out" in raw.columns:
        values, bad = batch_io._bools(raw["opted_out"])
        rejects.add(bad, "opted_out", "opted_out is not true/false")
        frame["opted_out"] = values
    else:
        frame["opted_out"] = True
    return _done(frame, rejects)


def read_history(source: batch_io.PathOrFrame) -> pd.DataFrame:
    """Earlier outbox and task rows; unusable rows are dropped (they only make dedupe forget)."""
    frame = batch_io.read_table(source, string_columns=("customer_id", "kind", "dedupe_key", "channel"))
    missing = [c for c in ("customer_id", "kind", "dedupe_key", "as_of") if c not in frame.columns]
    if missing:
        raise BadInputError(f"alert history is missing column(s) {', '.join(missing)}", code="missing_columns",
                            details={"table": "alert_history", "missing": missing})
    if "channel" not in frame.columns:
        frame["channel"] = "customer"
    frame["as_of"] = pd.to_datetime(frame["as_of"], errors="coerce")
    return frame.dropna(subset=["customer_id", "dedupe_key", "as_of"])[
        ["customer_id", "kind", "dedupe_key", "as_of", "channel"]].reset_index(drop=True)


def attach_customers(frame: pd.DataFrame, customer_ids: pd.Series, table: str,
                     customer_rejects: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add `cust` (customer row); rows of unknown customers become rejects."""
    position = batch_io.customer_positions(customer_ids, frame["customer_id"])
    orphan = position < 0
    rejects = batch_io.orphan_rejects(frame["customer_id"].to_numpy(dtype=object)[orphan],
                                      frame["row"].to_numpy()[orphan], customer_rejects).assign(table=table)
    return frame.loc[~orphan].assign(cust=position[~orphan]).reset_index(drop=True), rejects

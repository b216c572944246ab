"""Helpers for the lifecycle tests: a tiny universe with hand-picked prices, and ledger builders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd

from products.demo import demo_universe
from products.fees import FeeTable

AS_OF = date(2026, 2, 13)  # the demo universe's as-of date


def tiny_universe(unit_navs: dict[str, dict[str, float]], distributions: dict[str, dict[str, float]] | None = None,
                  template: int = 20):
    """A universe of the given funds (code → {date: unit NAV}) on the union of their dates.

    Each fund copies the profile and fees of demo fund number `template` (a bond fund by default); a
    `distributions` entry (code → {date: per share}) makes the adjusted return exceed the unit-NAV change
    by the distribution on that date."""
    demo = demo_universe()
    dates = sorted({d for navs in unit_navs.values() for d in navs})
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    codes = list(unit_navs)
    unit = pd.DataFrame({c: pd.Series({pd.Timestamp(d): v for d, v in unit_navs[c].items()}) for c in codes},
                        index=index)
    prev = unit.shift(1)
    paid = pd.DataFrame(0.0, index=index, columns=codes)
    for code, rows in (distributions or {}).items():
        for d, per_share in rows.items():
            paid.loc[pd.Timestamp(d), code] = per_share
    returns = (unit + paid) / prev - 1.0
    row = demo.funds.iloc[[template] * len(codes)].copy()
    row.index = pd.Index(codes, name="code")
    row["name"] = [f"测试基金{c}" for c in codes]
    row["sibling_codes"] = ""
    schedule = demo.fees.schedules[template]
    fees = FeeTable.from_schedules([schedule] * len(codes))
    return replace(demo, as_of=dates[-1] if isinstance(dates[-1], date) else date.fromisoformat(str(dates[-1])),
                   funds=row, fees=fees, returns=returns[codes], unit_nav=unit[codes],
                   holdings=demo.holdings.iloc[:0], issues=pd.DataFrame())


def ledger(*rows: tuple) -> pd.DataFrame:
    """Ledger rows from (customer_id, date, code, kind, amount, shares, fee) tuples (None = not given)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "code", "kind", "amount", "shares", "fee"])
    for column in ("amount", "shares", "fee"):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


def customers(*ids: str, level: str = "C3") -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(ids), "risk_level": level, "horizon_years": 5.0,
                         "monthly_expenses": 5000.0, "cash": 0.0, "age": 40,
                         "assessment_expires_on": pd.Timestamp("2026-12-31")})


def brentq_xirr(days: list[int], flows: list[float]) -> float:
    """XIRR of flows on day offsets by scipy's brentq on the NPV (the independent reference)."""
    from scipy.optimize import brentq

    t = np.asarray(days, dtype=float) / 365.0
    cf = np.asarray(flows, dtype=float)
    return float(brentq(lambda r: float(np.sum(cf * (1.0 + r) ** (-t))), -0.9999, 1e4, xtol=1e-14, maxiter=500))

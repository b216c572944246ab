"""Build the core's batch tables (`advisor.batch_io` formats) from stored rows and request bodies.

A single customer is a batch of one: the API hands the same columnar tables to the same engine the
nightly job uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from api.models import Customer, Holding, RiskAssessment

CUSTOMER_COLUMNS = ["customer_id", "risk_level", "lowest_category", "assessment_expires_on", "age", "horizon_years",
                    "monthly_expenses", "cash", "deposits", "wealth_products", "insurance", "rm_id"]
HOLDING_COLUMNS = ["customer_id", "code", "shares", "amount", "purchase_date"]


def customers_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=CUSTOMER_COLUMNS)
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["lowest_category"] = frame["lowest_category"].astype(bool)
    for col in ("horizon_years", "monthly_expenses", "cash", "deposits", "wealth_products", "insurance"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["age"] = pd.to_numeric(frame["age"], errors="coerce").astype("Int64")
    frame["assessment_expires_on"] = pd.to_datetime(frame["assessment_expires_on"])
    return frame


def holdings_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=HOLDING_COLUMNS)
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["code"] = frame["code"].astype(str)
    frame["shares"] = pd.to_numeric(frame["shares"], errors="coerce").astype(float)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    frame["purchase_date"] = pd.to_datetime(frame["purchase_date"])
    return frame


def customer_row(customer_id: str, customer: Customer | None, assessment: RiskAssessment,
                 overrides: dict[str, Any] | None = None, rm_id: str | None = None) -> dict[str, Any]:
    """One `customers` row: stored facts, then the request's declared facts on top."""
    row: dict[str, Any] = {
        "customer_id": customer_id, "risk_level": f"C{assessment.level}",
        "lowest_category": bool(assessment.lowest_category), "assessment_expires_on": assessment.expires_on,
        "age": customer.age if customer else None,
        "horizon_years": customer.horizon_years if customer else None,
        "monthly_expenses": customer.monthly_expenses if customer else None,
        "cash": customer.cash if customer else 0.0, "deposits": customer.deposits if customer else 0.0,
        "wealth_products": customer.wealth_products if customer else 0.0,
        "insurance": customer.insurance if customer and customer.insurance else None, "rm_id": rm_id,
    }
    for key, value in (overrides or {}).items():
        if value is not None and key in row:
            row[key] = value
    if row["age"] is None and isinstance(assessment.facts, dict) and assessment.facts.get("age"):
        row["age"] = int(assessment.facts["age"])
    if row["horizon_years"] is None:
        row["horizon_years"] = 3.0
    if row["monthly_expenses"] is None:
        row["monthly_expenses"] = 0.0
    return row


def holding_rows(customer_id: str, lots: Sequence[Holding | dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for lot in lots:
        get = lot.get if isinstance(lot, dict) else lambda k, _lot=lot: getattr(_lot, k)
        purchase: date = get("purchase_date")
        out.append({"customer_id": customer_id, "code": get("code"), "shares": get("shares"),
                    "amount": get("amount"), "purchase_date": purchase})
    return out

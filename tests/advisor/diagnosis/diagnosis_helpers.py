"""Builders shared by the health-check tests: tidy profiles and model-portfolio lots."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

AS_OF = date(2026, 3, 1)


def model_holdings(ctx, level: int, amount: float, bucket: int = 2, purchase_date: str = "2025-01-10"
                   ) -> list[dict[str, Any]]:
    """The model portfolio of `level` (horizon bucket) as lots worth `amount`."""
    weights = ctx.model.fund_weights[level - 1, bucket]
    return [{"code": str(ctx.codes[i]), "amount": round(amount * weights[i], 2), "purchase_date": purchase_date}
            for i in np.flatnonzero(weights > 0.001)]


def profile(level: str = "C3", **overrides: Any) -> dict[str, Any]:
    """A tidy customer: valid assessment, 5-year horizon, 3 months of expenses in cash (the reserve), insured."""
    base = {"customer_id": "golden", "risk_level": level, "assessment_expires_on": "2027-01-01", "age": 40,
            "horizon_years": 5, "monthly_expenses": 5000, "cash": 15000, "insurance": 300000}
    base.update(overrides)
    return base

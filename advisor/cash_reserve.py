"""The emergency reserve: cash a customer keeps for daily needs, outside the invested portfolio.

One rule for the health check (allocation drift, liquidity) and rebalancing (what cash may fund
purchases): `reserve_months` of monthly expenses (default 3; the liquidity check judges 3–6) stay in
cash; only cash above it counts in the portfolio's cash class and may be invested. Unknown expenses
mean no reserve is set aside.
"""

from __future__ import annotations

import numpy as np

RESERVE_MONTHS = 3.0


def emergency_reserve(cash: np.ndarray, monthly_expenses: np.ndarray, months: float = RESERVE_MONTHS) -> np.ndarray:
    """Cash set aside per customer: min(cash, months × expenses), never negative."""
    cash = np.maximum(np.nan_to_num(np.asarray(cash, dtype=float)), 0.0)
    expenses = np.maximum(np.nan_to_num(np.asarray(monthly_expenses, dtype=float)), 0.0)
    return np.minimum(cash, months * expenses)


def investable_cash(cash: np.ndarray, monthly_expenses: np.ndarray, months: float = RESERVE_MONTHS) -> np.ndarray:
    """Cash above the reserve: part of the portfolio's cash class, free to fund purchases."""
    cash = np.maximum(np.nan_to_num(np.asarray(cash, dtype=float)), 0.0)
    return cash - emergency_reserve(cash, monthly_expenses, months)

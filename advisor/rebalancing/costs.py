"""The trade cost model, shared by the optimizer (linear pieces) and reporting (exact fees).

Conventions (domain brief, "Funds: what trading them costs"):

* A buy of gross amount ``B`` (what the customer pays) invests ``B / (1 + r)``; the fee is the rest
  (外扣法). Subscription tiers and flat fees make the fee concave in ``B``; the optimizer uses the
  *effective* rate ``r = fee(B̂) / (B̂ − fee(B̂))`` at an estimated size ``B̂`` (the gap to target),
  and reporting charges the exact tiered fee on the final amount.
* A sale redeems lots first in, first out (`advisor.rebalancing.lots`); each lot pays the rate of its
  holding period, at least 1.5% under 7 days. Older lots come first and pay less, so the fee is a
  convex piecewise-linear function of the amount sold — represented exactly in the optimizer.
* A switch (转换) inside one fund company pays the redemption fee of the fund switched out plus only
  the difference of subscription rates, ``max(0, r_in − r_out)``.

Every function is vectorized over trades (numpy arrays of equal length).
"""

from __future__ import annotations

import numpy as np

from products.fees import FeeTable


def effective_buy_rate(fees: FeeTable, fund_idx: np.ndarray, gross_estimate: np.ndarray,
                       discount: float) -> np.ndarray:
    """Fee per yuan *invested* at the tier an estimated gross amount falls in (linear cost for the QP)."""
    gross = np.maximum(np.asarray(gross_estimate, dtype=float), 1.0)
    fee = fees.subscription_fee(fund_idx, gross, discount)
    return fee / np.maximum(gross - fee, 1e-12)


def buy_fees(fees: FeeTable, fund_idx: np.ndarray, gross: np.ndarray, discount: float) -> np.ndarray:
    """Exact subscription fee (yuan) included in each gross purchase."""
    return fees.subscription_fee(np.asarray(fund_idx, dtype=np.intp), np.asarray(gross, dtype=float), discount)


def switch_in_fees(in_rate: np.ndarray, out_rate: np.ndarray, gross: np.ndarray) -> np.ndarray:
    """Fee on switching `gross` yuan into a fund: only the positive difference of subscription rates."""
    diff = np.maximum(np.asarray(in_rate, dtype=float) - np.asarray(out_rate, dtype=float), 0.0)
    gross = np.asarray(gross, dtype=float)
    return gross - gross / (1.0 + diff)


def model_cost(buy_net: np.ndarray, buy_rate: np.ndarray, sold: np.ndarray, sell_rate: np.ndarray) -> np.ndarray:
    """The optimizer's cost of a trade plan: Σ r·net bought + Σ ρ·sold, summed over the last axes.

    `buy_net`, `buy_rate` are (..., N); `sold`, `sell_rate` are (..., N, L) per FIFO segment.
    """
    return (buy_net * buy_rate).sum(axis=-1) + (sold * sell_rate).sum(axis=(-1, -2))


def model_cash_need(buy_net: np.ndarray, buy_rate: np.ndarray, sold: np.ndarray,
                    sell_rate: np.ndarray) -> np.ndarray:
    """Cash the plan consumes: gross buys minus sale proceeds after fees (negative: it frees cash)."""
    return (buy_net * (1.0 + buy_rate)).sum(axis=-1) - (sold * (1.0 - sell_rate)).sum(axis=(-1, -2))

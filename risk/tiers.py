"""Customer tiers by financial assets (客户分层), vectorized.

Default floors (yuan, docs/risk-methodology.md §6): mid from 50k, affluent from 500k, high net worth from
2M, private banking from 6M. Each floor belongs to the higher tier ([low, high) intervals).
"""

from __future__ import annotations

import numpy as np

from products.errors import BadInputError
from risk.config import DEFAULT_CONFIG, RiskConfig

TIERS: tuple[str, ...] = ("ordinary", "mid", "affluent", "hnw", "private_banking")
TIER_NAMES_ZH = {"ordinary": "普通客户", "mid": "中端客户", "affluent": "富裕客户", "hnw": "高净值客户",
                 "private_banking": "私人银行客户"}
TIER_NAMES_EN = {"ordinary": "ordinary", "mid": "mid-market", "affluent": "affluent", "hnw": "high net worth",
                 "private_banking": "private banking"}


def tier_index(financial_assets: object, config: RiskConfig = DEFAULT_CONFIG) -> np.ndarray:
    """0 = ordinary … 4 = private banking for each amount; negative or missing amounts are rejected."""
    assets = np.asarray(financial_assets, dtype=float)
    bad = ~np.isfinite(assets) | (assets < 0)
    if bad.any():
        position = int(np.flatnonzero(bad.ravel())[0])
        raise BadInputError(f"financial_assets: row {position} is missing or negative",
                            details={"field": "financial_assets", "row": position})
    return np.searchsorted(np.asarray(config.tier_floors), assets, side="right").astype(np.int64)


def customer_tiers(financial_assets: object, config: RiskConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Tier code of each amount (object array of str)."""
    return np.asarray(TIERS, dtype=object)[tier_index(financial_assets, config)]


def customer_tier(financial_assets: float, config: RiskConfig = DEFAULT_CONFIG) -> str:
    return str(customer_tiers(np.array([financial_assets]), config)[0])

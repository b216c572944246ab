"""Tunable rules of the rebalancing engine, with the domain brief's defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from products.errors import BadInputError
from risk.levels import DRAWDOWN_TOLERANCE


@dataclass(frozen=True)
class RebalanceSettings:
    """Every threshold of the policy in one place (amounts in yuan, shares as fractions of the portfolio).

    The portfolio is the funds plus the customer's cash above the emergency reserve (`reserve_months` of
    expenses, the health check's rule). Drift is Σ|actual − target|/2 over asset classes. A plan is
    kept only when it strictly reduces drift (or reduces holdings above the level, or replaces a fund hit
    by an event, or pays a withdrawal) and its benefit beats its cost: the benefit is the fall of
    Σ λ_k (a_k − t_k)² over classes (λ_k = class volatility² + `risk_floor`²) plus `above_level_penalty`
    per unit of weight above the level or in an event fund, the cost `cost_aversion` × fees / portfolio.
    """

    suggest_band: float = 0.03  # drift (total or any class) from which a rebalance is suggested
    urge_band: float = 0.05  # … and urged
    calendar: Literal["quarterly", "monthly"] = "quarterly"
    cost_aversion: float = 0.25
    risk_floor: float = 0.10  # yearly volatility floor in the class risk weights
    above_level_penalty: float = 0.02  # objective per unit weight held above the level or in an event fund
    min_trade: float = 100.0  # smallest buy or sell worth placing, yuan …
    min_trade_share: float = 0.01  # … and as a share of the portfolio (the larger of the two applies)
    min_holding: float = 100.0  # smallest position left after a partial sale (else exit fully)
    min_split: float = 1000.0  # a class purchase is spread over several model funds only in parts this large
    turnover_cap: float = 0.5  # one-way turnover (sales / portfolio) per rebalance, beyond a withdrawal
    min_improvement: float = 1e-6  # objective gain below which trading is not worth it
    reserve_months: float = 3.0  # months of expenses of cash kept out of the portfolio (health check rule)
    replace_weak: bool = True  # replace weak funds (products.research.quality) when the plan trades anyway
    replace_for_cost: bool = True  # switch a C class held long to its cheaper A class when the plan trades
    cost_saving_min_days: int = 365  # … for lots held at least this long (the health check's rule)
    drawdown_tolerance: tuple[float, ...] = field(default=DRAWDOWN_TOLERANCE)  # the level's (risk.levels)
    fee_discount: float | None = None  # None → the universe's (bank discount on subscription)
    chunk_size: int = 262_144  # customers planned together (bounds memory on big books)
    workers: int = 2  # threads planning chunks side by side (numpy releases the GIL)

    def __post_init__(self) -> None:
        if not 0 < self.suggest_band <= self.urge_band < 1:
            raise BadInputError("bands must satisfy 0 < suggest_band ≤ urge_band < 1",
                                details={"suggest_band": self.suggest_band, "urge_band": self.urge_band})
        if self.calendar not in ("quarterly", "monthly"):
            raise BadInputError("calendar must be 'quarterly' or 'monthly'", details={"calendar": self.calendar})
        for name in ("cost_aversion", "risk_floor", "above_level_penalty", "min_trade", "min_trade_share",
                     "min_holding", "min_split", "turnover_cap", "min_improvement", "reserve_months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise BadInputError(f"{name} must be a number", details={"field": name})
            if value < 0:
                raise BadInputError(f"{name} must be ≥ 0", details={"field": name, name: value})
        if self.min_trade_share >= 0.5:
            raise BadInputError("min_trade_share must be below 0.5", details={"field": "min_trade_share"})
        if self.risk_floor <= 0:
            raise BadInputError("risk_floor must be > 0", details={"field": "risk_floor"})
        if len(self.drawdown_tolerance) != 5:
            raise BadInputError("drawdown_tolerance needs one value per level C1…C5",
                                details={"field": "drawdown_tolerance"})

    def with_(self, **changes: object) -> RebalanceSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_SETTINGS = RebalanceSettings()

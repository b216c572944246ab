"""Tunable rules of the rebalancing engine, with the domain brief's defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from products.errors import BadInputError

# Largest drawdown (from the 1-year peak) each customer level tolerates before an alert (C1…C5).
DEFAULT_DRAWDOWN_TOLERANCE: tuple[float, ...] = (0.03, 0.08, 0.15, 0.25, 0.35)


@dataclass(frozen=True)
class RebalanceSettings:
    """Every threshold of triggers, optimizer and cleanup in one place (all amounts in yuan).

    `cost_aversion` (κ) converts one-off trading costs (fraction of the portfolio) into objective units:
    the objective is Σ λ_i (x_i − w_i)² + κ · cost / T + δ · idle cash / T, where λ_i = σ_i² +
    `risk_floor`² is the fund's yearly return variance plus a floor so that bond and cash deviations
    count too, and δ = `cash_drag` is the yearly return given up per yuan left uninvested. With the
    defaults a fund is traded back once its gap exceeds κ·(marginal fee rates) / 2λ_i: about 1.5% for
    an equity fund (σ ≈ 20%) whose sale costs 0.5%, about 1% for a bond fund — inside the 3% band.
    """

    suggest_band: float = 0.03  # drift (total or any class) from which a rebalance is suggested
    urge_band: float = 0.05  # … and urged
    calendar: Literal["quarterly", "monthly"] = "quarterly"
    cost_aversion: float = 0.25
    risk_floor: float = 0.10  # yearly volatility floor in the risk weights
    cash_drag: float = 0.02  # objective per unit weight of cash left idle (deposits get invested)
    above_level_penalty: float = 0.02  # objective per unit weight held above the customer's level
    min_trade: float = 100.0  # smallest buy or sell worth placing
    min_holding: float = 100.0  # smallest position left after a partial sale (else exit fully)
    turnover_cap: float = 0.5  # one-way turnover (sales / value) per rebalance, beyond a withdrawal
    min_improvement: float = 1e-6  # objective gain below which trading is not worth it
    drawdown_tolerance: tuple[float, ...] = field(default=DEFAULT_DRAWDOWN_TOLERANCE)
    fee_discount: float | None = None  # None → the universe's (bank discount on subscription)
    root_steps: int = 24  # unused since the capped plan is a scaled move (kept for callers that set it)
    chunk_size: int = 32_768
    workers: int = 2  # threads solving chunks side by side (numpy releases the GIL)

    def __post_init__(self) -> None:
        if not 0 < self.suggest_band <= self.urge_band < 1:
            raise BadInputError("bands must satisfy 0 < suggest_band ≤ urge_band < 1",
                                details={"suggest_band": self.suggest_band, "urge_band": self.urge_band})
        if self.calendar not in ("quarterly", "monthly"):
            raise BadInputError("calendar must be 'quarterly' or 'monthly'", details={"calendar": self.calendar})
        for name in ("cost_aversion", "risk_floor", "cash_drag", "above_level_penalty", "min_trade", "min_holding",
                     "turnover_cap", "min_improvement"):
            value = getattr(self, name)
            if math.isnan(value):
                raise BadInputError(f"{name} must be a number, got NaN", details={name: value})
            if value < 0:
                raise BadInputError(f"{name} must be ≥ 0", details={name: getattr(self, name)})
        if self.cash_drag > self.cost_aversion:
            raise BadInputError("cash_drag must not exceed cost_aversion (the problem would lose convexity)",
                                details={"cash_drag": self.cash_drag, "cost_aversion": self.cost_aversion})
        if self.risk_floor <= 0:
            raise BadInputError("risk_floor must be > 0 (it keeps the problem strictly convex)")
        if len(self.drawdown_tolerance) != 5:
            raise BadInputError("drawdown_tolerance needs one value per level C1…C5")

    def with_(self, **changes: object) -> RebalanceSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_SETTINGS = RebalanceSettings()

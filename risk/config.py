"""The configurable numbers behind the documented rules (docs/risk-methodology.md).

Every default is the value of the domain brief; a bank changes them by passing its own `RiskConfig`
(frozen, so an assessment can record exactly which rules produced it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

DIMENSIONS: tuple[str, ...] = (
    "financial_capacity",
    "knowledge_experience",
    "objective",
    "horizon_liquidity",
    "risk_attitude",
)
DIMENSION_NAMES_ZH = {
    "financial_capacity": "财务状况",
    "knowledge_experience": "投资知识与经验",
    "objective": "投资目标",
    "horizon_liquidity": "投资期限与流动性",
    "risk_attitude": "风险偏好",
}


@dataclass(frozen=True)
class RiskConfig:
    """Rule parameters. `band_floors[i]` is the lowest overall score (0–100) of level C(i+1).

    `rules_version` is recorded on every assessment; a bank that changes any number names a new version.
    """

    rules_version: str = "risk-rules-v1"

    band_floors: tuple[float, float, float, float, float] = (0.0, 20.0, 40.0, 60.0, 80.0)
    dimension_weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DIMENSIONS, 0.2))
    # Weakest link: the level may be at most this many levels above the band of the weakest of these
    # dimensions (each dimension score banded with `band_floors`).
    weakest_link_dimensions: tuple[str, ...] = ("risk_attitude", "horizon_liquidity")
    weakest_link_margin: int = 1
    # Enhanced protection for older customers (老年客户): flag from this age, cap the level if set.
    senior_age: int = 65
    senior_level_cap: int | None = 4
    # Full civil capacity (完全民事行为能力) from this age; younger → lowest category.
    adult_age: int = 18
    # Each detected contradiction lowers confidence by this much (floor `min_confidence`).
    contradiction_confidence_penalty: float = 0.15
    min_confidence: float = 0.3
    # A customer who refuses the questionnaire is C1; also treated as the lowest category by default.
    refusal_is_lowest_category: bool = True
    # Validity of an assessment (banks 12 months; fund sellers often 24).
    validity_months: int = 12
    # Re-assessment triggers.
    age_band_edges: tuple[int, ...] = (18, 30, 40, 50, 60, 65, 75)
    income_change_threshold: float = 0.30
    assets_change_threshold: float = 0.50
    debts_change_threshold: float = 0.50
    # Whole-portfolio rating: value-weighted mean level rounded up, and at least the level of any holding
    # whose weight is at least `dominant_weight`.
    dominant_weight: float = 0.20
    # Customer tiers by financial assets (yuan): floors of mid, affluent, HNW, private banking.
    tier_floors: tuple[float, float, float, float] = (50_000.0, 500_000.0, 2_000_000.0, 6_000_000.0)

    def __post_init__(self) -> None:
        floors = self.band_floors
        if len(floors) != 5 or floors[0] != 0 or any(b <= a for a, b in itertools.pairwise(floors)):
            raise ValueError("band_floors must be 5 increasing values starting at 0")
        if set(self.dimension_weights) != set(DIMENSIONS):
            raise ValueError(f"dimension_weights must have exactly the keys {DIMENSIONS}")
        if abs(sum(self.dimension_weights.values()) - 1.0) > 1e-9 or min(self.dimension_weights.values()) < 0:
            raise ValueError("dimension_weights must be non-negative and sum to 1")
        if self.senior_level_cap is not None and not 1 <= self.senior_level_cap <= 5:
            raise ValueError("senior_level_cap must be 1–5 or None")
        if any(b <= a for a, b in zip(self.tier_floors, self.tier_floors[1:], strict=False)):
            raise ValueError("tier_floors must be increasing")
        if not 0 < self.dominant_weight <= 1:
            raise ValueError("dominant_weight must be in (0, 1]")


DEFAULT_CONFIG = RiskConfig()

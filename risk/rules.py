"""The level rules shared by the questionnaire scoring and automatic profiling (vectorized).

Order (docs/risk-methodology.md §3): band the overall score; cap by the weakest link; cap from the
senior age if configured; the lowest category forces C1. Every step is a minimum of non-decreasing
functions of the scores, so a bolder answer can never lower the level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk.config import DEFAULT_CONFIG, RiskConfig


def band_of(scores: object, config: RiskConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Level 1–5 of each 0–100 score by `config.band_floors` (a floor belongs to the higher band)."""
    values = np.round(np.asarray(scores, dtype=float), 6)
    return np.searchsorted(np.asarray(config.band_floors[1:]), values, side="right").astype(np.int64) + 1


@dataclass(frozen=True)
class LevelOutcome:
    """Per-customer arrays: the final level and which rule set it."""

    level: np.ndarray  # int 1–5
    band_level: np.ndarray  # from the overall score alone
    weakest_link_cap: np.ndarray  # int
    weakest_link_applied: np.ndarray  # bool: the cap lowered the level
    senior: np.ndarray  # bool: age at or above config.senior_age
    senior_cap_applied: np.ndarray  # bool
    lowest_category: np.ndarray  # bool


def apply_level_rules(overall: object, dimensions: dict[str, object], age: object, lowest_category: object,
                      config: RiskConfig = DEFAULT_CONFIG) -> LevelOutcome:
    """Apply the band, weakest-link, senior and lowest-category rules to arrays of customers.

    `age` may hold NaN (unknown: no senior rule). `dimensions` maps dimension → 0–100 score arrays.
    """
    band = band_of(overall, config)
    weakest = np.min([band_of(dimensions[d], config) for d in config.weakest_link_dimensions], axis=0)
    weakest_cap = np.minimum(weakest + config.weakest_link_margin, 5)
    after_weakest = np.minimum(band, weakest_cap)
    ages = np.asarray(age, dtype=float)
    senior = np.nan_to_num(ages, nan=-1.0) >= config.senior_age
    cap = config.senior_level_cap
    after_senior = np.where(senior, np.minimum(after_weakest, cap), after_weakest) if cap else after_weakest
    lowest = np.broadcast_to(np.asarray(lowest_category, dtype=bool), band.shape)
    level = np.where(lowest, 1, after_senior).astype(np.int64)
    return LevelOutcome(level=level, band_level=band, weakest_link_cap=weakest_cap,
                        weakest_link_applied=after_weakest < band,
                        senior=senior, senior_cap_applied=senior & (after_senior < after_weakest),
                        lowest_category=lowest.copy())

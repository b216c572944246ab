"""The health score (0–100) and its sub-scores, from the severities the rules assign.

Formula (documented in docs/health-check.md):

* Each fired finding costs points in its family: info 5, warning 20, critical 45, times the rule's
  `weight`.
* Family sub-score = max(0, 100 − Σ points of its findings).
* Health score = Σ family weight × sub-score (weights below, summing to 1), rounded to one decimal.
* A critical risk finding (above-level holdings at 20%+, portfolio two levels too risky, expired
  assessment) caps the health score at `RISK_CRITICAL_CAP` = 59: such a portfolio never looks healthy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from advisor.diagnosis.rules.base import FAMILIES, Rule, Severity

PENALTY = np.array([0.0, 5.0, 20.0, 45.0])  # by severity ok / info / warning / critical
FAMILY_WEIGHTS: dict[str, float] = {
    "risk": 0.20, "allocation": 0.15, "concentration": 0.10, "look_through": 0.10, "style": 0.05,
    "performance": 0.15, "cost": 0.08, "liquidity": 0.10, "protection": 0.07,
}
RISK_CRITICAL_CAP = 59.0
assert abs(sum(FAMILY_WEIGHTS.values()) - 1.0) < 1e-9 and set(FAMILY_WEIGHTS) == set(FAMILIES)


def rule_points(rule: Rule, severity: np.ndarray) -> np.ndarray:
    """Points each customer loses for this rule's finding."""
    return PENALTY[severity] * rule.weight


def sub_scores(rules: Sequence[Rule], severities: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    lost = {family: np.zeros(n) for family in FAMILIES}
    for rule in rules:
        lost[rule.family] += rule_points(rule, severities[rule.id])
    return {family: np.clip(100.0 - points, 0.0, 100.0) for family, points in lost.items()}


def health_score(rules: Sequence[Rule], severities: dict[str, np.ndarray],
                 subs: dict[str, np.ndarray]) -> np.ndarray:
    n = len(next(iter(subs.values())))
    score = np.zeros(n)
    for family, weight in FAMILY_WEIGHTS.items():
        score += weight * subs[family]
    risk_critical = np.zeros(n, dtype=bool)
    for rule in rules:
        if rule.family == "risk":
            risk_critical |= severities[rule.id] >= Severity.CRITICAL
    score = np.where(risk_critical, np.minimum(score, RISK_CRITICAL_CAP), score)
    return np.round(score, 1)

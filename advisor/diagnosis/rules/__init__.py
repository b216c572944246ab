"""Health-check rules, one module per check family. `default_rules()` is the standard rule set.

Each module lists its rule classes in ``RULES``; a bank customizes thresholds by passing its own
instances (``default_rules(overrides={"top_fund": TopFund(warning=0.5)})``).
"""

from __future__ import annotations

from collections.abc import Mapping

from advisor.diagnosis.rules import (
    allocation,
    concentration,
    cost,
    liquidity,
    look_through,
    performance,
    protection,
    risk,
    style,
)
from advisor.diagnosis.rules.base import FAMILIES, SEVERITY_LABELS, Explanation, Outcome, Rule, Severity

RULE_MODULES = (risk, allocation, concentration, look_through, style, performance, cost, liquidity, protection)


def default_rules(overrides: Mapping[str, Rule] | None = None) -> tuple[Rule, ...]:
    """One instance of every rule with default thresholds, in family order; `overrides` by rule id."""
    overrides = dict(overrides or {})
    rules = tuple(overrides.pop(cls.id, None) or cls() for module in RULE_MODULES for cls in module.RULES)
    if overrides:
        raise KeyError(f"unknown rule id(s): {sorted(overrides)}")
    return rules


__all__ = ["FAMILIES", "SEVERITY_LABELS", "Explanation", "Outcome", "Rule", "Severity", "default_rules"]

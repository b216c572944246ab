"""Customer facts that accompany a questionnaire (age, income, assets ...), validated field by field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from products.errors import BadInputError

# Life events a customer may report; any of them triggers re-assessment (risk.validity).
LIFE_EVENTS: dict[str, tuple[str, str]] = {
    "job_change": ("工作变动", "job change"),
    "job_loss": ("失业", "job loss"),
    "retirement": ("退休", "retirement"),
    "marriage": ("结婚", "marriage"),
    "divorce": ("离婚", "divorce"),
    "birth": ("子女出生", "birth of a child"),
    "bereavement": ("家庭成员去世", "death in the family"),
    "serious_illness": ("重大疾病", "serious illness"),
    "inheritance": ("继承财产", "inheritance"),
    "home_purchase": ("购房", "home purchase"),
    "other": ("其他重大变化", "other major change"),
}

_NUMERIC_LIMITS: dict[str, tuple[float, float]] = {
    "age": (0, 130),
    "annual_income": (0, 1e11),
    "financial_assets": (0, 1e12),
    "debts": (0, 1e12),
    "dependents": (0, 30),
}
_INTEGER_FIELDS = {"age", "dependents"}


@dataclass(frozen=True)
class CustomerFacts:
    """Verified or declared facts; None = not given."""

    age: int | None = None
    annual_income: float | None = None
    financial_assets: float | None = None
    debts: float | None = None
    dependents: int | None = None
    civil_capacity: bool = True  # full civil capacity (完全民事行为能力)
    occupation: str | None = None
    life_event: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def parse_facts(raw: Mapping[str, Any] | CustomerFacts | None) -> CustomerFacts:
    """Validate a facts mapping; a BadInputError names the first bad field."""
    if raw is None:
        return CustomerFacts()
    if isinstance(raw, CustomerFacts):
        return raw
    if not isinstance(raw, Mapping):
        raise BadInputError("facts: expected an object of customer facts", details={"field": "facts"})
    known = set(CustomerFacts.__dataclass_fields__)
    unknown = sorted(set(map(str, raw)) - known)
    if unknown:
        raise BadInputError(f"facts.{unknown[0]}: unknown field; expected one of {', '.join(sorted(known))}",
                            details={"field": f"facts.{unknown[0]}"})
    values: dict[str, Any] = {}
    for name, (low, high) in _NUMERIC_LIMITS.items():
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise BadInputError(f"facts.{name}: expected a number, got {value!r}", details={"field": f"facts.{name}"})
        if not low <= value <= high:
            raise BadInputError(f"facts.{name}: {value} is out of range ({low:g}–{high:g})",
                                details={"field": f"facts.{name}", "value": value})
        if name in _INTEGER_FIELDS:
            if value != int(value):
                raise BadInputError(f"facts.{name}: expected a whole number, got {value}",
                                    details={"field": f"facts.{name}"})
            value = int(value)
        values[name] = value if name in _INTEGER_FIELDS else float(value)
    capacity = raw.get("civil_capacity", True)
    if not isinstance(capacity, bool):
        raise BadInputError("facts.civil_capacity: expected true or false", details={"field": "facts.civil_capacity"})
    values["civil_capacity"] = capacity
    for name in ("occupation", "life_event"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise BadInputError(f"facts.{name}: expected text", details={"field": f"facts.{name}"})
        if value:
            values[name] = value.strip()
    if values.get("life_event") and values["life_event"] not in LIFE_EVENTS:
        raise BadInputError(f"facts.life_event: unknown event {values['life_event']!r}; expected one of "
                            + ", ".join(LIFE_EVENTS), details={"field": "facts.life_event"})
    return CustomerFacts(**values)

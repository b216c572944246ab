"""Investor suitability (投资者适当性): which product levels a customer may buy or be recommended.

Rules (docs/risk-methodology.md §5):
- The C × R matrix: a Ck customer may buy R1…Rk. The lowest category (风险承受能力最低类别) may buy R1 only.
- Recommendations (proposals, rebalancing, swaps) never include a product above the customer's level.
- A customer who insists on a fund above their level gets a written mismatch warning and the
  confirmation is recorded (never for the lowest category). Bank wealth-management products (理财)
  above the level are a hard block.
- A portfolio is rated as a whole: the value-weighted mean product level rounded up, and at least the
  level of any holding weighing `dominant_weight` (20%) or more. It never exceeds the highest holding,
  so a portfolio of suitable products is always suitable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd

from products.errors import BadInputError, StaleDataError, SuitabilityError
from products.taxonomy import RiskLevel
from risk.config import DEFAULT_CONFIG
from risk.levels import CustomerLevel, parse_customer_level

# SUITABILITY_MATRIX[c - 1, r - 1] is True when a Cc customer may buy an Rr product.
SUITABILITY_MATRIX: np.ndarray = np.tril(np.ones((5, 5), dtype=bool))
SUITABILITY_MATRIX.setflags(write=False)


class ProductKind(StrEnum):
    FUND = "fund"  # public fund (公募基金): above the level → warning + recorded confirmation
    WEALTH_MANAGEMENT = "wealth_management"  # bank 理财: above the level → hard block


class PurchaseDecision(StrEnum):
    ALLOW = "allow"
    WARN_AND_CONFIRM = "warn_and_confirm"
    BLOCK = "block"


def _level_int(value: object, field: str, parse: Callable[[object], object]) -> int:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if not 1 <= int(value) <= 5:
            raise BadInputError(f"{field}: level {value} is outside 1–5", details={"field": field})
        return int(value)
    return int(parse(value))


def customer_level_int(value: object, field: str = "customer_level") -> int:
    """One customer level as 1–5 from 3, "C3", "平衡型" ...; BadInputError naming `field` otherwise."""
    return _level_int(value, field, lambda v: parse_customer_level(v, field=field))


def product_level_int(value: object, field: str = "product_level") -> int:
    """One product level as 1–5 from 3, "R3", "中风险" ...; BadInputError naming `field` otherwise."""
    return _level_int(value, field, RiskLevel.parse)


def effective_customer_level(customer_level: int | str | CustomerLevel, lowest_category: bool = False) -> int:
    """The level (1–5) the customer is treated as: the lowest category is always C1, whatever level was
    stated alongside it (a "C3 in the lowest category" is a contradiction resolved to the safe side)."""
    level = customer_level_int(customer_level)
    return 1 if lowest_category else level


def allowed_max_product_level(customer_level: int | str | CustomerLevel, lowest_category: bool = False) -> int:
    """The highest product risk level (1–5) the customer may buy or be recommended: R1 for the lowest
    category, else the customer's level (a Ck customer may buy up to Rk)."""
    return effective_customer_level(customer_level, lowest_category)


def _as_level_array(values: object, field: str) -> np.ndarray:
    """Levels as an int64 array; text labels are parsed once per distinct value (fast on big batches)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "OUST":
        parse = customer_level_int if field == "customer_levels" else product_level_int
        codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=False)
        parsed = np.array([parse(u, field) if not _is_missing(u) else _missing(field, codes, i)
                           for i, u in enumerate(uniques)], dtype=np.int64)
        return parsed[codes].reshape(arr.shape)
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            position = int(np.flatnonzero(bad.ravel())[0])
            raise BadInputError(f"{field}: level at position {position} is missing or not a whole number",
                                details={"field": field, "position": position})
    if arr.dtype.kind == "b":
        raise BadInputError(f"{field}: expected levels 1–5, got booleans", details={"field": field})
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 1 or arr.max() > 5):
        bad_at = int(np.flatnonzero((arr.ravel() < 1) | (arr.ravel() > 5))[0])
        raise BadInputError(f"{field}: level at position {bad_at} is outside 1–5",
                            details={"field": field, "position": bad_at})
    return arr


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _missing(field: str, codes: np.ndarray, unique_index: int) -> int:
    position = int(np.flatnonzero(codes == unique_index)[0])
    raise BadInputError(f"{field}: level at position {position} is missing",
                        details={"field": field, "position": position})


def is_suitable(customer_levels: object, product_levels: object, lowest_category: object = False) -> np.ndarray:
    """Element-wise (broadcast) suitability: product level ≤ the customer's allowed maximum."""
    cust = _as_level_array(customer_levels, "customer_levels")
    prod = _as_level_array(product_levels, "product_levels")
    lowest = np.asarray(lowest_category, dtype=bool)
    allowed = np.where(lowest, 1, cust)
    return prod <= allowed


def purchase_decisions(customer_levels: object, product_levels: object, kinds: object = ProductKind.FUND,
                       lowest_category: object = False) -> np.ndarray:
    """Vectorized `purchase_decision`: an array of PurchaseDecision values (str)."""
    cust = _as_level_array(customer_levels, "customer_levels")
    prod = _as_level_array(product_levels, "product_levels")
    kind = np.asarray(kinds).astype(str)
    unknown = set(np.unique(kind)) - {k.value for k in ProductKind}
    if unknown:
        raise BadInputError(f"kind: unknown product kind {sorted(unknown)[0]!r}; expected fund or "
                            "wealth_management", details={"field": "kind"})
    lowest = np.asarray(lowest_category, dtype=bool)
    within = prod <= np.where(lowest, 1, cust)
    hard = lowest | (kind == ProductKind.WEALTH_MANAGEMENT.value)
    return np.where(within, PurchaseDecision.ALLOW.value,
                    np.where(hard, PurchaseDecision.BLOCK.value, PurchaseDecision.WARN_AND_CONFIRM.value))


def purchase_decision(customer_level: object, product_level: object, kind: ProductKind | str = ProductKind.FUND,
                      lowest_category: bool = False) -> PurchaseDecision:
    """What happens when the customer asks to buy this product on their own initiative."""
    return PurchaseDecision(str(purchase_decisions(customer_level, product_level, kind, lowest_category)))


def portfolio_risk_level(weights: object, product_levels: object, *, dominant_weight: float | None = None) -> int:
    """The risk level (1–5) of a portfolio rated as a whole (see module docstring)."""
    w = np.asarray(weights, dtype=float)
    levels = _as_level_array(product_levels, "product_levels")
    if w.ndim != 1 or w.shape != levels.shape:
        raise BadInputError("weights and product_levels must be 1-D arrays of the same length",
                            details={"field": "weights"})
    return int(portfolio_risk_levels(w[None, :], levels, dominant_weight=dominant_weight)[0])


def portfolio_risk_levels(weight_matrix: object, product_levels: object, *,
                          dominant_weight: float | None = None) -> np.ndarray:
    """Vectorized whole-portfolio rating: one row of `weight_matrix` per portfolio, one column per product.

    Weights are values or fractions (each row is normalized); a row of zeros rates as 0 (empty).
    """
    w = np.asarray(weight_matrix, dtype=float)
    levels = _as_level_array(product_levels, "product_levels")
    if w.ndim != 2 or w.shape[1] != levels.shape[-1]:
        raise BadInputError("weight matrix must have one column per product level", details={"field": "weights"})
    if not np.isfinite(w).all() or (w < 0).any():
        bad = int(np.flatnonzero(~np.isfinite(w).all(axis=1) | (w < 0).any(axis=1))[0])
        raise BadInputError(f"weights: portfolio row {bad} has a negative or missing weight",
                            details={"field": "weights", "row": bad})
    threshold = DEFAULT_CONFIG.dominant_weight if dominant_weight is None else dominant_weight
    total = w.sum(axis=1, keepdims=True)
    share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    mean_level = share @ levels.astype(float)
    rounded_up = np.ceil(mean_level - 1e-9)
    dominant = np.where(share >= threshold - 1e-12, levels[None, :], 0).max(axis=1, initial=0)
    return np.maximum(rounded_up, dominant).astype(np.int64)


def check_recommendation(customer_level: object, product_levels: object, lowest_category: bool = False,
                         codes: Sequence[str] | None = None) -> None:
    """Raise SuitabilityError when any recommended product is above what the customer may hold."""
    allowed = allowed_max_product_level(customer_level, lowest_category)
    levels = np.atleast_1d(_as_level_array(product_levels, "product_levels"))
    bad = np.flatnonzero(levels > allowed)
    if bad.size:
        names = [codes[i] if codes is not None else f"#{i}" for i in bad.tolist()]
        raise SuitabilityError(
            f"recommendation includes {len(names)} product(s) above the customer's maximum R{allowed}: "
            + ", ".join(f"{n} (R{int(levels[i])})" for n, i in zip(names, bad.tolist(), strict=True)),
            details={"allowed_max_product_level": allowed, "products": names,
                     "product_levels": [int(levels[i]) for i in bad.tolist()]})


def check_portfolio_recommendation(customer_level: object, weights: object, product_levels: object,
                                   lowest_category: bool = False, codes: Sequence[str] | None = None) -> int:
    """Guard for a recommended portfolio: every product and the whole-portfolio rating within the level.

    Returns the portfolio's level; raises SuitabilityError naming the products otherwise.
    """
    check_recommendation(customer_level, product_levels, lowest_category, codes)
    level = portfolio_risk_level(weights, product_levels)
    allowed = allowed_max_product_level(customer_level, lowest_category)
    if level > allowed:  # unreachable while every product passes; kept as defence in depth
        raise SuitabilityError(f"portfolio rated R{level} as a whole, above the customer's maximum R{allowed}",
                               details={"portfolio_risk_level": level, "allowed_max_product_level": allowed})
    return level


def check_at_confirmation(*, basis_assessment_id: str, current_assessment_id: str | None,
                          customer_level: object, lowest_category: bool, expires_on: date | None,
                          product_levels: object, today: date, codes: Sequence[str] | None = None) -> int:
    """May these product levels be executed for this customer now? The one rule every confirmation uses.

    A stored recommendation (a proposal, a rebalancing plan) was made against one assessment
    (`basis_assessment_id`). At confirmation it may be executed only when that assessment is still the
    customer's current one, has not expired (`risk.validity`: valid strictly before `expires_on`), and every
    product to be bought (`product_levels`, with `codes` for the message) is within the current level —
    R1 only for the lowest category. Returns the allowed maximum product level; raises StaleDataError
    (`assessment_required`, `assessment_expired`, `assessment_changed`) or SuitabilityError (`above_level`).
    Sales are not checked here: reducing a holding never breaks suitability.
    """
    from risk.validity import is_valid

    if current_assessment_id is None or expires_on is None:
        raise StaleDataError("no valid risk assessment on file; the customer must be assessed first (请先完成风险测评)",
                             code="assessment_required", details={"basis_assessment_id": basis_assessment_id})
    if not is_valid(expires_on, today):
        raise StaleDataError(f"the risk assessment expired on {expires_on}; the customer must be re-assessed "
                             "(风险测评已过期)", code="assessment_expired",
                             details={"expires_on": expires_on.isoformat(), "assessment_id": current_assessment_id})
    if str(current_assessment_id) != str(basis_assessment_id):
        raise StaleDataError("the customer was re-assessed after this recommendation was made; request a new one "
                             "(风险测评已更新，请重新生成方案)", code="assessment_changed",
                             details={"basis_assessment_id": basis_assessment_id,
                                      "current_assessment_id": current_assessment_id})
    allowed = allowed_max_product_level(customer_level, lowest_category)
    raw = np.atleast_1d(np.asarray(product_levels, dtype=object))
    if raw.size == 0:  # nothing to buy (a plan of sales only)
        return allowed
    levels = np.atleast_1d(_as_level_array(raw.tolist(), "product_levels"))
    bad = np.flatnonzero(levels > allowed)
    if bad.size:
        names = [codes[i] if codes is not None else f"#{i}" for i in bad.tolist()]
        raise SuitabilityError(
            f"{len(names)} product(s) above the customer's current maximum R{allowed}: "
            + ", ".join(f"{n} (R{int(levels[i])})" for n, i in zip(names, bad.tolist(), strict=True)),
            code="above_level", details={"allowed_max_product_level": allowed, "products": names})
    return allowed


@dataclass(frozen=True)
class SuitabilityVerdict:
    """The outcome of one purchase request, for display and audit (`customer_level` is the effective
    level: C1 for the lowest category)."""

    decision: PurchaseDecision
    customer_level: int
    product_level: int
    kind: ProductKind
    lowest_category: bool

    def to_dict(self) -> dict[str, object]:
        return {"decision": self.decision.value, "customer_level": f"C{self.customer_level}",
                "product_level": f"R{self.product_level}", "kind": self.kind.value,
                "lowest_category": self.lowest_category,
                "allowed_max_product_level": f"R{allowed_max_product_level(self.customer_level, self.lowest_category)}"}


def assess_purchase(customer_level: object, product_level: object, kind: ProductKind | str = ProductKind.FUND,
                    lowest_category: bool = False) -> SuitabilityVerdict:
    c = effective_customer_level(customer_level, bool(lowest_category))
    r = product_level_int(product_level)
    k = ProductKind(kind) if str(kind) in {x.value for x in ProductKind} else None
    if k is None:
        raise BadInputError(f"kind: unknown product kind {kind!r}; expected fund or wealth_management",
                            details={"field": "kind"})
    return SuitabilityVerdict(purchase_decision(c, r, k, lowest_category), c, r, k, bool(lowest_category))


__all__ = [
    "SUITABILITY_MATRIX", "CustomerLevel", "ProductKind", "PurchaseDecision", "SuitabilityVerdict",
    "allowed_max_product_level", "assess_purchase", "check_at_confirmation", "check_portfolio_recommendation",
    "check_recommendation",
    "effective_customer_level", "is_suitable",
    "portfolio_risk_level", "portfolio_risk_levels", "purchase_decision", "purchase_decisions",
]

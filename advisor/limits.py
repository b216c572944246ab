"""Input limits of advisory requests, in one place: the core validates with them and the API's request
schemas are built from them, so the CLI, the API and the batch files accept and refuse the same values.

Every refusal is a `BadInputError` naming the field. Money is yuan with at most two decimals (a value
with a fraction of a cent is refused rather than silently rounded).
"""

from __future__ import annotations

import math

from products.errors import BadInputError

MAX_MONEY = 1_000_000_000.0  # one billion yuan: far above retail, far below float trouble
MAX_HORIZON_YEARS = 50.0
TARGET_RETURN_MIN = -0.5  # yearly fraction, inclusive
TARGET_RETURN_MAX = 1.0
CENT_TOLERANCE = 1e-6  # in cents: binary floats like 0.29 are 28.999999999999996 cents


def _number(value: object, field: str, what: str) -> float:
    if isinstance(value, bool) or value is None:
        raise BadInputError(f"{field} must be {what}", details={"field": field})
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInputError(f"{field} must be {what}", details={"field": field, "value": str(value)[:64]}) from None
    if not math.isfinite(number):
        raise BadInputError(f"{field} must be a finite number", details={"field": field, "value": str(value)[:64]})
    return number


def money(value: object, field: str = "amount", *, allow_zero: bool = False) -> float:
    """Yuan, > 0 (≥ 0 with `allow_zero`), ≤ `MAX_MONEY`, at most two decimals."""
    amount = _number(value, field, "a number of yuan")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise BadInputError(f"{field} must be {'zero or more' if allow_zero else 'more than zero'} yuan",
                            details={"field": field, "value": str(value)[:64]})
    if amount > MAX_MONEY:
        raise BadInputError(f"{field} is above the supported maximum of {MAX_MONEY:,.0f} yuan",
                            details={"field": field, "value": str(value)[:64]})
    if not is_whole_cents(amount):
        raise BadInputError(f"{field} must have at most two decimals (whole fen)",
                            details={"field": field, "value": str(value)[:64]})
    return amount


def is_whole_cents(amount: float) -> bool:
    cents = amount * 100.0
    return abs(cents - round(cents)) <= CENT_TOLERANCE * max(1.0, abs(cents) * 1e-9)


def horizon_years(value: object, field: str = "horizon_years") -> float:
    """Investment horizon in years, more than 0 and at most `MAX_HORIZON_YEARS`."""
    years = _number(value, field, "a number of years")
    if not 0.0 < years <= MAX_HORIZON_YEARS:
        raise BadInputError(f"{field} must be more than 0 and at most {MAX_HORIZON_YEARS:g} years",
                            details={"field": field, "value": str(value)[:64]})
    return years


def target_return(value: object, field: str = "target_return") -> float | None:
    """Yearly target return as a fraction (0.05 = 5%), between the two bounds inclusive; None stays None."""
    if value is None:
        return None
    target = _number(value, field, "a yearly fraction like 0.05")
    if not TARGET_RETURN_MIN <= target <= TARGET_RETURN_MAX:
        raise BadInputError(f"{field} must be a yearly fraction from {TARGET_RETURN_MIN:g} to {TARGET_RETURN_MAX:g} "
                            "(0.05 = 5%)", details={"field": field, "value": str(value)[:64]})
    return target

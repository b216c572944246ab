"""How old the data is for the date a result is about: one rule for every door (CLI, API, batch).

A universe's data ends on its `as_of` (the last NAV date). Two situations:

* **A date is asked for** (`--as-of`, a trade or valuation date): `resolve_as_of`. None means the data's
  own as-of date (commands used to default to today, which on a snapshot months old valued holdings and
  aged lots against prices that did not exist). A date more than `WARN_DAYS` after the data gets a
  `stale_data` warning; more than `REFUSE_DAYS` after it is refused (`StaleDataError`, HTTP 409) —
  nothing useful can be said about a day a quarter beyond the last price.
* **The result is about now** (a proposal or health check served today): `freshness` never refuses (the
  service must answer) but says how old the data is, with a `stale_data` warning past `WARN_DAYS`.

Both return `Freshness`, whose `to_dict()` every result carries as `data_freshness`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from products.errors import BadInputError, StaleDataError
from products.universe import Universe

WARN_DAYS = 10  # calendar days: longer than any market holiday (Spring Festival closes up to ~9 days)
REFUSE_DAYS = 92  # a quarter


@dataclass(frozen=True)
class Freshness:
    """The date a result is about, the data's as-of date, the gap between them, and a warning if stale."""

    as_of: date
    data_as_of: date
    days_beyond_data: int
    warning: dict[str, str] | None = None

    @property
    def stale(self) -> bool:
        return self.warning is not None

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "data_as_of": self.data_as_of.isoformat(),
                "days_beyond_data": self.days_beyond_data, "stale": self.stale, "warning": self.warning}


def _day(value: object, field: str) -> date:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise BadInputError(f"{field} must be a date like 2026-02-13, got {value!r}", details={"field": field})
    return stamp.date()


def _warning(as_of: date, data_as_of: date, days: int) -> dict[str, str]:
    return {
        "code": "stale_data",
        "zh": f"数据截至{data_as_of.isoformat()}，比所用日期{as_of.isoformat()}早{days}天：净值、业绩与持仓估值均以"
              f"{data_as_of.isoformat()}为准，请先更新数据。",
        "en": f"The data ends on {data_as_of.isoformat()}, {days} days before {as_of.isoformat()}: prices, "
              f"performance and valuations are as of {data_as_of.isoformat()}; update the data first.",
    }


def _assess(as_of: date, data_as_of: date) -> Freshness:
    days = (as_of - data_as_of).days
    return Freshness(as_of, data_as_of, days, _warning(as_of, data_as_of, days) if days > WARN_DAYS else None)


def resolve_as_of(universe: Universe, requested: object = None, *, field: str = "as_of") -> Freshness:
    """The date to act on: `requested`, or the data's as-of date when None. Refused (`StaleDataError`, naming
    `field`) when more than `REFUSE_DAYS` after the data; a warning when more than `WARN_DAYS` after."""
    data_as_of = _day(universe.as_of, "universe.as_of")
    if requested is None or (isinstance(requested, str) and not requested.strip()):
        return Freshness(data_as_of, data_as_of, 0)
    as_of = _day(requested, field)
    result = _assess(as_of, data_as_of)
    if result.days_beyond_data > REFUSE_DAYS:
        raise StaleDataError(
            f"{field} {as_of.isoformat()} is {result.days_beyond_data} days after the data ends "
            f"({data_as_of.isoformat()}); at most {REFUSE_DAYS} days are accepted: update the data or choose an "
            f"earlier date / 所选日期晚于数据截止日{data_as_of.isoformat()}超过{REFUSE_DAYS}天，"
            "请更新数据或选择更早的日期",
            details={"field": field, "as_of": as_of.isoformat(), "data_as_of": data_as_of.isoformat(),
                     "days_beyond_data": result.days_beyond_data, "max_days": REFUSE_DAYS})
    return result


def freshness(universe: Universe, today: object) -> Freshness:
    """How old the data is for a result served on `today` (never refuses; warns past `WARN_DAYS`)."""
    return _assess(_day(today, "today"), _day(universe.as_of, "universe.as_of"))

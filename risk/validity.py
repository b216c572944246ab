"""How long an assessment is valid, and when a customer must be re-assessed.

An assessment made on day D with validity N months expires on D + N months (the same day of month, or
the month's last day). It is valid on days strictly before `expires_on`; on and after it a purchase
needs re-assessment. A change of circumstances triggers one earlier (docs/risk-methodology.md §4).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from products.errors import BadInputError, StaleDataError
from risk.config import DEFAULT_CONFIG, RiskConfig
from risk.facts import LIFE_EVENTS, CustomerFacts, parse_facts


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(assessed_on: date, config: RiskConfig = DEFAULT_CONFIG) -> date:
    return add_months(assessed_on, config.validity_months)


def is_valid(expires_on: date, today: date | None = None) -> bool:
    return (today or date.today()) < expires_on


def ensure_valid(expires_on: date | None, today: date | None = None, customer_id: str | None = None) -> None:
    """Raise StaleDataError when a purchase or recommendation would rely on an expired (or no) assessment."""
    on = today or date.today()
    if expires_on is None or not is_valid(expires_on, on):
        when = "no risk assessment on file" if expires_on is None else f"the risk assessment expired on {expires_on}"
        raise StaleDataError(f"{when}; the customer must be re-assessed first",
                             code="assessment_expired",
                             details={"customer_id": customer_id, "expires_on": str(expires_on)})


def expired_mask(expires_on: object, today: date | None = None) -> np.ndarray:
    """Vectorized: True where the assessment has expired (or its expiry date is missing)."""
    values = np.asarray(expires_on)
    days = pd.to_datetime(pd.Series(values if values.dtype.kind == "M" else values.astype(object)), errors="coerce")
    limit = pd.Timestamp(today or date.today())
    return (days.isna() | (days <= limit)).to_numpy()


def age_band(age: int, config: RiskConfig = DEFAULT_CONFIG) -> int:
    """Index of the configured age band the age falls in (edges belong to the upper band)."""
    return int(np.searchsorted(np.asarray(config.age_band_edges), age, side="right"))


@dataclass(frozen=True)
class ReassessmentReason:
    code: str
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "text_zh": self.text_zh, "text_en": self.text_en}


@dataclass(frozen=True)
class ReassessmentDecision:
    required: bool
    reasons: tuple[ReassessmentReason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "reasons": [r.to_dict() for r in self.reasons]}


def _relative_change(old: float | None, new: float | None) -> float | None:
    if old is None or new is None:
        return None
    if old == 0:
        return None if new == 0 else float("inf")
    return abs(new - old) / old


def reassessment_required(previous: Any, new_facts: Mapping[str, Any] | CustomerFacts | None = None,
                          today: date | None = None, config: RiskConfig = DEFAULT_CONFIG) -> ReassessmentDecision:
    """Whether a customer must be re-assessed, and why.

    `previous` is a `risk.scoring.Assessment` or its `to_dict()` (needs `expires_on`, and `facts` to
    compare against). `new_facts` are today's facts (same fields as the questionnaire's facts).
    """
    prev = previous.to_dict() if hasattr(previous, "to_dict") else dict(previous)
    if "expires_on" not in prev:
        raise BadInputError("previous.expires_on: missing", details={"field": "previous.expires_on"})
    expires_raw = prev["expires_on"]
    try:
        expires = expires_raw if isinstance(expires_raw, date) else date.fromisoformat(str(expires_raw)[:10])
    except ValueError as err:
        raise BadInputError(f"previous.expires_on: not a date: {expires_raw!r}",
                            details={"field": "previous.expires_on"}) from err
    if isinstance(expires, datetime):
        expires = expires.date()
    old = parse_facts(prev.get("facts") or {})
    new = parse_facts(new_facts)
    on = today or date.today()
    reasons: list[ReassessmentReason] = []
    if not is_valid(expires, on):
        reasons.append(ReassessmentReason("assessment_expired", f"风险评估已于{expires.isoformat()}到期",
                                          f"the assessment expired on {expires.isoformat()}"))
    if old.age is not None and new.age is not None and age_band(old.age, config) != age_band(new.age, config):
        reasons.append(ReassessmentReason("age_band_changed", f"年龄段变化（{old.age}岁→{new.age}岁）",
                                          f"age band changed ({old.age} → {new.age})"))
    checks = (("annual_income", config.income_change_threshold, "收入", "income"),
              ("financial_assets", config.assets_change_threshold, "金融资产", "financial assets"),
              ("debts", config.debts_change_threshold, "负债", "debts"))
    for field, threshold, zh, en in checks:
        change = _relative_change(getattr(old, field), getattr(new, field))
        if change is not None and change > threshold:
            pct = "∞" if change == float("inf") else f"{change:.0%}"
            reasons.append(ReassessmentReason(f"{field}_changed", f"{zh}变化超过{threshold:.0%}（{pct}）",
                                              f"{en} changed by more than {threshold:.0%} ({pct})"))
    if new.civil_capacity is False and old.civil_capacity is not False:
        reasons.append(ReassessmentReason("civil_capacity_changed", "民事行为能力发生变化",
                                          "civil capacity changed"))
    if new.occupation and old.occupation and new.occupation != old.occupation:
        reasons.append(ReassessmentReason("occupation_changed", f"职业变化（{old.occupation}→{new.occupation}）",
                                          f"occupation changed ({old.occupation} → {new.occupation})"))
    if new.life_event:
        zh, en = LIFE_EVENTS[new.life_event]
        reasons.append(ReassessmentReason(f"life_event_{new.life_event}", f"客户报告重大生活变化：{zh}",
                                          f"customer reported a life event: {en}"))
    return ReassessmentDecision(bool(reasons), tuple(reasons))


REASSESSMENT_COLUMNS = ("assessment_expired", "age_band_changed", "annual_income_changed",
                        "financial_assets_changed", "debts_changed", "life_event")


def reassessment_flags(previous: pd.DataFrame, current: pd.DataFrame, today: date | None = None,
                       config: RiskConfig = DEFAULT_CONFIG) -> pd.DataFrame:
    """Vectorized re-assessment triggers for a whole book (nightly batch).

    `previous` holds what the last assessment recorded (`expires_on`, and any of `age`, `annual_income`,
    `financial_assets`, `debts`); `current` holds today's facts (same numeric columns, optional
    `life_event`), row-aligned. Missing values never trigger a change. Returns one bool column per
    trigger in REASSESSMENT_COLUMNS plus `required`.
    """
    if len(previous) != len(current):
        raise BadInputError("previous and current must have the same rows", details={"field": "current"})
    if "expires_on" not in previous.columns:
        raise BadInputError("previous: missing column expires_on", details={"field": "expires_on"})

    def col(frame: pd.DataFrame, name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    out = pd.DataFrame(index=previous.index)
    out["assessment_expired"] = expired_mask(previous["expires_on"].to_numpy(dtype=object), today)
    edges = np.asarray(config.age_band_edges, dtype=float)
    old_age, new_age = col(previous, "age"), col(current, "age")
    known = ~np.isnan(old_age) & ~np.isnan(new_age)
    out["age_band_changed"] = known & (np.searchsorted(edges, np.nan_to_num(old_age), side="right")
                                       != np.searchsorted(edges, np.nan_to_num(new_age), side="right"))
    for name, threshold in (("annual_income", config.income_change_threshold),
                            ("financial_assets", config.assets_change_threshold),
                            ("debts", config.debts_change_threshold)):
        old, new = col(previous, name), col(current, name)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(old == 0, np.where(new == 0, 0.0, np.inf), np.abs(new - old) / old)
        out[f"{name}_changed"] = ~np.isnan(old) & ~np.isnan(new) & (change > threshold)
    if "life_event" in current.columns:
        events = current["life_event"].astype("string").str.strip()
        unknown = events.notna() & (events != "") & ~events.isin(list(LIFE_EVENTS))
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise BadInputError(f"current row {row}: life_event: unknown event {events.iloc[row]!r}",
                                details={"row": row, "field": "life_event"})
        out["life_event"] = (events.notna() & (events != "")).to_numpy(dtype=bool)
    else:
        out["life_event"] = False
    out["required"] = out[list(REASSESSMENT_COLUMNS)].any(axis=1)
    return out

"""When to rebalance: drift bands, the calendar, cash flows, fund events, a lowered level, drawdowns.

Every rule is vectorized over customers and returns one flag (and a detail) per customer; `Triggers`
collects them, says which fired, and decides whether the optimizer runs at all (`actionable`).

Rules (defaults from `RebalanceSettings`, domain brief "Robo-advisors abroad"):

* drift — total drift Σ|actual − target| / 2 over asset classes (Betterment's measure) and the largest
  single-class gap; from 3% a rebalance is suggested, from 5% it is urged.
* calendar — a review is due when the last one was in an earlier quarter (or month); a review alone
  never trades: inside the bands the answer is "no trade, within bands".
* cash flow — a deposit buys underweights first, a withdrawal sells overweights first (the optimizer
  does this naturally: new money goes where the tracking gap is largest).
* fund event — a held fund downgraded, closed/suspended, or dropped from the model: sell it and buy
  the replacement of the same class (target weight moved there, no new buys in the old fund).
* lowered level / above level — holdings above what the customer may now hold: no further buys, and
  the optimizer is pushed to reduce them (`above_level_penalty`).
* drawdown — the value-weighted drawdown of the holdings from their 1-year peaks beyond what the level
  tolerates: an alert that is reported (it does not trade on its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.rebalancing.settings import RebalanceSettings

TRIGGER_NAMES: tuple[str, ...] = ("drift", "calendar", "deposit", "withdrawal", "fund_event",
                                  "lowered_level", "above_level", "drawdown")
SEVERITY_NAMES = ("none", "suggest", "urge")


def class_drift(actual: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(total drift Σ|a − t| / 2, largest class gap) per row of class-weight matrices (C, K)."""
    gap = np.abs(np.asarray(actual, dtype=float) - np.asarray(target, dtype=float))
    return gap.sum(axis=1) / 2.0, gap.max(axis=1, initial=0.0)


def calendar_due(as_of: np.datetime64, last_review: np.ndarray, calendar: str) -> np.ndarray:
    """True where no review happened yet in the current quarter (or month); never reviewed → due."""
    last = np.asarray(last_review, dtype="datetime64[D]")
    months_now = np.datetime64(as_of, "D").astype("datetime64[M]").astype(np.int64)
    months_last = last.astype("datetime64[M]").astype(np.int64)
    if calendar == "quarterly":
        now_period, last_period = months_now // 3, np.floor_divide(months_last, 3)
    else:
        now_period, last_period = months_now, months_last
    return np.isnat(last) | (last_period < now_period)


@dataclass(frozen=True)
class Triggers:
    """Per-customer trigger flags and measures (arrays of length C)."""

    drift_total: np.ndarray
    drift_class_max: np.ndarray
    drift_severity: np.ndarray  # 0 none, 1 suggest, 2 urge
    calendar: np.ndarray
    deposit: np.ndarray
    withdrawal: np.ndarray
    fund_event: np.ndarray
    fund_event_detail: np.ndarray  # object: "900012 closed → 900013" or ""
    lowered_level: np.ndarray
    above_level: np.ndarray
    drawdown: np.ndarray  # value-weighted drawdown from 1-year peaks (negative fraction)
    drawdown_alert: np.ndarray

    @property
    def actionable(self) -> np.ndarray:
        """Whether the optimizer runs: drift past the suggest band, a cash flow, an event, above level."""
        return ((self.drift_severity > 0) | self.deposit | self.withdrawal | self.fund_event
                | self.above_level)

    @property
    def severity(self) -> np.ndarray:
        urgent = (self.drift_severity == 2) | self.above_level | self.withdrawal | self.fund_event
        return np.where(urgent, 2, np.where(self.actionable, 1, 0)).astype(np.int8)

    def flags(self) -> dict[str, np.ndarray]:
        return {"drift": self.drift_severity > 0, "calendar": self.calendar, "deposit": self.deposit,
                "withdrawal": self.withdrawal, "fund_event": self.fund_event,
                "lowered_level": self.lowered_level, "above_level": self.above_level,
                "drawdown": self.drawdown_alert}

    def mask(self) -> np.ndarray:
        """The fired triggers as bits (bit i = `TRIGGER_NAMES[i]`)."""
        flags = self.flags()
        out = np.zeros(len(self.drift_total), dtype=np.int64)
        for bit, name in enumerate(TRIGGER_NAMES):
            out |= flags[name].astype(np.int64) << bit
        return out

    def names(self) -> pd.Categorical:
        """Comma-separated names of the triggers that fired (one label per distinct combination)."""
        mask = self.mask()
        combos = np.flatnonzero(np.bincount(mask, minlength=1 << len(TRIGGER_NAMES)))
        lookup = np.zeros(1 << len(TRIGGER_NAMES), dtype=np.int64)
        lookup[combos] = np.arange(len(combos))
        labels = [",".join(n for bit, n in enumerate(TRIGGER_NAMES) if int(m) >> bit & 1) for m in combos]
        return pd.Categorical.from_codes(lookup[mask], categories=pd.Index(labels, dtype="str"))


def evaluate(*, actual_classes: np.ndarray, target_classes: np.ndarray, held_value: np.ndarray,
             cash_flow: np.ndarray, level: np.ndarray, previous_level: np.ndarray, above_level_value: np.ndarray,
             event_detail: np.ndarray, weighted_drawdown: np.ndarray, last_review: np.ndarray,
             as_of: np.datetime64, settings: RebalanceSettings) -> Triggers:
    """Evaluate every rule for every customer (all inputs are arrays of length C, or (C, K))."""
    total, class_max = class_drift(actual_classes, target_classes)
    has_holdings = held_value > 0
    total = np.where(has_holdings, total, 0.0)
    class_max = np.where(has_holdings, class_max, 0.0)
    worst = np.maximum(total, class_max)
    severity = np.where(worst >= settings.urge_band - 1e-12, 2,
                        np.where(worst >= settings.suggest_band - 1e-12, 1, 0)).astype(np.int8)
    tolerance = np.asarray(settings.drawdown_tolerance, dtype=float)[np.clip(level, 1, 5) - 1]
    above = above_level_value > 0
    detail = np.asarray(event_detail, dtype=object)
    return Triggers(
        drift_total=total, drift_class_max=class_max, drift_severity=severity,
        calendar=calendar_due(as_of, last_review, settings.calendar),
        deposit=cash_flow > 0, withdrawal=cash_flow < 0,
        fund_event=detail != "", fund_event_detail=detail,
        lowered_level=(previous_level > level) & above, above_level=above,
        drawdown=weighted_drawdown, drawdown_alert=has_holdings & (-weighted_drawdown > tolerance),
    )

"""Trigger rules: drift bands, calendar, cash flows, events, lowered level, drawdown."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.rebalancing.settings import RebalanceSettings
from advisor.rebalancing.triggers import calendar_due, class_drift, evaluate
from products.errors import BadInputError
from risk.levels import DRAWDOWN_TOLERANCE


def test_drift_is_half_the_absolute_gap_and_reports_the_largest_class() -> None:
    total, worst = class_drift(np.array([[0.5, 0.3, 0.2]]), np.array([[0.4, 0.4, 0.2]]))
    assert total[0] == pytest.approx(0.1)
    assert worst[0] == pytest.approx(0.1)


def test_calendar_quarterly_and_monthly() -> None:
    last = np.array(["2026-01-05", "2025-12-31", "NaT", "2026-02-01"], dtype="datetime64[D]")
    today = np.datetime64("2026-02-13")
    assert calendar_due(today, last, "quarterly").tolist() == [False, True, True, False]
    assert calendar_due(today, last, "monthly").tolist() == [True, True, True, False]


def _evaluate(drift_gap: float, **kw: object):
    n = 1
    actual = np.array([[0.5 + drift_gap, 0.5 - drift_gap]])
    args = dict(actual_classes=actual, target_classes=np.array([[0.5, 0.5]]), held_value=np.ones(n) * 1e5,
                cash_flow=np.zeros(n), level=np.array([3]), previous_level=np.array([3]),
                above_level_value=np.zeros(n), event_detail=np.array([""], dtype=object),
                weighted_drawdown=np.zeros(n), last_review=np.array(["2026-02-01"], dtype="datetime64[D]"),
                as_of=np.datetime64("2026-02-13"), settings=RebalanceSettings())
    args.update(kw)
    return evaluate(**args)


def test_bands_suggest_from_three_and_urge_from_five_percent() -> None:
    assert _evaluate(0.029).drift_severity[0] == 0 and not _evaluate(0.029).actionable[0]
    assert _evaluate(0.031).drift_severity[0] == 1 and _evaluate(0.031).actionable[0]
    assert _evaluate(0.051).drift_severity[0] == 2
    assert _evaluate(0.051).names()[0] == "drift"


def test_cash_flow_event_level_and_drawdown_triggers() -> None:
    t = _evaluate(0.0, cash_flow=np.array([-500.0]))
    assert t.withdrawal[0] and t.actionable[0] and t.severity[0] == 2
    t = _evaluate(0.0, previous_level=np.array([4]), above_level_value=np.array([10_000.0]))
    assert t.lowered_level[0] and t.above_level[0] and t.actionable[0]
    assert t.names()[0] == "lowered_level,above_level"
    t = _evaluate(0.0, event_detail=np.array(["900012 closed → 900013"], dtype=object))
    assert t.fund_event[0] and t.actionable[0]
    t = _evaluate(0.0, weighted_drawdown=np.array([-DRAWDOWN_TOLERANCE[2] - 0.01]))  # beyond what C3 tolerates
    assert t.drawdown_alert[0] and not t.actionable[0]  # an alert, not a trade on its own


def test_settings_reject_inconsistent_bands() -> None:
    with pytest.raises(BadInputError):
        RebalanceSettings(suggest_band=0.06, urge_band=0.05)
    with pytest.raises(BadInputError):
        RebalanceSettings(calendar="weekly")  # type: ignore[arg-type]

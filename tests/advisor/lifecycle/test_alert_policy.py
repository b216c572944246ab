"""The alert policy: nothing pushed twice, opt-outs respected, never more than a cap, severe ones tasked."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.lifecycle.alerts.policy import DEFAULT_CAPS, AlertPolicy, Cap, decide

TODAY = date(2026, 2, 13)


def candidates(*rows: tuple[str, str, int, str]) -> pd.DataFrame:
    """(customer_id, kind, severity, dedupe key) in the order of importance."""
    return pd.DataFrame(rows, columns=["customer_id", "kind", "severity", "dedupe_key"]).assign(priority=0)


def history(*rows: tuple[str, str, str, int, str]) -> pd.DataFrame:
    """(customer_id, kind, dedupe key, days ago, channel)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "kind", "dedupe_key", "ago", "channel"])
    frame["as_of"] = pd.to_datetime([TODAY - timedelta(days=int(d)) for d in frame.pop("ago")])
    return frame


def test_a_key_already_pushed_is_not_pushed_again():
    cands = candidates(("a", "drift", 2, "drift:2026Q1"), ("a", "drift", 2, "drift:2026Q1"),
                       ("b", "drift", 2, "drift:2026Q1"))
    status, _ = decide(cands, history(("a", "drift", "drift:2026Q1", 30, "customer")), None, TODAY)
    assert status.tolist() == ["duplicate", "duplicate", "queued"]


def test_opt_out_is_per_kind_and_severe_alerts_still_reach_the_rm():
    cands = candidates(("a", "drawdown", 3, "drawdown:x"), ("a", "nav_swing", 1, "nav_swing:d"))
    prefs = pd.DataFrame({"customer_id": ["a"], "kind": ["drawdown"], "opted_out": [True]})
    status, task = decide(cands, None, prefs, TODAY)
    assert status.tolist() == ["opted_out", "queued"]
    assert task.tolist() == [True, False]


def test_rm_task_is_created_once_per_key():
    cands = candidates(("a", "drawdown", 3, "drawdown:x"))
    _, task = decide(cands, history(("a", "drawdown", "drawdown:x", 3, "rm_task")), None, TODAY)
    assert task.tolist() == [False]


def test_daily_and_kind_caps_count_what_was_already_sent():
    cands = candidates(("a", "fund_event", 3, "k1"), ("a", "drift", 2, "k2"), ("a", "fund_event", 2, "k3"),
                       ("a", "nav_swing", 1, "k4"))
    status, _ = decide(cands, None, None, TODAY)
    assert status.tolist() == ["queued", "queued", "capped", "capped"]  # two a day
    sent_today = history(("a", "nav_swing", "old", 0, "customer"))
    status, _ = decide(cands, sent_today, None, TODAY)
    assert status.tolist() == ["queued", "capped", "capped", "capped"]
    swings = candidates(("b", "nav_swing", 1, "s1"), ("b", "nav_swing", 1, "s2"))
    status, _ = decide(swings, None, None, TODAY)
    assert status.tolist() == ["queued", "capped"]  # one NAV-swing message a day


def test_a_week_of_sending_stops_at_the_weekly_cap():
    sent = history(*[("a", "drift" if d % 2 else "fund_event", f"old{d}", d, "customer") for d in range(1, 6)])
    status, _ = decide(candidates(("a", "drawdown", 3, "new")), sent, None, TODAY)
    assert status.tolist() == ["capped"]  # five in the last seven days already


KINDS = ["drawdown", "nav_swing", "drift", "fund_event", "assessment_expiring", "goal_off_track",
         "profit_target", "sip_failed"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(KINDS), st.integers(1, 3),
                          st.integers(0, 6)), max_size=40),
       st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(KINDS), st.integers(0, 40)), max_size=20))
def test_a_customer_never_gets_more_than_any_cap(new, old):
    cands = candidates(*[(c, k, s, f"{k}:{n}") for c, k, s, n in new])
    past = history(*[(c, k, f"{k}:old{i}", ago, "customer") for i, (c, k, ago) in enumerate(old)])
    status, _ = decide(cands, past, None, TODAY)
    sent = pd.concat([past, cands.loc[status == "queued"].assign(as_of=pd.Timestamp(TODAY))], ignore_index=True)
    for cap in DEFAULT_CAPS:
        window = sent[sent["as_of"] > pd.Timestamp(TODAY) - pd.Timedelta(days=cap.window_days)]
        before = past[past["as_of"] > pd.Timestamp(TODAY) - pd.Timedelta(days=cap.window_days)]
        if cap.kind is not None:
            window = window[window["kind"] == cap.kind]
            before = before[before["kind"] == cap.kind]
        for customer, count in window.groupby("customer_id").size().items():
            already = int((before["customer_id"] == customer).sum())
            assert count <= max(cap.max_count, already), (cap, customer)
    # and every key is sent at most once
    queued = cands.loc[status == "queued"]
    assert not queued.duplicated(["customer_id", "dedupe_key"]).any()


def test_custom_caps():
    policy = AlertPolicy(caps=(Cap(None, 1, 1),))
    status, _ = decide(candidates(("a", "drift", 2, "x"), ("a", "drawdown", 3, "y")), None, None, TODAY, policy)
    assert status.tolist() == ["queued", "capped"]
    assert np.array_equal(decide(candidates(), None, None, TODAY)[0], np.array([], dtype=object))

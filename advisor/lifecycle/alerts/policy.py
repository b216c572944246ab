"""Which alerts are sent: dedupe, opt-outs, frequency caps; which become tasks for the relationship manager.

Every candidate gets one status, decided in this order:

1. ``duplicate`` — its dedupe key (``kind:rule-specific part``) was already pushed to this customer (the
   history of earlier outboxes), or an earlier candidate of this run has the same key: nothing is pushed
   twice.
2. ``opted_out`` — the customer opted out of this kind.
3. ``capped`` — a frequency cap would be exceeded: per kind (e.g. one NAV-swing message a day, two a
   week) and in total per customer (two messages a day, five a week), counting what the history shows in
   the window. Inside a customer, more severe alerts go first, then by the rule's priority.
4. ``queued`` — written to the outbox for the push service.

Critical alerts also become a task in the customer's relationship manager's worklist, once per dedupe
key (the task history is kept apart), whether or not the customer is capped or opted out: a cap protects
the customer from noise, not the bank from risk. Caps are therefore hard for the customer: across runs
and within a run, a customer never gets more than any cap allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from advisor.lifecycle.alerts.base import Severity

STATUSES = ("queued", "duplicate", "opted_out", "capped")
CUSTOMER, RM_TASK = "customer", "rm_task"  # history channels
HISTORY_COLUMNS = ("customer_id", "kind", "dedupe_key", "as_of", "channel")


@dataclass(frozen=True)
class Cap:
    """At most `max_count` messages of `kind` (None = all kinds) per customer in `window_days` days."""

    kind: str | None
    max_count: int
    window_days: int


DEFAULT_CAPS: tuple[Cap, ...] = (
    Cap(None, 2, 1), Cap(None, 5, 7),
    Cap("nav_swing", 1, 1), Cap("nav_swing", 2, 7),
    Cap("drawdown", 1, 7), Cap("drift", 1, 30), Cap("goal_off_track", 1, 30),
    Cap("assessment_expiring", 1, 7), Cap("fund_event", 3, 7), Cap("profit_target", 2, 7), Cap("sip_failed", 1, 3),
)


@dataclass(frozen=True)
class AlertPolicy:
    caps: tuple[Cap, ...] = DEFAULT_CAPS
    rm_task_severity: int = Severity.CRITICAL
    history_days: int = 400  # how long dedupe keys are remembered


def empty_history() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": pd.Series(dtype="str"), "kind": pd.Series(dtype="str"),
                         "dedupe_key": pd.Series(dtype="str"), "as_of": pd.Series(dtype="datetime64[ns]"),
                         "channel": pd.Series(dtype="str")})


def decide(candidates: pd.DataFrame, history: pd.DataFrame | None, preferences: pd.DataFrame | None,
           as_of: date, policy: AlertPolicy | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(status per candidate, rm_task flag per candidate); `candidates` needs customer_id, kind, severity,
    priority, dedupe_key and is taken in the order given (callers sort by importance within a customer)."""
    policy = policy or AlertPolicy()
    n = len(candidates)
    status = np.full(n, "queued", dtype=object)
    if n == 0:
        return status, np.zeros(0, dtype=bool)
    history = empty_history() if history is None or not len(history) else history
    today = pd.Timestamp(as_of)
    hist = history.loc[pd.to_datetime(history["as_of"]) > today - pd.Timedelta(days=policy.history_days)]
    hist = hist.loc[pd.to_datetime(hist["as_of"]) <= today]
    cid = candidates["customer_id"].astype("str").to_numpy(object)
    key = candidates["dedupe_key"].astype("str").to_numpy(object)
    pair = pd.Index(cid + "\x1f" + key)

    def seen(channel: str) -> np.ndarray:
        part = hist.loc[hist["channel"].astype("str") == channel]
        known = pd.Index(part["customer_id"].astype("str") + "\x1f" + part["dedupe_key"].astype("str"))
        return pair.isin(known)

    repeat_in_run = pair.duplicated(keep="first")
    rm_task = (candidates["severity"].to_numpy() >= policy.rm_task_severity) & ~seen(RM_TASK) & ~repeat_in_run
    status[seen(CUSTOMER) | repeat_in_run] = "duplicate"
    if preferences is not None and len(preferences):
        prefs = preferences
        if "opted_out" in prefs.columns:
            prefs = prefs.loc[prefs["opted_out"].astype(bool)]
        out = pd.Index(prefs["customer_id"].astype("str") + "\x1f" + prefs["kind"].astype("str"))
        opted = pd.Index(cid + "\x1f" + candidates["kind"].astype("str").to_numpy(object)).isin(out)
        status[(status == "queued") & opted] = "opted_out"
    sent = hist.loc[hist["channel"].astype("str") == CUSTOMER]
    kinds = candidates["kind"].astype("str").to_numpy(object)
    customer, customers = pd.factorize(cid)  # each candidate's customer as a number, found once for every cap
    for cap in sorted(policy.caps, key=lambda c: c.kind is None):  # kind caps first, then totals
        live = status == "queued"
        if cap.kind is not None:
            live &= kinds == cap.kind
        if not live.any():
            continue
        window = sent.loc[pd.to_datetime(sent["as_of"]) > today - pd.Timedelta(days=cap.window_days)]
        if cap.kind is not None:
            window = window.loc[window["kind"].astype("str") == cap.kind]
        sent_by = pd.Index(customers).get_indexer(window["customer_id"].astype("str").to_numpy(object))
        used = np.bincount(sent_by[sent_by >= 0], minlength=len(customers))
        rows = np.flatnonzero(live)
        status[rows[_rank_within(customer[rows]) + used[customer[rows]] >= cap.max_count]] = "capped"
    return status, rm_task


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each group value, in the order given (a grouped cumulative count)."""
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    position = np.arange(len(group))
    first = np.maximum.accumulate(np.where(np.r_[True, ordered[1:] != ordered[:-1]], position, 0))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = position - first
    return rank

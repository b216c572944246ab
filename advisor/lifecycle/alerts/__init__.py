"""陪伴 alerts: triggers evaluated over a whole book, then dedupe, opt-outs and caps, then the outbox.

`default_rules()` is the standard trigger set (one module per family: `portfolio`, `events`, `plans`);
`run_alerts(book, …)` evaluates every rule, orders each customer's candidates (most severe first, then by
rule priority), applies the policy (`advisor.lifecycle.alerts.policy`) and renders the zh / en message of
every alert that is pushed or becomes a relationship manager's task.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.lifecycle.alerts import events, holds, plans, portfolio
from advisor.lifecycle.alerts.base import (
    SEVERITY_LABELS,
    SEVERITY_ZH,
    AlertBook,
    AlertRule,
    Candidates,
    LifecycleContext,
    lifecycle_context,
)
from advisor.lifecycle.alerts.policy import CUSTOMER, RM_TASK, AlertPolicy, Cap, decide, empty_history

RULE_MODULES = (portfolio, events, plans, holds)
ALERT_NAMESPACE = uuid.UUID("6f1d9a3e-2b7c-4e55-9d7a-16b0c3e5a001")
KINDS: tuple[str, ...] = tuple(cls.kind for module in RULE_MODULES for cls in module.RULES)
KIND_NAMES_ZH: dict[str, str] = {cls.kind: cls.title_zh for module in RULE_MODULES for cls in module.RULES}
OUTBOX_COLUMNS = ("alert_id", "customer_id", "rm_id", "kind", "severity", "dedupe_key", "as_of", "title_zh",
                  "text_zh", "title_en", "text_en", "details", "rm_task", "status")

__all__ = ["KINDS", "AlertBook", "AlertPolicy", "AlertRule", "AlertRun", "Cap", "LifecycleContext", "default_rules",
           "lifecycle_context", "run_alerts"]


def default_rules(overrides: Mapping[str, AlertRule] | None = None) -> tuple[AlertRule, ...]:
    """One instance of every trigger with default thresholds; `overrides` by kind."""
    overrides = dict(overrides or {})
    rules = tuple(overrides.pop(cls.kind, None) or cls() for module in RULE_MODULES for cls in module.RULES)
    if overrides:
        raise KeyError(f"unknown alert kind(s): {sorted(overrides)}")
    return rules


@dataclass
class AlertRun:
    """Every candidate with its status (`candidates`), the outbox (queued ones) and the RM tasks."""

    candidates: pd.DataFrame
    outbox: pd.DataFrame
    rm_tasks: pd.DataFrame

    def history_rows(self) -> pd.DataFrame:
        """What the next run must remember: pushed alerts and created tasks (see `policy.decide`)."""
        pushed = self.outbox[["customer_id", "kind", "dedupe_key", "as_of"]].assign(channel=CUSTOMER)
        tasks = self.rm_tasks[["customer_id", "kind", "dedupe_key", "as_of"]].assign(channel=RM_TASK)
        return pd.concat([pushed, tasks], ignore_index=True)


def alert_id(customer_id: str, dedupe_key: str) -> str:
    """A deterministic id of (customer, dedupe key): the same alert has the same id in every run and door
    (a keyed BLAKE2b digest written as a UUID: 8-4-4-4-12 hex digits)."""
    h = hashlib.blake2b(f"{customer_id}|{dedupe_key}".encode(), digest_size=16, key=_ID_KEY).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ID_KEY = ALERT_NAMESPACE.bytes


def run_alerts(book: AlertBook, rules: Sequence[AlertRule] | None = None, *, history: pd.DataFrame | None = None,
               preferences: pd.DataFrame | None = None, policy: AlertPolicy | None = None) -> AlertRun:
    """Evaluate, decide and render (see the module docstring)."""
    rules = tuple(rules) if rules is not None else default_rules()
    found: list[Candidates] = []
    parts = []
    for r, rule in enumerate(rules):
        c = rule.evaluate(book)
        found.append(c)
        if len(c):
            parts.append(pd.DataFrame({"cust": c.cust, "rule": r, "index": np.arange(len(c)), "kind": rule.kind,
                                       "severity": c.severity.astype(np.int8), "priority": rule.priority,
                                       "dedupe_key": rule.kind + ":" + pd.Series(c.key, dtype="str")}))
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="str") for c in OUTBOX_COLUMNS})
        return AlertRun(empty.assign(cust=pd.Series(dtype=np.int64)), empty.drop(columns=["status"]),
                        empty.drop(columns=["status"]))
    cands = pd.concat(parts, ignore_index=True)
    cands = cands.sort_values(["cust", "severity", "priority", "dedupe_key"], ascending=[True, False, True, True],
                              kind="stable", ignore_index=True)
    ids = book.customer_id
    cands["customer_id"] = ids[cands["cust"].to_numpy()]
    status, task = decide(cands, history, preferences, book.as_of, policy)
    cands["status"] = status
    cands["rm_task"] = task
    rm = book.customers["rm_id"].astype(object).to_numpy() if "rm_id" in book.customers.columns else \
        np.full(book.n, None, dtype=object)
    cands["rm_id"] = rm[cands["cust"].to_numpy()]
    cands["as_of"] = pd.Timestamp(book.as_of)
    shown = (status == "queued") | task
    texts = {k: np.full(len(cands), None, dtype=object) for k in ("title_zh", "text_zh", "title_en", "text_en",
                                                                   "details")}
    rule_col, index_col = cands["rule"].to_numpy(), cands["index"].to_numpy()
    for r, rule in enumerate(rules):
        rows = np.flatnonzero(shown & (rule_col == r))
        if not len(rows):
            continue
        rendered = rule.render(book, rule.prepare(book, found[r], index_col[rows]))
        for name in ("title_zh", "text_zh", "title_en", "text_en"):
            texts[name][rows] = getattr(rendered, name)
        texts["details"][rows] = rendered.details_json()
    for name, values in texts.items():
        cands[name] = values
    cands["severity_label"] = np.asarray(SEVERITY_LABELS, dtype=object)[cands["severity"].to_numpy()]
    cands["severity_zh"] = np.asarray(SEVERITY_ZH, dtype=object)[cands["severity"].to_numpy()]
    ids_out = np.full(len(cands), None, dtype=object)
    shown_rows = np.flatnonzero(shown)
    ids_out[shown_rows] = [alert_id(c, k) for c, k in zip(cands["customer_id"].to_numpy()[shown_rows],
                                                          cands["dedupe_key"].to_numpy()[shown_rows], strict=True)]
    cands["alert_id"] = ids_out
    view = cands.drop(columns=["severity"]).rename(columns={"severity_label": "severity"})
    columns = [*OUTBOX_COLUMNS, "severity_zh"]
    outbox = view.loc[status == "queued", columns].drop(columns=["status"]).reset_index(drop=True)
    tasks = view.loc[task, columns].rename(columns={"status": "customer_status"}).reset_index(drop=True)
    return AlertRun(view[[*columns, "cust", "priority"]], outbox, tasks)


def history_frame(rows: pd.DataFrame | None) -> pd.DataFrame:
    return empty_history() if rows is None else rows

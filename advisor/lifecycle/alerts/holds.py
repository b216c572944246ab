"""SIP holds (定投暂停扣款): a plan that may not debit any more (`advisor.lifecycle.sip_guard`: assessment
expired, a fund now above the customer's level, a fund closed to subscriptions). Critical: the customer is
told why and what to do, and the RM gets a task (a stored plan must never debit against suitability). Once
per plan and reason."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from advisor.lifecycle.alerts.base import AlertBook, AlertRule, Candidates, Rendered, Severity, raw_json, texts
from advisor.lifecycle.sip_guard import book_holds, hold_texts


@dataclass(frozen=True)
class SipHold(AlertRule):
    kind = "sip_hold"
    title_zh = "定投已暂停扣款"
    title_en = "A SIP plan is on hold"
    priority = 5

    def evaluate(self, book: AlertBook) -> Candidates:
        plans = book.plans
        if plans is None or not len(plans):
            return Candidates.none()
        holds = book_holds(book)
        if not len(holds):
            return Candidates.none()
        row = plans.reset_index(drop=True)
        pos = holds.index.to_numpy(dtype=np.int64)  # the held plan's row (`hold_plans`)
        names = row["name"].fillna("").astype(str).to_numpy(object) if "name" in row.columns else np.full(len(row), "")
        amount = (row["amount"].to_numpy(dtype=float) if "amount" in row.columns else np.full(len(row), np.nan))
        key = (holds["plan_id"].astype(str) + ":" + holds["reason"].astype(str)).to_numpy(object)
        extra = {"plan_id": holds["plan_id"].astype(str).to_numpy(object), "reason": holds["reason"].to_numpy(object),
                 "codes": np.array([list(c) for c in holds["codes"]] + [None], dtype=object)[:-1],
                 "allowed_max": holds["allowed_max"].to_numpy(object), "name": names[pos],
                 "expires_on": holds["expires_on"].to_numpy(object)}
        return Candidates(row["cust"].to_numpy(dtype=np.int64)[pos], np.full(len(pos), Severity.CRITICAL, np.int8),
                          amount[pos], key, extra=extra)

    def render(self, book: AlertBook, found: Candidates) -> Rendered:
        """Holds are rare (a plan whose customer or fund changed), so each is written by the one template of
        `sip_guard.hold_texts`."""
        x = found.extra
        zh_all, en_all, codes_json = [], [], []
        for i in range(len(found.value)):
            codes = list(x["codes"][i] or [])
            where = [book.ctx.universe.code_index.get(c, -1) for c in codes]
            labels = ([f"{book.ctx.names[j]}({c})" if j >= 0 else c for j, c in zip(where, codes, strict=True)],
                      [f"{book.ctx.names[j]} ({c})" if j >= 0 else c for j, c in zip(where, codes, strict=True)])
            amount = float(found.value[i])
            zh, en = hold_texts(str(x["reason"][i]), str(x["name"][i] or ""), codes, x["allowed_max"][i],
                                x["expires_on"][i], amount if np.isfinite(amount) else None, labels)
            zh_all.append(zh)
            en_all.append(en)
            codes_json.append(json.dumps(codes))
        title_zh, title_en = self.titles(len(zh_all))
        return Rendered(title_zh, texts(zh_all), title_en, texts(en_all), {
            "plan_id": np.asarray(x["plan_id"]).astype(str).astype(object),
            "reason": np.asarray(x["reason"]).astype(str).astype(object), "codes": raw_json(codes_json),
            "allowed_max": np.asarray(x["allowed_max"], dtype=object)})


RULES = (SipHold,)

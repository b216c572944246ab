"""The relationship manager's worklist: assigned clients with their flags, most urgent first.

One function for both doors that show it — the JSON route (`GET /v1/rm/clients`) and the worklist page
(`/rm`) — so the order an RM sees on the page is the order the API answers.

The flags come from the health check and the automatic profile (`core.client_flags`). Both are pure
functions of the client's stored inputs, the fund data and the day, and give each customer the same answer
whatever else is in the batch (the nightly tests hold them to that). So every client's flags are kept in
`FlagCache` under a digest of exactly those inputs — the customer row (level, lowest category, assessment
expiry, facts), every lot, the assessment's KYC facts, the data version and today's date — and only
clients whose inputs changed are checked again, as one batch. A new assessment, a changed lot, a new day or
new fund data changes the digest, so a flag is never older than what it is computed from.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from api import core, lifecycle_store, repositories
from api.clock import business_today
from api.portfolio_input import customer_row, customers_frame, holdings_frame
from api.schemas.portfolio import RmClient
from api.state import AppState

MISSING_ASSESSMENT_URGENCY = 100.0
ALERT_TASK_URGENCY = 30.0  # per open task raised by a critical 陪伴 alert (advisor.lifecycle.alerts)
FLAG_CACHE_SIZE = 50_000  # clients whose flags are kept (~1 kB each); a few RMs' books on one server


class FlagCache:
    """Per-client worklist flags by input digest, least recently used dropped first (thread-safe)."""

    def __init__(self, size: int = FLAG_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            found = {k: self._items[k] for k in keys if k in self._items}
            for k in found:
                self._items.move_to_end(k)
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: dict[str, dict[str, Any]]) -> None:
        with self._lock:
            self._items.update(items)
            for k in items:
                self._items.move_to_end(k)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def flag_cache(state: AppState) -> FlagCache:
    """The service's one flag cache (built on first use)."""
    return state.cached("worklist_flags", FlagCache)


def worklist(state: AppState, session: Session, rm_id: str, today: date | None = None) -> list[RmClient]:
    """Every client assigned to `rm_id`, most urgent first (ties by customer id)."""
    today = today or business_today()
    return rank_clients(state, session, repositories.assigned_customers(session, rm_id), rm_id, today)


def rank_clients(state: AppState, session: Session, ids: list[str], rm_id: str | None,
                 today: date) -> list[RmClient]:
    """Flags and urgency of the given customers (a single client is a batch of one)."""
    assessments = repositories.latest_assessments(session, ids)
    items: list[RmClient] = [RmClient(customer_id=cid, urgency=MISSING_ASSESSMENT_URGENCY,
                                      flags=["assessment_missing"]) for cid in ids if cid not in assessments]
    assessed = [cid for cid in ids if cid in assessments]
    flagged = _flags(state, session, assessed, assessments, rm_id, today)
    for cid in assessed:
        info = flagged.get(cid) or {"urgency": 0.0, "flags": [], "details": {}}
        a = assessments[cid]
        items.append(RmClient(customer_id=cid, urgency=float(info["urgency"]), level=f"C{a.level}",
                              assessment_expires_on=a.expires_on, flags=list(info["flags"]),
                              details=dict(info.get("details", {}))))
    tasks = lifecycle_store.open_task_counts(session, ids)
    for item in items:
        count = tasks.get(item.customer_id, 0)
        if count:
            item.flags.append("alert_tasks")
            item.details["alert_tasks"] = count
            item.urgency += ALERT_TASK_URGENCY * count
    items.sort(key=lambda c: (-c.urgency, c.customer_id))
    return items


def _flags(state: AppState, session: Session, ids: list[str], assessments: dict[str, Any], rm_id: str | None,
           today: date) -> dict[str, dict[str, Any]]:
    """`core.client_flags` of the clients, from the cache where their inputs are unchanged."""
    if not ids:
        return {}
    customers = repositories.customers_by_id(session, ids)
    lots = repositories.lots_by_customer(session, ids)
    rows = {cid: customer_row(cid, customers.get(cid), assessments[cid], rm_id=rm_id) for cid in ids}
    facts = {cid: dict(assessments[cid].facts or {}) for cid in ids}
    scope = f"{id(state.universe)}:{state.universe.version}:{today.isoformat()}"
    keys = {cid: _digest(scope, rows[cid], lots.get(cid, ()), facts[cid]) for cid in ids}
    cache = flag_cache(state)
    known = cache.get_many(list(keys.values()))
    stale = [cid for cid in ids if keys[cid] not in known]
    if stale:
        held = [{"customer_id": cid, "code": lot.code, "shares": lot.shares, "amount": lot.amount,
                 "purchase_date": lot.purchase_date} for cid in stale for lot in lots.get(cid, ())]
        fresh = core.client_flags(state.universe, customers_frame([rows[c] for c in stale]), holdings_frame(held),
                                  today, {c: facts[c] for c in stale})
        computed = {keys[c]: fresh.get(c, {"urgency": 0.0, "flags": [], "details": {}}) for c in stale}
        cache.put_many(computed)
        known.update(computed)
    return {cid: known[keys[cid]] for cid in ids}


def _digest(scope: str, row: dict[str, Any], lots: Sequence[Any], facts: dict[str, Any]) -> str:
    """Everything a client's flags are computed from, hashed (rm_id is not an input to the flags); each lot
    is its (code, shares, amount, purchase_date)."""
    inputs = tuple(v for k, v in row.items() if k != "rm_id")
    text = repr((scope, inputs, [(lot.code, lot.shares, lot.amount, lot.purchase_date) for lot in lots],
                 json.dumps(facts, sort_keys=True, default=str)))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

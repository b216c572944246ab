"""The relationship manager's worklist: assigned clients with their flags, most urgent first.

One function for both doors that show it — the JSON route (`GET /v1/rm/clients`) and the worklist page
(`/rm`) — so the order an RM sees on the page is the order the API answers.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from api import core, lifecycle_store, repositories
from api.clock import business_today
from api.portfolio_input import customer_row, customers_frame, holding_rows, holdings_frame
from api.schemas.portfolio import RmClient
from api.state import AppState

MISSING_ASSESSMENT_URGENCY = 100.0
ALERT_TASK_URGENCY = 30.0  # per open task raised by a critical 陪伴 alert (advisor.lifecycle.alerts)


def worklist(state: AppState, session: Session, rm_id: str, today: date | None = None) -> list[RmClient]:
    """Every client assigned to `rm_id`, most urgent first (ties by customer id)."""
    today = today or business_today()
    return rank_clients(state, session, repositories.assigned_customers(session, rm_id), rm_id, today)


def rank_clients(state: AppState, session: Session, ids: list[str], rm_id: str | None,
                 today: date) -> list[RmClient]:
    """Flags and urgency of the given customers as one health-check batch (a single client is a batch of one)."""
    assessments = repositories.latest_assessments(session, ids)
    items: list[RmClient] = [RmClient(customer_id=cid, urgency=MISSING_ASSESSMENT_URGENCY,
                                      flags=["assessment_missing"]) for cid in ids if cid not in assessments]
    assessed = [cid for cid in ids if cid in assessments]
    if assessed:
        rows = [customer_row(cid, repositories.get_customer(session, cid), assessments[cid], rm_id=rm_id)
                for cid in assessed]
        lots = []
        for lot in repositories.holdings_of(session, assessed):
            lots.extend(holding_rows(lot.customer_id, [lot]))
        facts = {cid: dict(assessments[cid].facts or {}) for cid in assessed}
        flagged = core.client_flags(state.universe, customers_frame(rows), holdings_frame(lots), today, facts)
        for cid in assessed:
            info = flagged.get(cid, {"urgency": 0.0, "flags": [], "details": {}})
            a = assessments[cid]
            items.append(RmClient(customer_id=cid, urgency=float(info["urgency"]), level=f"C{a.level}",
                                  assessment_expires_on=a.expires_on, flags=list(info["flags"]),
                                  details=info.get("details", {})))
    tasks = lifecycle_store.open_task_counts(session, ids)
    for item in items:
        count = tasks.get(item.customer_id, 0)
        if count:
            item.flags.append("alert_tasks")
            item.details["alert_tasks"] = count
            item.urgency += ALERT_TASK_URGENCY * count
    items.sort(key=lambda c: (-c.urgency, c.customer_id))
    return items

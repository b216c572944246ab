"""陪伴 alerts: the customer's messages, read marks, opt-outs, and an on-demand run for one customer."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Path, Query

from api import lifecycle_core, lifecycle_store, repositories
from api.auth import Role, check_customer_access, forbidden, require_role
from api.clock import business_today
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.lifecycle_input import stored_customer
from api.models import Alert
from api.schemas.common import UUID_PATTERN, CustomerId, Paged
from api.schemas.lifecycle import AlertOut, AlertsOut, EvaluationOut, PreferencesIn, PreferencesOut

router = APIRouter(prefix="/v1", tags=["after the purchase"])

AlertId = Annotated[str, Path(pattern=UUID_PATTERN, description="alert id (UUID)")]


def alert_out(a: Alert) -> AlertOut:
    return AlertOut(id=a.id, customer_id=a.customer_id, kind=a.kind, severity=a.severity, as_of=a.as_of,
                    title_zh=a.title_zh, text_zh=a.text_zh, title_en=a.title_en, text_en=a.text_en,
                    details=dict(a.details or {}), created_at=repositories.as_utc(a.created_at),
                    read_at=None if a.read_at is None else repositories.as_utc(a.read_at))


@router.get("/customers/{customer_id}/alerts", response_model=AlertsOut, responses=responses(401, 403, 422),
            summary="The customer's 陪伴 messages, newest first")
def list_alerts(customer_id: CustomerId, session: DbSession, caller: Caller, paged: Paged,
                unread_only: Annotated[bool, Query()] = False) -> AlertsOut:
    check_customer_access(session, caller, customer_id)
    total, rows = lifecycle_store.alerts_of(session, customer_id, paged.limit, paged.offset, unread_only)
    unread = total if unread_only else lifecycle_store.alerts_of(session, customer_id, 1, 0, True)[0]
    return AlertsOut(customer_id=customer_id, page=paged.page(total), unread=unread,
                     items=[alert_out(a) for a in rows])


@router.post("/customers/{customer_id}/alerts/{alert_id}/read", response_model=AlertOut,
             responses=responses(401, 403, 404, 422), summary="Mark a message as read (the customer)")
def read_alert(customer_id: CustomerId, alert_id: AlertId, session: DbSession, caller: Caller) -> AlertOut:
    if caller.role is not Role.CUSTOMER or caller.sub != customer_id:
        raise forbidden("only the customer marks their own messages read", customer_id=customer_id)
    alert = lifecycle_store.mark_read(session, customer_id, alert_id)
    if alert is None:
        raise ApiError(404, "alert_not_found", "no such message for this customer", {"alert_id": alert_id})
    session.commit()
    return alert_out(alert)


@router.get("/customers/{customer_id}/alert-preferences", response_model=PreferencesOut,
            responses=responses(401, 403, 422), summary="Which kinds of message the customer opted out of")
def get_preferences(customer_id: CustomerId, session: DbSession, caller: Caller) -> PreferencesOut:
    check_customer_access(session, caller, customer_id)
    return PreferencesOut(customer_id=customer_id, opted_out=lifecycle_store.opted_out_kinds(session, customer_id),
                          kinds=list(lifecycle_core.alert_kinds()))


@router.put("/customers/{customer_id}/alert-preferences", response_model=PreferencesOut,
            responses=responses(401, 403, 413, 422), summary="Opt out of exactly these kinds of message")
def set_preferences(customer_id: CustomerId, body: PreferencesIn, session: DbSession,
                    caller: Caller) -> PreferencesOut:
    check_customer_access(session, caller, customer_id)
    kinds = lifecycle_core.alert_kinds()
    lifecycle_store.set_opt_outs(session, customer_id, body.opted_out, kinds)
    session.commit()
    return PreferencesOut(customer_id=customer_id, opted_out=lifecycle_store.opted_out_kinds(session, customer_id),
                          kinds=list(kinds))


@router.post("/customers/{customer_id}/alerts/evaluate", response_model=EvaluationOut,
             responses=responses(401, 403, 404, 409, 422),
             summary="Run the nightly triggers for this customer now and store what is sent (ops)")
def evaluate(customer_id: CustomerId, state: State, session: DbSession, caller: Caller) -> EvaluationOut:
    require_role(caller, Role.OPS)
    stored = stored_customer(session, customer_id)
    if stored.assessment is None:
        raise ApiError(409, "assessment_required", "alerts need the customer's risk level (请先完成风险测评)",
                       {"customer_id": customer_id})
    if stored.ledger is None and stored.holdings is None:
        raise ApiError(404, "no_holdings", "the customer has no transactions and no stored holdings",
                       {"customer_id": customer_id})
    goals = lifecycle_store.goals_of(session, customer_id)
    goals_frame = pd.DataFrame([{
        "customer_id": customer_id, "goal_id": g.id, "name": g.name, "kind": g.kind,
        "level": None if g.level is None else f"C{g.level}", "target_amount": g.target_amount,
        "target_date": g.target_date, "current_amount": g.current_amount,
        "monthly_contribution": g.monthly_contribution, "previous_probability": g.last_probability}
        for g in goals]) if goals else None
    plans = lifecycle_store.plans_of(session, customer_id)
    plans_frame = pd.DataFrame([{
        "customer_id": customer_id, "plan_id": p.id, "name": p.name, "amount": p.amount,
        "target_return": p.target_return, "on_target": p.on_target, "status": p.status,
        "cycle_start": p.cycle_start, "codes": [leg["code"] for leg in p.legs]} for p in plans]) if plans else None
    opted = lifecycle_store.opted_out_kinds(session, customer_id)
    prefs = pd.DataFrame({"customer_id": customer_id, "kind": opted, "opted_out": True}) if opted else None
    today = business_today()
    alerts, tasks, probabilities = lifecycle_core.evaluate_alerts(
        state.universe, stored.customers, stored.holdings, stored.ledger, goals_frame, plans_frame, prefs,
        lifecycle_store.history_frame(session, customer_id), today)
    lifecycle_store.store_alerts(session, alerts, tasks)
    for goal in goals:
        if goal.id in probabilities:
            goal.last_probability = probabilities[goal.id]
    session.commit()
    return EvaluationOut(customer_id=customer_id, as_of=today, alerts=alerts, rm_tasks=tasks)

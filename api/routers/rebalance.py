"""One-click rebalancing (一键调仓): a stored, versioned, expiring plan, confirmed into orders exactly once.

`POST /v1/customers/{id}/rebalance` runs the engine on the customer (body holdings or the stored ones)
against their current, valid assessment and appends the plan as the customer's next version.
`POST /v1/rebalance-plans/{id}/confirm` (with an `Idempotency-Key`) turns the newest, unexpired plan into
order instructions — redemptions, switches inside one company, subscriptions — once: the database's unique
constraints keep the first confirmation; a retry with the same key gets it back. Before anything is
recorded, suitability is re-checked against the customer's *current* assessment (`risk.suitability.
check_at_confirmation`, the rule proposal confirmations use) and every fund to be bought at its level today.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from api import core, repositories
from api.auth import Principal, act_for_customer, check_customer_access, may_access
from api.clock import business_today
from api.confirmations import (
    ConfirmationDoor,
    IdempotencyKey,
    recheck_suitability,
    record_fields,
    record_once,
    recorded_answer,
)
from api.deps import AssistedSession, Caller, DbSession, State
from api.errors import ApiError, responses
from api.models import RebalanceConfirmation, RebalancePlan
from api.routers.portfolio import batch_of_one
from api.routers.proposals import valid_assessment
from api.schemas.common import CustomerId, PlanId
from api.schemas.portfolio import RebalanceIn
from api.schemas.rebalance import RebalanceConfirmationOut, RebalanceOrder, RebalancePlanOut, RebalancePlansOut

router = APIRouter(prefix="/v1", tags=["rebalancing"])

PLAN_CONFIRMATIONS = ConfirmationDoor(model=RebalanceConfirmation, target_field="plan_id", noun="plan")
BUY_ACTIONS = ("buy", "switch_in")


def plan_out(row: RebalancePlan, confirmed: bool, newest: int) -> RebalancePlanOut:
    expires_at = repositories.as_utc(row.expires_at)
    trades = row.body.get("trades") or []
    if confirmed:
        state = "confirmed"
    elif row.version < newest:
        state = "superseded"
    elif expires_at <= repositories.utcnow():
        state = "expired"
    elif not trades:
        state = "nothing_to_do"
    else:
        state = "open"
    return RebalancePlanOut(
        id=row.id, customer_id=row.customer_id, version=row.version, status=state, plan_status=row.plan_status,
        assessment_id=row.assessment_id, level=f"C{row.level}", lowest_category=row.lowest_category,
        cash_flow=row.cash_flow, holdings_source=row.holdings_source, created_at=repositories.as_utc(row.created_at),
        expires_at=expires_at, created_by=row.created_by, created_by_role=row.created_by_role,
        universe_version=row.universe_version, questionnaire_version=row.questionnaire_version, plan=row.body)


@router.post("/customers/{customer_id}/rebalance", response_model=RebalancePlanOut,
             status_code=status.HTTP_201_CREATED, responses=responses(401, 403, 409, 413, 422),
             summary="A rebalancing plan for the customer (body holdings or the stored ones), stored as the "
                     "customer's next version")
def create_plan(customer_id: CustomerId, body: RebalanceIn, state: State, session: DbSession,
                caller: Caller) -> RebalancePlanOut:
    check_customer_access(session, caller, customer_id)
    assessment = valid_assessment(session, customer_id)  # expired or missing: 409, no plan
    customers, holdings, source = batch_of_one(session, state, customer_id, body, allow_expired=False)
    result = core.rebalance_one(state.universe, customers, holdings, body.cash_flow)
    now = repositories.utcnow()
    values = dict(id=repositories.new_id(), customer_id=customer_id, assessment_id=assessment.id,
                  level=int(assessment.level), lowest_category=bool(assessment.lowest_category),
                  plan_status=str(result.get("status", "no_trade")), cash_flow=float(body.cash_flow),
                  holdings_source=source,
                  expires_at=now + timedelta(minutes=state.settings.rebalance_plan_ttl_minutes),
                  universe_version=state.universe.version, questionnaire_version=assessment.questionnaire_version,
                  body=result, created_by_role=str(caller.role), created_by=caller.sub, created_at=now)
    row = repositories.add_plan(session, values)
    return plan_out(row, confirmed=False, newest=row.version)


def load_plan(session: Session, caller: Principal, plan_id: str) -> RebalancePlan:
    """The plan if the caller may see it; a foreign plan answers 404 like an unknown id."""
    row = repositories.get_plan(session, plan_id)
    if row is None or not may_access(session, caller, row.customer_id):
        raise ApiError(404, "plan_not_found", f"no rebalancing plan {plan_id}", {"plan_id": plan_id})
    return row


@router.get("/rebalance-plans/{plan_id}", response_model=RebalancePlanOut, responses=responses(401, 404, 422),
            summary="A stored rebalancing plan and whether it is open, expired, superseded or confirmed")
def get_plan(plan_id: PlanId, session: DbSession, caller: Caller) -> RebalancePlanOut:
    row = load_plan(session, caller, plan_id)
    confirmed = PLAN_CONFIRMATIONS.of_target(session, row.id) is not None
    return plan_out(row, confirmed, repositories.latest_plan_version(session, row.customer_id))


@router.get("/customers/{customer_id}/rebalance-plans", response_model=RebalancePlansOut,
            responses=responses(401, 403, 422), summary="The customer's rebalancing plans, newest first")
def list_plans(customer_id: CustomerId, session: DbSession, caller: Caller) -> RebalancePlansOut:
    check_customer_access(session, caller, customer_id)
    rows = repositories.plans_of(session, customer_id)
    confirmed = PLAN_CONFIRMATIONS.confirmed_ids(session, [r.id for r in rows])
    newest = rows[0].version if rows else 0
    return RebalancePlansOut(customer_id=customer_id, items=[plan_out(r, r.id in confirmed, newest) for r in rows])


def confirmation_out(row: RebalanceConfirmation, replayed: bool) -> RebalanceConfirmationOut:
    return RebalanceConfirmationOut(**record_fields(row, replayed), plan_id=row.plan_id,
                                    orders=[RebalanceOrder(**o) for o in row.orders])


def executable(session: Session, state, row: RebalancePlan) -> list[dict]:
    """The plan's trades if they may be executed now; 409 naming why not (expired, superseded, nothing to
    do, assessment changed or expired, a fund no longer offered) or 403 (a purchase above the level)."""
    expires_at = repositories.as_utc(row.expires_at)
    if expires_at <= repositories.utcnow():
        raise ApiError(409, "plan_expired", "the rebalancing plan has expired; request a new one (调仓方案已过期)",
                       {"plan_id": row.id, "expires_at": expires_at.isoformat()})
    newest = repositories.latest_plan_version(session, row.customer_id)
    if row.version < newest:
        raise ApiError(409, "plan_superseded", "a newer rebalancing plan exists; confirm the newest one "
                       "(已有更新的调仓方案)", {"plan_id": row.id, "version": row.version, "newest_version": newest})
    trades = row.body.get("trades") or []
    if not trades:
        raise ApiError(409, "plan_empty", "the plan has no trade, so there is nothing to confirm (本方案无需调仓)",
                       {"plan_id": row.id, "reason": (row.body.get("reason") or {}).get("code")})
    buys = [t for t in trades if t.get("action") in BUY_ACTIONS]
    recheck_suitability(session, state.universe, row.customer_id, row.assessment_id,
                        [str(t["code"]) for t in buys], [t.get("fund_risk_level") for t in buys], business_today())
    return trades


@router.post("/rebalance-plans/{plan_id}/confirm", response_model=RebalanceConfirmationOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"model": RebalanceConfirmationOut, "description": "retry: the recorded confirmation"},
                        **responses(401, 403, 404, 409, 422)},
             summary="Confirm a rebalancing plan: redemption, switch and subscription orders recorded exactly once")
def confirm_plan(plan_id: PlanId, idempotency_key: IdempotencyKey, response: Response, state: State,
                 session: DbSession, caller: Caller, assisted_session: AssistedSession = None
                 ) -> RebalanceConfirmationOut:
    row = load_plan(session, caller, plan_id)
    act = act_for_customer(session, caller, row.customer_id, assisted_session, "confirm orders")
    answer = recorded_answer(session, PLAN_CONFIRMATIONS, row.id, row.customer_id, idempotency_key, response,
                             confirmation_out)
    if answer is not None:
        return answer
    trades = executable(session, state, row)
    confirmation_id = repositories.new_id()
    orders = core.rebalance_orders(state.universe, trades, confirmation_id, row.customer_id)
    record = RebalanceConfirmation(id=confirmation_id, plan_id=row.id, customer_id=row.customer_id,
                                   idempotency_key=idempotency_key, assessment_id=row.assessment_id,
                                   universe_version=row.universe_version, orders=orders,
                                   created_by_role=str(caller.role), created_by=caller.sub,
                                   created_at=repositories.utcnow(), **act.columns())
    return record_once(session, PLAN_CONFIRMATIONS, record, idempotency_key, response, confirmation_out)

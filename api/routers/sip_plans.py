"""SIP plans (定投): agree a plan within the customer's level, change or stop it, simulate it on real NAV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy.orm import Session

from api import lifecycle_core, lifecycle_store, repositories
from api.auth import act_for_customer, check_customer_access
from api.clock import business_today
from api.deps import AssistedSession, Caller, DbSession, State
from api.errors import ApiError, responses
from api.models import SipPlanRecord
from api.routers.proposals import valid_assessment
from api.schemas.common import UUID_PATTERN, CustomerId, Paged
from api.schemas.lifecycle import SimulationIn, SimulationOut, SipPlanIn, SipPlanOut, SipPlansOut, SipPlanUpdate

router = APIRouter(prefix="/v1", tags=["after the purchase"])

PlanId = Annotated[str, Path(pattern=UUID_PATTERN, description="SIP plan id (UUID)")]


def plan_out(plan: SipPlanRecord, suitability: dict) -> SipPlanOut:
    return SipPlanOut(id=plan.id, customer_id=plan.customer_id, name=plan.name, amount=plan.amount,
                      frequency=plan.frequency, day=plan.day, mode=plan.mode, legs=list(plan.legs),
                      target_return=plan.target_return, on_target=plan.on_target, status=plan.status,
                      start_date=plan.start_date, cycle_start=plan.cycle_start,
                      created_at=repositories.as_utc(plan.created_at), updated_at=repositories.as_utc(plan.updated_at),
                      acting_capacity=plan.acting_capacity, assisted_session_id=plan.assisted_session_id,
                      suitability=suitability)


def suitability_of(state: State, session: Session, plan: SipPlanRecord) -> dict:
    """A stored plan is checked against today's assessment with the nightly hold rule: a plan agreed at C4 is
    flagged (and held) once the customer is re-assessed C3, so no door treats it as still suitable."""
    row = repositories.current_assessment(session, plan.customer_id)
    level, lowest = (None, False) if row is None else (int(row.level), bool(row.lowest_category))
    return lifecycle_core.plan_suitability(state.universe, [leg["code"] for leg in plan.legs], level, lowest,
                                           None if row is None else row.expires_on, business_today())


def _fields(plan: SipPlanRecord) -> dict:
    return {"amount": plan.amount, "frequency": plan.frequency, "day": plan.day, "mode": plan.mode,
            "legs": [{"code": leg["code"], "weight": leg["weight"]} for leg in plan.legs],
            "target_return": plan.target_return, "on_target": plan.on_target, "name": plan.name}


def _level(assessment) -> tuple[int, bool]:
    return int(assessment.level), bool(assessment.lowest_category)


@router.post("/customers/{customer_id}/sip-plans", response_model=SipPlanOut, status_code=status.HTTP_201_CREATED,
             responses=responses(401, 403, 409, 413, 422),
             summary="Agree a SIP plan: minimum SIP per fund, never above the customer's level")
def create_plan(customer_id: CustomerId, body: SipPlanIn, state: State, session: DbSession,
                caller: Caller, assisted_session: AssistedSession = None) -> SipPlanOut:
    # agreeing recurring purchases is the customer's own act (docs/api.md § Compliance)
    act = act_for_customer(session, caller, customer_id, assisted_session, "agree a SIP plan")
    assessment = valid_assessment(session, customer_id)
    level, lowest = _level(assessment)
    legs = ([leg.model_dump() for leg in body.legs] if body.legs else
            lifecycle_core.model_legs(state.universe, level, body.amount, body.horizon_years, lowest))
    fields = {"amount": body.amount, "frequency": body.frequency, "day": body.day, "mode": body.mode, "legs": legs,
              "target_return": body.target_return, "on_target": body.on_target, "name": body.name}
    checked = lifecycle_core.sip_plan(state.universe, fields, level, lowest)
    start = body.start_date or business_today()
    if start < business_today():
        raise ApiError(422, "date_in_past", "body.start_date: a plan cannot start in the past",
                       {"field": "body.start_date"})
    plan = lifecycle_store.add_plan(session, customer_id, {
        "assessment_id": assessment.id, "name": body.name, "amount": body.amount, "frequency": body.frequency,
        "day": body.day, "mode": body.mode, "legs": checked["legs"], "target_return": body.target_return,
        "on_target": body.on_target, "start_date": start, "cycle_start": start, **act.columns()}, caller.sub)
    session.commit()
    return plan_out(plan, suitability_of(state, session, plan))


@router.get("/customers/{customer_id}/sip-plans", response_model=SipPlansOut, responses=responses(401, 403, 422),
            summary="The customer's SIP plans, each checked against the current assessment")
def list_plans(customer_id: CustomerId, state: State, session: DbSession, caller: Caller,
               paged: Paged) -> SipPlansOut:
    check_customer_access(session, caller, customer_id)
    plans = lifecycle_store.plans_of(session, customer_id)
    return SipPlansOut(customer_id=customer_id, page=paged.page(len(plans)),
                       items=[plan_out(p, suitability_of(state, session, p)) for p in paged.cut(plans)])


def _plan(session: Session, customer_id: str, plan_id: str) -> SipPlanRecord:
    plan = lifecycle_store.get_plan(session, customer_id, plan_id)
    if plan is None:
        raise ApiError(404, "plan_not_found", "no such SIP plan for this customer", {"plan_id": plan_id})
    return plan


@router.get("/customers/{customer_id}/sip-plans/{plan_id}", response_model=SipPlanOut,
            responses=responses(401, 403, 404, 422), summary="One SIP plan")
def get_plan(customer_id: CustomerId, plan_id: PlanId, state: State, session: DbSession,
             caller: Caller) -> SipPlanOut:
    check_customer_access(session, caller, customer_id)
    plan = _plan(session, customer_id, plan_id)
    return plan_out(plan, suitability_of(state, session, plan))


@router.patch("/customers/{customer_id}/sip-plans/{plan_id}", response_model=SipPlanOut,
              responses=responses(401, 403, 404, 409, 413, 422),
              summary="Pause, resume or stop a plan, or change its amount or target-profit rule")
def update_plan(customer_id: CustomerId, plan_id: PlanId, body: SipPlanUpdate, state: State, session: DbSession,
                caller: Caller, assisted_session: AssistedSession = None) -> SipPlanOut:
    check_customer_access(session, caller, customer_id)  # pausing or stopping buys nothing
    plan = _plan(session, customer_id, plan_id)
    if plan.status == "stopped":
        raise ApiError(409, "plan_stopped", "a stopped plan cannot be changed; agree a new one", {"plan_id": plan_id})
    changes = body.model_dump(exclude_unset=True)
    resumes = changes.get("status") == "active" and plan.status != "active"
    if resumes or "amount" in changes:  # buying again, or buying other amounts: the rules apply again now
        act = act_for_customer(session, caller, customer_id, assisted_session, "resume or change a SIP plan")
        for key, value in act.columns().items():
            setattr(plan, key, value)
        assessment = valid_assessment(session, customer_id)
        level, lowest = _level(assessment)
        lifecycle_core.sip_plan(state.universe, {**_fields(plan), **{k: v for k, v in changes.items()
                                                                     if k in ("amount", "name")}}, level, lowest)
        plan.assessment_id = assessment.id
    for key, value in changes.items():
        setattr(plan, key, value)
    plan.updated_at = repositories.utcnow()
    session.commit()
    return plan_out(plan, suitability_of(state, session, plan))


@router.post("/customers/{customer_id}/sip-plans/{plan_id}/simulation", response_model=SimulationOut,
             responses=responses(401, 403, 404, 409, 413, 422),
             summary="Run the plan through the walk-forward simulator: returns, XIRR, volatility, maximum drawdown")
def simulate(customer_id: CustomerId, plan_id: PlanId, body: SimulationIn, state: State, session: DbSession,
             caller: Caller) -> SimulationOut:
    """The history of the plan as agreed (information, not a new recommendation), or with `basis` model the
    same plan on the model of the customer's current level, walk-forward; the answer carries the plan's
    suitability against today's assessment."""
    check_customer_access(session, caller, customer_id)
    plan = _plan(session, customer_id, plan_id)
    model = None
    if body.basis == "model":
        level, lowest = _level(valid_assessment(session, customer_id))
        found = repositories.get_customer(session, customer_id)
        horizon = float(found.horizon_years) if found is not None and found.horizon_years else 5.0
        model = (level, horizon, lowest)
    result = lifecycle_core.simulate_sip(state.universe, _fields(plan), body.start, body.end, None, False, model)
    result["suitability"] = suitability_of(state, session, plan)
    return SimulationOut(plan_id=plan_id, result=result)

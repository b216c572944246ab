"""Goals (目标规划) and the liquidity reserve (活钱), each returned with its projection."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy.orm import Session

from api import lifecycle_core, lifecycle_store, repositories
from api.auth import check_customer_access
from api.clock import business_today
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.models import Goal
from api.routers.proposals import valid_assessment
from api.schemas.common import UUID_PATTERN, CustomerId, Paged
from api.schemas.lifecycle import GoalIn, GoalOut, GoalsOut, GoalUpdate
from products.errors import SuitabilityError

router = APIRouter(prefix="/v1", tags=["after the purchase"])

GoalId = Annotated[str, Path(pattern=UUID_PATTERN, description="goal id (UUID)")]
MAX_GOAL_YEARS = 50


def _allowed_level(session: Session, customer_id: str, kind: str) -> int:
    """The highest level a goal may use: the customer's valid assessment (none needed for a cash reserve)."""
    if kind == "reserve":
        return 0
    assessment = valid_assessment(session, customer_id)
    return 1 if assessment.lowest_category else int(assessment.level)


def _check_goal(kind: str, level: str | None, target_date: date, allowed: int) -> int | None:
    today = business_today()
    if target_date <= today:
        raise ApiError(422, "date_not_ahead", "body.target_date: must be after today", {"field": "body.target_date"})
    if target_date > today + timedelta(days=round(MAX_GOAL_YEARS * 365.25)):
        raise ApiError(422, "date_too_far_ahead", f"body.target_date: at most {MAX_GOAL_YEARS} years ahead",
                       {"field": "body.target_date"})
    if kind == "reserve" or level is None:
        return None
    stated = int(level[1])
    if stated > allowed:
        raise SuitabilityError(f"a goal may not be invested above the customer's level C{allowed}",
                               details={"field": "body.level", "allowed": f"C{allowed}", "requested": level})
    return stated


def goal_out(state: State, session: Session, goal: Goal, allowed: int | None) -> GoalOut:
    projection = None
    if goal.status == "active" and (goal.kind == "reserve" or allowed):
        level = 0 if goal.kind == "reserve" else min(goal.level or allowed or 1, allowed or 1)
        months = lifecycle_core.months_until(business_today(), goal.target_date)
        projection = lifecycle_core.goal_projection(
            state.universe, target=goal.target_amount, months=months, initial=goal.current_amount,
            monthly=goal.monthly_contribution, level=level, kind=goal.kind, name=goal.name)
        if goal.last_probability != projection["probability"]:
            goal.last_probability = projection["probability"]
    return GoalOut(id=goal.id, customer_id=goal.customer_id, name=goal.name, kind=goal.kind,
                   level=None if goal.level is None else f"C{goal.level}", target_amount=goal.target_amount,
                   target_date=goal.target_date, current_amount=goal.current_amount,
                   monthly_contribution=goal.monthly_contribution, status=goal.status,
                   created_at=repositories.as_utc(goal.created_at), updated_at=repositories.as_utc(goal.updated_at),
                   projection=projection)


def _current_level(session: Session, customer_id: str) -> int | None:
    row = repositories.current_assessment(session, customer_id)
    if row is None or repositories.is_expired(row):
        return None
    return 1 if row.lowest_category else int(row.level)


@router.post("/customers/{customer_id}/goals", response_model=GoalOut, status_code=status.HTTP_201_CREATED,
             responses=responses(401, 403, 409, 413, 422),
             summary="Set a goal (or the 活钱 reserve) and see its projection and the advice that closes the gap")
def create_goal(customer_id: CustomerId, body: GoalIn, state: State, session: DbSession, caller: Caller) -> GoalOut:
    check_customer_access(session, caller, customer_id)
    allowed = _allowed_level(session, customer_id, body.kind)
    level = _check_goal(body.kind, body.level, body.target_date, allowed)
    goal = lifecycle_store.add_goal(session, customer_id, {
        "name": body.name, "kind": body.kind, "level": level, "target_amount": body.target_amount,
        "target_date": body.target_date, "current_amount": body.current_amount,
        "monthly_contribution": body.monthly_contribution}, caller.sub)
    out = goal_out(state, session, goal, allowed or None)
    session.commit()
    return out


@router.get("/customers/{customer_id}/goals", response_model=GoalsOut, responses=responses(401, 403, 422),
            summary="The customer's goals with their projections (projections need a valid assessment)")
def list_goals(customer_id: CustomerId, state: State, session: DbSession, caller: Caller,
               paged: Paged) -> GoalsOut:
    check_customer_access(session, caller, customer_id)
    allowed = _current_level(session, customer_id)
    goals = lifecycle_store.goals_of(session, customer_id)
    items = [goal_out(state, session, g, allowed) for g in paged.cut(goals)]
    session.commit()
    return GoalsOut(customer_id=customer_id, page=paged.page(len(goals)), items=items)


def _goal(session: Session, customer_id: str, goal_id: str) -> Goal:
    goal = lifecycle_store.get_goal(session, customer_id, goal_id)
    if goal is None:
        raise ApiError(404, "goal_not_found", "no such goal for this customer", {"goal_id": goal_id})
    return goal


@router.get("/customers/{customer_id}/goals/{goal_id}", response_model=GoalOut,
            responses=responses(401, 403, 404, 422), summary="One goal with its projection")
def get_goal(customer_id: CustomerId, goal_id: GoalId, state: State, session: DbSession, caller: Caller) -> GoalOut:
    check_customer_access(session, caller, customer_id)
    out = goal_out(state, session, _goal(session, customer_id, goal_id), _current_level(session, customer_id))
    session.commit()
    return out


@router.patch("/customers/{customer_id}/goals/{goal_id}", response_model=GoalOut,
              responses=responses(401, 403, 404, 409, 413, 422), summary="Change a goal's amounts, date or level")
def update_goal(customer_id: CustomerId, goal_id: GoalId, body: GoalUpdate, state: State, session: DbSession,
                caller: Caller) -> GoalOut:
    check_customer_access(session, caller, customer_id)
    goal = _goal(session, customer_id, goal_id)
    if goal.status != "active":
        raise ApiError(409, "goal_archived", "an archived goal cannot be changed", {"goal_id": goal_id})
    allowed = _allowed_level(session, customer_id, goal.kind)
    changes = body.model_dump(exclude_unset=True)
    level = _check_goal(goal.kind, changes.get("level", None if goal.level is None else f"C{goal.level}"),
                        changes.get("target_date", goal.target_date), allowed)
    for key, value in changes.items():
        if key != "level" and value is not None:
            setattr(goal, key, value)
    if "level" in changes:
        goal.level = level
    goal.updated_at = repositories.utcnow()
    out = goal_out(state, session, goal, allowed or None)
    session.commit()
    return out


@router.delete("/customers/{customer_id}/goals/{goal_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=responses(401, 403, 404, 422), summary="Archive a goal (kept for the record)")
def archive_goal(customer_id: CustomerId, goal_id: GoalId, session: DbSession, caller: Caller) -> None:
    check_customer_access(session, caller, customer_id)
    goal = _goal(session, customer_id, goal_id)
    goal.status = "archived"
    goal.updated_at = repositories.utcnow()
    session.commit()

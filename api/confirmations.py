"""Exactly-once confirmation, shared by every door that turns a stored plan into orders.

Two rules live here and nowhere else:
- **Idempotency.** A confirmation is recorded once per plan and once per (customer, Idempotency-Key); the
  database's unique constraints decide a race. A retry with the same key gets the recorded answer back
  (200, `Idempotent-Replayed: true`); the same key for another plan is 422; another key for a confirmed
  plan is 409.
- **Suitability at confirmation.** Before anything is recorded the customer's *current* assessment is
  re-checked against every fund to be bought at its level today (`risk.suitability.check_at_confirmation`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Header, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import core, repositories
from api.errors import ApiError
from risk.suitability import check_at_confirmation

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=128,
                                       pattern=r"^[A-Za-z0-9_.:\-]+$",
                                       description="client-chosen key; retries with it return the first answer")]

Out = TypeVar("Out")


@dataclass(frozen=True)
class ConfirmationDoor:
    """What differs between confirming a proposal and confirming a rebalancing plan."""

    model: type          # the append-only confirmation table's ORM class
    target_field: str    # its column naming what is confirmed ("proposal_id", "plan_id")
    noun: str            # "proposal", "plan" — for messages and error codes

    def of_target(self, session: Session, target_id: str):
        column = getattr(self.model, self.target_field)
        return session.scalars(select(self.model).where(column == target_id)).first()

    def by_key(self, session: Session, customer_id: str, key: str):
        """The customer's confirmation under this key (keys are scoped per customer)."""
        return session.scalars(select(self.model).where(self.model.customer_id == customer_id,
                                                        self.model.idempotency_key == key)).first()

    def confirmed_ids(self, session: Session, target_ids: Sequence[str]) -> set[str]:
        if not target_ids:
            return set()
        column = getattr(self.model, self.target_field)
        return {r[0] for r in session.execute(select(column).where(column.in_(list(target_ids))))}


def record_fields(row, replayed: bool) -> dict[str, Any]:
    """The fields every confirmation answer carries (`api.schemas.proposals.ConfirmationRecordOut`)."""
    return {"id": row.id, "customer_id": row.customer_id, "idempotency_key": row.idempotency_key,
            "created_at": repositories.as_utc(row.created_at), "created_by": row.created_by,
            "created_by_role": row.created_by_role, "acting_capacity": row.acting_capacity,
            "assisted_session_id": row.assisted_session_id, "replayed": replayed}


def recorded_answer(session: Session, door: ConfirmationDoor, target_id: str, customer_id: str, key: str,
                    response: Response, render: Callable[[Any, bool], Out]) -> Out | None:
    """The answer when this target or this customer's key is already recorded (a retry, or a different key:
    409); None when nothing is recorded yet."""
    existing = door.by_key(session, customer_id, key)
    if existing is None:
        existing = door.of_target(session, target_id)
        if existing is None:
            return None
        if existing.idempotency_key != key:
            raise ApiError(409, f"{door.noun}_already_confirmed",
                           f"this {door.noun} was already confirmed with another Idempotency-Key",
                           {f"{door.noun}_id": target_id, "confirmation_id": existing.id})
    if getattr(existing, door.target_field) != target_id:
        raise ApiError(422, "idempotency_key_reused",
                       f"this Idempotency-Key was already used for another {door.noun}",
                       {"field": "header.Idempotency-Key"})
    response.status_code = status.HTTP_200_OK
    response.headers["Idempotent-Replayed"] = "true"
    return render(existing, True)


def record_once(session: Session, door: ConfirmationDoor, record, key: str, response: Response,
                render: Callable[[Any, bool], Out]) -> Out:
    """Insert the confirmation; when a concurrent request won the race, answer with the one that stands."""
    session.add(record)
    try:
        session.commit()
        return render(record, False)
    except IntegrityError:
        session.rollback()
    target_id = getattr(record, door.target_field)
    answer = recorded_answer(session, door, target_id, record.customer_id, key, response, render)
    if answer is None:
        raise ApiError(409, "conflict", "the confirmation conflicted with a concurrent request; retry",
                       {f"{door.noun}_id": target_id})
    return answer


def recheck_suitability(session: Session, universe, customer_id: str, basis_assessment_id: str | None,
                        codes: list[str], stated_levels: list, today: date) -> None:
    """Refuse (409/403) unless the assessment the plan was made on is still the customer's current, valid
    one and every fund to be bought is within its level as rated today."""
    levels = core.execution_levels(universe, codes, stated_levels)
    current = repositories.current_assessment(session, customer_id)
    check_at_confirmation(basis_assessment_id=basis_assessment_id, current_assessment_id=current and current.id,
                          customer_level=current.level if current else 1,
                          lowest_category=bool(current.lowest_category) if current else True,
                          expires_on=current.expires_on if current else None, product_levels=levels,
                          today=today, codes=codes)

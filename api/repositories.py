"""Reads and appends against the database; routers never build queries themselves.

Audit records are only ever inserted here (the migrations also make the database refuse UPDATE, DELETE,
REPLACE and TRUNCATE on them: `api.audit`). Confirmations rely on the unique constraints on `proposal_id`
and (`customer_id`, `idempotency_key`): the first insert wins, a racing or retried one hits the constraint
and reads the winner.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.clock import business_today, utcnow
from api.models import (
    Customer,
    Holding,
    MismatchAcknowledgement,
    Proposal,
    RebalancePlan,
    RiskAssessment,
    RmAssignment,
)
from risk.validity import is_valid


def new_id() -> str:
    return str(uuid.uuid4())


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- customers, assignments, holdings (reference data) ------------------------------------------

def get_customer(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id)


def ensure_customer(session: Session, customer_id: str) -> Customer:
    """The customer row, created empty on first contact (race-safe)."""
    customer = session.get(Customer, customer_id)
    if customer is not None:
        return customer
    now = utcnow()
    try:
        with session.begin_nested():
            customer = Customer(id=customer_id, cash=0.0, deposits=0.0, wealth_products=0.0, insurance=0.0,
                                created_at=now, updated_at=now)
            session.add(customer)
    except IntegrityError:
        customer = session.get(Customer, customer_id)
        assert customer is not None
    return customer


def upsert_customer(session: Session, customer_id: str, **facts: object) -> Customer:
    customer = ensure_customer(session, customer_id)
    for key, value in facts.items():
        if value is not None:
            setattr(customer, key, value)
    customer.updated_at = utcnow()
    return customer


ACTIVE = RmAssignment.revoked_at.is_(None)


def assign(session: Session, rm_id: str, customer_id: str, by: str | None = None) -> None:
    """Assign the RM to the customer (no-op when already assigned); `by` records who did it."""
    ensure_customer(session, customer_id)
    if not is_assigned(session, rm_id, customer_id):
        session.add(RmAssignment(rm_id=rm_id, customer_id=customer_id, created_at=utcnow(), created_by=by))


def revoke(session: Session, rm_id: str, customer_id: str, by: str) -> bool:
    """End the RM's active assignment (stamped, kept as history); False when there was none."""
    ended = session.execute(update(RmAssignment).where(RmAssignment.rm_id == rm_id,
                                                       RmAssignment.customer_id == customer_id, ACTIVE)
                            .values(revoked_at=utcnow(), revoked_by=by))
    return bool(ended.rowcount)


def is_assigned(db: Session | Connection, rm_id: str, customer_id: str) -> bool:
    """True while the RM holds an active (not revoked) assignment to the customer."""
    row = db.execute(select(RmAssignment.id).where(RmAssignment.rm_id == rm_id,
                                                   RmAssignment.customer_id == customer_id, ACTIVE)).first()
    return row is not None


def assigned_customers(session: Session, rm_id: str) -> list[str]:
    rows = session.execute(select(RmAssignment.customer_id).where(RmAssignment.rm_id == rm_id, ACTIVE)
                           .order_by(RmAssignment.customer_id))
    return [r[0] for r in rows]


def holdings_of(session: Session, customer_ids: Sequence[str]) -> list[Holding]:
    if not customer_ids:
        return []
    return list(session.scalars(select(Holding).where(Holding.customer_id.in_(list(customer_ids)))
                                .order_by(Holding.customer_id, Holding.id)))


def replace_holdings(session: Session, customer_id: str, lots: Sequence[dict]) -> None:
    session.execute(delete(Holding).where(Holding.customer_id == customer_id))
    for lot in lots:
        session.add(Holding(customer_id=customer_id, code=lot["code"], shares=lot.get("shares"),
                            amount=lot.get("amount"), purchase_date=lot["purchase_date"]))


# --- risk assessments (append-only) -------------------------------------------------------------

def add_assessment(session: Session, row: RiskAssessment) -> RiskAssessment:
    session.add(row)
    return row


_LATEST_ASSESSMENT = (select(RiskAssessment).where(RiskAssessment.customer_id == bindparam("customer_id"))
                      .order_by(RiskAssessment.created_at.desc(), RiskAssessment.id.desc()).limit(1))


def latest_assessment(session: Session, customer_id: str) -> RiskAssessment | None:
    return session.scalars(_LATEST_ASSESSMENT, {"customer_id": customer_id}).first()


_CURRENT_ASSESSMENT = (
    select(RiskAssessment.id, RiskAssessment.level, RiskAssessment.lowest_category, RiskAssessment.expires_on,
           RiskAssessment.questionnaire_version, RiskAssessment.facts)
    .where(RiskAssessment.customer_id == bindparam("customer_id"))
    .order_by(RiskAssessment.created_at.desc(), RiskAssessment.id.desc()).limit(1))


def current_assessment(db: Session | Connection, customer_id: str) -> Row | None:
    """The newest assessment's decision fields (one light Core query; no ORM object)."""
    return db.execute(_CURRENT_ASSESSMENT, {"customer_id": customer_id}).first()


IN_CHUNK = 2_000  # ids per IN (...) list: well under SQLite's bound-parameter limit


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    ids = list(ids)
    return [ids[i:i + IN_CHUNK] for i in range(0, len(ids), IN_CHUNK)]


_LATEST_DECISIONS = (
    select(RiskAssessment.customer_id, RiskAssessment.id, RiskAssessment.level, RiskAssessment.lowest_category,
           RiskAssessment.expires_on, RiskAssessment.facts,
           func.row_number().over(partition_by=RiskAssessment.customer_id,
                                  order_by=(RiskAssessment.created_at.desc(), RiskAssessment.id.desc()))
           .label("rank"))
    .where(RiskAssessment.customer_id.in_(bindparam("ids", expanding=True))).subquery())


def latest_assessments(session: Session, customer_ids: Sequence[str]) -> dict[str, Row]:
    """The newest assessment of each customer — its decision fields (id, level, lowest_category, expires_on,
    facts), the same row `latest_assessment` picks — in one light Core query per 2,000 customers."""
    q = _LATEST_DECISIONS.c
    stmt = select(q.customer_id, q.id, q.level, q.lowest_category, q.expires_on, q.facts).where(q.rank == 1)
    return {row.customer_id: row for chunk in _chunks(customer_ids)
            for row in session.execute(stmt, {"ids": chunk})}


def customers_by_id(session: Session, customer_ids: Sequence[str]) -> dict[str, Row]:
    """The stored facts of many customers (Core rows with the `Customer` columns), one query per 2,000."""
    cols = [c for c in Customer.__table__.c if c.name not in ("created_at", "updated_at")]
    return {row.id: row for chunk in _chunks(customer_ids)
            for row in session.execute(select(*cols).where(Customer.id.in_(chunk)))}


def lots_by_customer(session: Session, customer_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Every lot of many customers as light Core rows (code, shares, amount, purchase_date), by customer,
    in the order `holdings_of` gives."""
    out: dict[str, list[Row]] = {}
    stmt = select(Holding.customer_id, Holding.code, Holding.shares, Holding.amount, Holding.purchase_date)
    for chunk in _chunks(customer_ids):
        for row in session.execute(stmt.where(Holding.customer_id.in_(chunk))
                                   .order_by(Holding.customer_id, Holding.id)):
            out.setdefault(row.customer_id, []).append(row)
    return out


def assessments_of(session: Session, customer_id: str) -> list[RiskAssessment]:
    """Every assessment of the customer, newest first (the risk-profile history)."""
    return list(session.scalars(select(RiskAssessment).where(RiskAssessment.customer_id == customer_id)
                                .order_by(RiskAssessment.created_at.desc(), RiskAssessment.id.desc())))


def is_expired(assessment: RiskAssessment | Row, today: date | None = None) -> bool:
    """The core's validity rule (`risk.validity`): valid strictly before `expires_on`, on the business date."""
    return not is_valid(assessment.expires_on, today or business_today())


# --- proposals and confirmations (append-only) --------------------------------------------------

_INSERT_PROPOSAL = insert(Proposal.__table__)


def add_proposal(db: Session | Connection, values: dict) -> None:
    """Append one proposal with a single INSERT (no unit-of-work bookkeeping: this is the hot path)."""
    (db.connection() if isinstance(db, Session) else db).execute(_INSERT_PROPOSAL, values)


def get_proposal(session: Session, proposal_id: str) -> Proposal | None:
    return session.get(Proposal, proposal_id)


# --- rebalancing plans and their confirmations (append-only) -----------------------------------

def latest_plan_version(session: Session, customer_id: str) -> int:
    """The newest plan version of the customer (0 when none)."""
    value = session.execute(select(func.max(RebalancePlan.version)).where(
        RebalancePlan.customer_id == customer_id)).scalar()
    return int(value or 0)


def add_plan(session: Session, values: dict, attempts: int = 5) -> RebalancePlan:
    """Append the customer's next plan version; a racing request that took the number makes this one
    take the next (the database's unique (customer, version) decides)."""
    for _ in range(attempts):
        row = RebalancePlan(**values, version=latest_plan_version(session, values["customer_id"]) + 1)
        session.add(row)
        try:
            session.commit()
            return row
        except IntegrityError:
            session.rollback()
    raise IntegrityError("could not allocate a plan version", params=None, orig=Exception("busy"))


def get_plan(session: Session, plan_id: str) -> RebalancePlan | None:
    return session.get(RebalancePlan, plan_id)


def plans_of(session: Session, customer_id: str, limit: int = 50) -> list[RebalancePlan]:
    return list(session.scalars(select(RebalancePlan).where(RebalancePlan.customer_id == customer_id)
                                .order_by(RebalancePlan.version.desc()).limit(limit)))


# --- mismatch acknowledgements (append-only) ----------------------------------------------------

def add_acknowledgement(session: Session, row: MismatchAcknowledgement) -> MismatchAcknowledgement:
    session.add(row)
    return row


def rms_of(session: Session, customer_id: str) -> list[str]:
    rows = session.execute(select(RmAssignment.rm_id).where(RmAssignment.customer_id == customer_id, ACTIVE)
                           .order_by(RmAssignment.rm_id))
    return [r[0] for r in rows]

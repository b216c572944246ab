"""Storage models (SQLAlchemy 2). Kept apart from the API schemas in `api/schemas/`.

Audit records — risk assessments, proposals, confirmations (orders), rebalancing plans and their
confirmations, and mismatch acknowledgements — are append-only: the service has no update or delete path
for them, and each row carries who created it, when, and the questionnaire / universe / model versions that
produced it. Customers, relationship-manager
assignments and held positions are reference data that the bank's systems keep current.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = 64  # length of ids and subjects


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Actor:
    """Who created an audit row (role and token subject) and when (UTC)."""

    created_by_role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OnBehalf:
    """In what capacity an act that binds the customer (an assessment, a confirmation, an acknowledged
    mismatch) was performed: `self` (the customer), `rm_in_person` (an assigned relationship manager in a
    recorded in-person session, whose reference is `assisted_session_id`), `imported` (written by the bank's
    systems, not through the API) — `api.auth.act_for_customer` decides, docs/api.md § Compliance says why."""

    acting_capacity: Mapped[str] = mapped_column(String(16), server_default="unrecorded")
    assisted_session_id: Mapped[str | None] = mapped_column(String(ID))


class Customer(Base):
    """A customer's profile facts used by the health check and rebalancing."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    age: Mapped[int | None] = mapped_column(Integer)
    horizon_years: Mapped[float | None] = mapped_column(Float)
    monthly_expenses: Mapped[float | None] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float, default=0.0)
    deposits: Mapped[float] = mapped_column(Float, default=0.0)
    wealth_products: Mapped[float] = mapped_column(Float, default=0.0)
    insurance: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


ACTIVE_ASSIGNMENT = text("revoked_at IS NULL")


class RmAssignment(Base):
    """Which relationship manager looks after which customer (the RM authorization source).

    An assignment is revoked by stamping `revoked_at` / `revoked_by`, never deleted, so who could see a
    customer on which day stays answerable; at most one active assignment per RM and customer."""

    __tablename__ = "rm_assignments"
    __table_args__ = (Index("uq_rm_assignments_active", "rm_id", "customer_id", unique=True,
                            sqlite_where=ACTIVE_ASSIGNMENT, postgresql_where=ACTIVE_ASSIGNMENT),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rm_id: Mapped[str] = mapped_column(String(ID), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(ID))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(ID))


class Holding(Base):
    """One lot a customer holds (as of the bank's latest position feed)."""

    __tablename__ = "holdings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    shares: Mapped[float | None] = mapped_column(Float)
    amount: Mapped[float | None] = mapped_column(Float)
    purchase_date: Mapped[date] = mapped_column(Date)


class RiskAssessment(Actor, OnBehalf, Base):
    """An answered questionnaire and its result (append-only)."""

    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_customer_time", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    level: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    lowest_category: Mapped[bool] = mapped_column(Boolean)
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_on: Mapped[date] = mapped_column(Date)
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict] = mapped_column(JSON)
    facts: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict] = mapped_column(JSON)


class Proposal(Actor, Base):
    """A one-click portfolio proposal as shown to the customer (append-only)."""

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_customer_time", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    assessment_id: Mapped[str] = mapped_column(ForeignKey("risk_assessments.id"))
    level: Mapped[int] = mapped_column(Integer)
    amount: Mapped[float] = mapped_column(Float)
    horizon_years: Mapped[float] = mapped_column(Float)
    target_return: Mapped[float | None] = mapped_column(Float)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    universe_version: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(32))
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict] = mapped_column(JSON)


class Confirmation(Actor, OnBehalf, Base):
    """A confirmed proposal and the order instructions sent to trading — recorded exactly once.

    `proposal_id` is unique (a proposal becomes orders once) and so is `idempotency_key` per customer (a retried
    request finds the first answer); both are enforced by the database, so racing retries are safe.
    """

    __tablename__ = "confirmations"
    __table_args__ = (
        UniqueConstraint("proposal_id", name="uq_confirmations_proposal_id"),
        UniqueConstraint("customer_id", "idempotency_key", name="uq_confirmations_customer_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    universe_version: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[str] = mapped_column(String(32))
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    orders: Mapped[list] = mapped_column(JSON)


class RebalancePlan(Actor, Base):
    """A rebalancing plan (调仓方案) as shown to the customer (append-only, versioned per customer).

    `version` counts the customer's plans (1, 2, …; unique per customer, enforced by the database); only the
    newest version may be confirmed, before `expires_at`, while `assessment_id` is still the customer's
    current assessment.
    """

    __tablename__ = "rebalance_plans"
    __table_args__ = (UniqueConstraint("customer_id", "version", name="uq_rebalance_plans_customer_version"),
                      Index("ix_rebalance_plans_customer_time", "customer_id", "created_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    version: Mapped[int] = mapped_column(Integer)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("risk_assessments.id"))
    level: Mapped[int] = mapped_column(Integer)
    lowest_category: Mapped[bool] = mapped_column(Boolean)
    plan_status: Mapped[str] = mapped_column(String(24))
    cash_flow: Mapped[float] = mapped_column(Float)
    holdings_source: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    universe_version: Mapped[str] = mapped_column(String(32))
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict] = mapped_column(JSON)


class RebalanceConfirmation(Actor, OnBehalf, Base):
    """A confirmed rebalancing plan and its order instructions — recorded exactly once.

    `plan_id` is unique (a plan becomes orders once); the `Idempotency-Key` is unique per customer (a retry
    finds the first answer). Both are enforced by the database, so racing retries are safe.
    """

    __tablename__ = "rebalance_confirmations"
    __table_args__ = (
        UniqueConstraint("plan_id", name="uq_rebalance_confirmations_plan_id"),
        UniqueConstraint("customer_id", "idempotency_key", name="uq_rebalance_confirmations_customer_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("rebalance_plans.id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    assessment_id: Mapped[str] = mapped_column(String(36))
    universe_version: Mapped[str] = mapped_column(String(32))
    orders: Mapped[list] = mapped_column(JSON)


class MismatchAcknowledgement(Actor, OnBehalf, Base):
    """A customer's recorded insistence on a product above their level, with the warning shown."""

    __tablename__ = "mismatch_acknowledgements"
    __table_args__ = (Index("ix_mismatch_customer_time", "customer_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    assessment_id: Mapped[str] = mapped_column(ForeignKey("risk_assessments.id"))
    product_code: Mapped[str] = mapped_column(String(32))
    product_kind: Mapped[str] = mapped_column(String(16))
    customer_level: Mapped[int] = mapped_column(Integer)
    product_level: Mapped[int] = mapped_column(Integer)
    warning_version: Mapped[str] = mapped_column(String(32))
    warning_zh: Mapped[str] = mapped_column(Text)
    warning_en: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    questionnaire_version: Mapped[str] = mapped_column(String(32))
    universe_version: Mapped[str] = mapped_column(String(32))


# --- after the purchase (advisor.lifecycle) -------------------------------------------------------

class LedgerTransaction(Actor, Base):
    """One confirmed transaction from the bank's transfer-agent feed (append-only; `txn_id` unique per
    customer, so a re-sent feed is recorded once)."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (UniqueConstraint("customer_id", "txn_id", name="uq_ledger_transactions_customer_txn"),
                      Index("ix_ledger_transactions_customer_date", "customer_id", "date"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    txn_id: Mapped[str] = mapped_column(String(ID))
    date: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[float | None] = mapped_column(Float)
    shares: Mapped[float | None] = mapped_column(Float)
    fee: Mapped[float] = mapped_column(Float, default=0.0)
    nav: Mapped[float | None] = mapped_column(Float)
    plan_id: Mapped[str | None] = mapped_column(String(ID))


class Goal(Base):
    """A customer's goal (目标) or liquidity reserve (活钱); the customer keeps it current."""

    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_customer", "customer_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[int | None] = mapped_column(Integer)
    target_amount: Mapped[float] = mapped_column(Float)
    target_date: Mapped[date] = mapped_column(Date)
    current_amount: Mapped[float] = mapped_column(Float, default=0.0)
    monthly_contribution: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    last_probability: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SipPlanRecord(OnBehalf, Base):
    """A SIP plan (定投计划) as agreed with the customer; debits are made by the bank's payment system."""

    __tablename__ = "sip_plans"
    __table_args__ = (Index("ix_sip_plans_customer", "customer_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    assessment_id: Mapped[str | None] = mapped_column(ForeignKey("risk_assessments.id"))
    name: Mapped[str] = mapped_column(String(64), default="")
    amount: Mapped[float] = mapped_column(Float)
    frequency: Mapped[str] = mapped_column(String(16))
    day: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    legs: Mapped[list] = mapped_column(JSON)
    target_return: Mapped[float | None] = mapped_column(Float)
    on_target: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    start_date: Mapped[date] = mapped_column(Date)
    cycle_start: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Alert(Base):
    """A 陪伴 message pushed to a customer (the outbox as the app reads it); one per (customer, dedupe key)."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("customer_id", "dedupe_key", name="uq_alerts_customer_dedupe_key"),
                      Index("ix_alerts_customer_time", "customer_id", "as_of"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(160))
    as_of: Mapped[date] = mapped_column(Date)
    title_zh: Mapped[str] = mapped_column(Text)
    text_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertPreference(Base):
    """A customer's opt-out of one kind of alert."""

    __tablename__ = "alert_preferences"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RmTask(Base):
    """A task in a relationship manager's worklist, raised by a critical alert (once per dedupe key)."""

    __tablename__ = "rm_tasks"
    __table_args__ = (UniqueConstraint("customer_id", "dedupe_key", name="uq_rm_tasks_customer_dedupe_key"),
                      Index("ix_rm_tasks_rm_status", "rm_id", "status"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rm_id: Mapped[str | None] = mapped_column(String(ID))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(160))
    as_of: Mapped[date] = mapped_column(Date)
    title_zh: Mapped[str] = mapped_column(Text)
    text_zh: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(ID))

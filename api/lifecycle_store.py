"""Reads and writes of the after-purchase records: ledger, goals, SIP plans, alerts, opt-outs, RM tasks.

The ledger is append-only (the migration makes the database refuse UPDATE and DELETE); a transaction's
`txn_id` is unique per customer, so a re-sent feed is recorded once. Alerts and RM tasks are unique per
(customer, dedupe key): importing the same outbox twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import Alert, AlertPreference, Goal, LedgerTransaction, RmTask, SipPlanRecord
from api.repositories import ensure_customer, utcnow

LEDGER_FIELDS = ("txn_id", "date", "code", "kind", "amount", "shares", "fee", "nav", "plan_id")


def new_id() -> str:
    return str(uuid.uuid4())


# --- ledger ---------------------------------------------------------------------------------------

def existing_txn_ids(session: Session, customer_id: str, txn_ids: Sequence[str]) -> set[str]:
    if not txn_ids:
        return set()
    rows = session.execute(select(LedgerTransaction.txn_id).where(LedgerTransaction.customer_id == customer_id,
                                                                  LedgerTransaction.txn_id.in_(list(txn_ids))))
    return {r[0] for r in rows}


def add_transactions(session: Session, customer_id: str, rows: Sequence[dict[str, Any]], role: str, sub: str) -> int:
    """Append rows (already validated, none of them recorded before); returns how many were written."""
    if not rows:
        return 0
    ensure_customer(session, customer_id)
    now = utcnow()
    values = [{**{k: row.get(k) for k in LEDGER_FIELDS}, "fee": row.get("fee") or 0.0, "customer_id": customer_id,
               "created_by_role": role, "created_by": sub, "created_at": now} for row in rows]
    session.execute(insert(LedgerTransaction), values)
    return len(values)


def transactions_of(session: Session, customer_id: str, limit: int | None = None,
                    offset: int = 0) -> tuple[int, list[LedgerTransaction]]:
    """(total, rows newest first) of one customer's ledger."""
    total = session.scalar(select(func.count()).select_from(LedgerTransaction)
                           .where(LedgerTransaction.customer_id == customer_id)) or 0
    query = (select(LedgerTransaction).where(LedgerTransaction.customer_id == customer_id)
             .order_by(LedgerTransaction.date.desc(), LedgerTransaction.id.desc()).offset(offset))
    if limit is not None:
        query = query.limit(limit)
    return int(total), list(session.scalars(query))


def ledger_frame(session: Session, customer_id: str) -> pd.DataFrame | None:
    """The customer's ledger in the batch format of `advisor.lifecycle.ledger` (None when there is none)."""
    rows = list(session.scalars(select(LedgerTransaction).where(LedgerTransaction.customer_id == customer_id)
                                .order_by(LedgerTransaction.date, LedgerTransaction.id)))
    if not rows:
        return None
    return pd.DataFrame({"customer_id": customer_id, **{k: [getattr(r, k) for r in rows] for k in LEDGER_FIELDS}})


# --- goals ------------------------------------------------------------------------------------------

def goals_of(session: Session, customer_id: str, include_archived: bool = False) -> list[Goal]:
    query = select(Goal).where(Goal.customer_id == customer_id)
    if not include_archived:
        query = query.where(Goal.status == "active")
    return list(session.scalars(query.order_by(Goal.created_at, Goal.id)))


def get_goal(session: Session, customer_id: str, goal_id: str) -> Goal | None:
    goal = session.get(Goal, goal_id)
    return goal if goal is not None and goal.customer_id == customer_id else None


def add_goal(session: Session, customer_id: str, fields: dict[str, Any], sub: str) -> Goal:
    ensure_customer(session, customer_id)
    now = utcnow()
    goal = Goal(id=new_id(), customer_id=customer_id, status="active", created_by=sub, created_at=now,
                updated_at=now, **fields)
    session.add(goal)
    return goal


# --- SIP plans --------------------------------------------------------------------------------------

def plans_of(session: Session, customer_id: str) -> list[SipPlanRecord]:
    return list(session.scalars(select(SipPlanRecord).where(SipPlanRecord.customer_id == customer_id)
                                .order_by(SipPlanRecord.created_at, SipPlanRecord.id)))


def get_plan(session: Session, customer_id: str, plan_id: str) -> SipPlanRecord | None:
    plan = session.get(SipPlanRecord, plan_id)
    return plan if plan is not None and plan.customer_id == customer_id else None


def add_plan(session: Session, customer_id: str, fields: dict[str, Any], sub: str) -> SipPlanRecord:
    ensure_customer(session, customer_id)
    now = utcnow()
    plan = SipPlanRecord(id=new_id(), customer_id=customer_id, status="active", created_by=sub, created_at=now,
                         updated_at=now, **fields)
    session.add(plan)
    return plan


# --- alerts, opt-outs, RM tasks ---------------------------------------------------------------------

def alerts_of(session: Session, customer_id: str, limit: int, offset: int,
              unread_only: bool = False) -> tuple[int, list[Alert]]:
    where = [Alert.customer_id == customer_id]
    if unread_only:
        where.append(Alert.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Alert).where(*where)) or 0
    rows = session.scalars(select(Alert).where(*where).order_by(Alert.as_of.desc(), Alert.created_at.desc(),
                                                                Alert.id).limit(limit).offset(offset))
    return int(total), list(rows)


def mark_read(session: Session, customer_id: str, alert_id: str) -> Alert | None:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.customer_id != customer_id:
        return None
    if alert.read_at is None:
        alert.read_at = utcnow()
    return alert


def history_frame(session: Session, customer_id: str) -> pd.DataFrame:
    """What was pushed and tasked for this customer (the policy's dedupe and cap history)."""
    pushed = session.execute(select(Alert.customer_id, Alert.kind, Alert.dedupe_key, Alert.as_of)
                             .where(Alert.customer_id == customer_id)).all()
    tasked = session.execute(select(RmTask.customer_id, RmTask.kind, RmTask.dedupe_key, RmTask.as_of)
                             .where(RmTask.customer_id == customer_id)).all()
    rows = [(*r, "customer") for r in pushed] + [(*r, "rm_task") for r in tasked]
    frame = pd.DataFrame(rows, columns=["customer_id", "kind", "dedupe_key", "as_of", "channel"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    return frame


def opted_out_kinds(session: Session, customer_id: str) -> list[str]:
    rows = session.execute(select(AlertPreference.kind).where(AlertPreference.customer_id == customer_id,
                                                              AlertPreference.opted_out.is_(True)))
    return sorted(r[0] for r in rows)


def set_opt_outs(session: Session, customer_id: str, kinds: Iterable[str], all_kinds: Iterable[str]) -> None:
    """Opt out of exactly `kinds` (every other kind opted back in)."""
    ensure_customer(session, customer_id)
    wanted = set(kinds)
    now = utcnow()
    for kind in all_kinds:
        row = session.get(AlertPreference, (customer_id, kind))
        if row is None:
            if kind in wanted:
                session.add(AlertPreference(customer_id=customer_id, kind=kind, opted_out=True, updated_at=now))
        elif row.opted_out != (kind in wanted):
            row.opted_out = kind in wanted
            row.updated_at = now


def _message_values(row: dict[str, Any]) -> dict[str, Any]:
    details = row.get("details")
    if isinstance(details, str):
        import json

        details = json.loads(details) if details else {}
    return {"kind": row["kind"], "severity": row["severity"], "dedupe_key": row["dedupe_key"],
            "as_of": pd.Timestamp(row["as_of"]).date(),
            "title_zh": row["title_zh"], "text_zh": row["text_zh"], "title_en": row["title_en"],
            "text_en": row["text_en"], "details": details or {}}


def store_alerts(session: Session, alerts: Iterable[dict[str, Any]], tasks: Iterable[dict[str, Any]]
                 ) -> tuple[int, int]:
    """Insert outbox alerts and RM tasks, skipping any (customer, dedupe key) already stored."""
    now = utcnow()
    added = [0, 0]
    for k, (model, rows) in enumerate(((Alert, alerts), (RmTask, tasks))):
        for row in rows:
            customer_id = str(row["customer_id"])
            exists = session.execute(select(model.id).where(model.customer_id == customer_id,
                                                            model.dedupe_key == row["dedupe_key"])).first()
            if exists is not None:
                continue
            ensure_customer(session, customer_id)
            values = {"id": str(row.get("alert_id") or new_id()), "customer_id": customer_id, "created_at": now,
                      **_message_values(row)}
            if model is RmTask:
                values.update(id=new_id(), rm_id=row.get("rm_id"), status="open")
            try:
                with session.begin_nested():
                    session.add(model(**values))
            except IntegrityError:  # a concurrent import stored it first
                continue
            added[k] += 1
    return added[0], added[1]


def import_outbox(engine: Engine, folder: str | Path) -> dict[str, int]:
    """Load one night's outbox partition (`alerts.parquet`, `rm_tasks.parquet`) into the database."""
    from sqlalchemy.orm import sessionmaker

    folder = Path(folder)
    frames = {}
    for name in ("alerts", "rm_tasks"):
        path = folder / f"{name}.parquet"
        frames[name] = pd.read_parquet(path).to_dict(orient="records") if path.exists() else []
    with sessionmaker(engine)() as session:
        alerts, tasks = store_alerts(session, frames["alerts"], frames["rm_tasks"])
        session.commit()
    return {"alerts": alerts, "rm_tasks": tasks, "alerts_in_file": len(frames["alerts"]),
            "rm_tasks_in_file": len(frames["rm_tasks"])}


def open_tasks_of_customer(session: Session, customer_id: str, limit: int = 20) -> list[RmTask]:
    """A customer's open RM tasks, critical first, newest first (what the RM's client review lists)."""
    severity_rank = func.coalesce(func.nullif(RmTask.severity, "critical"), "z")
    return list(session.scalars(select(RmTask).where(RmTask.customer_id == customer_id, RmTask.status == "open")
                                .order_by(severity_rank, RmTask.as_of.desc(), RmTask.id).limit(limit)))


def tasks_of(session: Session, rm_id: str, status: str | None, limit: int, offset: int) -> tuple[int, list[RmTask]]:
    where = [RmTask.rm_id == rm_id]
    if status is not None:
        where.append(RmTask.status == status)
    total = session.scalar(select(func.count()).select_from(RmTask).where(*where)) or 0
    severity_rank = func.coalesce(func.nullif(RmTask.severity, "critical"), "z")  # critical first
    rows = session.scalars(select(RmTask).where(*where).order_by(RmTask.status, severity_rank, RmTask.as_of.desc(),
                                                                 RmTask.id).limit(limit).offset(offset))
    return int(total), list(rows)


def open_task_counts(session: Session, customer_ids: Sequence[str]) -> dict[str, int]:
    if not customer_ids:
        return {}
    rows = session.execute(select(RmTask.customer_id, func.count()).where(RmTask.customer_id.in_(list(customer_ids)),
                                                                          RmTask.status == "open")
                           .group_by(RmTask.customer_id))
    return {r[0]: int(r[1]) for r in rows}


def get_task(session: Session, task_id: str) -> RmTask | None:
    return session.get(RmTask, task_id)


def finish_task(session: Session, task: RmTask, sub: str) -> RmTask:
    if task.status != "done":
        session.execute(update(RmTask).where(RmTask.id == task.id).values(status="done", done_at=utcnow(), done_by=sub))
        session.refresh(task)
    return task

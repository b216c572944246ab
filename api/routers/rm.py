"""The relationship manager's worklist and tasks: assigned clients with their flags, most urgent first.

Two doors to each, one rule (`api.worklist`, `api.lifecycle_store`): `GET /v1/rm/clients` and
`GET /v1/rm/tasks` are the calling RM's own; `GET /v1/rms/{rm_id}/clients` and `…/tasks` name the RM in the
path (ops, or that RM) — so every parameter the spec publishes is required exactly when the service needs it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api import lifecycle_store, repositories
from api.auth import Principal, Role, forbidden, require_role
from api.clock import business_today
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.schemas.common import UUID_PATTERN, Paged, RmId
from api.schemas.lifecycle import RmTaskOut, RmTasksOut
from api.schemas.portfolio import RmClientsOut
from api.worklist import worklist

router = APIRouter(prefix="/v1", tags=["relationship managers"])

TaskStatus = Annotated[Literal["open", "done"] | None, Query(alias="status")]


@router.get("/rm/clients", response_model=RmClientsOut, responses=responses(401, 403, 422),
            summary="The calling RM's assigned clients with flags (expired assessment, mismatch, drift, drawdown …)")
def my_clients(state: State, session: DbSession, caller: Caller, paged: Paged) -> RmClientsOut:
    require_role(caller, Role.RM)
    return clients_of(state, session, caller.sub, paged)


@router.get("/rms/{rm_id}/clients", response_model=RmClientsOut, responses=responses(401, 403, 422),
            summary="An RM's assigned clients with flags (ops, or that RM)")
def rm_clients(rm_id: RmId, state: State, session: DbSession, caller: Caller, paged: Paged) -> RmClientsOut:
    check_rm_access(caller, rm_id)
    return clients_of(state, session, rm_id, paged)


@router.get("/rm/tasks", response_model=RmTasksOut, responses=responses(401, 403, 422),
            summary="The calling RM's tasks raised by critical 陪伴 alerts (open first, most severe first)")
def my_tasks(session: DbSession, caller: Caller, paged: Paged, task_status: TaskStatus = "open") -> RmTasksOut:
    require_role(caller, Role.RM)
    return tasks_of(session, caller.sub, task_status, paged)


@router.get("/rms/{rm_id}/tasks", response_model=RmTasksOut, responses=responses(401, 403, 422),
            summary="An RM's tasks raised by critical 陪伴 alerts (ops, or that RM)")
def rm_tasks(rm_id: RmId, session: DbSession, caller: Caller, paged: Paged,
             task_status: TaskStatus = "open") -> RmTasksOut:
    check_rm_access(caller, rm_id)
    return tasks_of(session, rm_id, task_status, paged)


@router.post("/rm/tasks/{task_id}/done", response_model=RmTaskOut, responses=responses(401, 403, 404, 422),
             summary="Mark a task done")
def finish_task(task_id: Annotated[str, Path(pattern=UUID_PATTERN)], session: DbSession, caller: Caller) -> RmTaskOut:
    require_role(caller, Role.RM, Role.OPS)
    task = lifecycle_store.get_task(session, task_id)
    if task is None:
        raise ApiError(404, "task_not_found", "no such task", {"task_id": task_id})
    if caller.role is Role.RM and task.rm_id != caller.sub:
        raise ApiError(403, "forbidden", "the task is in another relationship manager's worklist",
                       {"task_id": task_id})
    task = lifecycle_store.finish_task(session, task, caller.sub)
    session.commit()
    return task_out(task)


def check_rm_access(caller: Principal, rm_id: str) -> None:
    require_role(caller, Role.RM, Role.OPS)
    if caller.role is Role.RM and rm_id != caller.sub:
        raise forbidden("a relationship manager sees only their own clients and tasks", rm_id=rm_id)


def clients_of(state, session, rm_id: str, paged: Paged) -> RmClientsOut:
    today = business_today()
    items = worklist(state, session, rm_id, today)
    return RmClientsOut(rm_id=rm_id, as_of=today, page=paged.page(len(items)), items=paged.cut(items))


def tasks_of(session, rm_id: str, task_status: str | None, paged: Paged) -> RmTasksOut:
    total, rows = lifecycle_store.tasks_of(session, rm_id, task_status, paged.limit, paged.offset)
    return RmTasksOut(rm_id=rm_id, page=paged.page(total), items=[task_out(t) for t in rows])


def task_out(t) -> RmTaskOut:
    return RmTaskOut(id=t.id, rm_id=t.rm_id, customer_id=t.customer_id, kind=t.kind, severity=t.severity,
                     as_of=t.as_of, title_zh=t.title_zh, text_zh=t.text_zh, title_en=t.title_en, text_en=t.text_en,
                     details=dict(t.details or {}), status=t.status, created_at=repositories.as_utc(t.created_at),
                     done_at=None if t.done_at is None else repositories.as_utc(t.done_at), done_by=t.done_by)

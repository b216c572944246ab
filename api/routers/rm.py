"""The relationship manager's worklist: assigned clients with their flags, most urgent first."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api import lifecycle_store, repositories
from api.auth import Role, require_role
from api.clock import business_today
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.schemas.common import ID_PATTERN, UUID_PATTERN, Paged
from api.schemas.lifecycle import RmTaskOut, RmTasksOut
from api.schemas.portfolio import RmClientsOut
from api.worklist import worklist

router = APIRouter(prefix="/v1", tags=["relationship managers"])


@router.get("/rm/clients", response_model=RmClientsOut, responses=responses(401, 403, 422),
            summary="Assigned clients with flags (expired assessment, mismatch, drift, drawdown ...)")
def rm_clients(state: State, session: DbSession, caller: Caller, paged: Paged,
               rm_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="ops only: whose clients")]
               = None) -> RmClientsOut:
    require_role(caller, Role.RM, Role.OPS)
    if caller.role is Role.RM:
        if rm_id is not None and rm_id != caller.sub:
            raise ApiError(403, "forbidden", "a relationship manager sees only their own clients",
                           {"field": "query.rm_id"})
        rm_id = caller.sub
    elif rm_id is None:
        raise ApiError(422, "validation_error", "query.rm_id: required for ops", {"field": "query.rm_id"})
    today = business_today()
    items = worklist(state, session, rm_id, today)
    return RmClientsOut(rm_id=rm_id, as_of=today, page=paged.page(len(items)), items=paged.cut(items))


@router.get("/rm/tasks", response_model=RmTasksOut, responses=responses(401, 403, 422),
            summary="Tasks raised by critical 陪伴 alerts (open first, most severe first)")
def rm_tasks(session: DbSession, caller: Caller, paged: Paged,
             rm_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="ops only: whose tasks")] = None,
             task_status: Annotated[Literal["open", "done"] | None, Query(alias="status")] = "open",
             ) -> RmTasksOut:
    require_role(caller, Role.RM, Role.OPS)
    rm_id = _whose(caller, rm_id)
    total, rows = lifecycle_store.tasks_of(session, rm_id, task_status, paged.limit, paged.offset)
    return RmTasksOut(rm_id=rm_id, page=paged.page(total),
                      items=[task_out(t) for t in rows])


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


def _whose(caller, rm_id: str | None) -> str:
    if caller.role is Role.RM:
        if rm_id is not None and rm_id != caller.sub:
            raise ApiError(403, "forbidden", "a relationship manager sees only their own tasks",
                           {"field": "query.rm_id"})
        return caller.sub
    if rm_id is None:
        raise ApiError(422, "validation_error", "query.rm_id: required for ops", {"field": "query.rm_id"})
    return rm_id


def task_out(t) -> RmTaskOut:
    return RmTaskOut(id=t.id, rm_id=t.rm_id, customer_id=t.customer_id, kind=t.kind, severity=t.severity,
                     as_of=t.as_of, title_zh=t.title_zh, text_zh=t.text_zh, title_en=t.title_en, text_en=t.text_en,
                     details=dict(t.details or {}), status=t.status, created_at=repositories.as_utc(t.created_at),
                     done_at=None if t.done_at is None else repositories.as_utc(t.done_at), done_by=t.done_by)

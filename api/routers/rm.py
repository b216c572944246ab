"""The relationship manager's worklist: assigned clients with their flags, most urgent first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Role, require_role
from api.clock import business_today
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.schemas.common import ID_PATTERN, Paged
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

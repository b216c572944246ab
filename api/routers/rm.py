"""The relationship manager's worklist: assigned clients with their flags, most urgent first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import core, repositories
from api.auth import Role, require_role
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.portfolio_input import customer_row, customers_frame, holding_rows, holdings_frame
from api.schemas.common import ID_PATTERN
from api.schemas.portfolio import RmClient, RmClientsOut

router = APIRouter(prefix="/v1", tags=["relationship managers"])


@router.get("/rm/clients", response_model=RmClientsOut, responses=responses(401, 403, 422),
            summary="Assigned clients with flags (expired assessment, mismatch, drift, drawdown ...)")
def rm_clients(state: State, session: DbSession, caller: Caller,
               rm_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="ops only: whose clients")]
               = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> RmClientsOut:
    require_role(caller, Role.RM, Role.OPS)
    if caller.role is Role.RM:
        if rm_id is not None and rm_id != caller.sub:
            raise ApiError(403, "forbidden", "a relationship manager sees only their own clients",
                           {"field": "query.rm_id"})
        rm_id = caller.sub
    elif rm_id is None:
        raise ApiError(422, "validation_error", "query.rm_id: required for ops", {"field": "query.rm_id"})
    ids = repositories.assigned_customers(session, rm_id)
    assessments = repositories.latest_assessments(session, ids)
    today = repositories.utcnow().date()
    items: list[RmClient] = [
        RmClient(customer_id=cid, urgency=100.0, flags=["assessment_missing"]) for cid in ids if cid not in assessments]
    assessed = [cid for cid in ids if cid in assessments]
    if assessed:
        rows = [customer_row(cid, repositories.get_customer(session, cid), assessments[cid], rm_id=rm_id)
                for cid in assessed]
        lots = []
        for lot in repositories.holdings_of(session, assessed):
            lots.extend(holding_rows(lot.customer_id, [lot]))
        facts = {cid: dict(assessments[cid].facts or {}) for cid in assessed}
        flagged = core.client_flags(state.universe, customers_frame(rows), holdings_frame(lots), today, facts)
        for cid in assessed:
            info = flagged.get(cid, {"urgency": 0.0, "flags": [], "details": {}})
            a = assessments[cid]
            items.append(RmClient(customer_id=cid, urgency=float(info["urgency"]), level=f"C{a.level}",
                                  assessment_expires_on=a.expires_on, flags=list(info["flags"]),
                                  details=info.get("details", {})))
    items.sort(key=lambda c: (-c.urgency, c.customer_id))
    return RmClientsOut(rm_id=rm_id, as_of=today, items=items[:limit])

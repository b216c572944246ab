"""One-click proposals and their confirmation into order instructions (exactly once per proposal)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status
from sqlalchemy import Connection, Row
from sqlalchemy.orm import Session

from api import core, repositories
from api.auth import Principal, act_for_customer, check_customer_access, may_access
from api.clock import business_today
from api.confirmations import (
    ConfirmationDoor,
    IdempotencyKey,
    recheck_suitability,
    record_fields,
    record_once,
    recorded_answer,
)
from api.deps import AssistedSession, Caller, DbSession, State
from api.errors import ApiError, responses
from api.models import Confirmation, Proposal
from api.schemas.common import CustomerId, ProposalId
from api.schemas.proposals import ConfirmationOut, OrderInstruction, ProposalIn, ProposalOut

router = APIRouter(prefix="/v1", tags=["proposals"])
PROPOSAL_CONFIRMATIONS = ConfirmationDoor(model=Confirmation, target_field="proposal_id", noun="proposal")



def valid_assessment(db: Session | Connection, customer_id: str) -> Row:
    """The customer's current assessment, or 409 `assessment_required` / `assessment_expired`."""
    row = repositories.current_assessment(db, customer_id)
    if row is None:
        raise ApiError(409, "assessment_required",
                       "a valid risk assessment is required before any strategy is shown (请先完成风险测评)",
                       {"customer_id": customer_id})
    if repositories.is_expired(row):
        raise ApiError(409, "assessment_expired",
                       f"the risk assessment expired on {row.expires_on}; please re-assess (风险测评已过期)",
                       {"customer_id": customer_id, "expires_on": row.expires_on.isoformat()})
    return row


def proposal_out(row: Proposal, confirmed: bool) -> ProposalOut:
    expires_at = repositories.as_utc(row.expires_at)
    state = "confirmed" if confirmed else ("expired" if expires_at <= repositories.utcnow() else "open")
    return ProposalOut(id=row.id, customer_id=row.customer_id, assessment_id=row.assessment_id, status=state,
                       level=f"C{row.level}", amount=row.amount, horizon_years=row.horizon_years,
                       target_return=row.target_return, created_at=repositories.as_utc(row.created_at),
                       expires_at=expires_at, created_by=row.created_by, created_by_role=row.created_by_role,
                       universe_version=row.universe_version, model_version=row.model_version,
                       questionnaire_version=row.questionnaire_version, proposal=row.body)


@router.post("/customers/{customer_id}/proposals", response_model=ProposalOut, status_code=status.HTTP_201_CREATED,
             responses=responses(401, 403, 409, 413, 422),
             summary="A one-click fund portfolio for the customer's valid assessment (stored)")
def create_proposal(customer_id: CustomerId, body: ProposalIn, state: State, caller: Caller) -> Response:
    """The hot path, in the thread pool like every storage route (never on the event loop): about a
    millisecond of CPU in the compiled optimizer and two small statements on a Core connection, answering
    pre-serialized JSON."""
    with state.engine.connect() as conn:
        check_customer_access(conn, caller, customer_id)
        assessment = valid_assessment(conn, customer_id)
        result = core.propose(state.universe, assessment.level, body.amount, body.horizon_years,
                              body.target_return, assessment.lowest_category)
        now = repositories.utcnow()
        values = dict(id=repositories.new_id(), customer_id=customer_id, assessment_id=assessment.id,
                      level=assessment.level, amount=body.amount, horizon_years=body.horizon_years,
                      target_return=body.target_return,
                      expires_at=now + timedelta(minutes=state.settings.proposal_ttl_minutes),
                      universe_version=state.universe.version,
                      model_version=str(result.get("model_version") or state.model_version),
                      questionnaire_version=assessment.questionnaire_version, body=result,
                      created_by_role=str(caller.role), created_by=caller.sub, created_at=now)
        repositories.add_proposal(conn, values)
        conn.commit()
    out = proposal_out(Proposal(**values), confirmed=False)
    return Response(out.model_dump_json(), status_code=status.HTTP_201_CREATED, media_type="application/json")


def load_proposal(session: Session, caller: Principal, proposal_id: str) -> Proposal:
    """The proposal if the caller may see it; a foreign proposal answers 404 exactly like an unknown id,
    so its existence and owner are not disclosed."""
    row = repositories.get_proposal(session, proposal_id)
    if row is None or not may_access(session, caller, row.customer_id):
        raise ApiError(404, "proposal_not_found", f"no proposal {proposal_id}", {"proposal_id": proposal_id})
    return row


@router.get("/proposals/{proposal_id}", response_model=ProposalOut, responses=responses(401, 403, 404, 422),
            summary="A stored proposal and whether it is open, expired or confirmed")
def get_proposal(proposal_id: ProposalId, session: DbSession, caller: Caller) -> ProposalOut:
    row = load_proposal(session, caller, proposal_id)
    return proposal_out(row, confirmed=PROPOSAL_CONFIRMATIONS.of_target(session, row.id) is not None)


def order_instructions(row: Proposal, confirmation_id: str) -> list[dict]:
    """One subscription per proposal line, in the proposal's order."""
    orders = []
    for i, line in enumerate(row.body.get("lines", []), start=1):
        orders.append({"order_id": f"{confirmation_id}-{i:02d}", "customer_id": row.customer_id,
                       "fund_code": str(line["code"]), "fund_name": line.get("name"), "side": "subscribe",
                       "amount": float(line["amount"]), "fee": float(line.get("fee") or 0.0),
                       "gross": round(float(line["amount"]) + float(line.get("fee") or 0.0), 2), "currency": "CNY"})
    return orders


def confirmation_out(row: Confirmation, replayed: bool) -> ConfirmationOut:
    return ConfirmationOut(**record_fields(row, replayed), proposal_id=row.proposal_id,
                           orders=[OrderInstruction(**o) for o in row.orders])


@router.post("/proposals/{proposal_id}/confirm", response_model=ConfirmationOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"model": ConfirmationOut, "description": "retry: the recorded confirmation"},
                        **responses(401, 403, 404, 409, 422)},
             summary="Confirm a proposal: order instructions recorded exactly once per proposal")
def confirm_proposal(proposal_id: ProposalId, idempotency_key: IdempotencyKey, response: Response,
                     state: State, session: DbSession, caller: Caller, assisted_session: AssistedSession = None
                     ) -> ConfirmationOut:
    row = load_proposal(session, caller, proposal_id)
    act = act_for_customer(session, caller, row.customer_id, assisted_session, "confirm orders")
    answer = recorded_answer(session, PROPOSAL_CONFIRMATIONS, row.id, row.customer_id, idempotency_key, response,
                             confirmation_out)
    if answer is not None:
        return answer
    if repositories.as_utc(row.expires_at) <= repositories.utcnow():
        raise ApiError(409, "proposal_expired", "the proposal has expired; request a new one (方案已过期)",
                       {"proposal_id": proposal_id, "expires_at": repositories.as_utc(row.expires_at).isoformat()})
    lines = row.body.get("lines") or []
    if not lines:
        raise ApiError(409, "proposal_empty", "the proposal has no fund to buy, so there is nothing to confirm "
                       "(方案中没有可购买的基金)", {"proposal_id": proposal_id})
    recheck_suitability(session, state.universe, row.customer_id, row.assessment_id,
                        [str(line["code"]) for line in lines], [line.get("risk_level") for line in lines],
                        business_today())
    confirmation_id = repositories.new_id()
    record = Confirmation(id=confirmation_id, proposal_id=row.id, idempotency_key=idempotency_key,
                          customer_id=row.customer_id, universe_version=row.universe_version,
                          model_version=row.model_version, questionnaire_version=row.questionnaire_version,
                          orders=order_instructions(row, confirmation_id), created_by_role=str(caller.role),
                          created_by=caller.sub, created_at=repositories.utcnow(), **act.columns())
    return record_once(session, PROPOSAL_CONFIRMATIONS, record, idempotency_key, response, confirmation_out)

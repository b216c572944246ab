"""Health check (财富体检) for one customer, and the batch of one both it and rebalancing run on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from api import core, repositories
from api.auth import check_customer_access
from api.deps import Caller, DbSession, State
from api.errors import responses
from api.portfolio_input import customer_row, customers_frame, holding_rows, holdings_frame
from api.routers.proposals import valid_assessment
from api.schemas.common import CustomerId
from api.schemas.portfolio import DiagnosisOut, PortfolioIn

router = APIRouter(prefix="/v1", tags=["portfolio"])

FACT_FIELDS = ("cash", "deposits", "wealth_products", "insurance", "age", "horizon_years", "monthly_expenses")


def batch_of_one(session: Session, state: Any, customer_id: str, body: PortfolioIn,
                 allow_expired: bool) -> tuple[Any, Any, str]:
    """The customer as a batch of one: (customers, holdings, holdings source)."""
    if allow_expired:
        assessment = repositories.latest_assessment(session, customer_id)
        if assessment is None:
            valid_assessment(session, customer_id)  # raises assessment_required
    else:
        assessment = valid_assessment(session, customer_id)
    assert assessment is not None
    customer = repositories.get_customer(session, customer_id)
    overrides = {k: getattr(body, k) for k in FACT_FIELDS}
    row = customer_row(customer_id, customer, assessment, overrides)
    if body.holdings is not None:
        core.require_codes_known(state.universe, [h.code for h in body.holdings], "body.holdings")
        lots, source = [h.model_dump() for h in body.holdings], "body"
    else:
        lots, source = repositories.holdings_of(session, [customer_id]), "storage"
    return customers_frame([row]), holdings_frame(holding_rows(customer_id, lots)), source


@router.post("/customers/{customer_id}/diagnosis", response_model=DiagnosisOut,
             responses=responses(401, 403, 409, 413, 422),
             summary="Health check of the customer's holdings (body, or stored positions when omitted)")
def diagnosis(customer_id: CustomerId, body: PortfolioIn, state: State, session: DbSession,
              caller: Caller) -> DiagnosisOut:
    check_customer_access(session, caller, customer_id)
    customers, holdings, source = batch_of_one(session, state, customer_id, body, allow_expired=True)
    result = core.diagnose_one(state.universe, customers, holdings)
    return DiagnosisOut(customer_id=customer_id, universe_version=state.universe.version, holdings_source=source,
                        result=result)

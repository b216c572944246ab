"""Reference data the bank's systems keep current: customer facts, RM assignments, held positions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, StringConstraints

from api import core, repositories
from api.auth import Role, check_customer_access, require_role
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.schemas.common import ID_PATTERN, CustomerId, HorizonYears, RmId, StrictModel
from api.schemas.portfolio import HoldingIn, HoldingOut

router = APIRouter(prefix="/v1", tags=["customers"])


class CustomerIn(StrictModel):
    age: int | None = Field(None, ge=18, le=120)
    horizon_years: HorizonYears | None = None
    monthly_expenses: float | None = Field(None, ge=0, le=1e9)
    cash: float | None = Field(None, ge=0, le=1e9)
    deposits: float | None = Field(None, ge=0, le=1e9)
    wealth_products: float | None = Field(None, ge=0, le=1e9)
    insurance: float | None = Field(None, ge=0, le=1e9)
    rm_ids: list[Annotated[str, StringConstraints(pattern=ID_PATTERN)]] = Field(
        default_factory=list, max_length=10,
        description="relationship managers to assign (added; revoke with DELETE …/rm-assignments/{rm_id})")

    def facts(self) -> dict:
        return self.model_dump(exclude={"rm_ids"}, exclude_none=True)


class CustomerOut(BaseModel):
    id: str
    age: int | None
    horizon_years: float | None
    monthly_expenses: float | None
    cash: float
    deposits: float
    wealth_products: float
    insurance: float
    rm_ids: list[str]


class HoldingsIn(StrictModel):
    holdings: list[HoldingIn] = Field(max_length=500)


class HoldingsOut(BaseModel):
    customer_id: str
    holdings: list[HoldingOut]


@router.put("/customers/{customer_id}", response_model=CustomerOut, responses=responses(401, 403, 413, 422),
            summary="Create or update a customer's facts and RM assignments (ops)")
def put_customer(customer_id: CustomerId, body: CustomerIn, session: DbSession, caller: Caller) -> CustomerOut:
    require_role(caller, Role.OPS)
    customer = repositories.upsert_customer(session, customer_id, **body.facts())
    for rm_id in body.rm_ids:
        repositories.assign(session, rm_id, customer_id, by=caller.sub)
    session.commit()
    return customer_out(session, customer)


def customer_out(session: DbSession, customer) -> CustomerOut:
    return CustomerOut(id=customer.id, age=customer.age, horizon_years=customer.horizon_years,
                       monthly_expenses=customer.monthly_expenses, cash=customer.cash, deposits=customer.deposits,
                       wealth_products=customer.wealth_products, insurance=customer.insurance,
                       rm_ids=repositories.rms_of(session, customer.id))


@router.delete("/customers/{customer_id}/rm-assignments/{rm_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=responses(401, 403, 404, 422),
               summary="Revoke a relationship manager's assignment (ops); the RM loses access at once")
def revoke_assignment(customer_id: CustomerId, rm_id: RmId, session: DbSession, caller: Caller) -> Response:
    require_role(caller, Role.OPS)
    if not repositories.revoke(session, rm_id, customer_id, by=caller.sub):
        raise ApiError(404, "assignment_not_found", f"{rm_id} has no active assignment to {customer_id}",
                       {"customer_id": customer_id, "rm_id": rm_id})
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/customers/{customer_id}/holdings", response_model=HoldingsOut,
            responses=responses(401, 403, 413, 422), summary="Replace the stored positions (ops)")
def put_holdings(customer_id: CustomerId, body: HoldingsIn, state: State, session: DbSession,
                 caller: Caller) -> HoldingsOut:
    require_role(caller, Role.OPS)
    core.require_codes_known(state.universe, [h.code for h in body.holdings], "body.holdings")
    repositories.ensure_customer(session, customer_id)
    repositories.replace_holdings(session, customer_id, [h.model_dump() for h in body.holdings])
    session.commit()
    return HoldingsOut(customer_id=customer_id, holdings=[HoldingOut(**h.model_dump()) for h in body.holdings])


@router.get("/customers/{customer_id}/holdings", response_model=HoldingsOut, responses=responses(401, 403, 422),
            summary="The stored positions")
def get_holdings(customer_id: CustomerId, session: DbSession, caller: Caller) -> HoldingsOut:
    check_customer_access(session, caller, customer_id)
    lots = repositories.holdings_of(session, [customer_id])
    return HoldingsOut(customer_id=customer_id, holdings=[
        HoldingOut(code=h.code, shares=h.shares, amount=h.amount, purchase_date=h.purchase_date) for h in lots])

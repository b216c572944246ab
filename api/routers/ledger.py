"""The transaction ledger (交易流水), returns (持有收益, TWR, XIRR) and statements (月度 / 年度账单)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api import lifecycle_core, lifecycle_store
from api.auth import Role, check_customer_access, require_role
from api.clock import business_today
from api.deps import Caller, DbSession, State
from api.errors import ApiError, responses
from api.lifecycle_input import stored_customer
from api.schemas.common import CustomerId, Paged
from api.schemas.lifecycle import (
    ReturnsOut,
    StatementOut,
    TransactionOut,
    TransactionsAdded,
    TransactionsIn,
    TransactionsOut,
)

router = APIRouter(prefix="/v1", tags=["after the purchase"])

PeriodPath = Annotated[str, Path(pattern=r"^\d{4}(-\d{2})?$", description="a month YYYY-MM or a year YYYY")]


@router.post("/customers/{customer_id}/transactions", response_model=TransactionsAdded,
             status_code=status.HTTP_201_CREATED, responses=responses(401, 403, 413, 422),
             summary="Append confirmed transactions from the transfer-agent feed (ops; idempotent by txn_id)")
def add_transactions(customer_id: CustomerId, body: TransactionsIn, state: State, session: DbSession,
                     caller: Caller, response: Response) -> TransactionsAdded:
    require_role(caller, Role.OPS)
    ids = [t.txn_id for t in body.transactions]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ApiError(422, "duplicate_txn_id", f"body.transactions: txn_id {repeated[0]} appears twice",
                       {"field": "body.transactions", "txn_ids": repeated[:20]})
    known = lifecycle_store.existing_txn_ids(session, customer_id, ids)
    new = [t.model_dump() for t in body.transactions if t.txn_id not in known]
    if new:
        stored = stored_customer(session, customer_id)
        import pandas as pd

        frame = pd.DataFrame([{"customer_id": customer_id, **row} for row in new])
        ledger = frame if stored.ledger is None else pd.concat([stored.ledger, frame], ignore_index=True)
        first_new = 0 if stored.ledger is None else len(stored.ledger)
        bad = lifecycle_core.ledger_rejects(state.universe, stored.customers, ledger, business_today(), first_new)
        if bad:
            first = bad[0]
            index = ids.index(new[first["row"]]["txn_id"])
            field = f"body.transactions.{index}.{first['field']}"
            raise ApiError(422, "ledger_rejected", f"{field}: {first['reason']}",
                           {"field": field, "rejected": [{**b, "txn_id": new[b["row"]]["txn_id"]} for b in bad[:20]]})
        lifecycle_store.add_transactions(session, customer_id, new, str(caller.role), caller.sub)
        session.commit()
    else:
        response.status_code = status.HTTP_200_OK
    return TransactionsAdded(customer_id=customer_id, recorded=len(new), duplicates=sorted(known))


@router.get("/customers/{customer_id}/transactions", response_model=TransactionsOut,
            responses=responses(401, 403, 422), summary="The customer's transactions, newest first")
def list_transactions(customer_id: CustomerId, session: DbSession, caller: Caller, paged: Paged) -> TransactionsOut:
    check_customer_access(session, caller, customer_id)
    total, rows = lifecycle_store.transactions_of(session, customer_id, paged.limit, paged.offset)
    items = [TransactionOut(txn_id=r.txn_id, date=r.date, code=r.code, kind=r.kind, amount=r.amount, shares=r.shares,
                            fee=r.fee, nav=r.nav, plan_id=r.plan_id, created_at=r.created_at, created_by=r.created_by)
             for r in rows]
    return TransactionsOut(customer_id=customer_id, page=paged.page(total), items=items)


@router.get("/customers/{customer_id}/returns", response_model=ReturnsOut, responses=responses(401, 403, 404, 422),
            summary="Market value, 持有收益, 累计收益, fees, TWR and XIRR (since inception, YTD, 1 year), per fund")
def returns(customer_id: CustomerId, state: State, session: DbSession, caller: Caller) -> ReturnsOut:
    check_customer_access(session, caller, customer_id)
    stored = stored_customer(session, customer_id)
    if stored.ledger is None and stored.holdings is None:
        raise ApiError(404, "no_holdings", "the customer has no transactions and no stored holdings",
                       {"customer_id": customer_id})
    result = lifecycle_core.customer_returns(state.universe, stored.customers, stored.holdings, stored.ledger,
                                             business_today())
    return ReturnsOut(customer_id=customer_id, source=stored.source, result=result)


@router.get("/customers/{customer_id}/statements/{period}", response_model=StatementOut,
            responses=responses(401, 403, 404, 422),
            summary="Monthly (YYYY-MM) or yearly (YYYY) statement in Chinese and English")
def statement(customer_id: CustomerId, period: PeriodPath, state: State, session: DbSession, caller: Caller,
              health: Annotated[bool, Query(description="include the health score of the holdings at the end")]
              = False) -> StatementOut:
    check_customer_access(session, caller, customer_id)
    stored = stored_customer(session, customer_id)
    if stored.ledger is None and stored.holdings is None:
        raise ApiError(404, "no_holdings", "the customer has no transactions and no stored holdings",
                       {"customer_id": customer_id})
    result = lifecycle_core.customer_statement(state.universe, stored.customers, stored.holdings, stored.ledger,
                                               business_today(), period, health, stored.assessment is not None)
    return StatementOut(customer_id=customer_id, source=stored.source, statement=result)

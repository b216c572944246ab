"""A customer's stored records as the lifecycle batch tables (a batch of one)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from api import lifecycle_store, repositories
from api.portfolio_input import customer_row, customers_frame, holding_rows, holdings_frame


@dataclass
class StoredCustomer:
    customers: pd.DataFrame
    holdings: pd.DataFrame | None
    ledger: pd.DataFrame | None
    assessment: object | None

    @property
    def source(self) -> str:
        return "ledger" if self.ledger is not None else "holdings"

    @property
    def level(self) -> int:
        return int(self.customers["risk_level"].iloc[0][1]) if self.assessment is not None else 1


def stored_customer(session: Session, customer_id: str) -> StoredCustomer:
    """Facts, latest assessment (an expired one still gives the level for reporting), lots and ledger."""
    assessment = repositories.latest_assessment(session, customer_id)
    customer = repositories.get_customer(session, customer_id)
    if assessment is not None:
        row = customer_row(customer_id, customer, assessment)
    else:  # returns and statements need no level; the allocation is left out
        row = {"customer_id": customer_id, "risk_level": "C1", "lowest_category": False,
               "assessment_expires_on": None, "age": customer.age if customer else None,
               "horizon_years": (customer.horizon_years if customer else None) or 3.0,
               "monthly_expenses": (customer.monthly_expenses if customer else None) or 0.0,
               "cash": customer.cash if customer else 0.0, "deposits": customer.deposits if customer else 0.0,
               "wealth_products": customer.wealth_products if customer else 0.0, "insurance": None, "rm_id": None}
    rms = repositories.rms_of(session, customer_id)
    row["rm_id"] = rms[0] if rms else None
    lots = repositories.holdings_of(session, [customer_id])
    holdings = holdings_frame(holding_rows(customer_id, lots)) if lots else None
    return StoredCustomer(customers_frame([row]), holdings, lifecycle_store.ledger_frame(session, customer_id),
                          assessment)

"""Health check (diagnosis) and rebalancing requests; answers carry the core's result."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from advisor.limits import MAX_MONEY as MAX_VALUE
from api.clock import business_today
from api.schemas.common import (
    FROM_1990_PATTERN,
    FUND_CODE_PATTERN,
    HistoricDate,
    HorizonYears,
    MoneyOrZero,
    Page,
    StrictModel,
    publish,
)


def _not_in_the_future(day: date) -> date:
    if day > business_today():
        raise PydanticCustomError("date_in_future", "a purchase date cannot be in the future (today is {today})",
                                  {"today": business_today().isoformat()})
    return day


# "not after today" depends on the day of the request: answered 422 `date_in_future` (api.errors.DOMAIN_RULES)
PurchaseDate = Annotated[HistoricDate, AfterValidator(_not_in_the_future), WithJsonSchema(
    {"type": "string", "format": "date", "pattern": FROM_1990_PATTERN,
     "description": "YYYY-MM-DD, from 1990-01-01 up to today (Beijing)"})]


class HoldingIn(StrictModel):
    """One held lot: `shares` or `amount` (or both), bought on a day up to today."""

    model_config = ConfigDict(json_schema_extra=publish({"anyOf": [
        {"required": ["shares"], "properties": {"shares": {"type": "number"}}},
        {"required": ["amount"], "properties": {"amount": {"type": "number"}}}]}))

    code: str = Field(pattern=FUND_CODE_PATTERN)
    shares: float | None = Field(None, ge=0, le=MAX_VALUE * 10)
    amount: MoneyOrZero | None = Field(None, description="current value, yuan")
    purchase_date: PurchaseDate

    @model_validator(mode="after")
    def _shares_or_amount(self) -> HoldingIn:
        if self.shares is None and self.amount is None:
            raise ValueError("give shares or amount")
        return self


class HoldingOut(BaseModel):
    """A stored lot as the bank's position feed delivered it."""

    code: str
    shares: float | None = None
    amount: float | None = None
    purchase_date: date


class PortfolioIn(StrictModel):
    """Holdings (or none to use the stored ones) and the customer's declared facts."""

    holdings: list[HoldingIn] | None = Field(None, max_length=500)
    cash: MoneyOrZero | None = None
    deposits: MoneyOrZero | None = None
    wealth_products: MoneyOrZero | None = None
    insurance: MoneyOrZero | None = None
    age: int | None = Field(None, ge=18, le=120)
    horizon_years: HorizonYears | None = None
    monthly_expenses: MoneyOrZero | None = None


class RebalanceIn(PortfolioIn):
    cash_flow: float = Field(0.0, ge=-MAX_VALUE, le=MAX_VALUE,
                             description="deposit (>0) or withdrawal (<0) to invest with the rebalance")


class DiagnosisOut(BaseModel):
    customer_id: str
    universe_version: str
    holdings_source: str = Field(description="body or storage")
    result: dict[str, Any]


class RmClient(BaseModel):
    customer_id: str
    urgency: float = Field(description="higher is more urgent")
    level: str | None = None
    assessment_expires_on: date | None = None
    flags: list[str]
    details: dict[str, Any] = Field(default_factory=dict)


class RmClientsOut(BaseModel):
    rm_id: str
    as_of: date
    page: Page
    items: list[RmClient]

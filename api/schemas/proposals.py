"""Proposals, confirmations (order instructions) and mismatch acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import FUND_CODE_PATTERN, HorizonYears, Money, StrictModel, TargetReturn, publish


class ProposalIn(StrictModel):
    amount: Money = Field(description="yuan to invest, at most two decimals")
    horizon_years: HorizonYears
    target_return: TargetReturn | None = None


class ProposalOut(BaseModel):
    id: str
    customer_id: str
    assessment_id: str
    status: Literal["open", "expired", "confirmed"]
    level: str
    amount: float
    horizon_years: float
    target_return: float | None
    created_at: datetime
    expires_at: datetime
    created_by: str
    created_by_role: str
    universe_version: str
    model_version: str
    questionnaire_version: str
    proposal: dict[str, Any] = Field(description="lines, expected return / volatility, history, explanations")


class OrderInstruction(BaseModel):
    order_id: str
    customer_id: str
    fund_code: str
    fund_name: str | None = None
    side: Literal["subscribe"]
    amount: float = Field(description="yuan invested in the fund (net of the subscription fee)")
    fee: float = Field(description="subscription fee, yuan")
    gross: float = Field(description="yuan debited from the customer: amount + fee")
    currency: Literal["CNY"] = "CNY"


class ConfirmationRecordOut(BaseModel):
    """What every recorded confirmation answers, whatever it confirmed."""

    id: str
    customer_id: str
    idempotency_key: str
    created_at: datetime
    created_by: str
    created_by_role: str
    acting_capacity: str = Field(description="self or rm_in_person (docs/api.md § Compliance)")
    assisted_session_id: str | None = None
    replayed: bool = Field(description="true when this answers a retry of an already recorded confirmation")


class ConfirmationOut(ConfirmationRecordOut):
    proposal_id: str
    orders: list[OrderInstruction]


class MismatchIn(StrictModel):
    # the route refuses a wealth product without its level; published, so a valid-by-spec body is valid here
    model_config = ConfigDict(json_schema_extra=publish({
        "if": {"properties": {"product_kind": {"const": "wealth_management"}}, "required": ["product_kind"]},
        "then": {"required": ["product_level"], "properties": {"product_level": {"type": "integer"}}}}))

    product_code: str = Field(pattern=FUND_CODE_PATTERN, description="fund or wealth product code")
    product_kind: Literal["fund", "wealth_management"] = "fund"
    product_level: int | None = Field(None, ge=1, le=5,
                                      description="product risk level 1–5; required for wealth products")
    acknowledged: bool = Field(description="false: return the warning to show; true: record the confirmation")

class MismatchOut(BaseModel):
    recorded: bool
    id: str | None = None
    customer_id: str
    product_code: str
    product_kind: str
    customer_level: str
    product_level: str
    warning_zh: str | None = Field(None, description="present unless Accept-Language asked for one language only")
    warning_en: str | None = Field(None, description="present unless Accept-Language asked for one language only")
    created_at: datetime | None = None
    created_by: str | None = None
    acting_capacity: str | None = Field(None, description="recorded acknowledgements: self or rm_in_person")
    assisted_session_id: str | None = None

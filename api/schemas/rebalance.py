"""Rebalancing plans (调仓方案) and their one-click confirmation into order instructions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.proposals import ConfirmationRecordOut


class RebalancePlanOut(BaseModel):
    id: str
    customer_id: str
    version: int = Field(description="the customer's plan number (1, 2, …); only the newest may be confirmed")
    status: Literal["open", "expired", "confirmed", "superseded", "nothing_to_do"] = Field(
        description="open: may be confirmed; nothing_to_do: the plan has no trade")
    plan_status: str = Field(description="the engine's answer: trade or no_trade")
    assessment_id: str
    level: str
    lowest_category: bool
    cash_flow: float
    holdings_source: str = Field(description="body or storage")
    created_at: datetime
    expires_at: datetime
    created_by: str
    created_by_role: str
    universe_version: str
    questionnaire_version: str
    plan: dict[str, Any] = Field(description="trades with reasons, drift, cost, cash, notes (zh/en)")


class RebalancePlansOut(BaseModel):
    customer_id: str
    items: list[RebalancePlanOut]


class RebalanceOrder(BaseModel):
    order_id: str
    customer_id: str
    side: Literal["redeem", "switch", "subscribe"]
    fund_code: str
    fund_name: str | None = None
    to_fund_code: str | None = Field(None, description="switches: the fund switched into (same company)")
    to_fund_name: str | None = None
    amount: float = Field(description="yuan redeemed (redeem, switch) or paid (subscribe, fee included)")
    fee: float = Field(description="redemption, switch or subscription fee, yuan")
    shares: float | None = Field(None, description="redemptions: units, estimated at the latest NAV")
    reason: str | None = Field(None, description="class_drift, above_level, fund_event, fund_quality, cost_saving, "
                                                 "withdrawal or idle_cash")
    currency: Literal["CNY"] = "CNY"


class RebalanceConfirmationOut(ConfirmationRecordOut):
    plan_id: str
    orders: list[RebalanceOrder]

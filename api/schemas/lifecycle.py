"""After the purchase: transactions, returns, statements, goals, SIP plans, alerts, RM tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from advisor.lifecycle.ledger import MIN_NAV
from api.schemas.common import (
    FUND_CODE_PATTERN,
    ID_PATTERN,
    HistoricDate,
    IsoDate,
    Money,
    MoneyOrZero,
    Page,
    StrictModel,
    publish,
)

TxnKind = Literal["subscription", "redemption", "switch_out", "switch_in", "dividend_cash", "dividend_reinvest"]
AlertKind = Literal["drawdown", "nav_swing", "drift", "fund_event", "assessment_expiring", "goal_off_track",
                    "profit_target", "sip_failed"]
LevelText = Literal["C1", "C2", "C3", "C4", "C5"]

class TransactionIn(StrictModel):
    model_config = ConfigDict(json_schema_extra=publish({"anyOf": [  # as the validator below: one of them
        {"required": ["amount"], "properties": {"amount": {"type": "number"}}},
        {"required": ["shares"], "properties": {"shares": {"type": "number"}}}]}))
    txn_id: str = Field(pattern=ID_PATTERN, description="unique per customer: a repeated id is recorded once")
    date: HistoricDate
    code: str = Field(pattern=FUND_CODE_PATTERN)
    kind: TxnKind
    amount: MoneyOrZero | None = Field(None, description="yuan at the NAV, fees excluded: a buy pays amount + fee, "
                                       "a sale receives amount − fee (see docs/lifecycle.md)")
    shares: float | None = Field(None, ge=0, le=1e10)
    fee: MoneyOrZero = 0.0
    nav: float | None = Field(None, ge=MIN_NAV, le=1e6)
    plan_id: str | None = Field(None, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _something_given(self) -> TransactionIn:
        if self.amount is None and self.shares is None:
            raise ValueError("give amount or shares")
        return self


class TransactionsIn(StrictModel):
    transactions: list[TransactionIn] = Field(min_length=1, max_length=500)


class TransactionOut(BaseModel):
    txn_id: str
    date: date
    code: str
    kind: str
    amount: float | None
    shares: float | None
    fee: float
    nav: float | None
    plan_id: str | None
    created_at: datetime
    created_by: str


class TransactionsOut(BaseModel):
    customer_id: str
    page: Page
    items: list[TransactionOut]


class TransactionsAdded(BaseModel):
    customer_id: str
    recorded: int = Field(description="new transactions written")
    duplicates: list[str] = Field(description="txn_ids already on record (not written again)")


class ReturnsOut(BaseModel):
    customer_id: str
    source: str = Field(description="ledger, or holdings (cost basis estimated)")
    result: dict[str, Any]


class StatementOut(BaseModel):
    customer_id: str
    source: str
    statement: dict[str, Any]


class GoalIn(StrictModel):
    name: str = Field("", max_length=64)
    kind: Literal["target", "reserve"] = "target"
    target_amount: Money
    target_date: IsoDate
    current_amount: MoneyOrZero = 0.0
    monthly_contribution: MoneyOrZero = 0.0
    level: LevelText | None = Field(None, description="default: the customer's level; never above it")


class GoalUpdate(StrictModel):
    name: str | None = Field(None, max_length=64)
    target_amount: Money | None = None
    target_date: IsoDate | None = None
    current_amount: MoneyOrZero | None = None
    monthly_contribution: MoneyOrZero | None = None
    level: LevelText | None = None


class GoalOut(BaseModel):
    id: str
    customer_id: str
    name: str
    kind: str
    level: str | None
    target_amount: float
    target_date: date
    current_amount: float
    monthly_contribution: float
    status: str
    created_at: datetime
    updated_at: datetime
    projection: dict[str, Any] | None = Field(None, description="probability, percentiles, advice (see docs)")


class GoalsOut(BaseModel):
    customer_id: str
    page: Page
    items: list[GoalOut]


class LegIn(StrictModel):
    code: str = Field(pattern=FUND_CODE_PATTERN)
    weight: float = Field(gt=0, le=1000)


class SipPlanIn(StrictModel):
    name: str = Field("", max_length=64)
    amount: Money
    frequency: Literal["weekly", "fortnightly", "monthly"] = "monthly"
    day: int = Field(1, ge=1, le=28, description="day of the month (1–28) or weekday (1–5 = Monday–Friday)")
    legs: list[LegIn] | None = Field(None, max_length=20, description="funds and weights; omit to use the model")
    horizon_years: float = Field(5.0, gt=0, le=50, description="horizon of the model when legs are omitted")
    mode: Literal["fixed", "smart"] = "fixed"
    target_return: float | None = Field(None, gt=0, le=1.0, description="target-profit rule: the plan's return")
    on_target: Literal["stop", "take_profit"] = "stop"
    start_date: IsoDate | None = None


class SipPlanUpdate(StrictModel):
    status: Literal["active", "paused", "stopped"] | None = None
    amount: Money | None = None
    target_return: float | None = Field(None, gt=0, le=1.0)
    on_target: Literal["stop", "take_profit"] | None = None
    name: str | None = Field(None, max_length=64)


class SipPlanOut(BaseModel):
    id: str
    customer_id: str
    name: str
    amount: float
    frequency: str
    day: int
    mode: str
    legs: list[dict[str, Any]]
    target_return: float | None
    on_target: str
    status: str
    start_date: date
    cycle_start: date
    created_at: datetime
    updated_at: datetime
    acting_capacity: str = Field(description="who agreed the plan (or its last resume / new amount): self or "
                                 "rm_in_person (docs/api.md § Compliance)")
    assisted_session_id: str | None = None
    suitability: dict[str, Any] = Field(default_factory=dict, description="may the plan debit today? (ok; reason "
                                        "assessment_expired | above_level | fund_closed; allowed_max; above; "
                                        "closed) — the nightly hold rule")


class SipPlansOut(BaseModel):
    customer_id: str
    page: Page
    items: list[SipPlanOut]


class SimulationIn(StrictModel):
    start: HistoricDate
    end: IsoDate | None = None
    basis: Literal["plan", "model"] = Field(
        "plan", description="plan: the plan's own funds over their past NAV; model: the plan's amount, calendar, "
                            "mode and target-profit rule on the model of the customer's current level, walk-forward "
                            "(each debit buys the funds the service chose on that date: out of sample)")


class SimulationOut(BaseModel):
    plan_id: str
    result: dict[str, Any]


class AlertOut(BaseModel):
    id: str
    customer_id: str
    kind: str
    severity: str
    as_of: date
    title_zh: str | None = None
    text_zh: str | None = None
    title_en: str | None = None
    text_en: str | None = None
    details: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class AlertsOut(BaseModel):
    customer_id: str
    page: Page
    unread: int
    items: list[AlertOut]


class PreferencesIn(StrictModel):
    opted_out: list[AlertKind] = Field(default_factory=list, max_length=8,
                                       description="kinds of message the customer does not want")


class PreferencesOut(BaseModel):
    customer_id: str
    opted_out: list[str]
    kinds: list[str]


class EvaluationOut(BaseModel):
    customer_id: str
    as_of: date
    alerts: list[dict[str, Any]]
    rm_tasks: list[dict[str, Any]]


class RmTaskOut(BaseModel):
    id: str
    rm_id: str | None
    customer_id: str
    kind: str
    severity: str
    as_of: date
    title_zh: str | None = None
    text_zh: str | None = None
    title_en: str | None = None
    text_en: str | None = None
    details: dict[str, Any]
    status: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None


class RmTasksOut(BaseModel):
    rm_id: str
    page: Page
    items: list[RmTaskOut]

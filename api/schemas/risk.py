"""Risk questionnaire, assessments and the customer's current risk profile."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.common import StrictModel, publish

Key = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class OptionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    text_zh: str | None = Field(None, description="present unless Accept-Language asked for one language only")
    text_en: str | None = Field(None, description="present unless Accept-Language asked for one language only")
    score: float


class QuestionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    dimension: str
    text_zh: str | None = Field(None, description="present unless Accept-Language asked for one language only")
    text_en: str | None = Field(None, description="present unless Accept-Language asked for one language only")
    options: list[OptionOut]


class QuestionnaireOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    version: str
    questions: list[QuestionOut]


class FactsIn(StrictModel):
    """Facts the bank holds or the customer declares; cross-checked against the answers."""

    age: int | None = Field(None, ge=18, le=120)
    annual_income: float | None = Field(None, ge=0, le=1e10)
    financial_assets: float | None = Field(None, ge=0, le=1e11)
    debts: float | None = Field(None, ge=0, le=1e11)
    dependents: int | None = Field(None, ge=0, le=20)
    civil_capacity: bool = True
    occupation: str | None = Field(None, max_length=64)
    life_event: str | None = Field(None, max_length=64)


class AssessmentIn(StrictModel):
    """Answers map question id → option id. `refused: true` (no answers) records a refusal, rated C1."""

    # either answers or a refusal (the route names the field otherwise); published so the spec says so too
    model_config = ConfigDict(json_schema_extra=publish({
        "if": {"properties": {"refused": {"const": True}}, "required": ["refused"]},
        "then": {"properties": {"answers": {"type": "null"}}},
        "else": {"required": ["answers"], "properties": {"answers": {"type": "object"}}}}))

    answers: dict[Key, Key] | None = Field(None, max_length=100, description="question id → option id")
    facts: FactsIn | None = None
    refused: bool = False


class AssessmentOut(BaseModel):
    """A stored assessment: the scoring result plus who recorded it and when."""

    id: str
    customer_id: str
    level: str = Field(examples=["C3"])
    level_name_zh: str | None = None
    score: float
    lowest_category: bool
    questionnaire_version: str
    assessed_at: datetime
    expires_on: date
    created_at: datetime
    created_by: str
    created_by_role: str
    acting_capacity: str = Field(description="self, rm_in_person, imported (or unrecorded for old rows)")
    assisted_session_id: str | None = Field(None, description="the in-person session an RM acted in")
    result: dict[str, Any] = Field(description="the full scoring result (dimensions, flags, confidence ...)")


class RiskProfileOut(BaseModel):
    customer_id: str
    assessment_id: str
    level: str
    level_name_zh: str | None = None
    lowest_category: bool
    score: float
    assessed_at: datetime
    expires_on: date
    expired: bool
    flags: list[str]
    questionnaire_version: str

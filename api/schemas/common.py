"""Shared schema pieces: strict request base, ids, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from advisor import limits

ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
FUND_CODE_PATTERN = r"^[A-Za-z0-9]{1,16}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="customer id (letters, digits, _ . -)")]
FundCode = Annotated[str, Path(pattern=FUND_CODE_PATTERN, description="fund code, e.g. 000001")]
ProposalId = Annotated[str, Path(pattern=UUID_PATTERN, description="proposal id (UUID)")]


def _whole_cents(value: float) -> float:
    if not limits.is_whole_cents(value):
        raise ValueError("must have at most two decimals (whole fen)")
    return value


# Money and horizons: the bounds of `advisor.limits`, so the schema and the core refuse the same values.
Money = Annotated[float, Field(gt=0, le=limits.MAX_MONEY, description="yuan, at most two decimals"),
                  AfterValidator(_whole_cents)]
MoneyOrZero = Annotated[float, Field(ge=0, le=limits.MAX_MONEY, description="yuan, at most two decimals"),
                        AfterValidator(_whole_cents)]
HorizonYears = Annotated[float, Field(gt=0, le=limits.MAX_HORIZON_YEARS, description="investment horizon in years")]
TargetReturn = Annotated[float, Field(ge=limits.TARGET_RETURN_MIN, le=limits.TARGET_RETURN_MAX,
                                      description="yearly target return as a fraction, e.g. 0.05")]


class StrictModel(BaseModel):
    """Request bodies: unknown fields, NaN and infinity are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=256)


class Page(BaseModel):
    total: int = Field(ge=0)
    limit: int = Field(ge=1)
    offset: int = Field(ge=0)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: bool
    universe_loaded: bool
    universe_version: str | None = None
    universe_as_of: str | None = None
    questionnaire_version: str | None = None
PlanId = Annotated[str, Path(pattern=UUID_PATTERN, description="rebalancing plan id (UUID)")]

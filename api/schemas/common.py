"""Shared schema pieces: strict request base, ids, pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
FUND_CODE_PATTERN = r"^[A-Za-z0-9]{1,16}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

CustomerId = Annotated[str, Path(pattern=ID_PATTERN, description="customer id (letters, digits, _ . -)")]
FundCode = Annotated[str, Path(pattern=FUND_CODE_PATTERN, description="fund code, e.g. 000001")]
ProposalId = Annotated[str, Path(pattern=UUID_PATTERN, description="proposal id (UUID)")]


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

"""Fund shelf, fund details, leaderboard and model portfolios."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Page


class FundSummary(BaseModel):
    code: str
    name: str
    company: str | None = None
    fund_type: str
    asset_class: str
    risk_level: str = Field(examples=["R3"])
    share_class: str | None = None
    status: str | None = None
    min_purchase: float | None = None
    aum_yi: float | None = None


class FundPage(BaseModel):
    page: Page
    items: list[FundSummary]


class FundDetail(FundSummary):
    model_config = ConfigDict(extra="allow")
    full_name: str | None = None
    managers: str | None = None
    inception: str | None = None
    benchmark_text: str | None = None
    purchase_increment: float | None = None
    management_fee: float | None = None
    custody_fee: float | None = None
    sales_service_fee: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict, description="performance and risk metrics")
    research: dict[str, Any] | None = Field(None, description="research card (ratings, look-through, style)")
    warnings: list[dict[str, Any]] = Field(default_factory=list, description="what a reader must see beside the "
                                           "metrics (code, message, message_zh): e.g. not_annualized under a year")
    data_quality: dict[str, Any] | None = Field(None, description="how the total return was built: missing "
                                                "returns repaired, distributions, unexplained falls")


class LeaderboardRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    rank: int
    code: str
    name: str | None = None
    category: str | None = None
    score: float | None = None
    stars: int | None = None
    rated: bool | None = None


class LeaderboardOut(BaseModel):
    page: Page
    universe_as_of: str
    items: list[LeaderboardRow]


class ModelPortfolioRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    level: str
    horizon: str
    weights: dict[str, float]


class ModelPortfoliosOut(BaseModel):
    model_version: str
    universe_as_of: str
    items: list[ModelPortfolioRow]

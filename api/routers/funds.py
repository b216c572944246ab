"""The fund shelf, one fund's details, the leaderboard, and the model portfolios."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api import core
from api.deps import Caller, State
from api.errors import responses
from api.funds_view import FundShelf, detail_row
from api.negotiation import ReferenceData
from api.schemas.common import FundCode, Paged
from api.schemas.funds import FundDetail, FundPage, FundSummary, LeaderboardOut, LeaderboardRow, ModelPortfoliosOut
from api.serialization import jsonable
from products.research.leaderboard import category_names, filter_category
from products.taxonomy import AssetClass, FundType
from risk.suitability import product_level_int

router = APIRouter(prefix="/v1", tags=["funds"])

FundTypeQ = Literal[tuple(t.value for t in FundType)]  # type: ignore[valid-type]
AssetClassQ = Literal[tuple(a.value for a in AssetClass)]  # type: ignore[valid-type]
CategoryQ = Literal[tuple(sorted({name for names in category_names() for name in names}))]  # type: ignore[valid-type]


def shelf(state: State) -> FundShelf:
    return state.cached("shelf", lambda: FundShelf.build(state.universe))


@router.get("/funds", response_model=FundPage, responses=responses(401, 422), summary="List and filter funds")
def list_funds(state: State, _caller: Caller, _reference: ReferenceData, paged: Paged,
               fund_type: Annotated[FundTypeQ | None, Query()] = None,
               asset_class: Annotated[AssetClassQ | None, Query()] = None,
               max_risk_level: Annotated[str | None, Query(
                   pattern=r"^[Rr]?[1-5]$", description="highest product risk level: R1–R5 (or 1–5)")] = None,
               company: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
               status: Annotated[Literal["open", "suspended", "closed", "limited"] | None, Query()] = None,
               q: Annotated[str | None, Query(min_length=1, max_length=64, description="code or name contains")]
               = None) -> FundPage:
    view = shelf(state)
    max_level = product_level_int(max_risk_level, "query.max_risk_level") if max_risk_level else None
    hits = view.filter(fund_type=fund_type, asset_class=asset_class, max_risk_level=max_level,
                       company=company, status=status, q=q)
    return FundPage(page=paged.page(len(hits)), items=[FundSummary(**view.rows[i]) for i in paged.cut(hits)])


@router.get("/funds/leaderboard", response_model=LeaderboardOut, responses=responses(401, 422),
            summary="Funds ranked on the research dimensions (stars 1–5)")
def fund_leaderboard(state: State, _caller: Caller, _reference: ReferenceData, paged: Paged,
                     category: Annotated[CategoryQ | None, Query(
                         description="a peer group (active_equity …) or a fund type (equity …)")] = None,
                     ) -> LeaderboardOut:
    table = state.cached("leaderboard", lambda: core.leaderboard(state.universe))
    if category is not None and "category" in table.columns:
        table = filter_category(table, category)  # one rule with the CLI: unknown names are a 422
    table = table.sort_values("score", ascending=False, na_position="last") if "score" in table else table
    rows = []
    for rank, (code, rec) in enumerate(zip(table.index, table.to_dict(orient="records"), strict=True), start=1):
        if rank <= paged.offset:
            continue
        if len(rows) >= paged.limit:
            break
        item = jsonable(rec)
        stars = item.pop("stars", None)
        rows.append(LeaderboardRow(rank=rank, code=str(code), stars=int(stars) if stars is not None else None,
                                   **item))
    return LeaderboardOut(page=paged.page(len(table)),
                          universe_as_of=str(state.universe.as_of), items=rows)


@router.get("/funds/{code}", response_model=FundDetail, responses=responses(401, 404, 422),
            summary="One fund: facts, fees, metrics and its research card")
def get_fund(code: FundCode, state: State, _caller: Caller, _reference: ReferenceData) -> FundDetail:
    row = detail_row(state.universe, code)
    metrics = state.cached(f"metrics:{code}", lambda: core.fund_metrics(state.universe, code))
    research = state.cached(f"research:{code}", lambda: core.research_card(state.universe, code) or {})
    notes = state.cached(f"notes:{code}", lambda: core.fund_data_notes(state.universe, code, metrics))
    return FundDetail(**row, metrics=metrics, research=research or None, **notes)


@router.get("/model-portfolios", response_model=ModelPortfoliosOut, responses=responses(401),
            summary="Asset-class weights per customer level and horizon")
def model_portfolios(state: State, _caller: Caller, _reference: ReferenceData) -> ModelPortfoliosOut:
    version, rows = state.cached("model_portfolios", lambda: core.model_portfolios(state.universe))
    return ModelPortfoliosOut(model_version=version, universe_as_of=str(state.universe.as_of), items=rows)

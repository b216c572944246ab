"""Everything an RM's client review shows, gathered from the same core functions as the JSON routes.

`build_review` reads the stored customer, assessments and lots, runs the health check, the rebalancing
and the proposal exactly as `POST /v1/customers/{id}/diagnosis | /rebalance | /proposals` do (a batch of
one), and adds what only a page needs: per-lot returns, the look-through and the curves behind the
charts. No strategy — rebalancing plan, proposal or simulated record — is built without a valid
assessment, as the suitability rules require of every door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from advisor.simulation.record import history_note
from api import core, repositories
from api.models import RiskAssessment
from api.portfolio_input import customer_row, customers_frame, holding_rows, holdings_frame
from api.schemas.portfolio import RmClient
from api.state import AppState
from api.web import curves
from api.web.curves import Curve
from api.worklist import rank_clients

DEFAULT_HORIZON_YEARS = 3.0  # what the API assumes when the customer's horizon is not recorded
MIN_PROPOSAL_AMOUNT = 1_000.0
TOP_INDUSTRIES = 10
TOP_STOCKS = 10
MAX_ALERTS = 10  # latest alerts listed on the review
SPECIAL_BUCKETS = ("undisclosed", "non_stock", "HK", "overseas", "no_holdings_data", "cash", "bond", "other")


@dataclass
class Review:
    customer_id: str
    rm_ids: list[str]
    facts: dict[str, Any]
    horizon_recorded: bool
    assessment: dict[str, Any] | None
    history: list[dict[str, Any]]
    entry: RmClient
    universe_version: str
    universe_as_of: str
    model_version: str
    generated_at: datetime
    holdings: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)  # the customer's returns (advisor.lifecycle)
    diagnosis: dict[str, Any] | None = None
    look_through: dict[str, Any] | None = None
    value_curves: dict[str, Curve] | None = None
    strategy_block: str | None = None  # "missing" / "expired": no strategy may be shown
    plan: dict[str, Any] | None = None
    proposal: dict[str, Any] | None = None
    proposal_amount: float = 0.0
    record: Curve | None = None  # constant-weight backtest of the proposed funds (in-sample)
    simulated: dict[str, str] | None = None  # the policy's simulated record as a zh/en sentence
    tasks: list[dict[str, Any]] = field(default_factory=list)  # open 陪伴 follow-ups (critical alerts)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # the latest 陪伴 alerts sent to the customer
    alerts_total: int = 0

    @property
    def level(self) -> int | None:
        return int(self.assessment["level"]) if self.assessment else None


def build_review(state: AppState, session: Session, customer_id: str, today: date,
                 amount: float | None = None) -> Review:
    universe = state.universe
    customer = repositories.get_customer(session, customer_id)
    assessments = repositories.assessments_of(session, customer_id)
    latest = assessments[0] if assessments else None
    entry = rank_clients(state, session, [customer_id], None, today)[0]
    horizon_recorded = bool(customer and customer.horizon_years)
    facts = {"age": customer.age if customer else None,
             "horizon_years": (customer.horizon_years if horizon_recorded and customer else DEFAULT_HORIZON_YEARS),
             "monthly_expenses": customer.monthly_expenses if customer else None,
             "cash": customer.cash if customer else 0.0, "deposits": customer.deposits if customer else 0.0,
             "wealth_products": customer.wealth_products if customer else 0.0,
             "insurance": customer.insurance if customer else 0.0}
    if facts["age"] is None and latest is not None and isinstance(latest.facts, dict):
        facts["age"] = latest.facts.get("age")
    review = Review(customer_id=customer_id, rm_ids=repositories.rms_of(session, customer_id), facts=facts,
                    horizon_recorded=horizon_recorded, assessment=_assessment(latest, today) if latest else None,
                    history=[_assessment(a, today) for a in assessments], entry=entry,
                    universe_version=universe.version, universe_as_of=str(universe.as_of),
                    model_version=state.model_version, generated_at=repositories.utcnow())
    review.tasks, review.alerts, review.alerts_total = _companion(session, customer_id)
    lots = repositories.holdings_of(session, [customer_id])
    holdings = holdings_frame(holding_rows(customer_id, lots))
    customers = customers_frame([customer_row(customer_id, customer, latest)]) if latest is not None else None
    review.holdings, review.totals = _holdings(universe, customers if customers is not None else
                                               _unassessed(customer_id), holdings, today)
    weights = _fund_weights(review.holdings)
    if customers is not None:
        review.diagnosis = core.diagnose_one(universe, customers, holdings)
    if not weights.empty:
        review.look_through = _look_through(universe, weights)
    if latest is None or repositories.is_expired(latest, today):
        review.strategy_block = "missing" if latest is None else "expired"
        review.value_curves = curves.curves(universe, {"portfolio": weights}) if not weights.empty else None
        return review
    level, lowest = int(latest.level), bool(latest.lowest_category)
    horizon = float(facts["horizon_years"])
    model_weights = _model_weights(universe, level, horizon, lowest)
    mixes = {"portfolio": weights, "model": model_weights} if not weights.empty else {}
    review.value_curves = curves.curves(universe, mixes) if mixes else None
    if len(holdings):
        review.plan = core.rebalance_one(universe, customers, holdings, 0.0)
    review.proposal_amount = _proposal_amount(amount, review.totals, facts)
    review.proposal = core.propose(universe, level, review.proposal_amount, horizon, None, lowest)
    lines = pd.Series({line["code"]: float(line["weight"]) for line in review.proposal.get("lines", [])},
                      dtype=float)
    # the strategy's record is the policy's walk-forward simulation (the proposal's `historical`, looked up by
    # advisor.simulation.record.policy_record); the chart beside it is the proposed funds' own constant-weight
    # backtest, labelled in-sample, never presented as the strategy's record
    said = [n for n in review.proposal.get("explanations", []) if str(n.get("code", "")).startswith("history")]
    review.simulated = said[0] if said else history_note(review.proposal.get("historical")).to_dict()
    if not lines.empty:
        record = curves.curves(universe, {"strategy": lines})
        review.record = record["strategy"] if record else None
    return review


def _companion(session: Session, customer_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Open RM tasks and the latest 陪伴 alerts of the customer (advisor.lifecycle.alerts, stored by the
    nightly outbox import or an on-demand evaluation)."""
    from api import lifecycle_store

    fields = ("kind", "severity", "as_of", "title_zh", "title_en", "text_zh", "text_en")
    tasks = [{f: getattr(t, f) for f in fields} for t in lifecycle_store.open_tasks_of_customer(session, customer_id)]
    total, rows = lifecycle_store.alerts_of(session, customer_id, MAX_ALERTS, 0)
    alerts = [{**{f: getattr(a, f) for f in fields}, "read": a.read_at is not None} for a in rows]
    return tasks, alerts, total


def _assessment(row: RiskAssessment, today: date) -> dict[str, Any]:
    return {"id": row.id, "level": int(row.level), "score": float(row.score),
            "lowest_category": bool(row.lowest_category), "assessed_on": repositories.as_utc(row.assessed_at).date(),
            "expires_on": row.expires_on, "expired": repositories.is_expired(row, today),
            "questionnaire_version": row.questionnaire_version, "created_by_role": row.created_by_role}


def _holdings(universe: Any, customers: pd.DataFrame, holdings: pd.DataFrame,
              today: date) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per fund with the after-purchase numbers of `advisor.lifecycle` (market value, cost basis,
    holding gain and return, time- and money-weighted returns), plus the fund's facts and first purchase."""
    if holdings.empty:
        return [], {"market_value": 0.0, "holding_gain": 0.0}
    from advisor.lifecycle.book import load_book
    from advisor.lifecycle.report import customer_returns

    returns = customer_returns(load_book(universe, customers, holdings=holdings, as_of=today), 0)
    funds = universe.funds
    first = holdings.groupby("code")["purchase_date"].min()
    total = float(returns.get("market_value") or 0.0)
    rows = []
    for fund in returns["funds"]:
        code = str(fund["code"])
        if not fund.get("units") and not fund.get("market_value"):
            continue  # sold out (only a ledger can say so); not a holding
        bought = pd.Timestamp(first[code]).date() if code in first.index else None
        rows.append({**fund, "asset_class": str(funds.at[code, "asset_class"]) if code in funds.index else "",
                     "risk_level": f"R{int(funds.at[code, 'risk_level'])}" if code in funds.index else "",
                     "weight": float(fund["market_value"] or 0.0) / total if total > 0 else 0.0,
                     "first_purchase": bought, "days": (today - bought).days if bought else None})
    return rows, returns


def _unassessed(customer_id: str) -> pd.DataFrame:
    """A customers row for the returns of a client without an assessment (returns do not use the level)."""
    return pd.DataFrame({"customer_id": [customer_id], "risk_level": ["C1"]})


def _fund_weights(holdings: list[dict[str, Any]]) -> pd.Series:
    if not holdings:
        return pd.Series(dtype=float)
    frame = pd.DataFrame(holdings)
    return frame.groupby("code")["market_value"].sum().astype(float).loc[lambda s: s > 0]


def _model_weights(universe: Any, level: int, horizon: float, lowest: bool) -> pd.Series:
    from advisor.proposal import target_fund_weights

    return target_fund_weights(universe, level, horizon, lowest_category=lowest)


def _look_through(universe: Any, weights: pd.Series) -> dict[str, Any]:
    from products.research import portfolio_look_through

    result = portfolio_look_through(universe, weights)
    industries: pd.Series = result["industries"]
    named = industries[~industries.index.isin(SPECIAL_BUCKETS)]
    stocks: pd.DataFrame = result["stocks"]
    top = stocks[stocks["exposure"] > 0].head(TOP_STOCKS)
    return {"industries": [(str(k), float(v)) for k, v in named.head(TOP_INDUSTRIES).items()],
            "buckets": {str(k): float(v) for k, v in industries.items() if k in SPECIAL_BUCKETS},
            "stocks": top.to_dict(orient="records"), "notes": list(result["notes"])}


def _proposal_amount(amount: float | None, totals: dict[str, float], facts: dict[str, Any]) -> float:
    """The RM's amount, else what the customer has invested plus cash at the bank (at least ¥1,000)."""
    if amount is not None:
        return float(amount)
    base = float(totals.get("market_value") or 0.0) + float(facts.get("cash") or 0.0)
    return max(MIN_PROPOSAL_AMOUNT, round(base / 100.0) * 100.0)

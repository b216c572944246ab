"""The API's gateway to the core packages: one small function per capability, plain values out.

Routers call these and never import `products`, `risk` or `advisor` internals directly, so the web layer
stays thin and a core signature change touches one file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from api.serialization import jsonable
from products.errors import BadInputError, NotFoundError
from products.universe import Universe


def load_questionnaire() -> Any:
    from risk.questionnaire import load_questionnaire as load

    return load()


def assess(answers: dict[str, str] | None, facts: dict[str, Any] | None, questionnaire: Any,
           customer_id: str, now: datetime) -> dict[str, Any]:
    """Score answers (None = refusal) into the issue-4 result dict."""
    from risk.scoring import assess as score

    result = score(answers, facts, today=now, questionnaire=questionnaire, customer_id=customer_id)
    return jsonable(result.to_dict())


def fund_metrics(universe: Universe, code: str) -> dict[str, Any]:
    """Performance and risk metrics of one fund over its whole history (against its benchmark)."""
    from products.analytics import compute_metrics

    returns = universe.returns[[code]]
    benchmark = None
    try:
        from products.analytics import fund_benchmark_returns

        bench_all = fund_benchmark_returns(universe)
        if code in bench_all.columns:
            benchmark = bench_all[[code]]
    except ImportError:
        benchmark = None
    metrics = compute_metrics(returns, benchmark)
    return jsonable(metrics.loc[code].to_dict()) if code in metrics.index else {}


def research_card(universe: Universe, code: str) -> dict[str, Any] | None:
    try:
        from products.research import research_card as card
    except ImportError:
        return None
    return jsonable(card(universe, code))


def leaderboard(universe: Universe) -> pd.DataFrame:
    from products.research import leaderboard as board

    return board(universe)


def model_portfolios() -> tuple[str, list[dict[str, Any]]]:
    from advisor.model_portfolios import MODEL_VERSION, model_portfolio_table

    table = model_portfolio_table()
    return MODEL_VERSION, jsonable(table.reset_index().to_dict(orient="records"))


def model_version() -> str:
    try:
        from advisor.model_portfolios import MODEL_VERSION
    except ImportError:
        return "unknown"
    return str(MODEL_VERSION)


def propose(universe: Universe, level: int, amount: float, horizon_years: float, target_return: float | None,
            lowest_category: bool) -> dict[str, Any]:
    from advisor.proposal import propose as make

    proposal = make(universe, level, amount, horizon_years, target_return=target_return,
                    lowest_category=lowest_category)
    return jsonable(proposal.to_dict())


def warm_up(universe: Universe) -> None:
    """Compile the optimizers once per universe so the first request is as fast as the rest."""
    try:
        from advisor.proposal import propose as make
    except ImportError:
        return
    for level in range(1, 6):
        for horizon in (0.5, 2.0, 5.0):
            make(universe, level, 100_000.0, horizon)


def mismatch_confirmation(customer_id: str, customer_level: int, product_level: int, product_code: str,
                          kind: str, lowest_category: bool, product_name: str | None,
                          now: datetime) -> dict[str, Any]:
    """The 风险不匹配警示 (zh and en) and the confirmation record, validated by the suitability rules.

    Raises SuitabilityError when no confirmation may unlock the purchase (lowest category, a bank
    wealth-management product above the level) and BadInputError when the product is within the level.
    """
    from risk.warnings import Channel, mismatch_warning, record_confirmation

    record = record_confirmation(customer_id, product_code, customer_level, product_level, channel=Channel.API,
                                 kind=kind, lowest_category=lowest_category, product_name=product_name,
                                 confirmed_at=now)
    warning = mismatch_warning(customer_level, product_level, product_code, product_name)
    return {"version": warning.version, "text_zh": warning.text_zh, "text_en": warning.text_en,
            "channel": record.channel}


def product_level_of(universe: Universe, code: str) -> int:
    if code not in universe.code_index:
        raise NotFoundError(f"fund {code!r} is not in the universe", code="fund_not_found",
                            details={"field": "body.product_code", "code": code})
    return int(universe.funds["risk_level"].iloc[universe.code_index[code]])


def require_codes_known(universe: Universe, codes: list[str], field: str) -> None:
    unknown = [c for c in codes if c not in universe.code_index]
    if unknown:
        raise BadInputError(f"{field}: unknown fund code(s) {', '.join(unknown[:5])}", code="unknown_fund",
                            details={"field": field, "codes": unknown[:20]})


def today() -> date:
    return date.today()


def parse_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])



def diagnose_one(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame) -> dict[str, Any]:
    """The health check of a batch of one, as the issue-6 single-customer JSON."""
    from advisor.diagnosis import diagnose_customer

    return jsonable(diagnose_customer(universe, customers, holdings))


def rebalance_one(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame,
                  cash_flow: float) -> dict[str, Any]:
    """Rebalancing trades for a batch of one, as the issue-7 single-customer JSON."""
    from advisor.rebalancing import rebalance_customer

    return jsonable(rebalance_customer(universe, customers, holdings, cash_flow=cash_flow))


FLAG_WEIGHTS = {"assessment_expired": 50.0, "risk_mismatch": 40.0, "drawdown": 25.0, "drift": 15.0,
                "profile_disagreement": 10.0}


def client_flags(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame,
                 today: date) -> dict[str, dict[str, Any]]:
    """Flags per customer for the RM worklist, with an urgency score (higher first).

    Expired assessments and holdings above the customer's level are computed here from the batch tables
    (vectorized); drift and drawdown come from the health-check engine run on the same batch.
    """
    import numpy as np

    ids = customers["customer_id"].to_numpy(dtype=object)
    expired = (customers["assessment_expires_on"].to_numpy(dtype="datetime64[D]")
               < np.datetime64(today, "D"))
    allowed = np.where(customers["lowest_category"].to_numpy(dtype=bool), 1,
                       customers["risk_level"].str.lstrip("C").astype(int).to_numpy())
    above = np.zeros(len(ids), dtype=bool)
    if len(holdings):
        pos = {cid: i for i, cid in enumerate(ids)}
        cust_idx = np.fromiter((pos[c] for c in holdings["customer_id"]), dtype=np.intp, count=len(holdings))
        fund_idx = universe.index_of(holdings["code"].to_numpy())
        known = fund_idx >= 0
        levels = universe.funds["risk_level"].to_numpy(dtype=float)[fund_idx[known]]
        np.logical_or.at(above, cust_idx[known], levels > allowed[cust_idx[known]])
    flags: dict[str, list[str]] = {cid: [] for cid in ids}
    for i, cid in enumerate(ids):
        if expired[i]:
            flags[cid].append("assessment_expired")
        if above[i]:
            flags[cid].append("risk_mismatch")
    details: dict[str, dict[str, Any]] = {cid: {} for cid in ids}
    for cid, extra in _diagnosis_flags(universe, customers, holdings).items():
        for code, info in extra.items():
            if code not in flags[cid]:
                flags[cid].append(code)
            details[cid][code] = info
    return {cid: {"flags": flags[cid], "details": details[cid],
                  "urgency": float(sum(FLAG_WEIGHTS.get(f, 5.0) for f in flags[cid]))} for cid in ids}


def _diagnosis_flags(universe: Universe, customers: pd.DataFrame,
                     holdings: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Drift / drawdown flags from the health-check engine (empty until it is available)."""
    try:
        from advisor.diagnosis import worklist_flags
    except ImportError:
        return {}
    return jsonable(worklist_flags(universe, customers, holdings))

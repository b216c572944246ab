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
    from products.analytics.report import metrics_for_readers

    metrics = metrics_for_readers(compute_metrics(returns, benchmark))
    return jsonable(metrics.loc[code].to_dict()) if code in metrics.index else {}


def fund_data_notes(universe: Universe, code: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """What a reader must see beside the whole-history metrics (the fund card's rules): warnings (under one
    year: not annualized; short benchmark span; a 0.00 on a fall no market move explains) and how the
    total return was built (`data_quality`)."""
    from products.analytics.report import data_warnings, return_quality, unexplained_fall_warning

    quality = return_quality(universe, code)
    warnings = data_warnings(metrics) if metrics else []
    if metrics.get("start") and metrics.get("end"):
        fall = unexplained_fall_warning(quality, metrics["start"], metrics["end"])
        warnings += [fall] if fall else []
    return jsonable({"warnings": warnings, "data_quality": quality})


def research_card(universe: Universe, code: str) -> dict[str, Any] | None:
    try:
        from products.research import research_card as card
    except ImportError:
        return None
    return jsonable(card(universe, code))


def leaderboard(universe: Universe) -> pd.DataFrame:
    from products.research import leaderboard as board

    return board(universe)


def model_portfolios(universe: Universe) -> tuple[str, list[dict[str, Any]]]:
    """Asset-class weights per level × horizon for this universe, one row per model."""
    from advisor.model_portfolios import MODEL_VERSION, model_portfolio_table
    from products.taxonomy import ASSET_CLASSES

    table = model_portfolio_table(universe)
    classes = [str(c) for c in ASSET_CLASSES if str(c) in table.columns]
    rows = []
    for rec in jsonable(table.to_dict(orient="records")):
        weights = {c: float(rec.pop(c) or 0.0) for c in classes}
        rows.append({**rec, "level": str(rec["level"]), "horizon": str(rec["horizon"]), "weights": weights})
    return MODEL_VERSION, rows


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
    return {**jsonable(proposal.to_dict()), "data_freshness": data_freshness(universe)}


def data_freshness(universe: Universe) -> dict[str, Any]:
    """How old the data is on the bank's business date (`products.freshness`): every result served now
    carries it, with a `stale_data` warning (zh/en) when the data ends more than 10 days before today."""
    from api.clock import business_today
    from products.freshness import freshness

    return jsonable(freshness(universe, business_today()).to_dict())


def warm_up(universe: Universe) -> None:
    """Compile the proposal optimizers once per universe so the first request is as fast as the rest."""
    from advisor import proposal

    if hasattr(proposal, "warm_up"):
        proposal.warm_up(universe)
    for level in range(1, 6):  # and walk each level × horizon once through the whole pipeline
        for horizon in (0.5, 2.0, 5.0):
            proposal.propose(universe, level, 100_000.0, horizon)


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


def execution_levels(universe: Universe, codes: list[str], recorded: list[object]) -> list[int]:
    """The risk level each planned purchase is executed at: the higher of the level recorded in the plan
    and the fund's level in today's universe (a fund re-rated since counts at its new level). A fund no
    longer in the universe cannot be bought: 409 `fund_unavailable`."""
    from products.errors import StaleDataError
    from risk.suitability import product_level_int

    missing = [c for c in codes if c not in universe.code_index]
    if missing:
        raise StaleDataError(f"fund(s) {', '.join(missing[:5])} are no longer offered; request a new plan",
                             code="fund_unavailable", details={"codes": missing[:20]})
    levels = universe.funds["risk_level"].to_numpy()
    out = []
    for code, old in zip(codes, recorded, strict=True):
        now = int(levels[universe.code_index[code]])
        out.append(max(now, product_level_int(old, "risk_level")) if old is not None else now)
    return out


def require_codes_known(universe: Universe, codes: list[str], field: str) -> None:
    unknown = [c for c in codes if c not in universe.code_index]
    if unknown:
        raise BadInputError(f"{field}: unknown fund code(s) {', '.join(unknown[:5])}", code="unknown_fund",
                            details={"field": field, "codes": unknown[:20]})


def parse_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def diagnose_one(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame) -> dict[str, Any]:
    """The health check of a batch of one, as the issue-6 single-customer JSON."""
    from advisor.diagnosis import diagnose_customer, diagnosis_context

    row = jsonable(customers.iloc[0].to_dict())
    payload = {**row, "holdings": jsonable(holdings.drop(columns=["customer_id"]).to_dict(orient="records"))}
    return {**jsonable(diagnose_customer(diagnosis_context(universe), payload)),
            "data_freshness": data_freshness(universe)}


def rebalance_orders(universe: Universe, trades: list[dict[str, Any]], confirmation_id: str,
                     customer_id: str) -> list[dict[str, Any]]:
    """Order instructions (redeem, switch inside one company, subscribe) for a confirmed plan's trades."""
    from advisor.rebalancing.orders import order_instructions

    codes = {str(t["code"]) for t in trades}
    companies = {c: str(universe.funds["company"].iloc[universe.code_index[c]]) for c in codes
                 if c in universe.code_index}
    return jsonable(order_instructions(trades, companies, confirmation_id, customer_id))


def rebalance_one(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame,
                  cash_flow: float) -> dict[str, Any]:
    """Rebalancing trades for a batch of one, as the issue-7 single-customer JSON."""
    from advisor.rebalancing import rebalance_customer

    return {**jsonable(rebalance_customer(universe, customers, holdings, cash_flow=cash_flow)),
            "data_freshness": data_freshness(universe)}


def warm_diagnosis(universe: Universe) -> None:
    """Build the per-universe health-check context once at start-up."""
    try:
        from advisor.diagnosis import diagnosis_context
    except ImportError:
        return
    diagnosis_context(universe)


# RM worklist flag ← the health-check columns that raise it; weight orders the list (critical counts twice).
WORKLIST_FLAGS: dict[str, tuple[tuple[str, ...], float]] = {
    "assessment_expired": (("assessment_expired",), 50.0),
    "risk_mismatch": (("above_level", "portfolio_risk"), 40.0),
    "drawdown": (("drawdown",), 25.0),
    "drift": (("drift_total", "drift_class"), 15.0),
    "concentration": (("top_fund", "company", "manager"), 5.0),
    "liquidity": (("liquidity",), 5.0),
}
PROFILE_FLAG_WEIGHT = 10.0
UNCHECKED_WEIGHT = 60.0  # holdings the health check cannot read: the RM must look before anything else
PROFILE_FLAG_COLUMNS = ("flag_level_gap", "flag_behaviour_more_cautious_than_stated",
                        "flag_behaviour_bolder_than_stated")
KYC_FACTS = ("age", "annual_income", "financial_assets", "debts", "dependents", "occupation")
SEVERITY_FACTOR = {"critical": 2.0, "warning": 1.0}


def client_flags(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame, today: date,
                 facts: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Worklist flags per customer with an urgency score (higher first): one batch health check, plus
    the automatic profile (KYC facts from the assessment, behaviour from the holdings) disagreeing with
    the questionnaire level."""
    from advisor.diagnosis import diagnose_frames, diagnosis_context

    report, rejects = diagnose_frames(diagnosis_context(universe), customers, holdings, as_of=today)
    out: dict[str, dict[str, Any]] = {}
    # a client skipped for a holding the check cannot read (e.g. a fund gone from the universe) is flagged,
    # never silently left off the list
    lots = rejects[rejects["table"] == "holdings"]
    for cid in rejects.loc[(rejects["table"] == "customers") & (rejects["field"] == "holdings"), "customer_id"]:
        reasons = sorted(set(lots.loc[lots["customer_id"].astype(str) == str(cid), "reason"].astype(str)))
        out[str(cid)] = {"flags": ["holdings_unchecked"], "urgency": UNCHECKED_WEIGHT,
                         "details": {"holdings_unchecked": {"reasons": reasons}, "health_score": None}}
    if report.empty:
        return out
    for rec in report.to_dict(orient="records"):
        flags, details, urgency = [], {}, 0.0
        for flag, (columns, weight) in WORKLIST_FLAGS.items():
            worst = max((SEVERITY_FACTOR.get(str(rec.get(c)), 0.0) for c in columns), default=0.0)
            if worst > 0:
                flags.append(flag)
                urgency += weight * worst
                details[flag] = {c: {"severity": rec.get(c), "value": jsonable(rec.get(f"{c}_value"))}
                                 for c in columns if str(rec.get(c)) in SEVERITY_FACTOR}
        details["health_score"] = jsonable(rec.get("health_score"))
        out[str(rec["customer_id"])] = {"flags": flags, "details": details, "urgency": urgency}
    for cid, info in _profile_disagreements(universe, customers, holdings, today, facts or {}).items():
        entry = out.setdefault(cid, {"flags": [], "details": {}, "urgency": 0.0})
        entry["flags"].append("profile_disagreement")
        entry["details"]["profile_disagreement"] = info
        entry["urgency"] += PROFILE_FLAG_WEIGHT
    return out


def _profile_disagreements(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame, today: date,
                           facts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Customers whose inferred profile (risk.profiling) disagrees with their questionnaire level."""
    import numpy as np

    from risk.profiling import profile_batch

    kyc = pd.DataFrame({"customer_id": customers["customer_id"].astype(str),
                        "risk_level": customers["risk_level"].astype(str)})
    for name in KYC_FACTS:
        kyc[name] = [facts.get(cid, {}).get(name) for cid in kyc["customer_id"]]
    kyc["age"] = kyc["age"].fillna(customers["age"].astype(float))
    kyc["occupation"] = kyc["occupation"].astype(object).where(kyc["occupation"].notna(), None)
    if len(holdings):
        lots = holdings.assign(level=universe.funds["risk_level"].reindex(holdings["code"]).to_numpy(dtype=float),
                               days=(pd.Timestamp(today) - pd.to_datetime(holdings["purchase_date"])).dt.days)
        by = lots.groupby("customer_id")
        top = by["level"].max()
        held = lots[lots["level"] == lots["customer_id"].map(top)].groupby("customer_id")["days"].max()
        kyc["max_risk_held"] = kyc["customer_id"].map(top).map(lambda v: f"R{int(v)}" if v == v else None)
        kyc["max_risk_held_months"] = kyc["customer_id"].map(held / 30.4)
        kyc["typical_holding_days"] = kyc["customer_id"].map(by["days"].median())
    profiles, _rejects = profile_batch(kyc, evidence_text=False)
    out: dict[str, dict[str, Any]] = {}
    for rec in profiles.to_dict(orient="records"):
        raised = [c.removeprefix("flag_") for c in PROFILE_FLAG_COLUMNS if bool(rec.get(c))]
        if raised:
            out[str(rec["customer_id"])] = {
                "inferred_level": f"C{int(rec['inferred_level'])}", "stated_level": f"C{int(rec['stated_level'])}",
                "level_gap": jsonable(rec.get("level_gap")), "reasons": raised,
                "confidence": jsonable(np.round(float(rec.get("confidence", 0.0)), 3))}
    return out

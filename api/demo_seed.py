"""Demo customers, assessments, holdings and an RM book for `advisor serve` on the demo default.

Idempotent: customers that already exist are left alone (their history is append-only anyway).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from api import core, repositories
from api.auth import Capacity
from api.models import RiskAssessment
from api.state import AppState

DEMO_RM = "demo-rm"
AGE_BAND_STARTS = (18, 31, 41, 51, 65, 75)  # the questionnaire's age options: <18, 18–30, …, 75+
# customer id → (option picked on every question, facts, holdings as (risk level wanted, amount, days held))
DEMO_CUSTOMERS: dict[str, tuple[str, dict, list[tuple[int, float, int]]]] = {
    "demo-c1": ("B", {"age": 58, "cash": 20_000.0, "monthly_expenses": 6_000.0, "horizon_years": 1.0},
                [(4, 60_000.0, 400), (1, 10_000.0, 30)]),
    "demo-c2": ("C", {"age": 41, "cash": 50_000.0, "monthly_expenses": 12_000.0, "horizon_years": 3.0},
                [(2, 80_000.0, 200), (3, 40_000.0, 900)]),
    "demo-c3": ("D", {"age": 33, "cash": 5_000.0, "monthly_expenses": 8_000.0, "horizon_years": 5.0},
                [(4, 150_000.0, 5)]),
}


def seed_demo(state: AppState) -> list[str]:
    """Create the demo book if missing; returns the demo customer ids."""
    funds = state.universe.funds
    with state.sessions() as session:
        for cid, (pick, facts, lots) in DEMO_CUSTOMERS.items():
            if repositories.get_customer(session, cid) is not None:
                continue
            repositories.upsert_customer(session, cid, **{k: v for k, v in facts.items() if k != "age"},
                                         age=facts["age"])
            repositories.assign(session, DEMO_RM, cid, by="demo-seed")
            _assess(session, state, cid, pick, facts["age"])
            holdings = []
            for level, amount, days in lots:
                codes = funds.index[funds["risk_level"].astype(int) == level]
                if len(codes):
                    holdings.append({"code": str(codes[0]), "amount": amount, "shares": None,
                                     "purchase_date": date.today() - timedelta(days=days)})
            repositories.replace_holdings(session, cid, holdings)
        session.commit()
    return list(DEMO_CUSTOMERS)


def _assess(session: Session, state: AppState, cid: str, pick: str, age: int) -> None:
    qn = state.questionnaire
    answers = {}
    for q in qn.questions:
        ids = [o.id for o in q.options]
        answers[q.id] = pick if pick in ids else ids[-1]
        if q.dimension == "basic" and len(ids) == len(AGE_BAND_STARTS) + 1:  # the age question: answer truthfully
            answers[q.id] = ids[sum(age >= start for start in AGE_BAND_STARTS)]
    now = repositories.utcnow()
    result = core.assess(answers, {"age": age}, qn, cid, now)
    repositories.add_assessment(session, RiskAssessment(
        id=repositories.new_id(), customer_id=cid, level=int(str(result["level"]).lstrip("C")),
        score=float(result["score"]), lowest_category=bool(result["lowest_category"]), assessed_at=now,
        expires_on=core.parse_date(result["expires_on"]), questionnaire_version=str(result["questionnaire_version"]),
        answers=answers, facts={"age": age}, result=result, created_by_role="ops", created_by="demo-seed",
        created_at=now, acting_capacity=str(Capacity.IMPORTED)))

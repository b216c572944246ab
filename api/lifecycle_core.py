"""The API's gateway to `advisor.lifecycle`: one small function per capability, plain values out.

A customer is a batch of one: the same loaders, engines and policy as the nightly run, fed from the stored
records (ledger, or the stored lots where there is no ledger; goals; SIP plans; alert history; opt-outs).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from api.serialization import jsonable
from products.errors import BadInputError
from products.universe import Universe


def _book(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame | None, ledger: pd.DataFrame | None,
          as_of: date):
    from advisor.lifecycle.book import load_book

    return load_book(universe, customers, holdings=holdings if holdings is not None and len(holdings) else None,
                     ledger=ledger, as_of=as_of)


def ledger_rejects(universe: Universe, customers: pd.DataFrame, ledger: pd.DataFrame, as_of: date,
                   first_new_row: int) -> list[dict[str, Any]]:
    """Rows from `first_new_row` on that the ledger rules refuse (the stored rows come first)."""
    book = _book(universe, customers, None, ledger, as_of)
    rejects = book.rejects[(book.rejects["table"] == "ledger") & (book.rejects["row"] >= first_new_row)]
    return [{"row": int(r) - first_new_row, "field": str(f), "reason": str(why)}
            for r, f, why in zip(rejects["row"], rejects["field"], rejects["reason"], strict=True)]


def customer_returns(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame | None,
                     ledger: pd.DataFrame | None, as_of: date) -> dict[str, Any]:
    from advisor.lifecycle.report import customer_returns as report

    book = _book(universe, customers, holdings, ledger, as_of)
    return jsonable(report(book, 0))


def customer_statement(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame | None,
                       ledger: pd.DataFrame | None, as_of: date, period: str, health: bool,
                       assessed: bool) -> dict[str, Any]:
    from advisor.lifecycle.statements import health_of, parse_period, statement

    chosen = parse_period(period)
    book = _book(universe, customers, holdings, ledger, as_of)
    end = min(chosen.end, book.as_of)
    result = statement(book, chosen, 0, health=health_of(book, 0, end) if health and assessed else None)
    if not assessed:  # no risk level known: no model to compare with
        result["allocation"] = {"actual": None, "target": None, "drift": None}
        result.update(_explain(result, chosen))
    return jsonable(result)


def _explain(result: dict[str, Any], period: Any) -> dict[str, str]:
    from advisor.lifecycle.statements import explain_statement

    return explain_statement(result, period)


def goal_projection(universe: Universe, *, target: float, months: int, initial: float, monthly: float,
                    level: int, kind: str, name: str) -> dict[str, Any]:
    from advisor.lifecycle.goals import Goal, project_goal

    goal = Goal.build(target=target, months=max(months, 1), initial=initial, monthly=monthly, level=max(level, 1),
                      name=name, kind=kind)
    return jsonable(project_goal(universe, goal))


def months_until(as_of: date, target: date) -> int:
    from advisor.lifecycle.goals import months_until as months

    return months(as_of, target)


def sip_plan(universe: Universe, fields: dict[str, Any], level: int, lowest_category: bool) -> dict[str, Any]:
    """The validated plan (legs normalized) or a `BadInputError` / `SuitabilityError` naming the field."""
    from advisor.lifecycle.sip import SipPlan, validate_plan

    plan = SipPlan.build(amount=fields["amount"], frequency=fields["frequency"], day=fields["day"],
                         legs=fields["legs"], mode=fields["mode"], target_return=fields.get("target_return"),
                         on_target=fields["on_target"], name=fields.get("name") or "")
    facts = validate_plan(universe, plan, level, lowest_category)
    out = plan.to_dict()
    out["legs"] = [{"code": leg.code, "weight": round(leg.weight, 6), "name": facts.names[i],
                    "min_sip": float(facts.min_sip[i]), "risk_level": f"R{int(facts.risk_level[i])}"}
                   for i, leg in enumerate(plan.legs)]
    return out


def plan_suitability(universe: Universe, codes: list[str], level: int | None, lowest_category: bool,
                     expires_on: date | None, today: date) -> dict[str, Any]:
    """Whether a stored plan may debit today: the one hold rule of the nightly batch
    (`advisor.lifecycle.sip_guard`) — assessment valid, every fund within the level and open."""
    from advisor.lifecycle.sip_guard import plan_hold

    return plan_hold(universe, codes, level, lowest_category, expires_on, today)


def model_legs(universe: Universe, level: int, amount: float, horizon_years: float,
               lowest_category: bool) -> list[dict[str, Any]]:
    from advisor.lifecycle.sip import plan_from_model

    plan = plan_from_model(universe, level, amount, horizon_years, lowest_category=lowest_category)
    return [{"code": leg.code, "weight": leg.weight} for leg in plan.legs]


def simulate_sip(universe: Universe, fields: dict[str, Any], start: date, end: date | None, level: int | None,
                 lowest_category: bool, model: tuple[int, float, bool] | None = None) -> dict[str, Any]:
    """The plan through the walk-forward simulator; with `model` (level, horizon years, lowest category) its
    debits follow that model as known at each date instead of the plan's own funds."""
    from advisor.lifecycle.sip import SipPlan, simulate_plan

    plan = SipPlan.build(amount=fields["amount"], frequency=fields["frequency"], day=fields["day"],
                         legs=fields["legs"], mode=fields["mode"], target_return=fields.get("target_return"),
                         on_target=fields["on_target"], name=fields.get("name") or "", model=model)
    return jsonable(simulate_plan(universe, plan, start, end, customer_level=level, lowest_category=lowest_category))


def alert_kinds() -> tuple[str, ...]:
    from advisor.lifecycle.alerts import KINDS

    return KINDS


def evaluate_alerts(universe: Universe, customers: pd.DataFrame, holdings: pd.DataFrame | None,
                    ledger: pd.DataFrame | None, goals: pd.DataFrame | None, plans: pd.DataFrame | None,
                    preferences: pd.DataFrame | None, history: pd.DataFrame, as_of: date
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, float]]:
    """The nightly run for a batch of one: (alerts to push, RM tasks, goal id → probability)."""
    from advisor.lifecycle.nightly import prepare_tables, run_chunk

    if holdings is None and ledger is None:
        raise BadInputError("the customer has neither stored holdings nor ledger transactions",
                            details={"field": "holdings"})
    tables = prepare_tables(universe, customers, as_of=as_of, holdings=holdings, ledger=ledger, goals=goals,
                            plans=plans, preferences=preferences, history=history)
    if len(tables.rejects):
        first = tables.rejects.iloc[0]
        raise BadInputError(f"stored {first['table']} row {first['row']}: {first['field']}: {first['reason']}",
                            details={"field": str(first["field"]), "table": str(first["table"])})
    chunk = run_chunk(tables, 0, 1)
    run = chunk.alerts
    probabilities = ({str(g): float(p) for g, p in zip(chunk.goals["goal_id"], chunk.goals["probability"],
                                                        strict=True)} if len(chunk.goals) else {})
    return (jsonable(run.outbox.to_dict(orient="records")), jsonable(run.rm_tasks.to_dict(orient="records")),
            probabilities)

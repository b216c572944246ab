"""Text a customer reads: no code identifiers inside Chinese.

Every Chinese string that proposals, the health check and rebalancing produce — for every level, horizon
and a ladder of amounts, and for a generated book of customers — is scanned: no snake_case identifier
anywhere in a Chinese string, and no lowercase English word inside a `*zh` field.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest

from advisor.demo_customers import generate
from advisor.diagnosis import diagnose_customer, diagnosis_context
from advisor.proposal import propose
from advisor.rebalancing import rebalance_book
from products.serialization import jsonable

CJK = re.compile(r"[\u4e00-\u9fff]")
SNAKE = re.compile(r"[A-Za-z0-9]+_[A-Za-z0-9_]+")
ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_])[a-z]{2,}(?![A-Za-z0-9_])")


def chinese_strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """(key, text) for every string holding Chinese, anywhere in a JSON-like value."""
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in chinese_strings(v, str(k))]
    if isinstance(value, list):
        return [hit for v in value for hit in chinese_strings(v, key)]
    if isinstance(value, str) and CJK.search(value):
        return [(key, value)]
    return []


def identifiers_in(key: str, text: str) -> list[str]:
    found = SNAKE.findall(text)
    if key.lower().endswith("zh"):
        found += ENGLISH_WORD.findall(text)
    return found


def offenders(texts: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, text in texts:
        found = identifiers_in(key, text)
        if found:
            out.setdefault(text[:160], found)
    return out


def test_the_scanner_finds_identifiers():
    assert identifiers_in("zh", "global_equity类别暂无,已转入cash类别") == ["global_equity", "cash"]
    assert identifiers_in("explanation_zh", "现金 19.3%(模型 55.1%)") == []
    assert identifiers_in("note", "cash 19.3%(模型55.1%)") == []  # English outside a zh field: not judged
    assert identifiers_in("zh", "cash 19.3%(模型55.1%)") == ["cash"]
    assert identifiers_in("zh", "R3 QDII ETF 000001") == []


def test_proposal_texts(demo_universe):
    texts = []
    for level, years, amount in itertools.product(range(1, 6), (0.5, 2, 5), (500, 1_500, 20_000, 600_000)):
        texts += chinese_strings(jsonable(propose(demo_universe, level, amount, years).to_dict()))
    texts += chinese_strings(jsonable(propose(demo_universe, 3, 20_000, 2, lowest_category=True).to_dict()))
    assert texts
    assert offenders(texts) == {}


@pytest.fixture(scope="module")
def book(demo_universe):
    customers, holdings = generate(demo_universe, 80, seed=3, as_of=demo_universe.as_of)
    return customers.to_pandas(), holdings.to_pandas()


def test_health_check_texts(demo_universe, book):
    customers, holdings = book
    ctx = diagnosis_context(demo_universe)
    texts = []
    for _, row in customers.iterrows():
        payload = jsonable({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()})
        lots = holdings.loc[holdings["customer_id"] == row["customer_id"]].drop(columns=["customer_id"])
        payload["holdings"] = jsonable(lots)
        texts += chinese_strings(jsonable(diagnose_customer(ctx, payload, as_of=demo_universe.as_of)))
    assert len(texts) > 500
    assert offenders(texts) == {}


def test_rebalancing_texts(demo_universe, book):
    customers, holdings = book
    result = rebalance_book(demo_universe, customers, holdings, as_of=demo_universe.as_of)
    texts = chinese_strings(jsonable(result.summary)) + chinese_strings(jsonable(result.trades))
    assert offenders(texts) == {}


def test_after_the_purchase_texts(demo_universe, book):
    """陪伴 messages and RM tasks of a demo book's night, monthly and yearly statements, goal projections and
    SIP simulations (with target-profit stop and take-profit)."""
    from datetime import date

    from advisor.lifecycle.book import load_book
    from advisor.lifecycle.demo import generate_lifecycle
    from advisor.lifecycle.goals import Goal, project_goal
    from advisor.lifecycle.nightly import prepare_tables, run_chunk
    from advisor.lifecycle.sip import plan_from_model, simulate_plan, with_mode
    from advisor.lifecycle.statements import health_of, parse_period, statement

    as_of = demo_universe.as_of
    customers, holdings = generate(demo_universe, 300, seed=7, as_of=as_of)
    extra = generate_lifecycle(demo_universe, customers, holdings, seed=7, as_of=as_of)
    tables = prepare_tables(demo_universe, customers, as_of=as_of, holdings=holdings, ledger=extra["ledger"],
                            goals=extra["goals"], plans=extra["sip_plans"], debits=extra["sip_debits"],
                            preferences=extra["alert_preferences"], fund_events=extra["fund_events"])
    run = run_chunk(tables, 0, 300).alerts
    texts = chinese_strings(jsonable(run.outbox.to_dict("records")))
    texts += chinese_strings(jsonable(run.rm_tasks.to_dict("records")))
    assert len(run.outbox) > 50
    frame = customers.to_pandas().head(20)
    ledger = extra["ledger"][extra["ledger"]["customer_id"].isin(frame["customer_id"])]
    lifecycle_book = load_book(demo_universe, frame, ledger=ledger, as_of=as_of)
    periods = [parse_period(f"{as_of.year - 1}-12"), parse_period(str(as_of.year - 1))]
    for i in range(lifecycle_book.n):
        for period in periods:
            texts += chinese_strings(jsonable(statement(lifecycle_book, period, i,
                                                        health=health_of(lifecycle_book, i, as_of))))
    for level in (0, 1, 3, 5):
        goal = Goal.build(target=300_000, years=8, initial=20_000, monthly=1_500, level=max(level, 1),
                          kind="reserve" if level == 0 else "target")
        texts += chinese_strings(jsonable(project_goal(demo_universe, goal)))
    plan = plan_from_model(demo_universe, 3, 1_000)
    for variant in (plan, with_mode(plan, mode="smart"), with_mode(plan, target_return=0.05, on_target="stop"),
                    with_mode(plan, target_return=0.05, on_target="take_profit")):
        texts += chinese_strings(jsonable(simulate_plan(demo_universe, variant, date(as_of.year - 4, 1, 1))))
    assert len(texts) > 300
    assert offenders(texts) == {}

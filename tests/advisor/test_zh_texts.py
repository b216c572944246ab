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

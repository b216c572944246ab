"""research_card: the keys `advisor funds show --json` merges, on synthetic, demo and real funds."""

from __future__ import annotations

import json

import pytest

from advisor.cli.common import to_jsonable
from products.errors import NotFoundError
from products.research import DIMENSIONS, STYLE_NAMES, research_card


def _check_shape(card: dict) -> None:
    assert set(card["dimensions"]) == set(DIMENSIONS)
    assert {"as_of", "industries", "top_stocks"} <= set(card["look_through"])
    assert {"weights", "r_squared", "drift"} <= set(card["style"])
    json.dumps(to_jsonable(card), ensure_ascii=False)  # JSON-ready


def test_card_of_a_rated_equity_fund(synthetic_universe):
    card = research_card(synthetic_universe, "100001")
    _check_shape(card)
    assert card["rated"] and card["stars"] in range(1, 6)
    assert card["look_through"]["quarter"] == "2024-Q4"
    assert card["look_through"]["top_stocks"][0]["stock_code"] == "600001"
    assert card["look_through"]["industries"]["HK"] == pytest.approx(0.05)
    assert list(card["style"]["weights"]) == [s for s in STYLE_NAMES if s != "hk_equity"]  # no HSI series here
    assert sum(card["style"]["weights"].values()) == pytest.approx(1.0)
    assert card["style"]["holdings"]["boards"]["HK"] > 0


def test_card_of_an_unrated_fund_and_unknown_code(synthetic_universe):
    card = research_card(synthetic_universe, "100012")
    _check_shape(card)
    assert card["stars"] is None and not card["rated"] and "3" in card["unrated_reason"]
    with pytest.raises(NotFoundError):
        research_card(synthetic_universe, "000000")


def test_card_point_in_time(synthetic_universe):
    card = research_card(synthetic_universe, "100001", as_of="2024-11-30")
    assert card["as_of"] == "2024-11-30"
    assert card["look_through"]["quarter"] == "2024-Q3"
    assert card["style"]["window_end"] <= "2024-11-30"


def test_card_on_the_demo_universe(demo_universe):
    for code in demo_universe.codes[::10]:
        _check_shape(research_card(demo_universe, code))


def test_card_on_real_funds(real_universe):
    bank = research_card(real_universe, "000051")  # 华夏沪深300ETF联接A
    _check_shape(bank)
    assert bank["category"] == "index" and bank["rated"]
    assert bank["style"]["weights"]["cn_large_cap"] > 0.8
    gold = research_card(real_universe, "000216")  # 华安黄金ETF联接A
    assert gold["style"]["weights"]["gold"] > 0.9
    assert gold["look_through"]["industries"] == {"non_stock": 1.0}


def test_card_without_style_series_still_answers(synthetic_universe):
    import dataclasses

    bare = dataclasses.replace(synthetic_universe, benchmarks=synthetic_universe.benchmarks[["cn_large_cap"]])
    card = research_card(bare, "100001")
    assert card["style"]["weights"] == {} and "style basis" in card["style"]["unavailable"]
    assert card["stars"] is not None

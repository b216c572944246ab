"""The research functions on the small real fixture (24 funds, 2020–2022, with an A/C pair)."""

from __future__ import annotations

import numpy as np
import pytest

from products.loading import load_universe
from products.research import DIMENSIONS, holdings_overlap, leaderboard, look_through, research_card
from products.research._common import MIN_PEERS


@pytest.fixture(scope="module")
def small(fixture_small):
    return load_universe(fixture_small)


def test_ac_pair_overlaps_fully(small):
    ov = holdings_overlap(small, ["000118", "000119", "000311"])
    assert ov.loc["000118", "000119"] == 1.0
    assert ov.loc["000118", "000311"] < 0.5


def test_fixture_leaderboard_groups_and_stars(small):
    board = leaderboard(small)
    assert board["rated"].sum() >= 16
    assert board.loc["000055", "category"] == "qdii"  # never merged with A-share funds
    # a peer group too small to rank against (fewer than MIN_PEERS funds with 3 years) is not rated
    sizes = board.groupby("category")["rated"].sum()
    assert (sizes[sizes > 0] >= MIN_PEERS).all()
    assert board.loc["001632", "category"] == "sector_index" and not board.loc["001632", "rated"]
    for _, rows in board[board["rated"]].groupby("category"):
        if len(rows) >= 5:
            assert rows["stars"].max() == 5 and rows.loc[rows["stars"].idxmax(), "score"] == rows["score"].max()
        if len(rows) >= 6:
            assert rows["stars"].min() == 1
    assert board.loc[board["rated"], list(DIMENSIONS)].notna().all().all()


def test_fixture_look_through_and_card(small):
    result = look_through(small)
    np.testing.assert_allclose(result.industries.sum(axis=1), 1.0)
    card = research_card(small, "000311")  # 景顺长城沪深300指数增强A
    assert card["style"]["weights"]["cn_large_cap"] > 0.7
    assert card["look_through"]["top_stocks"]

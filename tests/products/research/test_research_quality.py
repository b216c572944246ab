"""The one quality rule: weak = rated and (≤ max stars or bottom share of its rated peer group)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from products.research import leaderboard
from products.research.quality import QualityRule, fund_quality, quality_from_leaderboard, weak_mask


def test_weak_is_low_stars_or_bottom_share_and_never_unrated_or_money_market():
    board = pd.DataFrame({
        "category": ["equity"] * 8 + ["money_market"] * 2,
        "fund_type": ["active_equity"] * 8 + ["money_market"] * 2,
        "score": [90, 80, 70, 60, 50, 40, 30, np.nan, 10, 20],
        "rated": [True] * 7 + [False] + [True] * 2,
        "stars": [5, 4, 4, 3, 3, 2, 3, np.nan, 1, 1],
    }, index=pd.Index([f"00000{i}" for i in range(8)] + ["990001", "990002"], name="code"))
    q = quality_from_leaderboard(board, list(board.index))
    # 7 rated equity funds: percentiles 1/7 … 7/7, so the bottom 25% is the lowest score alone (1/7)
    assert q.loc["000005", "weak"] and q.loc["000005", "reason"] == "stars" and not q.loc["000005", "bottom"]
    assert q.loc["000006", "bottom"] and q.loc["000006", "weak"] and q.loc["000006", "reason"] == "bottom_share"
    assert not q.loc["000004", "weak"]
    assert not q.loc["000007", "weak"], "an unrated fund is never weak"
    assert not q.loc[["990001", "990002"], "weak"].any(), "money-market funds are never weak"
    strict = quality_from_leaderboard(board, list(board.index), QualityRule(max_stars=3, bottom_share=0.0))
    assert strict.loc[["000003", "000004", "000005", "000006"], "weak"].all()
    assert not strict.loc[["000000", "000001", "000002"], "weak"].any()


def test_fund_quality_aligns_on_the_universe_and_agrees_with_the_leaderboard(synthetic_universe):
    universe = synthetic_universe
    q = fund_quality(universe)
    assert list(q.index) == list(universe.funds.index)
    board = leaderboard(universe).reindex(universe.funds.index)
    expected = (board["stars"] <= 2).fillna(False).to_numpy()
    assert (q["weak"].to_numpy() >= expected).all(), "every fund with ≤ 2 stars is weak"
    assert np.array_equal(weak_mask(universe), q["weak"].to_numpy())
    assert not q.loc[board["rated"].fillna(False).astype(bool).eq(False).to_numpy(), "weak"].any()


def test_missing_leaderboard_means_nothing_is_weak():
    q = quality_from_leaderboard(pd.DataFrame(), ["000001", "000002"])
    assert not q["weak"].any() and q["stars"].isna().all()

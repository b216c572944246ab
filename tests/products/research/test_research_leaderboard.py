"""Leaderboard: contract, unrated funds, star split, point in time, weights, dimension directions."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from products.errors import BadInputError
from products.research import DIMENSIONS, assign_stars, leaderboard
from products.research._common import peer_percentile
from products.research.leaderboard import STAR_SPLIT

COLUMNS = ["name", "category", "score", "stars", "rated", *DIMENSIONS]


def _check_split(board: pd.DataFrame) -> None:
    """Each group's star counts are within one fund of 10 / 22.5 / 35 / 22.5 / 10 % (or of the largest
    group of near-identical trackers, which share one rating)."""
    for group, rows in board[board["rated"]].groupby("category"):
        n = len(rows)
        counts = rows["stars"].value_counts().reindex([5, 4, 3, 2, 1], fill_value=0).to_numpy()
        assert counts.sum() == n
        largest_tie = int(rows["rating_score"].value_counts().max())
        assert np.all(np.abs(counts - np.array(STAR_SPLIT) * n) <= max(1.0, largest_tie)), (group, counts, n)
        # more stars always means a higher rating inside the group
        by_star = rows.groupby("stars")["rating_score"]
        assert (by_star.min().sort_index().to_numpy()[1:] >= by_star.max().sort_index().to_numpy()[:-1]).all()


def test_contract_columns_and_ranges(synthetic_universe):
    board = leaderboard(synthetic_universe)
    assert set(COLUMNS) <= set(board.columns)
    assert board.index.name == "code"
    rated = board[board["rated"]]
    assert rated[list(DIMENSIONS)].apply(lambda s: s.between(0, 100)).all().all()
    assert rated["stars"].isin([1, 2, 3, 4, 5]).all()
    assert set(board["category"]) == {"active_equity", "bond", "index"}


def test_young_fund_is_listed_unrated(synthetic_universe):
    board = leaderboard(synthetic_universe)
    young = board.loc["100012"]
    assert not young["rated"] and pd.isna(young["stars"]) and pd.isna(young["score"])
    assert young["history_years"] == pytest.approx(1.0, abs=0.05)


def test_star_split_synthetic_and_every_group_size():
    for n in range(1, 60):
        stars = assign_stars(pd.Series(np.arange(n, dtype=float)), pd.Series(["g"] * n))
        counts = stars.value_counts().reindex([5, 4, 3, 2, 1], fill_value=0).to_numpy()
        assert np.all(np.abs(counts - np.array(STAR_SPLIT) * n) <= 1.0), (n, counts)
        assert stars.iloc[-1] == (5 if n >= 5 else stars.max())  # the best score gets the most stars


def test_dimension_directions(synthetic_universe):
    board = leaderboard(synthetic_universe)
    equity = board[(board["category"] == "active_equity") & board["rated"]]
    # alpha rises with the fund number: excess return ranks follow it
    assert equity["excess_return"].idxmax() == "100011"
    assert equity["excess_return"].idxmin() == "100001"
    bonds = board[board["category"] == "bond"]
    assert bonds["volatility_control"].idxmax() == "200001"  # the calmest bond fund
    assert bonds["volatility_control"].idxmin() == "200010"


def test_manager_stability_known_unknown_and_future(synthetic_universe):
    board = leaderboard(synthetic_universe)
    assert board.loc["100003", "manager_stability"] > board.loc["100004", "manager_stability"]
    assert board.loc["100005", "manager_stability"] == 50.0  # unknown tenure is neutral
    past = leaderboard(synthetic_universe, as_of="2024-01-31")
    assert past.loc["100004", "manager_stability"] == 50.0  # that manager had not started yet


def test_weights_configurable_and_validated(synthetic_universe):
    board = leaderboard(synthetic_universe, weights={"excess_return": 1.0})
    rated = board[board["rated"]]
    np.testing.assert_allclose(rated["score"], rated["excess_return"])
    with pytest.raises(BadInputError, match="unknown leaderboard dimension"):
        leaderboard(synthetic_universe, weights={"alpha": 1.0})
    with pytest.raises(BadInputError, match="non-negative"):
        leaderboard(synthetic_universe, weights={"excess_return": -1.0})
    with pytest.raises(BadInputError, match="as_of"):
        leaderboard(synthetic_universe, as_of="yesterday-ish")


def test_point_in_time_ignores_later_data(synthetic_universe):
    as_of = pd.Timestamp("2023-06-30")
    rng = np.random.default_rng(1)
    later = synthetic_universe.returns.index > as_of
    returns = synthetic_universe.returns.copy()
    returns.loc[later] = rng.normal(0, 0.05, (later.sum(), returns.shape[1]))
    bench = synthetic_universe.benchmarks.copy()
    bench.loc[bench.index > as_of] *= 1.5
    funds = synthetic_universe.funds.copy()
    funds.loc["100003", "manager_since"] = pd.Timestamp("2024-03-01")  # a manager change after as_of
    perturbed = dataclasses.replace(synthetic_universe, returns=returns, benchmarks=bench, funds=funds)
    a = leaderboard(synthetic_universe, as_of)
    b = leaderboard(perturbed, as_of)
    cols = ["score", "stars", "rated", *DIMENSIONS]
    cols.remove("manager_stability")  # a manager who starts later is unknown at as_of: checked below
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert b.loc["100003", "manager_stability"] == 50.0
    assert a.attrs["as_of"] == "2023-06-30"


def test_peer_percentile_formula():
    raw = pd.Series([1.0, 2.0, 3.0, np.nan, 5.0], index=list("abcde"))
    groups = pd.Series(["g", "g", "g", "g", "h"], index=raw.index)
    eligible = pd.Series(True, index=raw.index)
    pct = peer_percentile(raw, groups, eligible)
    assert pct.tolist() == [0.0, 50.0, 100.0, 50.0, 50.0]  # NaN → neutral, a group of one → 50
    assert peer_percentile(raw, groups, eligible, higher_is_better=False)["a"] == 100.0


# ---------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------

def test_real_stars_follow_the_split(real_universe):
    board = leaderboard(real_universe)
    assert board["rated"].sum() > 450
    _check_split(board)
    assert board.loc[board["rated"], list(DIMENSIONS)].notna().all().all()


def test_real_point_in_time_ranking(real_universe):
    as_of = "2021-12-31"
    returns = real_universe.returns.copy()
    later = returns.index > pd.Timestamp(as_of)
    returns.loc[later] = returns.loc[later] * -3.0 + 0.01
    perturbed = dataclasses.replace(real_universe, returns=returns)
    a = leaderboard(real_universe, as_of)
    b = leaderboard(perturbed, as_of)
    pd.testing.assert_frame_equal(a[["score", "stars", *DIMENSIONS]], b[["score", "stars", *DIMENSIONS]])
    # funds launched after as_of are not listed; funds under 3 years then are unrated
    first = real_universe.returns.notna().idxmax()
    assert not set(first[first > pd.Timestamp(as_of)].index) & set(a.index)
    young = first[(first > pd.Timestamp("2019-01-15")) & (first <= pd.Timestamp(as_of))].index
    assert len(young) and not a.loc[young, "rated"].any()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(-1e6, 1e6)), min_size=1, max_size=80))
def test_star_split_property(rows):
    groups = pd.Series([g for g, _ in rows])
    score = pd.Series([s for _, s in rows])
    stars = assign_stars(score, groups)
    for g in groups.unique():
        mask = groups == g
        n = int(mask.sum())
        counts = stars[mask].value_counts().reindex([5, 4, 3, 2, 1], fill_value=0).to_numpy()
        # within one fund of the split; ties (which must share a star) can move it by at most the tie's size
        largest_tie = int(score[mask].value_counts().max())
        assert np.all(np.abs(counts - np.array(STAR_SPLIT) * n) <= max(1.0, largest_tie))
        # a strictly higher score never gets fewer stars, and equal scores get equal stars
        s, k = score[mask].to_numpy(), stars[mask].to_numpy()
        order = np.argsort(-s, kind="stable")
        assert np.all(np.diff(k[order]) <= 0)
        assert (pd.Series(k).groupby(s).nunique() == 1).all()


def test_equal_scores_get_equal_stars_whatever_their_codes():
    """Two funds tied on score across the 5★ cut used to split 5★ / 4★ by fund code; now they match."""
    scores = [100.0, 90.0, 90.0, *np.linspace(80, 1, 17)]  # n = 20: the top 2 positions are 5★
    for codes in (["A", "B", "C"], ["A", "C", "B"]):
        index = [*codes, *(f"Z{k:02d}" for k in range(17))]
        stars = assign_stars(pd.Series(scores, index=index), pd.Series("g", index=index))
        assert stars["B"] == stars["C"] == 5 and stars["A"] == 5 and stars["Z00"] == 4
    tie_below = [100.0, 95.0, 90.0, 90.0, 90.0, *np.linspace(80, 1, 15)]  # the tie is mostly below the cut
    stars = assign_stars(pd.Series(tie_below), pd.Series(["g"] * 20))
    assert stars.tolist()[:5] == [5, 5, 4, 4, 4]
    flat = assign_stars(pd.Series([7.0] * 10), pd.Series(["g"] * 10))
    assert flat.nunique() == 1

"""US-dollar classes and modelled money funds on the full real data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from products.research import leaderboard
from products.research.leaderboard import STAR_SPLIT
from products.share_classes import yuan_class_of


def test_every_dollar_class_carries_its_currency(real_universe) -> None:
    funds = real_universe.funds
    dollar_named = funds["name"].str.contains("美元")
    assert dollar_named.sum() >= 15
    assert (funds.loc[dollar_named, "currency"] == "USD").all()
    assert (funds.loc[~dollar_named, "currency"] == "CNY").all()
    assert funds.loc[funds["fund_type"] == "money_market", "modelled"].all()
    assert not funds.loc[funds["fund_type"] != "money_market", "modelled"].any()


def test_dollar_classes_are_ranked_as_their_fund_and_placeholders_never(real_universe) -> None:
    board = leaderboard(real_universe)
    funds = real_universe.funds
    sibling = yuan_class_of(funds)
    with_yuan = [c for c in funds.index[funds["currency"] == "USD"] if sibling[c] in board.index]
    assert len(with_yuan) >= 8
    for code in with_yuan:
        assert board.at[code, "rated_as"] == sibling[code]
        for col in ("score", "stars", "rated", "consistency", "excess_return"):
            assert board.at[code, col] == board.at[sibling[code], col] or (
                np.isnan(board.at[code, col]) and np.isnan(board.at[sibling[code], col])), (code, col)
    # the star split holds over the peers alone: share classes are not peers
    peers = board[board["rated"] & board["rated_as"].eq("")]
    for _, group in peers.groupby("category"):
        n = len(group)
        if n >= 10:
            top = (group["stars"] == 5).sum()
            assert abs(top - n * STAR_SPLIT[0]) <= 1
    placeholders = funds.index[funds["modelled"]]
    assert len(placeholders) == 3
    assert not board.loc[board.index.intersection(placeholders), "rated"].any()
    assert board.loc[board.index.intersection(placeholders), "stars"].isna().all()


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_no_dollar_class_is_proposed_and_modelled_cash_says_so(real_universe, level) -> None:
    from advisor.proposal import propose

    proposal = propose(real_universe, level, 200_000, 5).to_dict()
    dollar = set(real_universe.funds.index[real_universe.funds["currency"] == "USD"])
    assert not dollar & {line["code"] for line in proposal["lines"]}
    modelled = [line for line in proposal["lines"] if line["modelled"]]
    for line in modelled:
        assert line["code"] in real_universe.funds.index[real_universe.funds["modelled"]]
        assert "模拟" in line["note_zh"] and "replace it with the bank's own money fund" in line["note_en"]
    assert bool(modelled) == any(n["code"] == "modelled_cash" for n in proposal["explanations"])


def test_a_bank_plugs_in_its_own_money_funds(fixture_small: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from advisor.cli import app

    runner = CliRunner()
    none = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(tmp_path / "a"),
                               "--money-funds", "none", "--json"])
    assert none.exit_code == 0, none.output
    assert json.loads(none.stdout)["counts"]["modelled_funds"] == 0
    specs = tmp_path / "money.json"
    specs.write_text(json.dumps([{"code": "970001", "name": "本行现金宝", "company": "本行", "spread": 0.001}]),
                     encoding="utf-8")
    own = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(tmp_path / "b"),
                              "--money-funds", str(specs), "--json"])
    assert own.exit_code == 0, own.output
    counts = json.loads(own.stdout)["counts"]
    assert counts["money_market_funds"] == 1 and counts["modelled_funds"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"code": "970002"}]), encoding="utf-8")
    refused = runner.invoke(app, ["data", "import", str(fixture_small), "--out", str(tmp_path / "c"),
                                  "--money-funds", str(bad)])
    assert refused.exit_code != 0 and "needs a code and a name" in refused.output

"""Mandates (sector / theme / broad, market-neutral, passive) and the peer groups and ratings built on them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from products.fees import FeeTable
from products.research import leaderboard
from products.research.leaderboard import TRACKING_MAX_ERROR, TRACKING_MAX_GAP, TRACKING_MIN_CORRELATION
from products.research.mandate import focus_of_text, fund_mandates, text_mandates
from products.research.quality import fund_quality

BROAD_INDICES = ("沪深300指数", "中证500指数", "上证50指数", "创业板指数", "中证红利指数", "中证800指数",
                 "纳斯达克100指数", "标普500指数", "恒生指数", "中证500行业中性低波动指数", "大数据100指数")
FOCUSED_INDICES = ("中证银行指数", "中证全指医药卫生指数", "沪深300医药卫生指数", "中证新能源指数", "中证军工指数",
                   "沪深300非银行金融指数", "中证申万有色金属指数", "MSCI美国REIT净总收益指数",
                   "标普生物科技精选行业指数", "中证TMT产业主题指数", "中证养老产业指数", "中证主要消费指数")


@pytest.mark.parametrize("name", BROAD_INDICES)
def test_broad_and_strategy_indices_are_not_a_focus(name):
    assert focus_of_text(name) is None


@pytest.mark.parametrize("name", FOCUSED_INDICES)
def test_sector_and_theme_indices_are_a_focus(name):
    assert focus_of_text(name) is not None


def test_company_names_inside_fund_names_are_not_a_sector():
    assert focus_of_text("农银行业领先混合") is None  # 农银 + 行业, not 银行
    assert focus_of_text("易方达沪深300非银ETF联接A") == ("非银金融", "sector")


def test_demo_mandates_from_benchmark_name_and_holdings(demo_universe):
    m = fund_mandates(demo_universe)
    names = demo_universe.funds["name"]
    by_name = m.assign(name=names).set_index("name")
    assert by_name.loc["恒远中证银行指数A", "focus"] == "sector"
    assert by_name.loc["恒远中证银行指数A", "focus_source"] == "benchmark"
    assert by_name.loc["天元沪深300ETF联接A", "focus"] == "broad"
    assert by_name.loc["明德中证红利指数A", "focus"] == "broad"
    assert by_name.loc["恒远高端制造股票A", "focus_source"] == "name"
    assert by_name.loc["泰山量化对冲混合A", "market_neutral"]
    assert by_name.loc["泰山量化对冲混合A", "focus"] not in ("sector", "theme")
    # non-equity funds have no focus at all
    assert (m.loc[demo_universe.funds["asset_class"].isin(["cash", "bond", "gold"]), "focus"] == "").all()
    # the holdings signal: an equity fund made to hold one industry becomes a sector fund
    funds = demo_universe.funds
    target = funds.index[(funds["name"] == "东海蓝筹精选混合A")][0]
    holdings = demo_universe.holdings.copy()
    bank = demo_universe.stock_industry.loc[demo_universe.stock_industry["sw_l1"] == "银行", "stock_code"]
    rows = holdings["fund_code"] == target
    holdings.loc[rows, "stock_code"] = bank.iloc[: int(rows.sum())].to_numpy() if len(bank) >= rows.sum() else \
        bank.iloc[0]
    changed = dataclasses.replace(demo_universe, holdings=holdings)
    assert fund_mandates(changed).loc[target, "focus_source"] == "holdings"


def test_peer_groups_keep_like_with_like(demo_universe):
    board = leaderboard(demo_universe)
    types = demo_universe.funds["fund_type"].reindex(board.index)
    assert (board.loc[types == "gold", "category"] == "gold").all()
    assert (board.loc[types == "commodity", "category"] == "commodity").all()
    assert board.loc[text_mandates(demo_universe)["market_neutral"].reindex(board.index), "category"].eq(
        "market_neutral").all()
    # groups too small to rank (fewer than five funds with three years) are listed, never starred
    sizes = board.groupby("category")["rated"].sum()
    assert (sizes[sizes > 0] >= 5).all()


def _clone_universe(universe, base: str, n: int, noise: float):
    """`n` copies of fund `base` whose daily returns differ by `noise` (fourth decimal) from the original."""
    rng = np.random.default_rng(0)
    funds, returns = universe.funds.copy(), universe.returns.copy()
    fees = universe.fees
    new_codes = [f"8{k:05d}" for k in range(n)]
    for k, code in enumerate(new_codes):
        row = funds.loc[base].copy()
        row["name"] = f"{row['name']}克隆{k}"
        row["company"] = f"克隆公司{k}"
        row["sibling_codes"] = ""
        funds.loc[code] = row
        returns[code] = returns[base] + rng.normal(0, noise, len(returns)) * returns[base].notna()
    schedules = list(fees.schedules) + [fees.schedules[universe.code_index[base]]] * n
    return dataclasses.replace(universe, funds=funds, returns=returns[funds.index],
                               fees=FeeTable.from_schedules(schedules)), new_codes


def test_trackers_with_fourth_decimal_differences_share_their_stars(demo_universe):
    base = demo_universe.funds.index[demo_universe.funds["name"] == "黄河沪深300指数A"][0]
    clones, codes = _clone_universe(demo_universe, base, 6, 2e-4)
    board = leaderboard(clones)
    group = board.loc[[base, *codes]]
    assert group["tracking_group"].nunique() == 1
    assert group["stars"].nunique() == 1 and group["rating_score"].nunique() == 1
    assert group["score"].nunique() > 1  # each fund keeps its own score for ranking
    weak = fund_quality(clones).loc[[base, *codes], "weak"]
    assert weak.nunique() == 1


def test_real_trackers_of_one_index_share_their_stars(real_universe):
    """Rule over the real data: any two rated passive funds of one peer group whose last three years are
    near-identical share one tracking group and the same stars — the ten gold feeders among them."""
    board = leaderboard(real_universe)
    passive = text_mandates(real_universe)["passive"].reindex(board.index)
    rated = board[board["rated"] & passive]
    window = real_universe.returns.iloc[-3 * 252:]
    for _, rows in rated.groupby("category"):
        codes = list(rows.index)
        x = window[codes]
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                both = x[[a, b]].dropna()
                if len(both) < 300:
                    continue
                d = both[a] - both[b]
                near = (d.std() * np.sqrt(252) <= TRACKING_MAX_ERROR * 0.95
                        and abs(d.mean()) * 252 <= TRACKING_MAX_GAP * 0.95
                        and both[a].corr(both[b]) >= TRACKING_MIN_CORRELATION + 0.001)
                if near:
                    assert board.at[a, "tracking_group"] == board.at[b, "tracking_group"], (a, b)
    for _, rows in board[board["rated"]].groupby("tracking_group"):
        assert rows["stars"].nunique() == 1
    gold = board[real_universe.funds["fund_type"].reindex(board.index) == "gold"]
    assert len(gold) >= 10 and (gold["category"] == "gold").all()
    assert gold.loc[gold["rated"], "stars"].nunique() == 1
    # sector and theme index funds are ranked apart from broad index funds
    m = text_mandates(real_universe).reindex(board.index)
    index_funds = real_universe.funds["fund_type"].reindex(board.index) == "index"
    focused = m["focus"].isin(["sector", "theme"])
    assert (board.loc[index_funds & focused, "category"] == "sector_index").all()
    assert (board.loc[index_funds & ~focused, "category"] == "index").all()
    assert board.loc["001594", "category"] == "sector_index"  # 天弘中证银行指数A
    assert board.loc["000961", "category"] == "index"  # 天弘沪深300ETF联接A

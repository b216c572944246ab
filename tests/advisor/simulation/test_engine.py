"""The simulator and the rebalancing engine agree on costs and lots (one cost model, FIFO both sides)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from advisor.rebalancing import rebalance_batch
from advisor.simulation.book import Book, Orders
from advisor.simulation.config import SimulationConfig
from advisor.simulation.engine import FundMap, engine_inputs, plan_rebalance
from advisor.simulation.pointintime import point_in_time
from advisor.simulation.research import ResearchRequest, compute_research
from advisor.simulation.simulator import _Targets


@pytest.fixture(scope="module")
def drifted(demo_universe):
    """Four customers whose books drifted: a fund above a C2's level, equity-heavy C4s, lots of several ages."""
    u = demo_universe
    config = SimulationConfig(execution_lag=0)
    dates = u.returns.index
    decision = int(dates.searchsorted(pd.Timestamp("2024-06-03")))
    state = compute_research(u, dates[decision], ResearchRequest(groups=((2, 2.0, False), (4, 5.0, False))), config)
    pit = point_in_time(u, dates[decision])
    price = u.total_return_index().ffill().to_numpy()
    risk = u.funds["risk_level"].to_numpy()
    cls = u.funds["asset_class"].astype(str).to_numpy()
    equity = [i for i in np.flatnonzero((cls == "cn_equity") & (risk == 4)) if np.isfinite(price[decision - 300, i])]
    bond = [i for i in np.flatnonzero(cls == "bond") if np.isfinite(price[decision - 300, i])]
    book = Book(4, len(u.funds), u.fees, u.fee_discount, dates.to_numpy().astype("datetime64[D]").astype(np.int64))
    book.deposit(np.arange(4), np.full(4, 200_000.0))
    for row, weight in ((decision - 300, 0.5), (decision - 100, 0.3), (decision - 3, 0.2)):  # three lots each
        cust = np.repeat(np.arange(4), 2)
        fund = np.array([equity[0], bond[0], equity[1], bond[1], equity[0], bond[0], equity[2], bond[0]])
        amount = np.array([0.6, 0.4, 0.9, 0.1, 0.8, 0.2, 0.5, 0.5]) * 100_000 * weight
        book.fill(Orders(cust, fund, np.zeros(8), np.ones(8), amount, np.zeros(8), np.zeros(8, bool),
                         np.zeros(8, bool)), row, price)
    level = np.array([2, 4, 4, 4])
    return u, config, state, pit, book, decision, price, level


def test_fees_agree_with_the_engine(drifted):
    u, config, state, pit, book, row, price, level = drifted
    book = copy.deepcopy(book)
    customers = np.arange(4)
    cash = book.cash.copy()
    plan = plan_rebalance(book, pit, FundMap.build(u, pit), _Targets(state, pit, config), customers,
                          np.full(4, row), price, level, np.zeros(4, bool), np.array([2.0, 5, 5, 5]),
                          cash, np.full(4, np.datetime64("NaT"), "datetime64[D]"), config.rebalance)
    assert len(plan.orders) and set(plan.reasons) & {"trade", "trade_suitability"}
    before = book.ledger.buy_fees + book.ledger.sell_fees
    book.fill(plan.orders, row, price)  # execution lag 0: the prices the engine saw
    paid = book.ledger.buy_fees + book.ledger.sell_fees - before
    np.testing.assert_allclose(paid, plan.engine_fees, atol=0.02)  # to two cents per customer
    np.testing.assert_allclose(book.cash, plan.engine_cash, atol=0.02)  # and the cash it planned to leave


def test_fifo_lots_agree_with_the_engine(drifted):
    u, config, state, pit, book, row, price, level = drifted
    book = copy.deepcopy(book)
    fund_map = FundMap.build(u, pit)
    customers = np.arange(4)
    frame, lots, _, _ = engine_inputs(book, fund_map, customers, np.full(4, row), price, level, np.zeros(4, bool),
                                      np.array([2.0, 5, 5, 5]), book.cash.copy(),
                                      np.full(4, np.datetime64("NaT"), "datetime64[D]"))
    result = rebalance_batch(pit, frame, lots, targets=_Targets(state, pit, config), as_of=u.returns.index[row].date(),
                             settings=config.rebalance)
    sales = result.trades[result.trades["action"].isin(["sell", "switch_out"])]
    assert len(sales)
    plan = plan_rebalance(book, pit, fund_map, _Targets(state, pit, config), customers, np.full(4, row), price,
                          level, np.zeros(4, bool), np.array([2.0, 5, 5, 5]), book.cash.copy(),
                          np.full(4, np.datetime64("NaT"), "datetime64[D]"), config.rebalance)
    shares_before = book.lot_shares.copy()
    rows_before, cust_before, fund_before = book.lot_row.copy(), book.lot_cust.copy(), book.lot_fund.copy()
    book.fill(plan.orders, row, price)
    for (cid, code), group in sales.groupby(["customer_id", "code"], observed=True):
        c, f = int(cid), int(u.code_index[str(code)])  # the engine's customer ids are the questions' numbers
        engine_dates = sorted({d for dates in group["lot_dates"] for d in dates})
        mine = (cust_before == c) & (fund_before == f)
        after = {(r, f2, c2): s for r, f2, c2, s in zip(book.lot_row, book.lot_fund, book.lot_cust, book.lot_shares,
                                                        strict=True)}
        touched = [u.returns.index[r].date() for r, s in zip(rows_before[mine], shares_before[mine], strict=True)
                   if after.get((r, f, c), 0.0) < s - 1e-9]
        assert sorted(set(touched)) == engine_dates  # the same lots, oldest first


def test_several_evenings_in_one_call_are_the_nightly_answers(drifted):
    """Asking about a customer on several evenings at once gives each evening's own answer."""
    u, config, state, pit, book, row, price, level = drifted
    fund_map = FundMap.build(u, pit)
    targets = _Targets(state, pit, config)
    nat = np.full(1, np.datetime64("NaT"), "datetime64[D]")
    days = [row, row + 3, row + 9]
    together = plan_rebalance(book, pit, fund_map, targets, np.array([1, 1, 1]), np.array(days), price, level,
                              np.zeros(4, bool), np.array([2.0, 5, 5, 5]), np.zeros(3), np.repeat(nat, 3),
                              config.rebalance)
    for q, day in enumerate(days):
        alone = plan_rebalance(book, pit, fund_map, targets, np.array([1]), np.array([day]), price, level,
                               np.zeros(4, bool), np.array([2.0, 5, 5, 5]), np.zeros(1), nat, config.rebalance)
        mine = together.question == q
        assert together.reasons[q] == alone.reasons[0]
        np.testing.assert_array_equal(together.orders.fund[mine], alone.orders.fund)
        np.testing.assert_allclose(together.orders.buy_gross[mine], alone.orders.buy_gross, rtol=1e-12)
        np.testing.assert_allclose(together.orders.sell_value[mine], alone.orders.sell_value, rtol=1e-12)


def test_the_engine_answers_the_same_on_its_lighter_view(drifted):
    """The simulator hands the engine a view without disclosures, unit NAVs or returns older than five years;
    if the engine ever reads more, this fails and `engine_view` must keep it."""
    from advisor.simulation.simulator import engine_view

    u, config, state, pit, book, row, price, level = drifted
    light = engine_view(pit)
    assert len(light.returns) < len(pit.returns) and light.holdings.empty
    answers = []
    for view in (pit, light):
        plan = plan_rebalance(book, view, FundMap.build(u, view), _Targets(state, pit, config), np.arange(4),
                              np.full(4, row), price, level, np.zeros(4, bool), np.array([2.0, 5, 5, 5]),
                              book.cash.copy(), np.full(4, np.datetime64("NaT"), "datetime64[D]"), config.rebalance)
        answers.append(plan)
    full, lighter = answers
    assert full.reasons.tolist() == lighter.reasons.tolist()
    np.testing.assert_array_equal(full.orders.fund, lighter.orders.fund)
    np.testing.assert_allclose(full.orders.buy_gross, lighter.orders.buy_gross, rtol=1e-12)
    np.testing.assert_allclose(full.orders.sell_value, lighter.orders.sell_value, rtol=1e-12)
    np.testing.assert_allclose(full.engine_fees, lighter.engine_fees, rtol=1e-12)


def _ranked_alike(universe, days) -> None:
    """At each day the engine's light view ranks funds exactly as research did on the full point-in-time view
    (the one the selection used): its leaderboard and weak-fund flags are research's. Ranked on its own, the
    light view (five years of returns) scored the persistence dimension differently and flagged other funds
    weak than the selection did (up to 4 of 75 demo funds)."""
    from advisor.rebalancing.universe_facts import fund_facts
    from advisor.simulation.simulator import engine_view
    from products.research.leaderboard import adopt_dimensions, leaderboard, leaderboard_dimensions
    from products.research.quality import weak_mask

    for day in days:
        pit = point_in_time(universe, day)
        if pit.returns.empty:  # before any fund has the history research needs: nothing to rank
            continue
        adopted = engine_view(pit)
        adopt_dimensions(adopted, leaderboard_dimensions(pit))
        pd.testing.assert_frame_equal(leaderboard(adopted), leaderboard(pit))
        np.testing.assert_array_equal(fund_facts(adopted).weak, weak_mask(pit) & ~fund_facts(adopted).money_market)


def test_the_engine_adopts_the_leaderboard_research_ranked(demo_universe):
    from advisor.simulation.schedule import research_rows

    dates = demo_universe.returns.index
    rows = research_rows(dates, 300, len(dates) - 1)
    _ranked_alike(demo_universe, dates[rows[::3]])


@pytest.mark.realdata
def test_the_engine_adopts_the_leaderboard_research_ranked_on_real_data(real_universe):
    """Every third January research date of the real history (the universe grows from a few funds to 509)."""
    from advisor.simulation.schedule import research_rows

    dates = real_universe.returns.index
    rows = research_rows(dates, 0, len(dates) - 1)
    january = [r for r in rows if dates[r].month == 1]
    _ranked_alike(real_universe, dates[january[-1::-3]])


def test_adopting_a_leaderboard_of_other_funds_is_refused(demo_universe):
    from products.errors import BadInputError
    from products.research.leaderboard import adopt_dimensions, leaderboard_dimensions

    early = point_in_time(demo_universe, demo_universe.returns.index[400])
    late = point_in_time(demo_universe, demo_universe.returns.index[-1])
    with pytest.raises(BadInputError):
        adopt_dimensions(early, leaderboard_dimensions(late))

"""The simulator on a small demo book: cash conserved, buy-and-hold exact, suitability, cash flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.proposal import propose
from advisor.simulation.pointintime import point_in_time
from advisor.simulation.schedule import research_rows


def _book(result):
    return result.extras["book"]


def _row(result, day) -> int:
    return int(result.dates.searchsorted(pd.Timestamp(day)))


def test_cash_is_conserved_every_day(demo_sim):
    assert demo_sim.cash_check < 1e-6  # checked at every close: no yuan appears or disappears
    book = _book(demo_sim)
    assert book.check_positions() < 1e-9
    assert (book.cash >= -1e-9).all() and (book.lot_shares > 0).all()


def test_value_is_holdings_plus_cash(demo_universe, demo_sim):
    book = _book(demo_sim)
    last = demo_universe.returns.index.get_loc(demo_sim.dates[-1])
    price = demo_universe.total_return_index().ffill().to_numpy()[last]
    held = np.bincount(book.lot_cust, weights=book.lot_shares * price[book.lot_fund], minlength=book.n_customers)
    np.testing.assert_allclose(demo_sim.values[:, -1], held + book.cash, rtol=1e-12)


def test_buy_and_hold_equals_the_product_of_fund_returns(demo_universe, demo_sim):
    """A twin without cash flows: Σ net invested × Π (1 + fund return) + the cash remainder, every day."""
    cust = demo_sim.customers
    book = _book(demo_sim)
    returns = demo_universe.returns
    checked = 0
    for c in np.flatnonzero((cust["kind"] == "buy_and_hold").to_numpy()):
        if cust.loc[c, "customer_id"] in ("sip", "C4-5-2024-02", "C2-0.5-2024-02"):
            continue  # cash flows: not a pure buy-and-hold
        mine = book.lot_cust == c
        start = int(book.lot_row[mine].min())
        assert (book.lot_row[mine] == start).all()  # nothing bought after the first purchase
        funds = book.lot_fund[mine]
        index = demo_universe.total_return_index().ffill().to_numpy()
        net = book.lot_shares[mine] * index[start, funds]  # yuan invested per line at the fill
        window = returns.iloc[start + 1:, funds].fillna(0.0).to_numpy()
        growth = np.vstack([np.ones(len(funds)), np.cumprod(1.0 + window, axis=0)])
        direct = growth @ net + book.cash[c]
        first = start - demo_sim.extras["first_row"]
        np.testing.assert_allclose(demo_sim.values[c, first:], direct[: demo_sim.values.shape[1] - first], rtol=1e-10)
        paid = demo_sim.ledger.first_bought[c] + book.cash[c]
        assert paid == pytest.approx(cust.loc[c, "amount"], abs=0.01)  # lines + fees + remainder = the amount
        checked += 1
    assert checked >= 8


def test_first_purchase_is_the_services_proposal(demo_universe, demo_sim):
    cust = demo_sim.customers
    c = int(np.flatnonzero((cust["customer_id"] == "C5-5-2024-03").to_numpy() & (cust["kind"] == "policy"))[0])
    start_row = demo_universe.returns.index.get_loc(cust.loc[c, "start"])
    rows = research_rows(demo_universe.returns.index, demo_sim.extras["first_row"], start_row - 1)
    research_day = demo_universe.returns.index[rows[-1]]  # the last research before the evening of the decision
    proposal = propose(point_in_time(demo_universe, research_day), "C5", 100_000, 5.0)
    book = _book(demo_sim)
    twin = int(cust.loc[c, "twin"])  # the twin never traded again: its lots are the proposal
    lots = {demo_universe.codes[f]: s for f, s in zip(book.lot_fund[book.lot_cust == twin],
                                                      book.lot_shares[book.lot_cust == twin], strict=True)}
    assert set(lots) == {line.code for line in proposal.lines}
    assert demo_sim.shown[c] is not None and demo_sim.shown[c]["method"].startswith("constant weights")


def test_suitability_is_never_broken(demo_universe, demo_sim):
    book = _book(demo_sim)
    level = demo_sim.customers["level"].to_numpy()
    risk = demo_universe.funds["risk_level"].to_numpy()
    assert (risk[book.lot_fund] <= level[book.lot_cust]).all()
    for orders in demo_sim.extras["pending"].values():
        bought = orders.buy_gross > 0
        assert (risk[orders.fund[bought]] <= level[orders.cust[bought]]).all()


def test_cash_flows_are_first_class(demo_sim):
    cust = demo_sim.customers
    led = demo_sim.ledger
    by_id = {(i, k): n for n, (i, k) in enumerate(zip(cust["customer_id"], cust["kind"], strict=True))}
    sip = by_id[("sip", "policy")]
    assert led.deposits[sip] == pytest.approx(2_000.0 * 6)  # February's first purchase, then March … July
    assert led.first_bought[sip] == pytest.approx(2_000.0, abs=0.01)
    out = by_id[("C4-5-2024-02", "policy")]
    assert led.withdrawals[out] == pytest.approx(30_000.0) and led.shortfall[out] == 0
    topped = by_id[("C2-0.5-2024-02", "policy")]
    assert led.deposits[topped] == pytest.approx(120_000.0)
    for key in (("sip", "buy_and_hold"), ("C4-5-2024-02", "buy_and_hold")):  # the twins see the same flows
        assert led.deposits[by_id[key]] == led.deposits[by_id[(key[0], "policy")]]
        assert led.withdrawals[by_id[key]] == pytest.approx(led.withdrawals[by_id[(key[0], "policy")]])
    # the withdrawal is paid the day after it is asked for, once its sales have filled
    day = _row(demo_sim, "2024-05-06")
    flows = demo_sim.flow_amount[(demo_sim.flow_cust == out) & (demo_sim.flow_amount < 0)]
    assert flows.tolist() == [-30_000.0]
    assert demo_sim.flow_day[(demo_sim.flow_cust == out) & (demo_sim.flow_amount < 0)].tolist() == [day + 1]


def test_rebalancing_happened_and_twins_never_trade(demo_sim):
    led = demo_sim.ledger
    policy = (demo_sim.customers["kind"] == "policy").to_numpy()
    assert led.trades[policy].sum() > 0 and demo_sim.engine["calls"] > 0
    with_flows = demo_sim.customers["customer_id"].isin(["sip", "C4-5-2024-02", "C2-0.5-2024-02"]).to_numpy()
    quiet_twins = np.flatnonzero(~policy & ~with_flows)
    assert len(quiet_twins) == 10
    assert led.sold[quiet_twins].sum() == 0 and led.bought[quiet_twins].sum() == 0
    assert led.trades[quiet_twins].sum() == 0


def test_the_book_steps_exactly_as_the_plain_daily_loop(demo_universe, demo_book, demo_flows, demo_sim):
    """Quiet stretches answered in one engine call give the book a nightly run gives, evening by evening."""
    from advisor.simulation.config import SimulationConfig
    from advisor.simulation.simulator import simulate

    end = demo_sim.dates[-1]
    daily = simulate(demo_universe, demo_book, flows=demo_flows, config=SimulationConfig(lookahead=1), end=end)
    np.testing.assert_allclose(daily.values, demo_sim.values, rtol=1e-10, equal_nan=True)
    for name in ("deposits", "withdrawals", "buy_fees", "sell_fees", "bought", "sold", "trades"):
        np.testing.assert_allclose(getattr(daily.ledger, name), getattr(demo_sim.ledger, name), rtol=1e-10)
    assert daily.engine["asked"] == demo_sim.engine["asked"]
    assert daily.engine["reasons"] == demo_sim.engine["reasons"]
    assert daily.engine["calls"] > demo_sim.engine["calls"]  # one call an evening against one a stretch


def test_a_customer_gets_the_same_record_alone_or_in_the_book(demo_universe, demo_book, demo_sim):
    """Customers do not affect one another: the research calendar, the engine's answers and the fills of
    a customer are the same whoever else is simulated."""
    from advisor.simulation.simulator import simulate

    one = demo_book[demo_book["customer_id"] == "C5-5-2024-03"]
    alone = simulate(demo_universe, one, end=demo_sim.dates[-1])
    ids = demo_sim.customers["customer_id"].to_numpy()
    for kind in (0, 1):  # the customer and its buy-and-hold twin
        mine = alone.values[kind]
        theirs = demo_sim.values[np.flatnonzero(ids == "C5-5-2024-03")[kind], -len(mine):]
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, equal_nan=True)

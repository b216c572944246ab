"""The simulated book: FIFO sales with each lot's own redemption rate, purchases, payouts, cash."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.rebalancing import costs
from advisor.simulation.book import Book, Orders
from products.fees import FeeSchedule, FeeTable, RedemptionTier, SubscriptionTier

EQUITY = FeeSchedule(subscription=(SubscriptionTier(500_000, 0.015), SubscriptionTier(np.inf, flat=1000.0)),
                     redemption=(RedemptionTier(7, 0.015), RedemptionTier(365, 0.005), RedemptionTier(np.inf, 0.0)))
MONEY = FeeSchedule(money_market=True)
DAYS = np.array([0, 1, 2, 5, 6, 400, 401, 402], dtype=np.int64) + 19_000  # calendar day numbers of 8 rows


def _prices(**rows: tuple[float, float]) -> np.ndarray:
    """A (8 rows × 2 funds) price matrix of ones with some rows set, e.g. _prices(r4=(2.0, 1.0))."""
    out = np.ones((len(DAYS), 2))
    for name, value in rows.items():
        out[int(name[1:])] = value
    return out


def _book(n: int = 2) -> Book:
    return Book(n, 2, FeeTable.from_schedules([EQUITY, MONEY]), 0.1, DAYS)


def _orders(cust, fund, *, sell=0.0, ref=1.0, buy=0.0, fee=0.0, first=False, sell_all=False) -> Orders:
    k = len(cust)
    full = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (k,)).copy()  # noqa: E731
    return Orders(np.asarray(cust, np.int64), np.asarray(fund, np.int64), full(sell), full(ref), full(buy), full(fee),
                  np.full(k, first), np.full(k, sell_all))


def test_fifo_sale_pays_each_lots_own_rate():
    book = _book()
    prices = _prices(r4=(2.0, 1.0))
    book.deposit(np.array([0]), np.array([3_000.0]))
    book.fill(_orders([0], [0], buy=1_000.0, fee=0.0, first=True), 0, prices)  # lot A, day 0
    book.fill(_orders([0], [0], buy=1_000.0, fee=0.0), 3, prices)  # lot B, day 5
    # row 4 (day 6): sell ¥1,500 valued at price 2 = 750 units, all from the oldest lot (held 6 days: 1.5 % floor)
    book.fill(_orders([0], [0], sell=1_500.0, ref=2.0), 4, prices)
    assert book.ledger.sold[0] == pytest.approx(1_500.0)
    assert book.ledger.sell_fees[0] == pytest.approx(1_500.0 * 0.015)
    assert book.lot_shares[book.lot_cust == 0].tolist() == pytest.approx([250.0, 1_000.0])
    assert book.lot_row[book.lot_cust == 0].tolist() == [0, 3]
    # now sell 1,000 units: the rest of the old lot (250) and 750 of the young one
    book.fill(_orders([0], [0], sell=1_000.0, ref=1.0), 6, prices)  # day 401: 401 and 395 days old
    assert book.ledger.sell_fees[0] == pytest.approx(1_500.0 * 0.015 + 750.0 * 0.0)
    assert book.lot_shares[book.lot_cust == 0].tolist() == pytest.approx([250.0])


def test_older_lot_is_sold_first_at_its_lower_rate():
    book = _book()
    book.deposit(np.array([0]), np.array([2_000.0]))
    book.fill(_orders([0], [0], buy=1_000.0, first=True), 0, _prices())  # day 0
    book.fill(_orders([0], [0], buy=1_000.0), 5, _prices())  # day 400
    book.fill(_orders([0], [0], sell=1_000.0), 7, _prices())  # day 402: first lot 402 days (0 %), second 2 days
    assert book.ledger.sell_fees[0] == pytest.approx(0.0)
    assert book.lot_row[book.lot_shares > 0].tolist() == [5]


def test_purchase_fee_and_shares_and_cash():
    book = _book()
    book.deposit(np.array([1]), np.array([10_000.0]))
    fee = float(costs.buy_fees(book.fees, np.array([0]), np.array([10_000.0]), 0.1)[0])
    book.fill(_orders([1], [0], buy=10_000.0, fee=fee), 0, _prices(r0=(2.0, 1.0)))
    assert book.cash[1] == pytest.approx(0.0)
    assert book.positions[1, 0] == pytest.approx((10_000.0 - fee) / 2.0)
    assert book.ledger.buy_fees[1] == pytest.approx(fee) and book.ledger.trades[1] == 1
    assert book.cash_identity_gap() < 1e-9


def test_purchases_shrink_when_prices_moved_against_the_plan():
    book = _book()
    book.deposit(np.array([0]), np.array([1_000.0]))
    fee = float(costs.buy_fees(book.fees, np.array([0]), np.array([1_500.0]), 0.1)[0])
    book.fill(_orders([0], [0], buy=1_500.0, fee=fee), 0, _prices())  # wants more than the cash
    assert book.cash[0] >= 0 and book.cash[0] < 0.01
    assert book.ledger.buy_fees[0] == pytest.approx(float(costs.buy_fees(book.fees, np.array([0]),
                                                                          np.array([999.99]), 0.1)[0]), abs=0.01)


def test_liquidation_pays_the_last_nav_without_fee():
    book = _book()
    book.deposit(np.array([0, 1]), np.array([1_000.0, 1_000.0]))
    book.fill(_orders([0, 1], [0, 1], buy=1_000.0, first=True), 0, _prices())
    book.liquidate(np.array([0]), np.array([0]), np.array([3]), _prices(r3=(1.2, 1.0)))
    assert book.cash[0] == pytest.approx(1_200.0) and book.ledger.sell_fees[0] == 0
    assert book.positions[0, 0] == 0 and book.positions[1, 1] == pytest.approx(1_000.0)
    assert book.cash_identity_gap() < 1e-9 and book.check_positions() < 1e-9


def test_withdrawal_pays_what_cash_allows_and_records_the_rest():
    book = _book()
    book.deposit(np.array([0]), np.array([500.0]))
    paid = book.withdraw(np.array([0]), np.array([800.0]))
    assert paid.tolist() == [500.0] and book.ledger.shortfall[0] == 300.0 and book.cash[0] == 0.0


def test_orders_of_different_customers_fill_on_their_own_rows():
    book = _book()
    book.deposit(np.array([0, 1]), np.array([1_000.0, 1_000.0]))
    prices = _prices(r2=(2.0, 1.0), r5=(4.0, 1.0))
    book.fill(_orders([0, 1], [0, 0], buy=1_000.0, first=True), np.array([2, 5]), prices)
    assert book.positions[0, 0] == pytest.approx(500.0) and book.positions[1, 0] == pytest.approx(250.0)
    assert book.lot_row.tolist() == [2, 5]

"""FIFO lots and the cost model: what a sale or a purchase really costs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advisor.rebalancing.costs import buy_fees, effective_buy_rate, switch_in_fees
from advisor.rebalancing.lots import build_lot_book, fifo_segments, sell_fifo
from products.fees import FeeSchedule, FeeTable, RedemptionTier, SubscriptionTier, default_schedule

EQUITY = default_schedule("equity", "A")  # 0.5% < 1y, 0.25% < 2y, 0 after; 1.5% floor under 7 days
MONEY = default_schedule("money_market")


def _book(lots: list[tuple[int, int, float, int]], fees: FeeTable, locked=None):
    cust, fund, value, days = (np.array(x) for x in zip(*lots, strict=True))
    dates = np.datetime64("2026-02-13") - days.astype("timedelta64[D]")
    return build_lot_book(cust, fund, value.astype(float), dates, days.astype(float), fees, locked)


def test_fifo_sells_oldest_lots_first_and_prices_each_by_its_holding_period() -> None:
    fees = FeeTable.from_schedules([EQUITY])
    # out of order on purpose: a 3-day lot, a 900-day lot, a 200-day lot
    book = _book([(0, 0, 1000.0, 3), (0, 0, 5000.0, 900), (0, 0, 2000.0, 200)], fees)
    sale = sell_fifo(book, np.array([6500.0]))
    # 5000 from the 900-day lot (free), 1500 from the 200-day lot (0.5%), nothing from the 3-day lot
    assert sale.pair_fee[0] == pytest.approx(1500 * 0.005)
    assert sale.pair_short_fee[0] == 0.0
    assert sale.pair_min_days[0] == 200
    sale = sell_fifo(book, np.array([7500.0]))
    assert sale.pair_fee[0] == pytest.approx(2000 * 0.005 + 500 * 0.015)
    assert sale.pair_short_fee[0] == pytest.approx(500 * 0.015)
    assert sale.pair_min_days[0] == 3


def test_segments_are_convex_and_merge_equal_rates() -> None:
    fees = FeeTable.from_schedules([EQUITY, MONEY])
    book = _book([(0, 0, 100.0, 1000), (0, 0, 100.0, 800), (0, 0, 50.0, 100), (0, 0, 10.0, 2),
                  (0, 1, 300.0, 1), (1, 0, 70.0, 5)], fees)
    seg = fifo_segments(book)
    for pair in np.unique(seg.pair):
        rates = seg.rate[seg.pair == pair]
        assert np.all(np.diff(rates) >= 0)
    first_pair = seg.pair == 0
    assert seg.value[first_pair].tolist() == [200.0, 50.0, 10.0]  # 1000 and 800 days share the 0 rate
    assert seg.rate[seg.pair == 1].tolist() == [0.0]  # money-market: no fee even under 7 days
    assert seg.rate[seg.pair == 2].tolist() == [0.015]


def test_locked_lots_are_never_sold() -> None:
    fees = FeeTable.from_schedules([EQUITY])
    book = _book([(0, 0, 1000.0, 900), (0, 0, 500.0, 30)], fees, locked=np.array([False, True]))
    sale = sell_fifo(book, np.array([1500.0]))
    assert sale.sold.sum() == pytest.approx(1000.0)
    assert fifo_segments(book).value.sum() == pytest.approx(1000.0)


def test_effective_buy_rate_follows_tiers_discount_and_flat_fees() -> None:
    fees = FeeTable.from_schedules([EQUITY])
    idx = np.zeros(3, dtype=int)
    gross = np.array([10_000.0, 1_000_000.0, 20_000_000.0])
    rate = effective_buy_rate(fees, idx, gross, 0.1)
    assert rate[0] == pytest.approx(0.0015)
    assert rate[1] == pytest.approx(0.0012)
    assert rate[2] == pytest.approx(1000 / (20_000_000 - 1000))  # the flat ¥1,000 tier
    fee = buy_fees(fees, idx, gross, 0.1)
    assert fee[0] == pytest.approx(10_000 - 10_000 / 1.0015)  # 外扣法
    assert fee[2] == pytest.approx(1000.0)


def test_switch_inside_a_company_costs_only_the_rate_difference() -> None:
    fee = switch_in_fees(np.array([0.0015, 0.0008, 0.0]), np.array([0.0008, 0.0015, 0.0]), np.full(3, 10_000.0))
    assert fee[0] == pytest.approx(10_000 - 10_000 / 1.0007)
    assert fee[1] == 0.0 and fee[2] == 0.0


def test_custom_schedule_that_rises_with_time_is_priced_as_an_upper_bound() -> None:
    odd = FeeSchedule(subscription=(SubscriptionTier(math.inf, 0.01),),
                      redemption=(RedemptionTier(7, 0.015), RedemptionTier(30, 0.001), RedemptionTier(math.inf, 0.004)))
    book = _book([(0, 0, 100.0, 400), (0, 0, 100.0, 20)], FeeTable.from_schedules([odd]))
    seg = fifo_segments(book)
    assert seg.rate.tolist() == [0.004]  # the younger lot is priced at the running maximum (convex)
    assert sell_fifo(book, np.array([200.0])).pair_fee[0] == pytest.approx(100 * 0.004 + 100 * 0.001)

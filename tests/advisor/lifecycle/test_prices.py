"""Each calendar day is priced at the last trading day on or before it."""

from __future__ import annotations

import numpy as np

from advisor.lifecycle.prices import price_table
from products.demo import demo_universe


def test_row_of_a_day_is_the_last_trading_day_on_or_before_it():
    table = price_table(demo_universe())
    first, last = int(table.days[0]), int(table.days[-1])
    rng = np.random.default_rng(5)
    days = np.concatenate([rng.integers(first - 40, last + 40, 50_000),
                           [first - 1, first, first + 1, last - 1, last, last + 1, -(10**9), 10**9]])
    expected = np.searchsorted(table.days, days, side="right") - 1
    rows = table.row(days)
    assert np.array_equal(rows, expected)
    assert rows[-8] == -1 and rows[-7] == 0 and rows[-2] == -1 and rows[-1] == len(table.days) - 1
    weekend = table.days[1] - 1 if table.days[1] - table.days[0] > 1 else None
    if weekend is not None:  # a day between two trading days takes the earlier one's price
        assert table.row(np.array([weekend]))[0] == 0

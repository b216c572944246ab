"""The fast event order is exactly the lexsort order it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.lifecycle.ledger import sort_order


@pytest.mark.parametrize("shuffle_rows", [False, True])
def test_sort_order_equals_lexsort(shuffle_rows):
    rng = np.random.default_rng(7)
    n = 20_000
    cust = rng.integers(0, 500, n)
    fund = rng.integers(0, 40, n)
    day = rng.integers(16_000, 16_060, n)  # many (customer, fund, day) ties
    row = rng.permutation(n) if shuffle_rows else np.arange(n)  # ties out of row order → the lexsort path
    expected = np.lexsort((row, day, fund, cust))
    assert np.array_equal(sort_order(cust, fund, day, row), expected)


def test_sort_order_of_lots_and_empty_books():
    row = np.full(5, -1)  # estimated events from stored lots carry no ledger row
    cust, fund, day = np.array([1, 0, 1, 0, 0]), np.array([2, 2, 1, 2, 2]), np.array([5, 5, 5, 4, 5])
    assert np.array_equal(sort_order(cust, fund, day, row), np.lexsort((row, day, fund, cust)))
    empty = np.zeros(0, dtype=np.int64)
    assert len(sort_order(empty, empty, empty, empty)) == 0


def test_running_totals_of_several_columns_equal_one_column_at_a_time():
    """`segment_cumsums` (groups found once) gives each column exactly its own grouped running total: a
    customer's figures never depend on which other columns or customers share the pass."""
    from advisor.lifecycle.ledger import _segment_cumsum, segment_cumsums

    rng = np.random.default_rng(3)
    n = 5_000
    starts = rng.random(n) < 0.05
    starts[0] = True
    columns = {"a": rng.normal(size=n) * 1e6, "b": rng.exponential(size=n), "c": np.zeros(n)}
    together = segment_cumsums(columns, starts)
    for name, values in columns.items():
        assert np.array_equal(together[name], _segment_cumsum(values, starts)), name
    one_group = segment_cumsums({"x": np.array([1.0, 2.0])}, np.array([True, False]))
    assert one_group["x"].tolist() == [1.0, 3.0]
    assert segment_cumsums({"x": np.zeros(0)}, np.zeros(0, dtype=bool))["x"].tolist() == []

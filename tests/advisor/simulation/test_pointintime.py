"""The universe as known on a past date: nothing from after it, and the same view when later data is deleted."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from advisor.simulation.pointintime import point_in_time, quarter_ends, silent_funds, truncated
from products.research.lookthrough import DISCLOSURE_LAG_DAYS


@pytest.mark.parametrize("day", ["2019-06-28", "2024-05-15", "2024-08-01"])
def test_view_is_unchanged_when_later_data_is_deleted(demo_universe, day):
    full = point_in_time(demo_universe, day)
    cut = point_in_time(truncated(demo_universe, day), day)
    assert full.version == cut.version
    assert full.funds.equals(cut.funds)
    pd.testing.assert_frame_equal(full.returns, cut.returns)
    pd.testing.assert_frame_equal(full.holdings.reset_index(drop=True), cut.holdings.reset_index(drop=True))
    pd.testing.assert_frame_equal(full.benchmarks, cut.benchmarks)


def test_nothing_after_the_date(demo_universe):
    day = pd.Timestamp("2024-08-01")
    pit = point_in_time(demo_universe, day)
    assert pit.returns.index.max() <= day and pit.benchmarks.index.max() <= day
    known = quarter_ends(pit.holdings["quarter"]) + pd.Timedelta(days=DISCLOSURE_LAG_DAYS)
    assert (known <= day).all()
    later = quarter_ends(demo_universe.holdings["quarter"]) + pd.Timedelta(days=DISCLOSURE_LAG_DAYS)
    assert (later > day).any()  # the demo has quarters disclosed later, and they are left out
    assert (pit.returns.notna().sum() >= 300).all()  # only funds with the selection's history
    assert pit.funds["aum_yi"].isna().all()  # today's size is not known in the past
    assert set(pit.funds["status"]) <= {"open", "closed"}


def test_a_fund_that_went_silent_is_closed(demo_universe):
    returns = demo_universe.returns.copy()
    code = returns.columns[5]
    returns.loc[returns.index[-60]:, code] = np.nan  # stops publishing NAV 60 days before the end
    gone = dataclasses.replace(demo_universe, returns=returns)
    pit = point_in_time(gone, returns.index[-1])
    assert pit.funds.loc[code, "status"] == "closed"
    assert silent_funds(returns).sum() == 1
    before = point_in_time(gone, returns.index[-55])  # 5 silent days: not yet gone
    assert before.funds.loc[code, "status"] == "open"

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


def test_ratings_are_floored_on_the_risk_measured_by_then(demo_universe):
    """The service raises a rating too low for the fund's 3-year volatility; at a past date it can only
    have measured the volatility up to that date."""
    from products.risk_rating import MAX_VOLATILITY_OF_LEVEL, measured_volatility

    funds = demo_universe.funds.copy()
    funds["risk_level"] = 2  # every fund rated R2 on the shelf: R2 allows up to 12% volatility
    shelf = dataclasses.replace(demo_universe, funds=funds)
    for day in ("2021-06-30", "2024-06-28"):
        pit = point_in_time(shelf, day)
        vol = measured_volatility(pit.returns, pd.Timestamp(day))
        too_risky = (vol > MAX_VOLATILITY_OF_LEVEL[2]).reindex(pit.funds.index, fill_value=False).to_numpy()
        assert too_risky.any() and not too_risky.all()
        assert (pit.funds["risk_level"].to_numpy()[too_risky] > 2).all()
        assert (pit.funds["risk_level"].to_numpy()[~too_risky] == 2).all()
        assert pit.funds.equals(point_in_time(truncated(shelf, day), day).funds)  # nothing later used

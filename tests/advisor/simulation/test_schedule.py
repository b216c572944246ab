"""Decision dates: research after each quarter's disclosures, month starts, the review calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.simulation.schedule import default_start, month_start_rows, research_rows, review_rows
from products.errors import BadInputError
from products.research.lookthrough import DISCLOSURE_LAG_DAYS

DATES = pd.bdate_range("2021-01-04", "2022-12-30")


def test_research_follows_each_quarters_disclosure():
    rows = research_rows(DATES, 10, len(DATES) - 1, "quarterly")
    days = DATES[rows]
    for day in days[1:]:
        quarter_end = (day - pd.Timedelta(days=DISCLOSURE_LAG_DAYS)).to_period("Q").end_time.normalize()
        assert day >= quarter_end + pd.Timedelta(days=DISCLOSURE_LAG_DAYS)  # the report is out
        previous = DATES[DATES.get_loc(day) - 1]
        assert previous < quarter_end + pd.Timedelta(days=DISCLOSURE_LAG_DAYS)  # the first business day after
    assert len(days) == 1 + 8 and days[1] == pd.Timestamp("2021-01-21")  # 2020-Q4 … 2022-Q3 reports
    assert rows[0] == 0  # no report before the first decision in this calendar: research on the data's first day
    later = research_rows(DATES, 200, len(DATES) - 1, "quarterly")
    assert DATES[later[0]] == pd.Timestamp("2021-07-21")  # the last research date before row 200 leads
    assert set(later[1:]) <= set(rows)  # the same calendar whoever is simulated
    yearly = research_rows(DATES, 10, len(DATES) - 1, "yearly")
    assert set(yearly[1:]) <= set(rows) and len(yearly) == 1 + 2  # the 2020 and 2021 annual reports


def test_month_starts_and_reviews():
    starts = month_start_rows(DATES, pd.Timestamp("2021-03-01"), pd.Timestamp("2021-06-30"))
    assert [d.strftime("%Y-%m-%d") for d in DATES[starts]] == ["2021-03-01", "2021-04-01", "2021-05-03",
                                                               "2021-06-01"]
    quarterly = review_rows(DATES, 0, len(DATES) - 1, "quarterly")
    assert all(DATES[r].month in (1, 4, 7, 10) for r in quarterly) and len(quarterly) == 8
    assert len(review_rows(DATES, 0, len(DATES) - 1, "monthly")) == 24


def test_unknown_cadence_names_the_field():
    with pytest.raises(BadInputError) as err:
        research_rows(DATES, 0, 10, "weekly")
    assert err.value.details["field"] == "cadence"


def test_default_start_waits_for_every_class():
    returns = pd.DataFrame(np.nan, index=DATES, columns=["a", "b", "c"])
    returns.loc[DATES[0]:, "a"] = 0.001
    returns.loc[DATES[50]:, "b"] = 0.001
    returns.loc[DATES[20]:, "c"] = 0.001
    start = default_start(returns, np.array(["bond", "gold", "bond"]), min_history_days=100)
    assert start == DATES[50 + 99]  # gold (b) reaches 100 observations last
    with pytest.raises(BadInputError):
        default_start(returns, np.array(["bond", "gold", "bond"]), min_history_days=10_000)

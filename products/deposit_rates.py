"""PBoC benchmark deposit rates (存款基准利率) as accrual indices, for benchmark legs that name them.

Fund benchmarks often carry a deposit leg: ``银行活期存款利率(税后)×5%`` (demand deposits),
``一年期定期存款利率(税后)+1.2%`` or ``三年期定期存款利率``. Such a leg earns the deposit rate, not a money
fund's yield (which was 2–4 % while demand deposits paid 0.35 %). The tables below are the People's Bank
of China benchmark rates (percent a year, effective date → rate); they have not changed since
2015-10-24. Interest tax (利息税): 20 % until 2007-08-14, 5 % until 2008-10-08, none since — the
indices are after tax (税后), as the benchmark texts say. Commercial banks' posted rates fell below the
benchmark from 2022; a bank that wants its own posted rates passes its own tables
(`deposit_index(dates, table=...)`).

The index accrues per calendar day like a deposit (rate × days / 365, booked on the dates given), so a
benchmark leg compounds exactly what the deposit would have earned between two NAV dates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365

DEMAND: dict[str, float] = {
    "1999-06-10": 0.99, "2002-02-21": 0.72, "2007-07-21": 0.81, "2008-11-27": 0.72, "2008-12-23": 0.36,
    "2011-02-09": 0.40, "2011-04-06": 0.50, "2012-06-08": 0.40, "2012-07-06": 0.35,
}
ONE_YEAR: dict[str, float] = {
    "1999-06-10": 2.25, "2002-02-21": 1.98, "2004-10-29": 2.25, "2006-08-19": 2.52, "2007-03-18": 2.79,
    "2007-05-19": 3.06, "2007-07-21": 3.33, "2007-08-22": 3.60, "2007-09-15": 3.87, "2007-12-21": 4.14,
    "2008-10-09": 3.87, "2008-10-30": 3.60, "2008-11-27": 2.52, "2008-12-23": 2.25, "2010-10-20": 2.50,
    "2010-12-26": 2.75, "2011-02-09": 3.00, "2011-04-06": 3.25, "2011-07-07": 3.50, "2012-06-08": 3.25,
    "2012-07-06": 3.00, "2014-11-22": 2.75, "2015-03-01": 2.50, "2015-05-11": 2.25, "2015-06-28": 2.00,
    "2015-08-26": 1.75, "2015-10-24": 1.50,
}
THREE_YEAR: dict[str, float] = {
    "1999-06-10": 2.70, "2002-02-21": 2.52, "2004-10-29": 3.24, "2006-08-19": 3.69, "2007-03-18": 3.96,
    "2007-05-19": 4.41, "2007-07-21": 4.68, "2007-08-22": 4.95, "2007-09-15": 5.22, "2007-12-21": 5.40,
    "2008-10-09": 5.13, "2008-10-30": 4.77, "2008-11-27": 3.60, "2008-12-23": 3.33, "2010-10-20": 3.85,
    "2010-12-26": 4.15, "2011-02-09": 4.50, "2011-04-06": 4.75, "2011-07-07": 5.00, "2012-06-08": 4.65,
    "2012-07-06": 4.25, "2014-11-22": 4.00, "2015-03-01": 3.75, "2015-05-11": 3.50, "2015-06-28": 3.25,
    "2015-08-26": 3.00, "2015-10-24": 2.75,
}
INTEREST_TAX: dict[str, float] = {"1999-11-01": 0.20, "2007-08-15": 0.05, "2008-10-09": 0.0}
TABLES: dict[str, Mapping[str, float]] = {"deposit_demand": DEMAND, "deposit_1y": ONE_YEAR,
                                          "deposit_3y": THREE_YEAR}


def _step(dates: pd.DatetimeIndex, table: Mapping[str, float]) -> np.ndarray:
    """The table's value in force on each date (its first value before the first entry)."""
    starts = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in table))
    values = np.array([table[k] for k in sorted(table, key=pd.Timestamp)], dtype=float)
    pos = np.clip(starts.searchsorted(dates, side="right") - 1, 0, len(values) - 1)
    return values[pos]


def after_tax_rate(dates: pd.DatetimeIndex, table: Mapping[str, float]) -> pd.Series:
    """Annual after-tax rate (fraction) on each date."""
    dates = pd.DatetimeIndex(dates)
    rate = _step(dates, table) / 100.0
    tax = _step(dates, INTEREST_TAX)
    return pd.Series(rate * (1.0 - tax), index=dates)


def deposit_index(dates: pd.DatetimeIndex, table: Mapping[str, float] = DEMAND, base: float = 1.0) -> pd.Series:
    """Level of a deposit earning `table`'s after-tax rate, accrued per calendar day between `dates`."""
    dates = pd.DatetimeIndex(dates).sort_values()
    if len(dates) == 0:
        return pd.Series(dtype=float)
    days = np.diff(dates.to_numpy().astype("datetime64[D]").astype(np.int64)).astype(float)
    rate = after_tax_rate(dates, table).to_numpy()
    growth = np.concatenate([[1.0], 1.0 + rate[1:] * days / DAYS_PER_YEAR])
    return pd.Series(base * np.cumprod(growth), index=dates)


def deposit_indices(dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The three benchmark deposit indices (`deposit_demand`, `deposit_1y`, `deposit_3y`) on `dates`."""
    return pd.DataFrame({name: deposit_index(dates, table) for name, table in TABLES.items()})

"""Share classes of one fund across currencies, and returns measured in the investor's currency.

A QDII fund often has a yuan class and US-dollar classes (美元现汇 / 美元现钞) with separate codes: one
portfolio, NAVs in two currencies. A dollar class belongs to the fund whose yuan class shares its company
and legal name (基金全称); it is never a separate peer of that fund, and its dollar NAV is not comparable
with yuan funds until converted (`returns_in_currency`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from products.taxonomy import currency_of_fund
from products.universe import Universe

FX_COLUMN = "usd_cny"


def yuan_class_of(funds: pd.DataFrame) -> pd.Series:
    """For each non-yuan class, the code of the yuan class of the same fund (same company and 基金全称) in
    the table; "" where there is none (and for yuan classes)."""
    currency = currency_of_fund(funds)
    if "full_name" not in funds or "company" not in funds:
        return pd.Series("", index=funds.index, dtype=object)
    key = funds["company"].astype(str) + "|" + funds["full_name"].astype(str)
    yuan = pd.Series(funds.index[currency == "CNY"], index=key[currency == "CNY"].to_numpy())
    yuan = yuan[~yuan.index.duplicated(keep="first")]
    out = key.map(yuan).where((currency != "CNY") & (funds["full_name"].astype(str).str.len() > 0))
    return out.fillna("").astype(object)


def returns_in_currency(universe: Universe, currency: str = "CNY") -> pd.DataFrame:
    """`universe.returns` with US-dollar classes converted to yuan (see `to_yuan`)."""
    if currency != "CNY":
        raise ValueError("only yuan investors are served: currency must be CNY")
    return to_yuan(universe.returns, universe)


def to_yuan(frame: pd.DataFrame, universe: Universe) -> pd.DataFrame:
    """Columns of `frame` (dates × fund codes, daily returns) that belong to US-dollar classes, converted to
    yuan: (1 + r_usd)(1 + r_fx) − 1 with USD/CNY carried over days without a quote; a return after a gap
    takes the FX move since the fund's previous observation. Unchanged without a USD/CNY series."""
    currency = currency_of_fund(universe.funds).reindex(frame.columns).fillna("CNY")
    usd = (currency == "USD").to_numpy()
    bench = universe.benchmarks
    if not usd.any() or bench is None or FX_COLUMN not in bench or bench[FX_COLUMN].dropna().empty:
        return frame
    fx = bench[FX_COLUMN].dropna()
    fx = fx[fx > 0]
    dates = frame.index
    level = fx.reindex(fx.index.union(dates)).ffill().reindex(dates)
    log_fx = np.nan_to_num(np.log(level / level.shift(1)).to_numpy())
    cum = np.cumsum(log_fx)
    values = frame.to_numpy(dtype=float, copy=True)
    sub = values[:, usd]
    valid = ~np.isnan(sub)
    rows = np.arange(len(dates))[:, None]
    last_seen = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    prev = np.vstack([np.full((1, sub.shape[1]), -1), last_seen[:-1]])  # previous observation row, or −1
    base = np.where(prev >= 0, cum[np.maximum(prev, 0)], (cum - log_fx)[:, None])
    values[:, usd] = np.where(valid, (1.0 + sub) * np.exp(cum[:, None] - base) - 1.0, np.nan)
    return pd.DataFrame(values, index=dates, columns=frame.columns)

"""Small helpers shared by the research modules: dates, peer groups, percentiles, per-universe caches."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from products.errors import BadInputError
from products.taxonomy import FundType

T = TypeVar("T")

# Peer groups (同类): fund types that compete for the same money and are judged against each other.
# Small or closely related types share a group; see docs/research-methodology.md.
PEER_GROUP_OF_TYPE: dict[str, str] = {
    FundType.EQUITY: "active_equity",
    FundType.MIXED_EQUITY: "active_equity",
    FundType.MIXED_FLEXIBLE: "mixed",
    FundType.MIXED_BALANCED: "mixed",
    FundType.MIXED_BOND: "bond_plus",
    FundType.CONVERTIBLE: "bond_plus",
    FundType.BOND: "bond",
    FundType.BOND_INDEX: "bond",
    FundType.INDEX: "index",
    FundType.ENHANCED_INDEX: "enhanced_index",
    FundType.QDII_EQUITY: "qdii",
    FundType.QDII_OTHER: "qdii",
    FundType.GOLD: "gold",
    FundType.COMMODITY: "commodity",
    FundType.FOF: "fof",
    FundType.MONEY_MARKET: "money_market",
}
# Groups decided by the fund's mandate (`products.research.mandate`), not its type alone: index and
# enhanced-index funds on a sector or theme index are judged apart from broad index funds, and hedged
# (market-neutral) funds apart from the mixed funds they are filed with.
SECTOR_INDEX_GROUP = "sector_index"
MARKET_NEUTRAL_GROUP = "market_neutral"
SECTOR_INDEX_TYPES = (FundType.INDEX, FundType.ENHANCED_INDEX)
# A group with fewer rated funds than MIN_PEERS is merged into the group named here (when it exists);
# a group still smaller than MIN_PEERS after that is not rated at all (too few peers to rank).
MIN_PEERS = 5
PEER_GROUP_FALLBACK: dict[str, str] = {
    "bond_plus": "bond",
    "enhanced_index": "index",
    SECTOR_INDEX_GROUP: "index",
    "mixed": "active_equity",
    "fof": "mixed",
}  # qdii, gold, commodity and market-neutral funds have no fallback: nothing else is like them
PEER_GROUP_NAMES_ZH: dict[str, str] = {
    "active_equity": "主动权益(股票型+偏股混合)",
    "mixed": "灵活配置/平衡混合",
    "bond_plus": "固收+(偏债混合+可转债)",
    "bond": "债券(含债券指数)",
    "index": "宽基指数",
    "enhanced_index": "指数增强",
    "qdii": "QDII",
    SECTOR_INDEX_GROUP: "行业/主题指数",
    "gold": "黄金",
    "commodity": "商品(不含黄金)",
    MARKET_NEUTRAL_GROUP: "股票对冲/市场中性",
    "fof": "FOF",
    "money_market": "货币",
}


def to_timestamp(value: date | str | pd.Timestamp | None, field: str = "as_of") -> pd.Timestamp | None:
    """Parse a user date (None stays None); a clear error names the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise BadInputError(f"{field} must be a date like 2022-12-31, got {value!r}",
                            details={field: str(value)}) from err
    if pd.isna(ts):
        raise BadInputError(f"{field} must be a date like 2022-12-31, got {value!r}", details={field: str(value)})
    return ts.tz_localize(None).normalize() if ts.tzinfo else ts.normalize()


def quarter_end(values: pd.Series | pd.Index | np.ndarray) -> pd.Series:
    """Quarter labels (`2022-Q4`, `2022Q4`, a date inside the quarter) → the quarter's last day."""
    ser = pd.Series(np.asarray(values, dtype=object))
    uniq = pd.unique(ser)
    lookup: dict[Any, pd.Timestamp] = {}
    for q in uniq:
        if isinstance(q, pd.Timestamp | date | np.datetime64):
            period = pd.Timestamp(q).to_period("Q")
        else:
            text = str(q).strip().upper().replace("-Q", "Q").replace(" ", "")
            period = pd.Period(text, freq="Q")
        lookup[q] = period.end_time.normalize()
    return pd.to_datetime(ser.map(lookup))


def first_observation(returns: pd.DataFrame) -> pd.Series:
    """Date of each fund's first non-NaN return (NaT if none), without a per-column loop."""
    values = returns.notna().to_numpy()
    has = values.any(axis=0)
    first = values.argmax(axis=0)
    out = returns.index.to_numpy()[first].astype("datetime64[ns]")
    out = np.where(has, out, np.datetime64("NaT"))
    return pd.Series(pd.to_datetime(out), index=returns.columns)


def peer_percentile(raw: pd.Series, groups: pd.Series, eligible: pd.Series, higher_is_better: bool = True
                    ) -> pd.Series:
    """Percentile 0–100 of `raw` inside each peer group among `eligible` funds (100 = best).

    Ties share the average rank; a group of one scores 50; NaN raw values get the neutral 50. Funds that
    are not eligible get NaN.
    """
    values = raw.where(eligible).astype(float)
    if not higher_is_better:
        values = -values
    ranks = values.groupby(groups).rank(method="average")
    counts = values.groupby(groups).transform("count")
    pct = (ranks - 1.0) / (counts - 1.0) * 100.0
    pct = pct.where(counts > 1, 50.0)
    pct = pct.fillna(50.0)
    return pct.where(eligible)


_CACHES: dict[str, weakref.WeakKeyDictionary[Any, dict[Hashable, Any]]] = {}


def cached(kind: str, universe: object, key: Hashable, build: Callable[[], T]) -> T:
    """Memoize `build()` per universe object (immutable snapshot) and key; freed with the universe."""
    store = _CACHES.setdefault(kind, weakref.WeakKeyDictionary())
    per_universe = store.setdefault(universe, {})
    if key not in per_universe:
        if len(per_universe) > 16:
            per_universe.clear()
        per_universe[key] = build()
    return per_universe[key]

"""Helpers for the rebalancing tests: a simple deterministic target and book builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from advisor.rebalancing import rebalance_batch
from advisor.rebalancing.universe_facts import fund_facts

AS_OF = date(2026, 2, 13)  # the demo universe's as-of date
CLASS_MIX = {  # asset-class targets by level (cash, bond, cn_equity, global_equity, gold)
    1: {"cash": 1.0},
    2: {"cash": 0.2, "bond": 0.7, "cn_equity": 0.1},
    3: {"cash": 0.1, "bond": 0.5, "cn_equity": 0.3, "global_equity": 0.05, "gold": 0.05},
    4: {"cash": 0.05, "bond": 0.3, "cn_equity": 0.5, "global_equity": 0.1, "gold": 0.05},
    5: {"cash": 0.05, "bond": 0.15, "cn_equity": 0.6, "global_equity": 0.15, "gold": 0.05},
}


def simple_targets(universe) -> Callable[[int, float, bool], pd.Series]:
    """Two cheapest suitable open funds per class that are not weak, the class weight split equally."""
    funds = universe.funds.assign(cost=universe.fees.running_cost, weak=fund_facts(universe).weak)

    def provider(level: int, horizon: float, lowest: bool = False) -> pd.Series:
        cap = 1 if lowest else level
        ok = funds[(funds["risk_level"] <= cap) & funds["status"].isin(["open"]) & ~funds["weak"]]
        ok = ok.sort_values(["cost"], kind="stable")
        weights: dict[str, float] = {}
        for cls, share in CLASS_MIX[cap].items():
            picks = ok[ok["asset_class"] == cls].index[:2]
            for code in picks:
                weights[code] = share / len(picks)
        s = pd.Series(weights, dtype=float)
        return s / s.sum()

    return provider


def lots_frame(universe, rows: list[tuple[str, str, float, int]]) -> pd.DataFrame:
    """Valued lots from (customer_id, code, value, holding_days)."""
    frame = pd.DataFrame(rows, columns=["customer_id", "code", "value", "holding_days"])
    frame["fund_idx"] = universe.index_of(frame["code"].to_numpy())
    frame["purchase_date"] = pd.to_datetime([AS_OF - timedelta(days=int(d)) for d in frame["holding_days"]])
    frame["row"] = np.arange(len(frame))
    return frame


def on_target_lots(universe, provider, customer_id: str, level: int, total: float,
                   days: int = 1000, tilt: dict[str, float] | None = None) -> list[tuple[str, str, float, int]]:
    """Lots holding exactly the target (optionally tilted: class → weight moved into it from others)."""
    target = provider(level, 3.0, False)
    classes = universe.funds.loc[target.index, "asset_class"].astype(str)
    weights = target.copy()
    for cls, shift in (tilt or {}).items():
        inside = classes == cls
        weights[inside] += shift * target[inside] / target[inside].sum()
        weights[~inside] -= shift * target[~inside] / target[~inside].sum()
    return [(customer_id, code, float(w * total), days) for code, w in weights.items()]


def run(universe, targets, customers: list[dict], lots: list[tuple], **kw):
    """`rebalance_batch` on a list of customer dicts and lot tuples (demo universe, AS_OF)."""
    frame = pd.DataFrame(customers)
    return rebalance_batch(universe, frame, lots_frame(universe, lots), targets=targets, as_of=AS_OF, **kw)


def fund_of(universe, *, asset_class: str, level: int | None = None, weak: bool | None = None,
            exclude: tuple[str, ...] = (), share_class: str | None = None) -> str:
    """The first open fund of a class (optionally of a level, weak or not, share class) not in `exclude`."""
    funds = universe.funds.assign(weak=fund_facts(universe).weak)
    sel = funds[(funds["asset_class"] == asset_class) & funds["status"].isin(["open"])
                & (funds["fund_type"].astype(str) != "money_market" if asset_class != "cash" else True)]
    if level is not None:
        sel = sel[sel["risk_level"] == level]
    if weak is not None:
        sel = sel[sel["weak"] == weak]
    if share_class is not None:
        sel = sel[sel["share_class"] == share_class]
    return next(c for c in sel.index if c not in exclude)

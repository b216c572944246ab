"""What the rebalancing policy needs to know about the funds, computed once per universe.

* `fund_facts`: per-fund arrays (level, class, company, tradable, minimum purchase and increment,
  variance, drawdown, latest NAV, money-market flag, weak by the one quality rule, A class of a C class).
* `fund_event_names`: closed / suspended from the fund status, plus a fund-events table.
* `group_targets`: the model's fund weights per (level, allowed level, horizon bucket), made suitable:
  funds above the allowed level, not tradable, hit by an event or weak lose their weight to the best
  remaining fund of the same class (else to the cash class).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from products.errors import BadInputError, DataError
from products.taxonomy import ASSET_CLASSES, share_class_families
from products.universe import Universe

CLASS_NAMES: tuple[str, ...] = tuple(c.value for c in ASSET_CLASSES)
HORIZON_OF_BUCKET = (0.5, 2.0, 5.0)  # representative years of the short / medium / long model buckets
TRADABLE_STATUS = ("open", "limited")
FUND_EVENTS = ("downgraded", "closed", "dropped", "suspended")
CLASS_VOL = {"cash": 0.005, "bond": 0.03, "cn_equity": 0.22, "global_equity": 0.2, "gold": 0.15}

TargetProvider = Callable[[int, float, bool], pd.Series]  # (level, horizon years, lowest category)


@dataclass(frozen=True)
class FundFacts:
    """Per-fund arrays the engine needs, aligned with `universe.funds`."""

    risk_level: np.ndarray
    class_idx: np.ndarray
    company: np.ndarray  # int codes
    tradable: np.ndarray
    min_purchase: np.ndarray
    increment: np.ndarray  # purchase amounts step, yuan
    variance: np.ndarray  # yearly return variance
    drawdown: np.ndarray  # from the 1-year peak, ≤ 0
    nav: np.ndarray  # latest unit NAV
    base_sub_rate: np.ndarray  # discounted first-tier subscription rate (switch pricing)
    money_market: np.ndarray  # bool
    weak: np.ndarray  # bool, products.research.quality (the health check's and selection's rule)
    a_sibling: np.ndarray  # position of the A class of a C-class fund, else -1


@lru_cache(maxsize=8)
def fund_facts(universe: Universe) -> FundFacts:
    from advisor.batch_io import latest_unit_nav
    from products.research.quality import weak_mask

    funds = universe.funds
    cls = funds["asset_class"].astype("str").to_numpy()
    class_idx = pd.Index(CLASS_NAMES).get_indexer(cls)
    if (class_idx < 0).any():
        raise DataError("universe has funds with an unknown asset class", details={
            "codes": list(funds.index[class_idx < 0][:5])})
    returns = universe.returns.iloc[-756:]
    vol = (returns.std(ddof=1) * np.sqrt(252)).to_numpy(dtype=float) if len(returns) > 20 else np.full(len(funds),
                                                                                                      np.nan)
    default_vol = np.array([CLASS_VOL[c] for c in cls])
    vol = np.where(np.isfinite(vol), vol, default_vol)
    if len(universe.returns) > 1:
        index = universe.total_return_index().iloc[-252:].ffill()
        dd = (index.iloc[-1] / index.max() - 1.0).to_numpy(dtype=float)
        dd = np.where(np.isfinite(dd), np.minimum(dd, 0.0), 0.0)
    else:
        dd = np.zeros(len(funds))
    company = pd.factorize(funds["company"].astype("str"))[0]
    min_purchase = pd.to_numeric(funds["min_purchase"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    increment = (pd.to_numeric(funds["purchase_increment"], errors="coerce").fillna(0.01).to_numpy(dtype=float)
                 if "purchase_increment" in funds.columns else np.full(len(funds), 0.01))
    money = funds["fund_type"].astype("str").to_numpy() == "money_market"
    try:
        weak = weak_mask(universe) & ~money
    except (DataError, ValueError, KeyError):  # no leaderboard possible (too little history): nothing is weak
        weak = np.zeros(len(funds), dtype=bool)
    _, a_sibling = share_class_families(funds)
    return FundFacts(
        risk_level=funds["risk_level"].to_numpy(dtype=np.int64), class_idx=class_idx.astype(np.int64),
        company=company.astype(np.int64),
        tradable=funds["status"].astype("str").isin(TRADABLE_STATUS).to_numpy(),
        min_purchase=min_purchase, increment=np.maximum(increment, 0.01), variance=vol**2, drawdown=dd,
        nav=latest_unit_nav(universe), base_sub_rate=universe.fees.sub_rate[:, 0] * universe.fee_discount,
        money_market=money, weak=np.asarray(weak, dtype=bool), a_sibling=a_sibling.astype(np.int64),
    )


@lru_cache(maxsize=8)
def default_targets(universe: Universe) -> TargetProvider:
    """The proposals engine's fund-level target for a level and horizon."""
    try:
        from advisor.proposal import target_fund_weights
    except ImportError as err:  # pragma: no cover - the proposals module ships with the package
        raise DataError("fund-level targets are not available (advisor.proposal missing)",
                        code="targets_missing") from err
    return lambda level, horizon, lowest: target_fund_weights(universe, level, horizon, lowest_category=lowest)


@lru_cache(maxsize=8)
def _status_events(universe: Universe) -> np.ndarray:
    status = universe.funds["status"].astype("str").to_numpy()
    event = np.where(status == "closed", "closed", np.where(status == "suspended", "suspended", "")).astype(object)
    event.setflags(write=False)
    return event


def fund_event_names(universe: Universe, fund_events: pd.DataFrame | None) -> np.ndarray:
    """Event name per fund ('' for none): closed / suspended from the status, plus the given events."""
    event = _status_events(universe)
    if fund_events is None or not len(fund_events):
        return event
    event = event.copy()
    if not {"code", "event"} <= set(fund_events.columns):
        raise BadInputError("fund events need the columns code and event", details={"field": "fund_events"})
    kinds = fund_events["event"].astype("str").str.strip().str.lower()
    unknown = sorted(set(kinds) - set(FUND_EVENTS))
    if unknown:
        raise BadInputError(f"unknown fund event {unknown[0]!r}; expected one of {', '.join(FUND_EVENTS)}",
                            details={"field": "event"})
    idx = universe.index_of(fund_events["code"].astype("str").to_numpy())
    if (idx < 0).any():
        bad = fund_events["code"].astype("str").to_numpy()[idx < 0][0]
        raise BadInputError(f"fund event for unknown fund {bad!r}", details={"field": "code", "code": bad})
    event[idx] = kinds.to_numpy(dtype=object)
    return event


def group_targets(universe: Universe, provider: TargetProvider, groups: np.ndarray, blocked: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(targets (G, F), replacement fund per (group, fund) or -1) for groups (level, allowed, bucket)."""
    weights = np.zeros((len(groups), len(universe.funds)))
    replacement = np.full(weights.shape, -1, dtype=np.int64)
    key = blocked.tobytes()
    for g, (level, allowed, bucket) in enumerate(groups.tolist()):
        weights[g], replacement[g] = _one_group_target(universe, provider, int(level), int(allowed), int(bucket), key)
    return weights, replacement


@lru_cache(maxsize=512)
def _one_group_target(universe: Universe, provider: TargetProvider, level: int, allowed: int, bucket: int,
                      blocked_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One group's suitable target and replacements (cached: targets are deterministic per universe)."""
    facts = fund_facts(universe)
    blocked = np.frombuffer(blocked_key, dtype=bool)
    running = universe.fees.running_cost
    n_funds = len(universe.funds)
    replacement = np.full(n_funds, -1, dtype=np.int64)
    raw = provider(level, HORIZON_OF_BUCKET[bucket], allowed < level)
    w = pd.Series(raw, dtype=float).reindex(universe.funds.index).fillna(0.0).to_numpy()
    if (w < -1e-12).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise DataError(f"target weights for C{level} are invalid", details={"level": int(level)})
    w = np.maximum(w, 0.0) / w.sum()
    ok = (facts.risk_level <= allowed) & facts.tradable & ~blocked
    moved = np.where(ok, 0.0, w)
    w = np.where(ok, w, 0.0)
    for k in range(len(CLASS_NAMES)):
        choice = _replacement(facts, ok, w, running, k)
        if choice < 0 and k != 0:
            choice = _replacement(facts, ok, w, running, 0)  # nothing suitable: the cash class
        in_class = facts.class_idx == k
        replacement[in_class] = choice
        mass = moved[in_class].sum()
        if mass > 0 and choice >= 0:
            w[choice] += mass
    w.setflags(write=False)
    replacement.setflags(write=False)
    return w, replacement


def _replacement(facts: FundFacts, ok: np.ndarray, w: np.ndarray, running: np.ndarray, k: int) -> int:
    """The fund of class k that takes over: the largest target fund, else the cheapest suitable one."""
    cand = np.flatnonzero(ok & (facts.class_idx == k))
    if cand.size == 0:
        return -1
    if w[cand].max() > 0:
        return int(cand[np.argmax(w[cand])])
    return int(cand[np.lexsort((facts.variance[cand], running[cand]))[0]])

"""Rebalance a whole book at once: every customer's problem solved together, vectorized.

Pipeline (no per-customer Python loop anywhere):

1. validate customers and lots (bad rows → rejects with reasons, the run goes on);
2. targets per (level, lowest category, horizon bucket) group — `advisor.proposal.target_fund_weights`
   — made suitable (funds above the level, closed or hit by an event lose their weight to the best
   fund of the same class);
3. (customer, fund) pairs = held funds ∪ target funds, lots sorted FIFO into fee segments;
4. triggers for every customer; only customers with an actionable trigger are optimized;
5. the dual-bisection solver (`optimizer.solve`) over padded chunks of customers, then `cleanup`;
6. exact pricing (tiered subscription, FIFO lot fees, switches inside one company) and the final
   benefit-vs-cost check: a plan that does not beat "no trade" is dropped, with the reason.

Design choice (measured in benchmarks/bench_rebalance.py): a hand-vectorized solver over customers
rather than a compiled cvxpy problem re-solved per customer, because a million re-solves at even 1 ms
each would take 17 minutes; the vectorized solver agrees with cvxpy to 1e-5 (tests).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from advisor import limits
from advisor.rebalancing import costs, optimizer
from advisor.rebalancing.lots import build_lot_book, fifo_segments, sell_fifo
from advisor.rebalancing.settings import DEFAULT_SETTINGS, RebalanceSettings
from advisor.rebalancing.triggers import Triggers, evaluate
from products.errors import BadInputError, DataError
from products.fees import SHORT_HOLD_DAYS
from products.taxonomy import ASSET_CLASSES
from products.universe import Universe

CLASS_NAMES: tuple[str, ...] = tuple(c.value for c in ASSET_CLASSES)
HORIZON_OF_BUCKET = (0.5, 2.0, 5.0)  # representative years of the short / medium / long model buckets
TRADABLE_STATUS = ("open", "limited")
FUND_EVENTS = ("downgraded", "closed", "dropped", "suspended")
_CLASS_VOL = {"cash": 0.005, "bond": 0.03, "cn_equity": 0.22, "global_equity": 0.2, "gold": 0.15}
DRIFT_TOLERANCE = 1e-4  # 0.01 pp: fees and cent rounding move class weights that little on a same-class swap
REJECT_COLUMNS = ["table", "customer_id", "row", "field", "reason"]

TargetProvider = Callable[[int, float, bool], pd.Series]  # (level, horizon years, lowest category)


# ---------------------------------------------------------------------------------------------
# universe facts
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FundFacts:
    """Per-fund arrays the engine needs, aligned with `universe.funds`."""

    risk_level: np.ndarray
    class_idx: np.ndarray
    company: np.ndarray  # int codes
    tradable: np.ndarray
    min_purchase: np.ndarray
    variance: np.ndarray  # yearly return variance
    drawdown: np.ndarray  # from the 1-year peak, ≤ 0
    nav: np.ndarray  # latest unit NAV
    base_sub_rate: np.ndarray  # discounted first-tier subscription rate (switch pricing)


@lru_cache(maxsize=8)
def fund_facts(universe: Universe) -> FundFacts:
    from advisor.batch_io import latest_unit_nav

    funds = universe.funds
    cls = funds["asset_class"].astype("str").to_numpy()
    class_idx = pd.Index(CLASS_NAMES).get_indexer(cls)
    if (class_idx < 0).any():
        raise DataError("universe has funds with an unknown asset class", details={
            "codes": list(funds.index[class_idx < 0][:5])})
    returns = universe.returns.iloc[-756:]
    vol = (returns.std(ddof=1) * np.sqrt(252)).to_numpy(dtype=float) if len(returns) > 20 else np.full(len(funds),
                                                                                                      np.nan)
    default_vol = np.array([_CLASS_VOL[c] for c in cls])
    vol = np.where(np.isfinite(vol), vol, default_vol)
    if len(universe.returns) > 1:
        index = universe.total_return_index().iloc[-252:].ffill()
        dd = (index.iloc[-1] / index.max() - 1.0).to_numpy(dtype=float)
        dd = np.where(np.isfinite(dd), np.minimum(dd, 0.0), 0.0)
    else:
        dd = np.zeros(len(funds))
    company = pd.factorize(funds["company"].astype("str"))[0]
    min_purchase = pd.to_numeric(funds["min_purchase"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return FundFacts(
        risk_level=funds["risk_level"].to_numpy(dtype=np.int64), class_idx=class_idx.astype(np.int64),
        company=company.astype(np.int64),
        tradable=funds["status"].astype("str").isin(TRADABLE_STATUS).to_numpy(),
        min_purchase=min_purchase, variance=vol**2, drawdown=dd, nav=latest_unit_nav(universe),
        base_sub_rate=universe.fees.sub_rate[:, 0] * universe.fee_discount,
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


# ---------------------------------------------------------------------------------------------
# targets per group
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _status_events(universe: Universe) -> np.ndarray:
    status = universe.funds["status"].astype("str").to_numpy()
    event = np.where(status == "closed", "closed", np.where(status == "suspended", "suspended", "")).astype(object)
    event.setflags(write=False)
    return event


def _fund_events(universe: Universe, facts: FundFacts, fund_events: pd.DataFrame | None) -> np.ndarray:
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


def _group_targets(universe: Universe, facts: FundFacts, provider: TargetProvider, groups: np.ndarray,
                   blocked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


# ---------------------------------------------------------------------------------------------
# input validation
# ---------------------------------------------------------------------------------------------

def _reject_frame(table: str, ids: np.ndarray, rows: np.ndarray, field: str, reason: object) -> pd.DataFrame:
    return pd.DataFrame({"table": table, "customer_id": pd.Series(ids, dtype="str"), "row": rows.astype(np.int64),
                         "field": field, "reason": reason})


def _levels(values: pd.Series) -> np.ndarray:
    """C1…C5 (or 1…5) as floats, NaN where unreadable; text is parsed once per distinct value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":
        return values.to_numpy().astype(float, copy=False)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    codes, uniques = pd.factorize(values)
    parsed = np.array([_level_of(v) for v in uniques] + [np.nan])
    return parsed[codes]


def _level_of(value: object) -> float:
    text = str(value).strip().upper().removeprefix("C")
    return float(text) if text.isdigit() else np.nan


def _numbers(frame: pd.DataFrame, column: str, default: float) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), default)
    values = frame[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":
        return values.to_numpy().astype(float, copy=False)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _text_ids(values: pd.Series) -> pd.Series:
    out = values if isinstance(values.dtype, pd.StringDtype) else values.astype("str")
    plain = isinstance(out.index, pd.RangeIndex) and out.index.start == 0 and out.index.step == 1
    return out if plain else out.reset_index(drop=True)


def sum_by(index: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """Weighted bincount that is float even when empty."""
    return np.bincount(index, weights=weights, minlength=minlength).astype(float, copy=False)


def _positions(values: pd.Series, value_set: pd.Series) -> np.ndarray:
    """Position of each value in `value_set` (-1 where absent): an Arrow hash join, zero-copy on str columns."""
    import pyarrow.compute as pc

    if len(value_set) <= 16:  # a handful of customers (the API): a dict beats building a hash table
        lookup: dict[object, int] = {}
        for i, v in enumerate(value_set.tolist()):
            lookup.setdefault(v, i)  # the first occurrence, like Arrow's index_in
        return np.fromiter((lookup.get(v, -1) for v in values.tolist()), dtype=np.int64, count=len(values))
    found = pc.index_in(pa.array(values.array), value_set=pa.array(value_set.array))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _dates_or_nat(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    values = frame[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return values.to_numpy().astype("datetime64[D]")
    return pd.to_datetime(values, errors="coerce").to_numpy(dtype="datetime64[D]")


@dataclass(frozen=True)
class _Customers:
    ids: pd.Series  # str
    rows: np.ndarray
    level: np.ndarray
    lowest: np.ndarray
    bucket: np.ndarray
    flow: np.ndarray
    previous_level: np.ndarray
    last_review: np.ndarray


def _validate_customers(customers: pd.DataFrame) -> tuple[_Customers, np.ndarray, list[pd.DataFrame]]:
    for col in ("customer_id", "risk_level"):
        if col not in customers.columns:
            raise BadInputError(f"customers table is missing column {col}", code="missing_columns",
                                details={"table": "customers", "missing": [col]})
    n = len(customers)
    ids = _text_ids(customers["customer_id"])
    rows = customers["row"].to_numpy(dtype=np.int64) if "row" in customers.columns else np.arange(n)
    level = _levels(customers["risk_level"])
    lowest = (customers["lowest_category"].to_numpy(dtype=bool, na_value=False)
              if "lowest_category" in customers.columns else np.zeros(n, dtype=bool))
    horizon = _numbers(customers, "horizon_years", np.nan)
    flow = _numbers(customers, "cash_flow", 0.0)
    prev = _levels(customers["previous_risk_level"]) if "previous_risk_level" in customers.columns else level
    rejects: list[pd.DataFrame] = []
    bad = np.zeros(n, dtype=bool)
    known = (level >= 1) & (level <= 5) & (level == np.round(level))
    checks = (
        (~known, "risk_level", "unknown risk level; expected C1–C5"),
        (np.isfinite(horizon) & ((horizon <= 0) | (horizon > limits.MAX_HORIZON_YEARS)), "horizon_years",
         f"horizon_years must be more than 0 and at most {limits.MAX_HORIZON_YEARS:g} years"),
        (~np.isfinite(flow) & ~np.isnan(flow), "cash_flow", "cash_flow is not finite"),
        (ids.duplicated().to_numpy() if n > 1 else np.zeros(n, dtype=bool), "customer_id",
         "duplicate customer_id (first row kept)"),
    )
    for mask, field, reason in checks:
        if mask.any():
            rejects.append(_reject_frame("customers", ids[mask].to_numpy(dtype=object), rows[mask], field, reason))
            bad |= mask
    level = np.where(known, level, 1).astype(np.int64)
    prev = np.where((prev >= 1) & (prev <= 5) & (prev == np.round(prev)), prev, level).astype(np.int64)
    horizon = np.where(np.isfinite(horizon), horizon, 3.0)
    bucket = np.where(horizon < 1.0, 0, np.where(horizon <= 3.0, 1, 2)).astype(np.int64)
    data = _Customers(ids=ids, rows=rows, level=level, lowest=lowest, bucket=bucket,
                      flow=np.nan_to_num(flow, nan=0.0), previous_level=prev,
                      last_review=_dates_or_nat(customers, "last_rebalance_date"))
    return data, bad, rejects


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchResult:
    """Trades (one row per order), one summary row per customer, positions, and rejected rows."""

    trades: pd.DataFrame
    summary: pd.DataFrame
    positions: pd.DataFrame  # customer_id, code, asset_class, value_before, value_after, target_weight
    rejects: pd.DataFrame
    as_of: date
    universe_version: str


@dataclass(frozen=True)
class CoreResult:
    """The engine's answer as arrays (no DataFrames): per customer and per (customer, fund) pair."""

    reason: np.ndarray  # (C,) codes into report.REASONS
    pair_cust: np.ndarray
    pair_fund: np.ndarray
    buy_gross: np.ndarray  # yuan paid per pair (fees included)
    sell_value: np.ndarray  # yuan redeemed per pair
    fees: np.ndarray  # (C,)
    cash: np.ndarray  # (C,) cash left after the plan
    triggers: np.ndarray  # (C,) bit mask over triggers.TRIGGER_NAMES


@dataclass
class _Pairs:
    """(customer, fund) pairs sorted by customer then fund: held funds ∪ target funds."""

    cust: np.ndarray
    fund: np.ndarray
    held: np.ndarray
    target: np.ndarray  # target weight of the fund for the customer's group
    first: np.ndarray  # (C + 1,) offsets per customer
    slot: np.ndarray


def _build_pairs(n_cust: int, held_cust: np.ndarray, held_fund: np.ndarray, held_value: np.ndarray,
                 group: np.ndarray, group_targets: np.ndarray, n_funds: int) -> tuple[_Pairs, np.ndarray]:
    """Union of held and target pairs; also the union index of each held pair."""
    g_rows, g_funds = np.nonzero(group_targets > 0)
    per_group = np.bincount(g_rows, minlength=len(group_targets))
    g_first = np.concatenate([[0], np.cumsum(per_group)])
    counts = per_group[group]
    t_cust = np.repeat(np.arange(n_cust), counts)
    offsets = np.cumsum(counts) - counts
    t_fund = g_funds[np.repeat(g_first[group], counts) + (np.arange(counts.sum()) - np.repeat(offsets, counts))]
    keys = np.concatenate([held_cust * n_funds + held_fund, t_cust * n_funds + t_fund])
    keys.sort()  # both parts are already sorted: a cheap merge
    union = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    cust = union // n_funds
    fund = union % n_funds
    held_pos = np.searchsorted(union, held_cust * n_funds + held_fund)
    held = np.zeros(len(union))
    np.add.at(held, held_pos, held_value)
    first = np.searchsorted(cust, np.arange(n_cust + 1))
    slot = np.arange(len(union)) - first[cust]
    target = group_targets[group[cust], fund]
    return _Pairs(cust=cust, fund=fund, held=held, target=target, first=first, slot=slot), held_pos


def _gather(first: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the contiguous runs first[r]:first[r+1] for each r in rows, and the run of each index."""
    counts = first[rows + 1] - first[rows]
    local = np.repeat(np.arange(len(rows)), counts)
    offsets = np.cumsum(counts) - counts
    idx = np.repeat(first[rows], counts) + (np.arange(counts.sum()) - np.repeat(offsets, counts))
    return idx, local


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------

def rebalance_batch(universe: Universe, customers: pd.DataFrame, lots: pd.DataFrame, *,
                    targets: TargetProvider | None = None, fund_events: pd.DataFrame | None = None,
                    as_of: date | None = None, settings: RebalanceSettings = DEFAULT_SETTINGS,
                    progress: Callable[[int, int], None] | None = None,
                    on_chunk: Callable[[np.ndarray, optimizer.DenseProblem, optimizer.Solution], None] | None = None,
                    frames: bool = True) -> BatchResult | CoreResult:
    """Rebalance every customer of `customers` holding `lots` (valued: `advisor.batch_io.value_lots`).

    `customers` needs `customer_id, risk_level`; optional `lowest_category, horizon_years, cash_flow`
    (deposit > 0, withdrawal < 0, yuan), `previous_risk_level`, `last_rebalance_date`. `lots` needs
    `customer_id, fund_idx, value, purchase_date, holding_days` (and `row` for reject reporting;
    optional `locked` for lots under a lock-up that cannot be sold yet). `on_chunk(rows, problem,
    solution)` sees each solved chunk (customer positions after rejects) — for verification.
    `frames=False` skips building the output DataFrames and returns the priced arrays (`CoreResult`).
    """
    as_of = as_of or universe.as_of
    as_of64 = np.datetime64(as_of, "D")
    facts = fund_facts(universe)
    discount = universe.fee_discount if settings.fee_discount is None else settings.fee_discount
    provider = targets or default_targets(universe)
    n_funds = len(universe.funds)
    cust, bad_cust, rejects = _validate_customers(customers)
    n_cust = len(cust.ids)

    # ---- lots: validate, map to customers
    lot_id_series = _text_ids(lots["customer_id"])
    lot_rows = lots["row"].to_numpy(dtype=np.int64) if "row" in lots.columns else np.arange(len(lots))
    lot_cust = _positions(lot_id_series, cust.ids) if len(lots) else np.zeros(0, np.int64)
    fund_idx = lots["fund_idx"].to_numpy(dtype=np.int64)
    value = _numbers(lots, "value", np.nan)
    days = _numbers(lots, "holding_days", np.nan)
    pdate = _dates_or_nat(lots, "purchase_date")
    lot_checks = (
        (lot_cust < 0, "customer_id", "customer_id not in customers table"),
        (fund_idx < 0, "code", "unknown fund code"),
        (~np.isfinite(value) | (value < 0), "value", "lot has no usable value (shares × NAV or amount)"),
        (~np.isfinite(days) | (days < 0) | np.isnat(pdate), "purchase_date", "purchase_date missing or after as_of"),
    )
    bad_lot = np.zeros(len(lots), dtype=bool)
    for mask, field, reason in lot_checks:
        mask = mask & ~bad_lot
        if mask.any():
            rejects.append(_reject_frame("holdings", lot_id_series[mask].to_numpy(dtype=object), lot_rows[mask],
                                         field, reason))
            bad_lot |= mask
    # a customer with any unusable lot is not rebalanced: trades on a partial picture would be wrong
    spoilt = np.unique(lot_cust[bad_lot & (lot_cust >= 0)])
    if spoilt.size:
        newly = spoilt[~bad_cust[spoilt]]
        if newly.size:
            rejects.append(_reject_frame("customers", cust.ids.iloc[newly].to_numpy(dtype=object), cust.rows[newly],
                                         "holdings", "customer skipped: one of their holding rows was rejected"))
        bad_cust[spoilt] = True
    keep_lot = ~bad_lot & (lot_cust >= 0) & (value > 0)
    keep_lot &= ~bad_cust[np.where(lot_cust >= 0, lot_cust, 0)]

    # keep only good customers from here on (positions renumbered)
    good = np.flatnonzero(~bad_cust)
    renumber = np.full(n_cust, -1, dtype=np.int64)
    renumber[good] = np.arange(len(good))
    ids, level, lowest = cust.ids.iloc[good].reset_index(drop=True), cust.level[good], cust.lowest[good]
    bucket, flow, prev_level = cust.bucket[good], cust.flow[good], cust.previous_level[good]
    last_review = cust.last_review[good]
    n = len(good)
    allowed = np.where(lowest, 1, level)

    locked = lots["locked"].fillna(False).to_numpy(dtype=bool) if "locked" in lots.columns else None
    book = build_lot_book(renumber[lot_cust[keep_lot]], fund_idx[keep_lot], value[keep_lot], pdate[keep_lot],
                          days[keep_lot], universe.fees, None if locked is None else locked[keep_lot])
    book, deferred = _hold_back_short_lots(universe, facts, book, flow, allowed, as_of64)
    held_cust, held_fund, held_value = book.pair_cust, book.pair_fund, book.pair_value

    # ---- targets per group
    events = _fund_events(universe, facts, fund_events)
    blocked = events != ""
    group_key = level * 100 + allowed * 10 + bucket
    present = np.zeros(600, dtype=bool)
    present[group_key] = True
    uniq_keys = np.flatnonzero(present)
    lookup = np.zeros(600, dtype=np.int64)
    lookup[uniq_keys] = np.arange(len(uniq_keys))
    group = lookup[group_key]
    groups = np.stack([uniq_keys // 100, (uniq_keys // 10) % 10, uniq_keys % 10], axis=1) if n else np.zeros(
        (0, 3), np.int64)
    group_targets, replacement = _group_targets(universe, facts, provider, groups, blocked)

    pairs, held_pos = _build_pairs(n, held_cust, held_fund, held_value, group, group_targets, n_funds)
    pc, pf = pairs.cust, pairs.fund
    held_total = sum_by(pc, weights=pairs.held, minlength=n)
    flow = np.where(np.abs(flow) < 0.01, 0.0, flow)  # less than a cent is no cash flow
    flow = np.maximum(flow, -held_total)  # cannot withdraw more than is held (sales pay fees: see feasible)
    scale = held_total + np.maximum(flow, 0.0)
    target_scale = np.divide(held_total + flow, scale, out=np.zeros(n), where=scale > 0)

    # ---- triggers
    k = len(CLASS_NAMES)
    pclass = facts.class_idx[pf]
    actual_cls = sum_by(pc * k + pclass, weights=pairs.held, minlength=n * k).reshape(n, k)
    actual_cls = np.divide(actual_cls, held_total[:, None], out=np.zeros_like(actual_cls),
                           where=held_total[:, None] > 0)
    target_cls_group = np.stack([sum_by(facts.class_idx, weights=row, minlength=k) for row in group_targets]
                                ) if len(group_targets) else np.zeros((0, k))
    target_cls = target_cls_group[group] if n else np.zeros((0, k))
    above = facts.risk_level[pf] > allowed[pc]
    above_value = sum_by(pc, weights=np.where(above, pairs.held, 0.0), minlength=n)
    event_detail = _event_details(universe, pairs, events, replacement, group, n)
    dd = sum_by(pc, weights=pairs.held * facts.drawdown[pf], minlength=n)
    dd = np.divide(dd, held_total, out=np.zeros(n), where=held_total > 0)
    trig = evaluate(actual_classes=actual_cls, target_classes=target_cls, held_value=held_total, cash_flow=flow,
                    level=level, previous_level=prev_level, above_level_value=above_value,
                    event_detail=event_detail, weighted_drawdown=dd, last_review=last_review, as_of=as_of64,
                    settings=settings)
    active = trig.actionable & (scale >= 0.01)

    # ---- per-pair model data
    lam = facts.variance[pf] + settings.risk_floor**2
    lin = np.where(above, settings.above_level_penalty, 0.0)
    can_buy = ~above & facts.tradable[pf] & ~blocked[pf]
    gap_gross = np.maximum(pairs.target * (held_total + flow)[pc] - pairs.held, 0.0)
    buy_rate = costs.effective_buy_rate(universe.fees, pf, gap_gross, discount)
    seg = fifo_segments(book)
    seg_pair = held_pos[seg.pair] if len(seg.pair) else np.zeros(0, np.int64)
    seg_first = np.searchsorted(seg_pair, np.arange(len(pc) + 1))

    buy_gross = np.zeros(len(pc))
    sell_value = np.zeros(len(pc))
    feasible = np.ones(n, dtype=bool)
    turnover_bound = np.zeros(n, dtype=bool)
    active_rows = np.flatnonzero(active)
    # customers with similar numbers of funds share a chunk: less padding
    active_rows = active_rows[np.argsort(np.diff(pairs.first)[active_rows], kind="stable")]
    chunk = max(int(settings.chunk_size), 1)

    def solve_chunk(rows: np.ndarray) -> tuple:  # one padded chunk, independent of the others
        idx, local = _gather(pairs.first, rows)
        slot = pairs.slot[idx]
        width = int(slot.max()) + 1 if len(slot) else 1
        sidx, s_local_pair = _gather(seg_first, idx)
        depth = int(seg.position[sidx].max()) + 1 if len(sidx) else 1
        nc = len(rows)
        sc = scale[rows]
        shape = (nc, width)
        h, w, lin_d, rate_d, cap_d, minbuy = (np.zeros(shape) for _ in range(6))
        lam_d = np.ones(shape)
        h[local, slot] = pairs.held[idx] / sc[local]
        w[local, slot] = pairs.target[idx] * target_scale[rows][local]
        lam_d[local, slot] = lam[idx]
        lin_d[local, slot] = lin[idx]
        rate_d[local, slot] = buy_rate[idx]
        cap_d[local, slot] = np.where(can_buy[idx], np.inf, 0.0)
        minbuy[local, slot] = facts.min_purchase[pf[idx]]
        seg_len = np.zeros((nc, width, depth))
        seg_rate = np.zeros((nc, width, depth))
        s_row, s_slot = local[s_local_pair], slot[s_local_pair]
        seg_len[s_row, s_slot, seg.position[sidx]] = seg.value[sidx] / sc[s_row]
        seg_rate[s_row, s_slot, seg.position[sidx]] = seg.rate[sidx]
        rho_max = seg_rate.max(axis=(1, 2), initial=0.0)
        cap_turn = settings.turnover_cap + np.maximum(-flow[rows], 0.0) / sc / (1.0 - rho_max) + 1e-9
        problem = optimizer.DenseProblem(h=h, w=w, lam=lam_d, lin=lin_d, buy_rate=rate_d, buy_cap=cap_d,
                                         seg_len=seg_len, seg_rate=seg_rate, budget=flow[rows] / sc,
                                         turnover_cap=cap_turn, kappa=settings.cost_aversion,
                                         cash_drag=settings.cash_drag)
        sol = optimizer.solve(problem, steps=settings.root_steps)
        b, u = optimizer.cleanup(problem, sol, sc, minbuy, settings.min_trade, settings.min_holding)
        return (rows, idx, (b * (1.0 + rate_d) * sc[:, None])[local, slot],
                (u.sum(axis=-1) * sc[:, None])[local, slot], problem, sol)

    starts = range(0, len(active_rows), chunk)
    chunks = (active_rows[s:s + chunk] for s in starts)
    workers = max(1, min(settings.workers, len(starts)))
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None  # numpy releases the GIL
    try:
        done = 0
        for rows, idx, buys, sells, problem, sol in (pool.map(solve_chunk, chunks) if pool is not None
                                                     else map(solve_chunk, chunks)):
            buy_gross[idx] = buys
            sell_value[idx] = sells
            feasible[rows] = sol.feasible
            turnover_bound[rows] = sol.nu > 0
            if on_chunk is not None:
                on_chunk(rows, problem, sol)
            done += len(rows)
            if progress is not None:
                progress(done, len(active_rows))
    finally:
        if pool is not None:
            pool.shutdown()
    if progress is not None and not len(active_rows):
        progress(0, 0)

    return _price_and_report(universe, facts, discount, settings, as_of, ids, level, allowed, flow, scale,
                             target_scale, held_total, pairs, pclass, lam, lin, book, held_pos, buy_gross,
                             sell_value, trig, active, feasible, turnover_bound, target_cls, actual_cls, rejects,
                             frames, blocked[pf], lowest, deferred)


def _hold_back_short_lots(universe: Universe, facts: FundFacts, book, flow: np.ndarray, allowed: np.ndarray,
                          as_of64: np.datetime64) -> tuple[object, dict[str, np.ndarray]]:
    """Lots under 7 days whose fee falls on day 7 are not sold now (unless a withdrawal must be paid).

    Waiting a few days always costs less than the ≥ 1.5% short-holding fee, so no rebalance reason
    (drift, an above-level holding, a fund event) justifies it. Per customer, the held-back value above the
    customer's level, the fee now and on day 7, and the first day all of it can be sold are returned for
    the "stop adding; reduce after day 7" note.
    """
    n = len(flow)
    short = book.holding_days < SHORT_HOLD_DAYS
    none = {"value": np.zeros(n), "fee_now": np.zeros(n), "fee_then": np.zeros(n),
            "sell_after": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")}
    if not short.any():
        return book, none
    later = universe.fees.redemption_rate(book.fund_idx, np.full(len(book.value), float(SHORT_HOLD_DAYS)))
    wait = short & book.sellable & (book.rate > later + 1e-12) & (flow[book.cust] >= 0)
    if not wait.any():
        return book, none
    book = replace(book, sellable=book.sellable & ~wait)
    above = wait & (facts.risk_level[book.fund_idx] > allowed[book.cust])
    cust = book.cust[above]
    value = book.value[above]
    none["value"] = sum_by(cust, weights=value, minlength=n)
    none["fee_now"] = sum_by(cust, weights=value * book.rate[above], minlength=n)
    none["fee_then"] = sum_by(cust, weights=value * later[above], minlength=n)
    wait_days = np.zeros(n)
    np.maximum.at(wait_days, cust, SHORT_HOLD_DAYS - book.holding_days[above])
    none["sell_after"] = np.where(none["value"] > 0, as_of64 + np.ceil(wait_days).astype("timedelta64[D]"),
                                  np.datetime64("NaT"))
    return book, none


def _event_details(universe: Universe, pairs: _Pairs, events: np.ndarray, replacement: np.ndarray,
                   group: np.ndarray, n: int) -> np.ndarray:
    """'code event → replacement' for each held fund hit by an event, joined per customer."""
    detail = np.full(n, "", dtype=object)
    hit = np.flatnonzero((pairs.held > 0) & (events[pairs.fund] != ""))
    if hit.size == 0:
        return detail
    codes = universe.codes
    rep = replacement[group[pairs.cust[hit]], pairs.fund[hit]]
    text = pd.Series(codes[pairs.fund[hit]], dtype="str") + " " + pd.Series(events[pairs.fund[hit]], dtype="str")
    text = text + pd.Series(np.where(rep >= 0, " → " + codes[np.maximum(rep, 0)].astype(object), ""), dtype="str")
    joined = text.groupby(pairs.cust[hit]).agg("; ".join)
    detail[joined.index.to_numpy()] = joined.to_numpy(dtype=object)
    return detail


def _price_and_report(universe: Universe, facts: FundFacts, discount: float, settings: RebalanceSettings,
                      as_of: date, ids: pd.Series, level: np.ndarray, allowed: np.ndarray, flow: np.ndarray,
                      scale: np.ndarray, target_scale: np.ndarray, held_total: np.ndarray, pairs: _Pairs,
                      pclass: np.ndarray, lam: np.ndarray, lin: np.ndarray, book, held_pos: np.ndarray,
                      buy_gross: np.ndarray, sell_value: np.ndarray, trig: Triggers, active: np.ndarray,
                      feasible: np.ndarray, turnover_bound: np.ndarray, target_cls: np.ndarray,
                      actual_cls: np.ndarray, rejects: list[pd.DataFrame], frames: bool = True,
                      blocked_pair: np.ndarray | None = None, lowest: np.ndarray | None = None,
                      deferred: dict[str, np.ndarray] | None = None) -> BatchResult | CoreResult:
    """Exact fees, switches, the benefit-vs-cost check, and the output tables."""
    from advisor.rebalancing.report import build_outputs

    n = len(ids)
    pc, pf = pairs.cust, pairs.fund
    blocked_pair = np.zeros(len(pc), dtype=bool) if blocked_pair is None else blocked_pair
    # suitability is never broken: no buy above the level, whatever happened upstream
    assert not ((buy_gross > 0) & (facts.risk_level[pf] > allowed[pc])).any(), "buy above the customer's level"

    def price(buy: np.ndarray, sell: np.ndarray) -> dict[str, np.ndarray]:
        buy_fee = np.where(buy > 0, costs.buy_fees(universe.fees, pf, buy, discount), 0.0)
        sale = sell_fifo(book, sell[held_pos] if len(held_pos) else np.zeros(0))
        sell_fee = np.zeros(len(pc))
        short_fee = np.zeros(len(pc))
        min_days = np.full(len(pc), np.nan)
        if len(held_pos):
            sell_fee[held_pos] = sale.pair_fee
            short_fee[held_pos] = sale.pair_short_fee
            min_days[held_pos] = sale.pair_min_days
        # switches: inside one company, sale proceeds move into the bought fund at the rate difference
        proceeds = sell - sell_fee
        by_key_sell, by_key_buy = company_sums(pairs, facts.company, [proceeds, buy])
        matched = np.minimum(by_key_sell, by_key_buy)
        switch_in = np.divide(buy * matched, by_key_buy, out=np.zeros(len(pc)), where=by_key_buy > 0)
        switch_out = np.divide(sell * matched, by_key_sell, out=np.zeros(len(pc)), where=by_key_sell > 0)
        out_rate_num, out_rate_den = company_sums(pairs, facts.company,
                                                  [switch_out * facts.base_sub_rate[pf], switch_out])
        out_rate = np.divide(out_rate_num, out_rate_den, out=np.zeros(len(pc)), where=out_rate_den > 0)
        in_rate = np.divide(buy_fee, buy - buy_fee, out=np.zeros(len(pc)), where=buy - buy_fee > 0)
        switch_fee = costs.switch_in_fees(in_rate, out_rate, switch_in)
        plain_share = np.divide(buy - switch_in, buy, out=np.zeros(len(pc)), where=buy > 0)
        buy_fee_total = buy_fee * plain_share + switch_fee
        net_in = buy - buy_fee_total
        after = pairs.held + net_in - sell
        fees_c = sum_by(pc, weights=buy_fee_total + sell_fee, minlength=n)
        cash = flow + sum_by(pc, weights=sell - sell_fee - buy, minlength=n)
        return {"buy_fee": buy_fee, "switch_fee": switch_fee, "switch_in": switch_in, "switch_out": switch_out,
                "sell_fee": sell_fee, "short_fee": short_fee, "min_days": min_days, "after": after,
                "fees": fees_c, "cash": cash, "lot_sold": sale.sold, "plain_share": plain_share}

    def objective(values: np.ndarray, fees_c: np.ndarray, idle: np.ndarray) -> np.ndarray:
        sc = np.where(scale > 0, scale, 1.0)
        x = values / sc[pc]
        w = pairs.target * target_scale[pc]
        terms = lam * (x - w) ** 2 + lin * x
        return (sum_by(pc, weights=terms, minlength=n) + settings.cost_aversion * fees_c / sc
                + settings.cash_drag * idle / sc)

    # orders are placed in cents: buys rounded down, sales up (never beyond the position), so cash holds
    buy_gross = np.floor(buy_gross * 100.0 + 1e-6) / 100.0
    sell_value = np.where(sell_value > 0, np.minimum(np.ceil(sell_value * 100.0 - 1e-6) / 100.0, pairs.held), 0.0)
    priced = price(buy_gross, sell_value)
    obj_before = objective(pairs.held, np.zeros(n), np.maximum(flow, 0.0))
    obj_after = objective(priced["after"], priced["fees"], priced["cash"])
    traded = sum_by(pc, weights=buy_gross + sell_value, minlength=n) > 0
    must_trade = flow < 0
    worth = obj_after < obj_before - settings.min_improvement
    # the final guard: a kept plan never leaves the allocation further from target than it found it,
    # except when it reduces holdings above the customer's level (suitability comes first; said in the reason)
    drift_after = class_drift_after(pairs, pclass, priced["after"], target_cls, n)
    drift_worse = drift_after > trig.drift_total + DRIFT_TOLERANCE
    suitability = trig.above_level | trig.lowered_level
    reduces_above = sum_by(pc, weights=np.where(lin > 0, sell_value, 0.0), minlength=n) > 0
    # a fund hit by an event (closed, dropped, downgraded) is replaced even if the swap leaves drift slightly wider
    replaces_event = trig.fund_event & (sum_by(pc, weights=np.where(blocked_pair, sell_value, 0.0), minlength=n) > 0)
    coherent = ~drift_worse | (suitability & reduces_above) | replaces_event
    keep = active & traded & ((worth & coherent) | must_trade)
    drop_pairs = ~keep[pc]
    if drop_pairs.any() and (buy_gross[drop_pairs] > 0).any() | (sell_value[drop_pairs] > 0).any():
        # dropped plans are undone customer by customer (every priced quantity is per customer)
        buy_gross = np.where(drop_pairs, 0.0, buy_gross)
        sell_value = np.where(drop_pairs, 0.0, sell_value)
        for name in ("buy_fee", "switch_fee", "switch_in", "switch_out", "sell_fee", "short_fee", "plain_share"):
            priced[name] = np.where(drop_pairs, 0.0, priced[name])
        priced["min_days"] = np.where(drop_pairs, np.nan, priced["min_days"])
        priced["after"] = np.where(drop_pairs, pairs.held, priced["after"])
        priced["fees"] = np.where(keep, priced["fees"], 0.0)
        priced["cash"] = np.where(keep, priced["cash"], flow)
        if len(held_pos):
            priced["lot_sold"] = np.where(drop_pairs[held_pos[book.pair_of_lot]], 0.0, priced["lot_sold"])
        obj_after = np.where(keep, obj_after, obj_before)

    from advisor.rebalancing.report import REASON_CODES as R

    short_of_cash = must_trade & (priced["cash"] < -0.005)
    if deferred is None:
        deferred = {"value": np.zeros(n), "fee_now": np.zeros(n), "fee_then": np.zeros(n),
                    "sell_after": np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")}
    deferred_any = deferred["value"] > 0
    reason = np.select(
        [~(scale >= 0.01), ~active, short_of_cash, keep & drift_worse & ~must_trade & ~(suitability & reduces_above),
         keep & drift_worse & ~must_trade, keep,
         deferred_any, traded & worth & ~coherent, traded],
        [R["empty"], R["within_bands"], R["withdrawal_shortfall"], R["trade_fund_event"], R["trade_suitability"],
         R["trade"],
         R["deferred_short_hold"], R["drift_not_reduced"], R["cost_exceeds_benefit"]],
        default=R["below_minimum"]).astype(np.int64)
    if not frames:
        return CoreResult(reason=reason, pair_cust=pc, pair_fund=pf, buy_gross=buy_gross, sell_value=sell_value,
                          fees=priced["fees"], cash=priced["cash"], triggers=trig.mask())
    return build_outputs(universe=universe, facts=facts, as_of=as_of, ids=ids, level=level,
                         lowest=np.zeros(n, dtype=bool) if lowest is None else lowest, flow=flow,
                         held_total=held_total, pairs=pairs, pclass=pclass, buy_gross=buy_gross,
                         sell_value=sell_value, priced=priced, book=book, held_pos=held_pos, trig=trig,
                         reason=reason, turnover_bound=turnover_bound & keep, target_cls=target_cls,
                         actual_cls=actual_cls, deferred=deferred, obj_before=obj_before, obj_after=obj_after,
                         scale=scale,
                         rejects=rejects, reject_columns=REJECT_COLUMNS)


def class_drift_after(pairs: _Pairs, pclass: np.ndarray, after: np.ndarray, target_cls: np.ndarray, n: int
                      ) -> np.ndarray:
    """Total drift Σ|a − t|/2 over asset classes of the fund values `after` (per customer)."""
    k = len(CLASS_NAMES)
    total = sum_by(pairs.cust, weights=after, minlength=n)
    cls = sum_by(pairs.cust * k + pclass, weights=after, minlength=n * k).reshape(n, k)
    cls = np.divide(cls, total[:, None], out=np.zeros_like(cls), where=total[:, None] > 0)
    return np.where(total > 0, np.abs(cls - target_cls).sum(axis=1) / 2, 0.0)


def company_sums(pairs: _Pairs, company: np.ndarray, values: list[np.ndarray], block: int = 65_536
                 ) -> list[np.ndarray]:
    """For each pair, the sum of each value over the customer's pairs in the same fund company."""
    comp = company[pairs.fund]
    n_comp = int(company.max(initial=0)) + 1
    n_cust = len(pairs.first) - 1
    out = [np.zeros(len(pairs.cust)) for _ in values]
    for c0 in range(0, n_cust, block):
        c1 = min(c0 + block, n_cust)
        p0, p1 = pairs.first[c0], pairs.first[c1]
        key = (pairs.cust[p0:p1] - c0) * n_comp + comp[p0:p1]
        for o, v in zip(out, values, strict=True):
            o[p0:p1] = sum_by(key, weights=v[p0:p1], minlength=(c1 - c0) * n_comp)[key]
    return out


def rejects_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str" if c != "row" else "int64") for c in REJECT_COLUMNS})
    return pd.concat(parts, ignore_index=True)[REJECT_COLUMNS]


def lot_dates_array(book, held_pos: np.ndarray, n_pairs: int, lot_sold: np.ndarray) -> pa.Array:
    """Per pair, the purchase dates of the lots a sale touches (FIFO order), as an Arrow list array."""
    touched = lot_sold > 0
    pair_of_lot = held_pos[book.pair_of_lot] if len(lot_sold) else np.zeros(0, np.int64)
    counts = np.bincount(pair_of_lot[touched], minlength=n_pairs)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = pa.array(book.purchase_date[touched], type=pa.date32())
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)

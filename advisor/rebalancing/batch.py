"""Rebalance a whole book at once: every customer's plan built, priced and checked together, vectorized.

Pipeline (no per-customer Python loop anywhere):

1. validate customers and lots (bad rows → rejects with reasons, the run goes on); an expired or missing
   assessment (when the table gives `assessment_expires_on`) means no trades, status `assessment_expired`;
2. the model's fund targets per (level, lowest category, horizon bucket), made suitable and free of
   weak and event funds (`universe_facts.group_targets`);
3. (customer, fund) pairs = held funds ∪ model funds ∪ cheaper share classes of held C classes;
4. triggers for every customer (drift of funds + cash above the reserve, cash flows, fund events, holdings
   above the level); only customers with an actionable trigger get a plan;
5. the policy (`plan.build_plan`): classes first, held funds kept unless a reason of their own, sizes;
6. exact pricing (tiers, FIFO lot fees, switches) and the final checks: a plan is kept only when it
   strictly reduces drift (or reduces holdings above the level, replaces an event fund, pays a
   withdrawal) and its benefit beats its cost. A plan that fails is retried without the optional
   replacements (weak funds, share classes), then without the full rebalance (cash flows only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from advisor.cash_reserve import investable_cash
from advisor.rebalancing import costs
from advisor.rebalancing.inputs import (
    REJECT_COLUMNS,
    Customers,
    dates_or_nat,
    numbers,
    positions,
    reject_frame,
    text_ids,
    validate_customers,
)
from advisor.rebalancing.lots import LotBook, build_lot_book, fifo_segments
from advisor.rebalancing.plan import (
    N_CLASSES,
    R_ABOVE,
    R_COST,
    R_EVENT,
    R_QUALITY,
    PlanInputs,
)
from advisor.rebalancing.pricing import Pairs, sum_by
from advisor.rebalancing.problem import Problem, Verdict, measure, no_plan, overlay, solve
from advisor.rebalancing.settings import DEFAULT_SETTINGS, RebalanceSettings
from advisor.rebalancing.triggers import evaluate
from advisor.rebalancing.universe_facts import (
    CLASS_NAMES,
    FundFacts,
    TargetProvider,
    default_targets,
    fund_event_names,
    fund_facts,
    group_targets,
)
from products.fees import SHORT_HOLD_DAYS
from products.universe import Universe

__all__ = ["BatchResult", "CoreResult", "TargetProvider", "rebalance_batch"]


@dataclass(frozen=True)
class BatchResult:
    """Trades (one row per order), one summary row per customer, positions, rejected rows, lots after."""

    trades: pd.DataFrame
    summary: pd.DataFrame
    positions: pd.DataFrame  # customer_id, code, asset_class, value_before, value_after, target_weight
    rejects: pd.DataFrame
    as_of: date
    universe_version: str
    lots_after: pd.DataFrame | None = None  # the holdings after the plan, in the holdings input format


@dataclass(frozen=True)
class CoreResult:
    """The engine's answer as arrays (no DataFrames): per customer and per (customer, fund) pair."""

    reason: np.ndarray  # (C,) codes into report.REASONS
    pair_cust: np.ndarray
    pair_fund: np.ndarray
    buy_gross: np.ndarray  # yuan paid per pair (fees included)
    sell_value: np.ndarray  # yuan redeemed per pair
    fees: np.ndarray  # (C,)
    cash: np.ndarray  # (C,) cash flow + sales − their fees − purchases
    triggers: np.ndarray  # (C,) bit mask over triggers.TRIGGER_NAMES
    pair_reason: np.ndarray | None = None  # (P,) trade reason codes into plan.TRADE_REASONS
    status: np.ndarray | None = None  # (C,) codes into report.STATUSES


# ---------------------------------------------------------------------------------------------
# pairs
# ---------------------------------------------------------------------------------------------

def _build_pairs(n_cust: int, held_cust: np.ndarray, held_fund: np.ndarray, held_value: np.ndarray,
                 group: np.ndarray, targets: np.ndarray, extra_cust: np.ndarray, extra_fund: np.ndarray,
                 n_funds: int) -> tuple[Pairs, np.ndarray]:
    """Union of held, model and extra pairs; also the union index of each held pair."""
    g_rows, g_funds = np.nonzero(targets > 0)
    per_group = np.bincount(g_rows, minlength=len(targets))
    g_first = np.concatenate([[0], np.cumsum(per_group)])
    counts = per_group[group]
    t_cust = np.repeat(np.arange(n_cust), counts)
    offsets = np.cumsum(counts) - counts
    t_fund = g_funds[np.repeat(g_first[group], counts) + (np.arange(counts.sum()) - np.repeat(offsets, counts))]
    keys = np.concatenate([held_cust * n_funds + held_fund, t_cust * n_funds + t_fund,
                           extra_cust * n_funds + extra_fund])
    keys.sort()
    union = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    cust = union // n_funds
    fund = union % n_funds
    held_pos = np.searchsorted(union, held_cust * n_funds + held_fund)
    held = np.zeros(len(union))
    np.add.at(held, held_pos, held_value)
    first = np.searchsorted(cust, np.arange(n_cust + 1))
    target = targets[group[cust], fund] if len(targets) else np.zeros(len(union))
    return Pairs(cust=cust, fund=fund, held=held, target=target, first=first), held_pos


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------

def rebalance_batch(universe: Universe, customers: pd.DataFrame, lots: pd.DataFrame, *,
                    targets: TargetProvider | None = None, fund_events: pd.DataFrame | None = None,
                    as_of: date | None = None, settings: RebalanceSettings = DEFAULT_SETTINGS,
                    progress: Callable[[int, int], None] | None = None,
                    frames: bool = True) -> BatchResult | CoreResult:
    """Rebalance every customer of `customers` holding `lots` (valued: `advisor.batch_io.value_lots`).

    `customers` needs `customer_id, risk_level`; optional `lowest_category, horizon_years, cash_flow`
    (deposit > 0, withdrawal < 0, yuan), `cash` and `monthly_expenses` (cash above `reserve_months` of
    expenses is part of the portfolio and pays for purchases), `assessment_expires_on` (when the column is
    given, a customer whose assessment has expired — or was never made — gets no trades),
    `previous_risk_level`, `last_rebalance_date`. `lots` needs `customer_id, fund_idx, value,
    purchase_date, holding_days` (and `row` for reject reporting; optional `locked` for lots under a
    lock-up that cannot be sold yet). `frames=False` returns the priced arrays (`CoreResult`).

    Books larger than `settings.chunk_size` customers are planned in chunks of customers (each customer's
    rows stay together), `settings.workers` chunks at a time: memory stays bounded and every customer's
    answer is the one a run on that customer alone gives.
    """
    size = max(int(settings.chunk_size), 1)
    if len(customers) <= size:
        return _rebalance_chunk(universe, customers, lots, targets=targets, fund_events=fund_events, as_of=as_of,
                                settings=settings, progress=progress, frames=frames)
    fund_facts(universe)  # per-universe facts once, before the threads
    ids = text_ids(customers["customer_id"])
    codes, _ = pd.factorize(ids)
    first = np.full(codes.max(initial=-1) + 1, len(ids), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(ids)))
    chunk_of_customer = first[codes] // size  # duplicates of an id go where its first row goes (and are rejected)
    lot_pos = positions(text_ids(lots["customer_id"]), ids) if len(lots) else np.zeros(0, np.int64)
    chunk_of_lot = np.where(lot_pos >= 0, chunk_of_customer[np.maximum(lot_pos, 0)], 0)
    n_chunks = int(chunk_of_customer.max()) + 1
    c_rows = [np.flatnonzero(chunk_of_customer == k) for k in range(n_chunks)]
    l_rows = [np.flatnonzero(chunk_of_lot == k) for k in range(n_chunks)]
    done = [0] * n_chunks
    lock = threading.Lock()

    def one(k: int) -> BatchResult | CoreResult:
        def step(count: int, _total: int) -> None:
            with lock:
                done[k] = count
                if progress is not None:
                    progress(sum(done), len(customers))

        return _rebalance_chunk(universe, customers.iloc[c_rows[k]], lots.iloc[l_rows[k]], targets=targets,
                                fund_events=fund_events, as_of=as_of, settings=settings, progress=step,
                                frames=frames)

    workers = max(1, min(int(settings.workers), n_chunks))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(one, range(n_chunks)))
    return _concat_results(parts) if frames else _concat_cores(parts)


def _concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames keeping categorical columns categorical (their categories unioned)."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if f is not None]
    out = pd.concat(frames, ignore_index=True)
    for column in frames[0].columns:
        if isinstance(frames[0][column].dtype, pd.CategoricalDtype) and all(
                isinstance(f[column].dtype, pd.CategoricalDtype) for f in frames):
            out[column] = union_categoricals([f[column] for f in frames], ignore_order=True)
    return out


def _concat_results(parts: list[BatchResult]) -> BatchResult:
    return BatchResult(trades=_concat_frames([p.trades for p in parts]),
                       summary=_concat_frames([p.summary for p in parts]),
                       positions=_concat_frames([p.positions for p in parts]),
                       rejects=pd.concat([p.rejects for p in parts], ignore_index=True),
                       as_of=parts[0].as_of, universe_version=parts[0].universe_version,
                       lots_after=_concat_frames([p.lots_after for p in parts]))


def _concat_cores(parts: list[CoreResult]) -> CoreResult:
    offsets = np.cumsum([0] + [len(p.reason) for p in parts[:-1]])
    join = np.concatenate
    return CoreResult(reason=join([p.reason for p in parts]),
                      pair_cust=join([p.pair_cust + o for p, o in zip(parts, offsets, strict=True)]),
                      pair_fund=join([p.pair_fund for p in parts]), buy_gross=join([p.buy_gross for p in parts]),
                      sell_value=join([p.sell_value for p in parts]), fees=join([p.fees for p in parts]),
                      cash=join([p.cash for p in parts]), triggers=join([p.triggers for p in parts]),
                      pair_reason=join([p.pair_reason for p in parts]), status=join([p.status for p in parts]))


def _rebalance_chunk(universe: Universe, customers: pd.DataFrame, lots: pd.DataFrame, *,
                     targets: TargetProvider | None, fund_events: pd.DataFrame | None, as_of: date | None,
                     settings: RebalanceSettings, progress: Callable[[int, int], None] | None,
                     frames: bool) -> BatchResult | CoreResult:
    """`rebalance_batch` on customers that fit in one chunk."""
    as_of = as_of or universe.as_of
    as_of64 = np.datetime64(as_of, "D")
    facts = fund_facts(universe)
    discount = universe.fee_discount if settings.fee_discount is None else settings.fee_discount
    provider = targets or default_targets(universe)
    n_funds = len(universe.funds)
    cust, bad_cust, rejects = validate_customers(customers)
    if progress is not None:
        progress(0, len(cust.ids))

    # ---- lots: validate, map to customers; a customer with an unusable lot is skipped as a whole
    keep_lot, lot_cust, fund_idx, value, days, pdate = _validate_lots(lots, cust, bad_cust, rejects)

    good = np.flatnonzero(~bad_cust)
    renumber = np.full(len(cust.ids), -1, dtype=np.int64)
    renumber[good] = np.arange(len(good))
    c = _take_customers(cust, good)
    n = len(good)
    allowed = np.where(c.lowest, 1, c.level)
    locked = lots["locked"].fillna(False).to_numpy(dtype=bool) if "locked" in lots.columns else None
    book = build_lot_book(renumber[lot_cust[keep_lot]], fund_idx[keep_lot], value[keep_lot], pdate[keep_lot],
                          days[keep_lot], universe.fees, None if locked is None else locked[keep_lot])
    book, deferred = _hold_back_short_lots(universe, facts, book, c.flow, allowed, as_of64)

    # ---- targets per group (level, allowed level, horizon bucket)
    events = fund_event_names(universe, fund_events)
    blocked = (events != "") | facts.weak
    group_key = c.level * 100 + allowed * 10 + c.bucket
    uniq_keys, group = np.unique(group_key, return_inverse=True)
    groups = np.stack([uniq_keys // 100, (uniq_keys // 10) % 10, uniq_keys % 10], axis=1) if n else np.zeros(
        (0, 3), np.int64)
    targets_g, replacement = group_targets(universe, provider, groups, blocked)

    # ---- share-class switches worth making (C held long → its cheaper A class)
    switch_value, sw_cust, sw_fund = _share_class_switches(universe, facts, book, allowed, events, c.horizon,
                                                           discount, settings)
    pairs, held_pos = _build_pairs(n, book.pair_cust, book.pair_fund, book.pair_value, group, targets_g,
                                   sw_cust, sw_fund, n_funds)
    pc, pf = pairs.cust, pairs.fund
    k = len(CLASS_NAMES)
    pclass = facts.class_idx[pf]

    # ---- the portfolio: funds + cash above the reserve (+ the cash flow)
    held_total = sum_by(pc, pairs.held, n)
    cash_in = investable_cash(c.cash, c.monthly_expenses, settings.reserve_months)
    reserve_gap = np.maximum(settings.reserve_months * c.monthly_expenses - c.cash, 0.0)
    flow = np.where(np.abs(c.flow) < 0.01, 0.0, c.flow)  # less than a cent is no cash flow
    flow = np.maximum(flow, -(held_total + cash_in))  # cannot withdraw more than is held
    portfolio = held_total + cash_in
    class_value = sum_by(pc * k + pclass, pairs.held, n * k).reshape(n, k)
    class_value[:, 0] += cash_in
    actual_cls = np.divide(class_value, portfolio[:, None], out=np.zeros_like(class_value),
                           where=portfolio[:, None] > 0)
    target_cls_g = (np.stack([sum_by(facts.class_idx, row, k) for row in targets_g]) if len(targets_g)
                    else np.zeros((0, k)))
    target_cls = target_cls_g[group] if n else np.zeros((0, k))

    # ---- triggers
    above = facts.risk_level[pf] > allowed[pc]
    hit = events[pf] != ""
    above_value = sum_by(pc, np.where(above, pairs.held, 0.0), n)
    dd = sum_by(pc, pairs.held * facts.drawdown[pf], n)
    dd = np.divide(dd, held_total, out=np.zeros(n), where=held_total > 0)
    trig = evaluate(actual_classes=actual_cls, target_classes=target_cls, held_value=portfolio, cash_flow=flow,
                    level=c.level, previous_level=c.previous_level, above_level_value=above_value,
                    event_detail=_event_details(universe, pairs, events, replacement, group, n),
                    weighted_drawdown=dd, last_review=c.last_review, as_of=as_of64, settings=settings)
    expired = _expired(c.expires_on, as_of, n)
    active = trig.actionable & ~expired & (portfolio + np.maximum(flow, 0.0) >= 0.01)

    # ---- the policy, priced and checked, for the customers with an actionable trigger only
    inp = _plan_inputs(universe, facts, discount, settings, pairs, pclass, book, held_pos, allowed, blocked,
                       events, switch_value, sw_cust, sw_fund, cash_in + flow, flow, reserve_gap, target_cls,
                       active)
    problem = Problem(pairs=pairs, pclass=pclass, book=book, held_pos=held_pos, inp=inp, flow=flow, cash=c.cash,
                      expenses=c.monthly_expenses, portfolio=portfolio, above=above, event=hit)
    final, first, chosen = _solve_active(problem, active, settings, facts, universe.fees, discount)
    if progress is not None:
        progress(n, n)
    reason = _reasons(final, first, chosen, active, expired, c.expires_on, portfolio, flow, cash_in, deferred, n)

    # suitability is never broken: no buy above the level, whatever happened upstream
    assert not ((final.buy > 0) & (facts.risk_level[pf] > allowed[pc])).any(), "buy above the customer's level"
    if not frames:
        from advisor.rebalancing.report import status_codes

        return CoreResult(reason=reason, pair_cust=pc, pair_fund=pf, buy_gross=final.buy, sell_value=final.sell,
                          fees=final.priced.fees, cash=final.priced.cash, triggers=trig.mask(),
                          pair_reason=final.reason.astype(np.int8), status=status_codes(reason))
    from advisor.rebalancing.report import build_outputs

    return build_outputs(universe=universe, facts=facts, as_of=as_of, ids=c.ids, level=c.level, lowest=c.lowest,
                         flow=flow, cash=c.cash, cash_in=cash_in, expenses=c.monthly_expenses,
                         reserve_months=settings.reserve_months, held_total=held_total, pairs=pairs, pclass=pclass,
                         buy_gross=final.buy, sell_value=final.sell, pair_reason=final.reason, priced=final.priced,
                         book=book, held_pos=held_pos, trig=trig, reason=reason,
                         capped=final.capped, mode=final.mode,
                         target_cls=target_cls, actual_cls=actual_cls, drift_after=final.drift_after,
                         deferred=deferred, obj_before=final.obj_nothing, obj_after=final.obj_after,
                         portfolio=portfolio, rejects=rejects, reject_columns=REJECT_COLUMNS)


def _take_customers(cust: Customers, good: np.ndarray) -> Customers:
    return Customers(ids=cust.ids.iloc[good].reset_index(drop=True), rows=cust.rows[good], level=cust.level[good],
                     lowest=cust.lowest[good], bucket=cust.bucket[good], flow=cust.flow[good],
                     previous_level=cust.previous_level[good], last_review=cust.last_review[good],
                     horizon=cust.horizon[good], cash=cust.cash[good], monthly_expenses=cust.monthly_expenses[good],
                     expires_on=None if cust.expires_on is None else cust.expires_on[good])


def _validate_lots(lots: pd.DataFrame, cust: Customers, bad_cust: np.ndarray, rejects: list[pd.DataFrame]):
    lot_id_series = text_ids(lots["customer_id"])
    lot_rows = lots["row"].to_numpy(dtype=np.int64) if "row" in lots.columns else np.arange(len(lots))
    lot_cust = positions(lot_id_series, cust.ids) if len(lots) else np.zeros(0, np.int64)
    fund_idx = lots["fund_idx"].to_numpy(dtype=np.int64)
    value = numbers(lots, "value", np.nan)
    days = numbers(lots, "holding_days", np.nan)
    pdate = dates_or_nat(lots, "purchase_date")
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
            rejects.append(reject_frame("holdings", lot_id_series[mask].to_numpy(dtype=object), lot_rows[mask],
                                        field, reason))
            bad_lot |= mask
    spoilt = np.unique(lot_cust[bad_lot & (lot_cust >= 0)])
    if spoilt.size:
        newly = spoilt[~bad_cust[spoilt]]
        if newly.size:
            rejects.append(reject_frame("customers", cust.ids.iloc[newly].to_numpy(dtype=object), cust.rows[newly],
                                        "holdings", "customer skipped: one of their holding rows was rejected"))
        bad_cust[spoilt] = True
    keep_lot = ~bad_lot & (lot_cust >= 0) & (value > 0)
    keep_lot &= ~bad_cust[np.where(lot_cust >= 0, lot_cust, 0)]
    return keep_lot, lot_cust, fund_idx, value, days, pdate


def _expired(expires_on: np.ndarray | None, as_of: date, n: int) -> np.ndarray:
    """`risk.validity`'s rule: expired on and after the expiry day, or never assessed (NaT); not checked
    when the customers table has no `assessment_expires_on` column."""
    if expires_on is None or not n:
        return np.zeros(n, dtype=bool)
    from risk.validity import expired_mask

    return expired_mask(expires_on, as_of)


def _share_class_switches(universe: Universe, facts: FundFacts, book: LotBook, allowed: np.ndarray,
                          events: np.ndarray, horizon: np.ndarray, discount: float, settings: RebalanceSettings
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per lot-book pair, the value of C-class lots worth switching to the A class (the health check's
    rule, `costs.share_class_saving`), and the (customer, A fund) pairs to add."""
    value = np.zeros(book.n_pairs)
    empty = np.zeros(0, np.int64)
    if not settings.replace_for_cost or not len(book.value):
        return value, empty, empty
    a = facts.a_sibling[book.fund_idx]
    ok_a = (a >= 0)
    a_safe = np.maximum(a, 0)
    ok_a &= facts.tradable[a_safe] & ~facts.weak[a_safe] & (events[a_safe] == "") & (
        facts.risk_level[a_safe] <= allowed[book.cust])
    cand = ok_a & book.sellable & (book.holding_days >= settings.cost_saving_min_days)
    if not cand.any():
        return value, empty, empty
    lots = np.flatnonzero(cand)
    years = np.maximum(horizon[book.cust[lots]], 1.0)
    saving = costs.share_class_saving(universe.fees, book.fund_idx[lots], a[lots], book.value[lots], years,
                                      discount, book.rate[lots])
    worth = lots[saving > 0]
    if not len(worth):
        return value, empty, empty
    pair = book.pair_of_lot[worth]
    value = np.bincount(pair, weights=book.value[worth], minlength=book.n_pairs)
    chosen = np.flatnonzero(value > 0)
    return value, book.pair_cust[chosen], facts.a_sibling[book.pair_fund[chosen]]


def _plan_inputs(universe: Universe, facts: FundFacts, discount: float, settings: RebalanceSettings, pairs: Pairs,
                 pclass: np.ndarray, book: LotBook, held_pos: np.ndarray, allowed: np.ndarray, blocked: np.ndarray,
                 events: np.ndarray, switch_value: np.ndarray, sw_cust: np.ndarray, sw_fund: np.ndarray,
                 idle: np.ndarray, flow: np.ndarray, reserve_gap: np.ndarray, target_cls: np.ndarray,
                 active: np.ndarray) -> PlanInputs:
    pc, pf = pairs.cust, pairs.fund
    n, n_pairs = pairs.n_customers, len(pc)
    seg = fifo_segments(book)
    seg_pair = held_pos[seg.pair] if len(seg.pair) else np.zeros(0, np.int64)
    sellable = sum_by(seg_pair, seg.value, n_pairs)
    held = pairs.held > 0
    above = facts.risk_level[pf] > allowed[pc]
    event = events[pf] != ""
    forced = np.where(held & above, R_ABOVE, np.where(held & event, R_EVENT, 0)).astype(np.int8)
    weak = held & facts.weak[pf] & settings.replace_weak
    cost_value = np.zeros(n_pairs)
    if len(held_pos):
        cost_value[held_pos] = switch_value
    switch_to = np.full(n_pairs, -1, dtype=np.int64)
    if len(sw_cust):
        sources = np.flatnonzero(cost_value > 0)
        dest = np.searchsorted(pc * len(universe.funds) + pf, sw_cust * len(universe.funds) + sw_fund)
        switch_to[sources] = dest
    optional = np.where(weak, R_QUALITY, np.where(cost_value > 0, R_COST, 0)).astype(np.int8)
    optional_value = np.where(weak, sellable, np.minimum(cost_value, sellable))
    can_buy = ~above & facts.tradable[pf] & ~blocked[pf]
    total = sum_by(pc, pairs.held, n) + np.maximum(idle, 0.0)
    gap_gross = np.maximum(pairs.target * total[pc] - pairs.held, np.maximum(cost_value, 1.0))
    buy_rate = costs.effective_buy_rate(universe.fees, pf, gap_gross, discount)
    return PlanInputs(
        pair_cust=pc, pair_class=pclass, held=pairs.held, sellable=sellable, model_weight=pairs.target,
        can_buy=can_buy, forced=forced, optional=optional, optional_value=optional_value, switch_to=switch_to,
        buy_rate=buy_rate, min_buy=facts.min_purchase[pf], increment=facts.increment[pf],
        min_hold=np.maximum(settings.min_holding, facts.min_purchase[pf]), seg_pair=seg_pair, seg_len=seg.value,
        seg_rate=seg.rate, idle=idle, flow=flow, reserve_gap=reserve_gap, class_target=target_cls, active=active,
        band=settings.suggest_band, min_trade=settings.min_trade, min_trade_share=settings.min_trade_share,
        turnover_cap=settings.turnover_cap, min_split=settings.min_split)


# ---------------------------------------------------------------------------------------------
# passes over the active customers
# ---------------------------------------------------------------------------------------------

def _solve_active(problem: Problem, active: np.ndarray, settings: RebalanceSettings, facts: FundFacts, fees_table,
                  discount: float) -> tuple[Verdict, Verdict, np.ndarray]:
    """(the final verdict for every customer, the first pass's checks, the pass kept per customer or −1).

    Only customers with an actionable trigger are planned for; everyone else keeps their portfolio."""
    rows = np.flatnonzero(active)
    base = no_plan(problem)
    chosen = np.full(problem.n, -1, dtype=np.int64)
    if not len(rows):
        return base, base, chosen
    sub, pair_idx, lot_idx = problem.take(rows)
    outcome = solve(sub, settings, facts, fees_table, discount)
    everyone = np.ones(sub.n, dtype=bool)
    final = overlay(base, outcome.kept, rows, pair_idx, lot_idx, everyone, sub)
    first = replace(base, **{name: _spread(getattr(base, name), getattr(outcome.first, name), rows)
                             for name in ("traded", "worth", "reduced")})
    chosen[rows] = outcome.chosen
    # customers without a plan: drift and objective as they stand (a deposit waiting as cash)
    idle = ~active
    if idle.any():
        drift, obj = measure(problem, settings, problem.pairs.held, problem.cash + problem.flow,
                             np.zeros(problem.n))
        final = replace(final, drift_after=np.where(idle, drift, final.drift_after),
                        drift_nothing=np.where(idle, drift, final.drift_nothing),
                        obj_nothing=np.where(idle, obj, final.obj_nothing),
                        obj_after=np.where(idle, obj, final.obj_after))
    return final, first, chosen


def _spread(base: np.ndarray, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = base.copy()
    out[rows] = values
    return out


def _reasons(final: Verdict, first: Verdict, chosen: np.ndarray, active: np.ndarray, expired: np.ndarray,
             expires_on: np.ndarray | None, portfolio: np.ndarray, flow: np.ndarray, cash_in: np.ndarray,
             deferred: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The customer-level reason code (report.REASONS) for each customer."""
    from advisor.rebalancing.report import REASON_CODES as R

    kept = chosen >= 0
    f = first
    never = np.zeros(n, dtype=bool) if expires_on is None else np.isnat(expires_on)
    short_of_cash = kept & final.must & (cash_in + final.priced.cash < -0.005)  # more than the free cash
    reason = np.select(
        [expired & never, expired, ~(portfolio + np.maximum(flow, 0.0) >= 0.01), ~active,
         short_of_cash, kept & ~final.reduced & ~final.must & final.suitability,
         kept & ~final.reduced & ~final.must & final.event, kept,
         deferred["value"] > 0, f.traded & f.worth & ~f.reduced, f.traded],
        [R["assessment_missing"], R["assessment_expired"], R["empty"], R["within_bands"],
         R["withdrawal_shortfall"], R["trade_suitability"], R["trade_fund_event"], R["trade"],
         R["deferred_short_hold"], R["drift_not_reduced"], R["cost_exceeds_benefit"]],
        default=R["below_minimum"]).astype(np.int64)
    return reason


# ---------------------------------------------------------------------------------------------
# lots under 7 days, fund events
# ---------------------------------------------------------------------------------------------

def _hold_back_short_lots(universe: Universe, facts: FundFacts, book: LotBook, flow: np.ndarray, allowed: np.ndarray,
                          as_of64: np.datetime64) -> tuple[LotBook, dict[str, np.ndarray]]:
    """Lots under 7 days are not sold now (unless a withdrawal must be paid).

    Waiting a few days always costs less than the ≥ 1.5% short-holding fee, so no rebalance reason
    (drift, an above-level holding, a fund event) justifies it; money-market lots wait too, so what a plan
    just bought is never sold by the next run the same week. Per customer, the held-back value above the
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
    wait = short & book.sellable & (flow[book.cust] >= 0)
    if not wait.any():
        return book, none
    book = replace(book, sellable=book.sellable & ~wait)
    above = wait & (facts.risk_level[book.fund_idx] > allowed[book.cust]) & (book.rate > later + 1e-12)
    cust = book.cust[above]
    value = book.value[above]
    none["value"] = sum_by(cust, value, n)
    none["fee_now"] = sum_by(cust, value * book.rate[above], n)
    none["fee_then"] = sum_by(cust, value * later[above], n)
    wait_days = np.zeros(n)
    np.maximum.at(wait_days, cust, SHORT_HOLD_DAYS - book.holding_days[above])
    none["sell_after"] = np.where(none["value"] > 0, as_of64 + np.ceil(wait_days).astype("timedelta64[D]"),
                                  np.datetime64("NaT"))
    return book, none


def _event_details(universe: Universe, pairs: Pairs, events: np.ndarray, replacement: np.ndarray,
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


def class_drift_after(pairs: Pairs, pclass: np.ndarray, after: np.ndarray, cash: np.ndarray,
                      target_cls: np.ndarray) -> np.ndarray:
    """Total drift Σ|a − t|/2 over asset classes of fund values `after` plus `cash` (per customer)."""
    n, k = len(cash), N_CLASSES
    cls = sum_by(pairs.cust * k + pclass, after, n * k).reshape(n, k)
    cls[:, 0] += cash
    total = cls.sum(axis=1)
    weights = np.divide(cls, total[:, None], out=np.zeros_like(cls), where=total[:, None] > 0)
    return np.where(total > 0, np.abs(weights - target_cls).sum(axis=1) / 2, 0.0)

"""The rebalancing policy as arithmetic: asset classes first, held funds kept, every trade with a reason.

For every customer at once (arrays over customers and (customer, fund) pairs, no Python loop):

1. **Replacements.** A held fund leaves the portfolio only for a reason of its own: above the customer's
   level or hit by a fund event (always), weak by the one quality rule or a C class whose A class is
   cheaper over the horizon (only when the plan trades anyway: `use_optional`). A C → A change is a
   switch inside the fund (class-neutral); the other replacements free money in their asset class.
2. **Classes.** The portfolio is funds + cash above the reserve + the cash flow. Per asset class the
   gap to target is measured after the replacements. *Full* mode (drift beyond the band) closes every
   class gap of at least the trade floor: underweight classes are bought, overweight ones sold; cash
   (idle or from sales) pays for purchases, money-market funds are sold only when cash runs short.
   *Flow* mode (drift inside the band) only places new money — a deposit and replacement proceeds are
   spread over underweight classes (water-filling: the most underweight first) — or raises a
   withdrawal from the most overweight classes, selling what it needs and no more. A binding turnover
   cap scales the class moves (replacements and withdrawals are never cut).
3. **Funds.** A class purchase goes to the model's funds of that class, the ones furthest below their
   model weight first; a class sale comes from the kept funds of that class, cheapest to redeem first
   (FIFO lot fees), then funds outside the model, then the largest. No money-market fund is ever bought
   (cash already counts in the cash class), so there are no money-market-to-money-market swaps.
4. **Sizes.** No trade below the floor (¥100 and 1% of the portfolio) except a full exit for suitability
   or a fund event and sales paying a withdrawal; purchases at least the fund's minimum purchase and in
   its increment; a sale that would leave less than the fund's minimum holding sells the whole position.

The caller (`advisor.rebalancing.batch`) prices the plan exactly and keeps it only if it is worth its cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

N_CLASSES = 5
CASH = 0  # position of the cash class in products.taxonomy.ASSET_CLASSES

# trade reasons (codes index TRADE_REASONS); 0 = no trade
TRADE_REASONS: tuple[str, ...] = ("", "class_drift", "above_level", "fund_event", "fund_quality", "cost_saving",
                                  "withdrawal", "idle_cash")
R_DRIFT, R_ABOVE, R_EVENT, R_QUALITY, R_COST, R_WITHDRAWAL, R_IDLE = range(1, 8)
FORCED_REASONS = (R_ABOVE, R_EVENT)
MODE_NONE, MODE_FLOW, MODE_FULL = 0, 1, 2


@dataclass(frozen=True)
class PlanInputs:
    """Everything the policy reads, as arrays. Pairs are sorted by customer (contiguous runs)."""

    pair_cust: np.ndarray  # (P,)
    pair_class: np.ndarray  # (P,) 0…4
    held: np.ndarray  # (P,) value held, yuan
    sellable: np.ndarray  # (P,) value that may be sold now (lots under 7 days and lock-ups excluded)
    model_weight: np.ndarray  # (P,) the model's weight of the fund for the customer (0: not a model fund)
    can_buy: np.ndarray  # (P,) suitable, tradable, no event, not weak
    forced: np.ndarray  # (P,) R_ABOVE / R_EVENT / 0
    optional: np.ndarray  # (P,) R_QUALITY / R_COST / 0
    optional_value: np.ndarray  # (P,) value an optional replacement would sell
    switch_to: np.ndarray  # (P,) pair receiving a cost-saving switch (-1)
    buy_rate: np.ndarray  # (P,) subscription fee per yuan invested (effective, at the bank discount)
    min_buy: np.ndarray  # (P,) the fund's minimum purchase, yuan
    increment: np.ndarray  # (P,) the fund's purchase increment, yuan
    min_hold: np.ndarray  # (P,) smallest position a partial sale may leave, yuan
    seg_pair: np.ndarray  # (S,) FIFO fee segments of the sellable lots, sorted by pair then FIFO order
    seg_len: np.ndarray  # (S,)
    seg_rate: np.ndarray  # (S,)
    idle: np.ndarray  # (C,) cash above the reserve plus the cash flow (negative: a withdrawal to raise)
    reserve_gap: np.ndarray  # (C,) what the emergency reserve still lacks: cash left over would fill it first
    flow: np.ndarray  # (C,) the cash flow itself
    class_target: np.ndarray  # (C, 5)
    active: np.ndarray  # (C,) customers the policy may trade for
    band: float
    min_trade: float
    min_trade_share: float
    turnover_cap: float
    min_split: float = 0.0  # a class purchase is split over several funds only in parts at least this large

    @property
    def n(self) -> int:
        return len(self.idle)


@dataclass(frozen=True)
class Plan:
    """Per pair: gross purchase (fees included) and value sold; per customer: mode, cap, drift measured."""

    buy: np.ndarray  # (P,) yuan paid
    sell: np.ndarray  # (P,) yuan redeemed (before the redemption fee)
    reason: np.ndarray  # (P,) trade reason code (TRADE_REASONS)
    mode: np.ndarray  # (C,) MODE_NONE / MODE_FLOW / MODE_FULL
    capped: np.ndarray  # (C,) the turnover cap scaled the class moves
    drift_ref: np.ndarray  # (C,) drift after replacements and the cash flow, before class moves


def _sum(index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(index, weights=weights, minlength=size).astype(float, copy=False)


def grouped_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum inside each run of equal `group` values (elements of a group contiguous), exact per
    group: a difference of batch-wide running sums would round with the position in the batch, and a
    customer's plan must not depend on which other customers share it."""
    if not len(values):
        return np.zeros(0)
    return pd.Series(values).groupby(group, sort=False).cumsum().to_numpy()


def fifo_fee(inp: PlanInputs, amount: np.ndarray) -> np.ndarray:
    """Redemption fee per pair of selling `amount` (P,) first in, first out, from the sellable lots."""
    if not len(inp.seg_pair):
        return np.zeros(len(amount))
    before = grouped_cumsum(inp.seg_len, inp.seg_pair) - inp.seg_len
    sold = np.clip(amount[inp.seg_pair] - before, 0.0, inp.seg_len)
    return _sum(inp.seg_pair, sold * inp.seg_rate, len(amount))


def waterfill(gap: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Rows of (C, K) gaps: spend each row's budget on the largest positive gaps first (level them down).

    Returns amounts x ≥ 0 with x_k = max(0, gap_k − L) and Σ x = min(budget, Σ gap⁺).
    """
    g = np.maximum(gap, 0.0)
    budget = np.maximum(budget, 0.0)
    s = -np.sort(-g, axis=1)
    cums = np.cumsum(s, axis=1)
    m = np.arange(1, g.shape[1] + 1)
    level = (cums - budget[:, None]) / m
    valid = s > level
    last = g.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
    lvl = np.where(valid.any(axis=1), np.maximum(level[np.arange(len(g)), last], 0.0), np.inf)  # no budget
    lvl = np.where(budget >= cums[:, -1], 0.0, lvl)
    return np.maximum(g - lvl[:, None], 0.0)


def _waterfill_floored(gap: np.ndarray, budget: np.ndarray, floor: np.ndarray, rounds: int = 4) -> np.ndarray:
    """`waterfill`, then classes whose share falls under the floor are left out and the rest refilled."""
    allowed = gap >= floor[:, None]
    x = np.zeros_like(gap)
    for _ in range(rounds):
        x = waterfill(np.where(allowed, gap, 0.0), budget)
        small = (x > 0) & (x < floor[:, None] - 1e-9)
        if not small.any():
            break
        allowed &= ~small
    return np.where(x >= floor[:, None] - 1e-9, x, 0.0)


def _class_sums(inp: PlanInputs, values: np.ndarray) -> np.ndarray:
    return _sum(inp.pair_cust * N_CLASSES + inp.pair_class, values, inp.n * N_CLASSES).reshape(inp.n, N_CLASSES)


def _group_order(group: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Indices sorted by group, then by `keys` (first key most significant)."""
    return np.lexsort((*reversed(keys), group)) if keys else np.argsort(group, kind="stable")


def _exclusive_cumsum(group_sorted: np.ndarray, values_sorted: np.ndarray) -> np.ndarray:
    return grouped_cumsum(values_sorted, group_sorted) - values_sorted


def sell_within_classes(inp: PlanInputs, amount: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Split each customer's class sale `amount` (C, 5) over that class's `candidate` pairs.

    Order: cheapest to redeem (FIFO fee rate of the part needed), then funds outside the model, then
    the largest position; each fund gives what it can until the class amount is met.
    """
    out = np.zeros(len(inp.held))
    need = amount[inp.pair_cust, inp.pair_class]
    idx = np.flatnonzero(candidate & (need > 0) & (inp.sellable > 0))
    if not len(idx):
        return out
    part = np.zeros(len(inp.held))
    part[idx] = np.minimum(need[idx], inp.sellable[idx])
    rate = np.divide(fifo_fee(inp, part), part, out=np.zeros(len(part)), where=part > 0)
    group = inp.pair_cust[idx] * N_CLASSES + inp.pair_class[idx]
    order = _group_order(group, np.round(rate[idx], 5), (inp.model_weight[idx] > 0).astype(np.int8),
                         -inp.sellable[idx])
    sorted_idx = idx[order]
    before = _exclusive_cumsum(group[order], inp.sellable[sorted_idx])
    out[sorted_idx] = np.clip(need[sorted_idx] - before, 0.0, inp.sellable[sorted_idx])
    return out


def buy_within_classes(inp: PlanInputs, amount: np.ndarray, held_after: np.ndarray, total: np.ndarray,
                       floor: np.ndarray) -> np.ndarray:
    """Split each class purchase `amount` (C, 5, net yuan) over the model's funds of that class.

    Water-filling on each model fund's gap to its model weight (most underweight first); a part under
    the floor, the fund's minimum purchase or `min_split` is left out and the rest refilled; when every
    part is too small, the whole amount goes to the most underweight fund that accepts it (else nothing
    is bought).
    """
    out = np.zeros(len(inp.held))
    need = amount[inp.pair_cust, inp.pair_class]
    idx = np.flatnonzero(inp.can_buy & (inp.model_weight > 0) & (need > 0))  # cash class only when asked
    if not len(idx):
        return out
    group = inp.pair_cust[idx] * N_CLASSES + inp.pair_class[idx]
    gap = np.maximum(inp.model_weight[idx] * total[inp.pair_cust[idx]] - held_after[idx], 0.0)
    gap = gap + 1e-9 * inp.model_weight[idx]  # funds already at weight still share a surplus by weight
    minimum = np.maximum(inp.min_buy[idx], floor[inp.pair_cust[idx]])
    split_minimum = np.maximum(minimum, inp.min_split)
    allowed = np.ones(len(idx), dtype=bool)
    uniq, g_of = np.unique(group, return_inverse=True)
    g_budget = np.zeros(len(uniq))
    g_budget[g_of] = need[idx]
    x = np.zeros(len(idx))
    for _ in range(4):
        x = _segmented_waterfill(g_of, np.where(allowed, gap, 0.0), g_budget, inp.model_weight[idx])
        small = (x > 0) & (x * (1.0 + inp.buy_rate[idx]) < split_minimum - 1e-9)
        if not small.any():
            break
        allowed &= ~small
    # groups left with nothing: everything into the most underweight fund whose minimum it meets
    got = _sum(g_of, x, len(uniq))
    empty = (got <= 0) & (g_budget > 0)
    if empty.any():
        fits = empty[g_of] & (g_budget[g_of] * (1.0 + inp.buy_rate[idx]) >= minimum - 1e-9)
        cand = np.flatnonzero(fits)
        if len(cand):
            order = cand[np.lexsort((-gap[cand], g_of[cand]))]
            first = order[np.r_[True, g_of[order][1:] != g_of[order][:-1]]]
            x[first] = g_budget[g_of[first]]
    x = np.where(x * (1.0 + inp.buy_rate[idx]) >= minimum - 1e-9, x, 0.0)
    out[idx] = x
    return out


def _segmented_waterfill(group: np.ndarray, gap: np.ndarray, budget: np.ndarray,
                         weight: np.ndarray | None = None) -> np.ndarray:
    """Water-filling inside each group (group ids 0…G−1 per element; budget per group). A budget larger
    than the group's gaps fills them all and spreads the rest over the elements in proportion to `weight`
    (elements with a zero gap and weight get nothing)."""
    if not len(group):
        return np.zeros(0)
    order = np.lexsort((-gap, group))
    g_sorted, s = group[order], gap[order]
    start = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    size = np.diff(np.r_[start, len(order)])
    m = np.arange(len(order)) - np.repeat(start, size) + 1
    cum_in = grouped_cumsum(s, g_sorted)
    g_of_start = g_sorted[start]
    level = (cum_in - np.repeat(budget[g_of_start], size)) / m
    valid = s > level
    # the water level is set by the last valid position of each group (positions are sorted by gap)
    last_valid = np.maximum.reduceat(np.where(valid, np.arange(len(order)), -1), start)
    total = np.add.reduceat(s, start)
    lvl = np.where(last_valid >= 0, level[np.maximum(last_valid, 0)], np.inf)  # no budget: nothing
    lvl = np.where(budget[g_of_start] >= total, 0.0, np.maximum(lvl, 0.0))
    x = np.maximum(s - np.repeat(lvl, size), 0.0)
    out = np.empty_like(x)
    out[order] = x
    if weight is not None:
        group_total = np.zeros(len(budget))
        group_total[g_of_start] = total
        surplus = np.maximum(budget - group_total, 0.0)
        share = np.where(gap > 0, weight, 0.0)
        w_total = np.bincount(group, weights=share, minlength=len(budget))
        out += surplus[group] * np.divide(share, w_total[group], out=np.zeros(len(share)), where=w_total[group] > 0)
    return out


def _finish_sales(inp: PlanInputs, sell: np.ndarray, floor: np.ndarray, exempt: np.ndarray) -> np.ndarray:
    """Minimum holding (else a full exit or a sale down to it) and the trade floor (unless `exempt`)."""
    remain = inp.held - sell
    partial = (sell > 0) & (remain > 0.005) & (remain < inp.min_hold - 1e-9)
    can_exit = inp.sellable >= inp.held - 0.005
    down = np.maximum(inp.held - inp.min_hold, 0.0)
    sell = np.where(partial & can_exit, inp.sellable, np.where(partial, np.minimum(down, inp.sellable), sell))
    small = (sell > 0) & (sell < floor[inp.pair_cust] - 1e-9) & ~exempt
    return np.where(small, 0.0, sell)


def _fit_buys(inp: PlanInputs, buy_net: np.ndarray, cash: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Gross purchases (fees included) rounded down to increments, at least the minimum, within `cash`.

    When the cash falls short every purchase shrinks by one factor; a purchase that falls under its
    minimum is dropped and the factor recomputed on the rest, so the money it frees goes to the others.
    """
    wanted = buy_net * (1.0 + inp.buy_rate)
    minimum = np.maximum(inp.min_buy, floor[inp.pair_cust])
    inc = np.maximum(inp.increment, 0.01)
    allowed = wanted > 0
    gross = np.zeros_like(wanted)
    for _ in range(6):
        want = np.where(allowed, wanted, 0.0)
        spend = _sum(inp.pair_cust, want, inp.n)
        factor = np.clip(np.divide(np.maximum(cash, 0.0), spend, out=np.ones(inp.n), where=spend > 0), 0.0, 1.0)
        gross = np.floor(want * factor[inp.pair_cust] / inc + 1e-9) * inc
        small = allowed & (gross < minimum - 1e-9)
        if not small.any():
            break
        allowed &= ~small
    return np.where(allowed & (gross >= minimum - 1e-9), gross, 0.0)


@dataclass(frozen=True)
class _Picture:
    """The portfolio after some replacement sales: class values, cash, goals, gaps and drift."""

    rep_net: np.ndarray  # (P,) proceeds of the replacement sales after their fees
    kept: np.ndarray  # (C, 5) fund value kept per class
    idle: np.ndarray  # (C,) cash: above the reserve, the flow, and class-changing replacement proceeds
    total: np.ndarray  # (C,) portfolio value (≥ 0)
    goal: np.ndarray  # (C, 5) target value per class
    gap: np.ndarray  # (C, 5) goal − value (cash counts in the cash class); > 0 underweight
    drift: np.ndarray  # (C,) Σ|gap| / 2 / total
    worst: np.ndarray  # (C,) max(drift, largest class gap / total)


def _picture(inp: PlanInputs, rep_sell: np.ndarray, switch: np.ndarray) -> _Picture:
    n, pc = inp.n, inp.pair_cust
    rep_net = rep_sell - fifo_fee(inp, rep_sell)
    moved = np.where(switch, 0.0, rep_sell)  # a share-class switch stays inside its class
    kept = _class_sums(inp, inp.held - moved)
    idle = inp.idle + _sum(pc, np.where(switch, 0.0, rep_net), n)
    total = np.maximum(kept.sum(axis=1) + idle, 0.0)
    goal = inp.class_target * total[:, None]
    value = kept.copy()
    # cash left over counts in the cash class only above what the emergency reserve still lacks
    value[:, CASH] += np.where(idle < 0, idle, np.maximum(idle - inp.reserve_gap, 0.0))
    gap = goal - value
    drift = np.divide(np.abs(gap).sum(axis=1) / 2, total, out=np.zeros(n), where=total > 0)
    largest = np.divide(np.abs(gap).max(axis=1), total, out=np.zeros(n), where=total > 0)
    return _Picture(rep_net=rep_net, kept=kept, idle=idle, total=total, goal=goal, gap=gap, drift=drift,
                    worst=np.maximum(drift, largest))


def _buyable_classes(inp: PlanInputs) -> np.ndarray:
    """(C, 5) classes a purchase may go to: every class but cash, and cash too (its money-market fund)
    for customers whose emergency reserve is short — cash left over would fill the reserve instead."""
    out = np.ones((inp.n, N_CLASSES), dtype=bool)
    out[:, CASH] = inp.reserve_gap > 0
    return out


def _after_flow(inp: PlanInputs, pic: _Picture) -> np.ndarray:
    """Worst drift (total or one class) left after flow mode alone: new money on the underweight
    classes, a withdrawal from the overweight ones (class level, before sizes)."""
    proceeds = np.maximum(pic.idle - inp.idle, 0.0)  # from replacement sales that leave their class
    new_money = np.clip(np.minimum(pic.idle, np.maximum(inp.flow, 0.0) + proceeds), 0.0, None)
    fill = waterfill(np.where(_buyable_classes(inp), pic.gap, 0.0), new_money)
    need = np.maximum(-pic.idle, 0.0)
    raised = waterfill(np.maximum(pic.kept - pic.goal, 0.0), need)
    gap = pic.gap - fill + raised
    spent = fill.sum(axis=1)
    counted = np.where(inp.reserve_gap > 0, np.maximum(pic.idle - inp.reserve_gap, 0.0), np.maximum(pic.idle, 0.0))
    gap[:, CASH] += np.minimum(spent, counted) - raised.sum(axis=1)
    total = pic.total
    drift = np.divide(np.abs(gap).sum(axis=1) / 2, total, out=np.zeros(len(total)), where=total > 0)
    largest = np.divide(np.abs(gap).max(axis=1), total, out=np.zeros(len(total)), where=total > 0)
    return np.maximum(drift, largest)


def build_plan(inp: PlanInputs, use_optional: np.ndarray, allow_full: np.ndarray) -> Plan:
    """The policy for every customer (module docstring); `use_optional` / `allow_full` per customer."""
    n, pc, k = inp.n, inp.pair_cust, inp.pair_class
    active = inp.active
    total0 = _sum(pc, inp.held, n) + inp.idle
    floor = np.maximum(inp.min_trade, inp.min_trade_share * np.maximum(total0, 0.0))

    # 1. replacements: forced always; optional ones (quality, share class) only when the customer trades
    #    anyway, which is decided on the picture without them
    forced = (inp.forced > 0) & active[pc] & (inp.sellable > 0)
    base = _picture(inp, np.where(forced, inp.sellable, 0.0), np.zeros(len(pc), dtype=bool))
    # full mode only when placing the cash flow (and replacement proceeds) alone would leave drift beyond the band
    after_flow = _after_flow(inp, base)
    full = active & allow_full & (after_flow >= inp.band - 1e-12) & (base.total > 0)
    trades_anyway = full | (active & ((inp.flow != 0) | (_sum(pc, forced, n) > 0)))
    optional = ((inp.optional > 0) & (inp.forced == 0) & (use_optional & trades_anyway)[pc]
                & (inp.optional_value >= floor[pc] - 1e-9))
    # optional replacements are discretionary turnover: all of them or none, within the cap
    over_cap = _sum(pc, np.where(optional, inp.optional_value, 0.0), n) > inp.turnover_cap * np.maximum(total0, 0.0)
    optional &= ~over_cap[pc]
    rep_sell = np.where(forced, inp.sellable, np.where(optional, inp.optional_value, 0.0))
    rep_reason = np.where(forced, inp.forced, np.where(optional, inp.optional, 0)).astype(np.int8)
    switch = optional & (inp.optional == R_COST) & (inp.switch_to >= 0)
    pic = _picture(inp, rep_sell, switch) if optional.any() else base
    rep_net, kept, idle, goal, gap = pic.rep_net, pic.kept, pic.idle, pic.goal, pic.gap
    held_after = inp.held - np.where(switch, 0.0, rep_sell)
    pos_total = pic.total
    drift_ref = base.drift
    floor = np.maximum(inp.min_trade, inp.min_trade_share * pos_total)

    candidate_sell = (rep_sell == 0) & (inp.sellable > 0)
    sell_cap = _class_sums(inp, np.where(candidate_sell, inp.sellable, 0.0))
    withdrawing = inp.flow < 0
    rep_class_net = _class_sums(inp, np.where(switch, 0.0, rep_net))
    deploy = np.where(full, 0.0, np.clip(np.minimum(idle, np.maximum(inp.flow, 0.0) + rep_class_net.sum(axis=1)),
                                         0.0, None))
    need = np.where(active, np.maximum(-idle, 0.0), 0.0)  # a withdrawal the cash cannot pay
    flow_mode = active & ~full & ((deploy > 0) | (need > 0) | (_sum(pc, rep_sell, n) > 0))

    # 2. class amounts (net values; cash is the residual)
    noncash = (np.arange(N_CLASSES) != CASH)[None, :]
    buyable = _buyable_classes(inp)  # the cash class too when the reserve would absorb cash left over
    rate_max = np.zeros(n)
    np.maximum.at(rate_max, pc, np.where(inp.can_buy, inp.buy_rate, 0.0))
    # full mode: close every class gap of at least the floor
    buy_cls = np.where(full[:, None] & buyable & (gap >= floor[:, None]), gap, 0.0)
    sell_cls = np.where(full[:, None] & noncash & (-gap >= floor[:, None]), np.minimum(-gap, sell_cap), 0.0)
    # flow mode: new money on the most underweight classes; a withdrawal from the most overweight ones
    flow_only = flow_mode & ~full
    fill = _waterfill_floored(np.where(buyable, gap, 0.0), deploy / (1.0 + rate_max), floor)
    buy_cls = np.where(flow_only[:, None], fill, buy_cls)
    raise_cls = _raise_withdrawal(np.where(flow_only, need, 0.0), kept - goal, sell_cap, floor)
    sell_cls = np.where(flow_only[:, None], raise_cls, sell_cls)
    # full mode: money-market funds are sold only when cash (idle and from sales) cannot pay the buys
    short = (buy_cls * (1.0 + rate_max[:, None])).sum(axis=1) - sell_cls.sum(axis=1) - idle
    # (and only out of an overweight cash class: selling an underweight class is not a drift trade)
    cash_excess = np.minimum(np.maximum(-gap[:, CASH] + need, 0.0), sell_cap[:, CASH])
    mm_estimate = np.where(full, np.clip(short, 0.0, cash_excess), 0.0)

    # turnover cap on discretionary sales: suitability and event sales and the withdrawal are never cut,
    # optional replacements count; class sales are scaled together and purchases shrink to the cash left
    moves = sell_cls.sum(axis=1) + mm_estimate
    discretionary = _sum(pc, np.where(forced, 0.0, rep_sell), n)
    allowance = np.maximum(inp.turnover_cap * pos_total + need - discretionary, 0.0)
    theta = np.where(full & (moves > allowance + 1e-9),
                     np.clip(np.divide(allowance, moves, out=np.zeros(n), where=moves > 0), 0.0, 1.0), 1.0)
    capped = theta < 1.0
    sell_cls = sell_cls * theta[:, None]
    mm_estimate = mm_estimate * theta

    # 3. funds: sales first (exact FIFO fees), then money-market top-up, then purchases within the cash
    exempt = forced | (rep_sell > 0) | withdrawing[pc]
    class_sell = sell_within_classes(inp, sell_cls, candidate_sell)
    sell = _finish_sales(inp, rep_sell + class_sell, floor, exempt)
    sell_net = sell - fifo_fee(inp, sell)
    class_buy = np.where(active[pc], buy_within_classes(inp, buy_cls, held_after, pos_total, floor), 0.0)
    switch_net = np.where(switch, sell_net, 0.0)
    cash = inp.idle + _sum(pc, sell_net, n) - _sum(pc, switch_net, n)
    # (never when the plan buys into the cash class itself, and never a sale under the floor: then the
    # purchases shrink to the cash there is — no money-market fund is sold and bought in one plan)
    mm_need = np.where(full & (buy_cls[:, CASH] <= 0), _sum(pc, class_buy * (1.0 + inp.buy_rate), n) - cash, 0.0)
    mm_need = np.minimum(mm_need, np.where(capped, np.maximum(allowance - _sum(pc, class_sell, n), 0.0), np.inf))
    mm_need = np.where(mm_need >= floor, np.minimum(mm_need, cash_excess), 0.0)
    mm_need = np.where(mm_need >= floor, mm_need, 0.0)
    if (mm_need > 0.005).any():
        mm_cls = np.zeros((n, N_CLASSES))
        mm_cls[:, CASH] = np.clip(mm_need, 0.0, None)
        mm_sell = sell_within_classes(inp, mm_cls, candidate_sell & (k == CASH) & (sell == 0))
        mm_sell = _finish_sales(inp, mm_sell, floor, np.zeros_like(exempt))
        sell = sell + mm_sell
        sell_net = sell - fifo_fee(inp, sell)
    # a withdrawal is paid: grow its sales for their fees, then spread any rest over what is still sellable
    # (a share-class switch's proceeds go into the other class, so they pay nothing)
    for _ in range(4):
        free = np.where(switch, 0.0, sell_net)
        short_w = np.where(active & withdrawing, np.maximum(-(inp.idle + _sum(pc, free, n)), 0.0), 0.0)
        if not (short_w > 0.005).any():
            break
        net_c = _sum(pc, free, n)
        factor = np.divide(net_c + short_w, net_c, out=np.ones(n), where=(short_w > 0) & (net_c > 0))
        grown = np.where(switch, sell, np.minimum(sell * factor[pc], inp.sellable))
        still = np.maximum(short_w - (_sum(pc, grown, n) - _sum(pc, sell, n)), 0.0)
        room = np.where(active[pc] & ~switch, inp.sellable - grown, 0.0)
        room_c = _sum(pc, room, n)
        share = np.clip(np.divide(still, room_c, out=np.zeros(n), where=room_c > 0), 0.0, 1.0)
        sell = np.minimum(grown + room * share[pc], inp.sellable)
        sell_net = sell - fifo_fee(inp, sell)
    sell = np.where(active[pc], sell, 0.0)
    sell_net = sell - fifo_fee(inp, sell)
    switch_net = np.where(switch, sell_net, 0.0)
    cash = inp.idle + _sum(pc, sell_net, n) - _sum(pc, switch_net, n)
    # full mode: purchases are paid by the class sales and by the cash class's excess over its goal, never by
    # the cash the cash class itself needs (a turnover cap that scales the sales would otherwise spend it all)
    # (all of the cash counted here: what an emergency reserve still lacks is not kept back from purchases)
    class_sales_net = _sum(pc, np.where((k != CASH) & (rep_sell == 0), sell_net, 0.0), n)
    cash_excess_all = np.maximum(kept[:, CASH] + idle - goal[:, CASH], 0.0)
    budget = np.where(full, np.minimum(cash, class_sales_net + cash_excess_all + floor), cash)
    buy = _fit_buys(inp, class_buy, budget, floor)
    leftover_buy = np.zeros(len(buy), dtype=bool)
    # money left over stays as cash and counts in the cash class — unless the emergency reserve is short,
    # which would absorb it: then the cash class is held in the model's money-market fund instead
    left = np.where(active & (inp.reserve_gap > 0) & ~(_sum(pc, np.where(k == CASH, sell, 0.0), n) > 0),
                    cash - _sum(pc, buy, n), 0.0)
    if (left >= inp.min_trade).any():
        cash_cls = np.zeros((n, N_CLASSES))
        cash_cls[:, CASH] = np.where(left >= floor, left, 0.0)
        mm_buy = _fit_buys(inp, buy_within_classes(inp, cash_cls, held_after, pos_total, floor), left, floor)
        leftover_buy = (mm_buy > 0) & (buy == 0)
        buy = buy + mm_buy
    # share-class switches: the sale's proceeds buy the cheaper class of the same fund
    if switch.any():
        np.add.at(buy, inp.switch_to[switch], np.floor(switch_net[switch] * 100.0) / 100.0)
        # a fund both sold (for drift or a withdrawal) and switched into: net the two, so the switch carries
        # less and the fund is not sold and bought back in one plan (the class moves and the cash are the same)
        both = (sell > 0) & (buy > 0)
        if both.any():
            # (netting never costs cash: the fee of the smaller sale is saved; rests under a yuan are dropped)
            net = np.where(both, np.minimum(sell, buy), 0.0)
            sell = np.where(both & (sell - net < 1.0), 0.0, sell - net)
            buy = np.where(both & (buy - net < 1.0), 0.0, buy - net)

    # 4. reasons
    reason = np.zeros(len(inp.held), dtype=np.int8)
    sold = sell > 0
    reason = np.where(sold & (rep_reason > 0), rep_reason, reason)
    reason = np.where(sold & (rep_reason == 0), np.where(withdrawing[pc], R_WITHDRAWAL, R_DRIFT), reason)
    bought = buy > 0
    class_rep_reason = _dominant_reason(inp, np.where(switch, 0.0, rep_net), rep_reason)
    class_rep_value = rep_class_net[pc, k]
    buy_class_total = _class_sums(inp, np.where(bought, buy, 0.0))[pc, k]
    cash_funded = _cash_funded(inp, buy, sell_net, switch, switch_net)
    buy_reason = np.where(class_rep_value >= 0.5 * buy_class_total - 1e-9, class_rep_reason,
                          np.where(cash_funded[pc], R_IDLE, R_DRIFT))
    is_switch_in = np.zeros(len(inp.held), dtype=bool)
    if switch.any():
        is_switch_in[inp.switch_to[switch]] = True
    # cash left over parked in the money-market fund moves nothing between classes: it invests idle cash
    buy_reason = np.where(leftover_buy, R_IDLE, buy_reason)
    buy_reason = np.where(is_switch_in, R_COST, buy_reason)
    reason = np.where(bought & ~sold, buy_reason, reason).astype(np.int8)
    mode = np.where(full, MODE_FULL, np.where(flow_mode, MODE_FLOW, MODE_NONE)).astype(np.int8)
    return Plan(buy=buy, sell=sell, reason=reason, mode=mode, capped=capped & full, drift_ref=drift_ref)


def _raise_withdrawal(need: np.ndarray, overweight: np.ndarray, capacity: np.ndarray, floor: np.ndarray
                      ) -> np.ndarray:
    """Sale per class (C, 5) raising `need`: the most overweight classes first, then in proportion to
    what each can still sell; pieces under the floor are folded into the largest piece."""
    first = waterfill(np.minimum(np.maximum(overweight, 0.0), capacity), need)
    rest = np.maximum(need - first.sum(axis=1), 0.0)
    room = capacity - first
    room_total = room.sum(axis=1)
    second = room * np.divide(rest, room_total, out=np.zeros(len(need)), where=room_total > 0)[:, None]
    x = np.minimum(first + second, capacity)
    small = (x > 0) & (x < floor[:, None])
    if small.any():
        moved = np.where(small, x, 0.0).sum(axis=1)
        x = np.where(small, 0.0, x)
        largest = np.argmax(x, axis=1)
        rows = np.arange(len(need))
        x[rows, largest] = np.minimum(x[rows, largest] + moved, capacity[rows, largest])
    return x


def _dominant_reason(inp: PlanInputs, value: np.ndarray, reason: np.ndarray) -> np.ndarray:
    """Per pair, the replacement reason carrying the most value in its customer's class (0: none)."""
    hit = np.flatnonzero((value > 0) & (reason > 0))
    if not len(hit):
        return np.zeros(len(value), dtype=np.int8)
    group = inp.pair_cust[hit] * N_CLASSES + inp.pair_class[hit]
    key = group * 16 + reason[hit]
    uniq, inv = np.unique(key, return_inverse=True)
    amount = np.bincount(inv, weights=value[hit])
    u_group, u_reason = uniq // 16, uniq % 16
    order = np.lexsort((-amount, u_group))
    best = order[np.r_[True, u_group[order][1:] != u_group[order][:-1]]]
    lookup = np.zeros(inp.n * N_CLASSES, dtype=np.int8)
    lookup[u_group[best]] = u_reason[best]
    return lookup[inp.pair_cust * N_CLASSES + inp.pair_class]


def _cash_funded(inp: PlanInputs, buy: np.ndarray, sell_net: np.ndarray, switch: np.ndarray,
                 switch_net: np.ndarray) -> np.ndarray:
    """Per customer: are the (non-switch) purchases mostly paid by cash rather than by sales?"""
    n = inp.n
    buys = _sum(inp.pair_cust, buy, n) - _sum(inp.pair_cust, switch_net, n)
    proceeds = _sum(inp.pair_cust, np.where(switch, 0.0, sell_net), n)
    return (buys - proceeds) > 0.5 * buys

"""The customers a run plans for, as one set of arrays that can be narrowed to any subset of customers.

`Problem` bundles the (customer, fund) pairs, the lot book, the policy's inputs and what the final checks
need. `Problem.take(rows)` keeps only some customers (everything renumbered), so the engine plans and
prices only the customers with an actionable trigger, and retries only the plans that failed, instead of
carrying the whole book through every pass. `solve` runs the passes and returns per-pair results on the
problem's own numbering.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from advisor.cash_reserve import investable_cash
from advisor.rebalancing.lots import LotBook
from advisor.rebalancing.plan import N_CLASSES, Plan, PlanInputs, build_plan
from advisor.rebalancing.pricing import Pairs, Priced, price, sum_by
from advisor.rebalancing.settings import RebalanceSettings
from advisor.rebalancing.universe_facts import CLASS_NAMES, CLASS_VOL

DRIFT_TOLERANCE = 1e-4  # 0.01 pp: a plan must cut drift by more than this to count as reducing it
CLASS_LAMBDA_VOL = np.array([CLASS_VOL[c] for c in CLASS_NAMES])
PASSES = ((True, True), (False, True), (False, False))  # (optional replacements, full rebalance) per pass


@dataclass(frozen=True)
class Problem:
    """Customers to plan for (positions 0…C−1), their pairs, lots and the inputs of policy and checks."""

    pairs: Pairs
    pclass: np.ndarray  # (P,) asset class of each pair's fund
    book: LotBook
    held_pos: np.ndarray  # (book pairs,) union pair of each lot-book pair
    inp: PlanInputs
    flow: np.ndarray  # (C,)
    cash: np.ndarray  # (C,) the customer's cash at the bank
    expenses: np.ndarray  # (C,) monthly expenses (the reserve rule)
    portfolio: np.ndarray  # (C,) funds + cash above the reserve
    above: np.ndarray  # (P,) fund above the customer's level
    event: np.ndarray  # (P,) fund hit by an event

    @property
    def n(self) -> int:
        return self.pairs.n_customers

    def take(self, rows: np.ndarray) -> tuple[Problem, np.ndarray, np.ndarray]:
        """(the sub-problem of customers `rows` (sorted), its pairs' positions here, its lots' positions here)."""
        rows = np.asarray(rows, dtype=np.int64)
        keep_c = np.zeros(self.n, dtype=bool)
        keep_c[rows] = True
        renumber = np.full(self.n, -1, dtype=np.int64)
        renumber[rows] = np.arange(len(rows))
        p = self.pairs
        pair_idx = np.flatnonzero(keep_c[p.cust])
        pair_map = np.full(len(p.cust), -1, dtype=np.int64)
        pair_map[pair_idx] = np.arange(len(pair_idx))
        counts = np.diff(p.first)[rows]
        pairs = Pairs(cust=renumber[p.cust[pair_idx]], fund=p.fund[pair_idx], held=p.held[pair_idx],
                      target=p.target[pair_idx], first=np.concatenate([[0], np.cumsum(counts)]))
        b = self.book
        lot_idx = np.flatnonzero(keep_c[b.cust]) if len(b.cust) else np.zeros(0, np.int64)
        bp_keep = keep_c[b.pair_cust] if b.n_pairs else np.zeros(0, dtype=bool)
        lot_counts = np.diff(b.pair_start)[bp_keep]
        book = replace(b, cust=renumber[b.cust[lot_idx]], fund_idx=b.fund_idx[lot_idx], value=b.value[lot_idx],
                       purchase_date=b.purchase_date[lot_idx], holding_days=b.holding_days[lot_idx],
                       rate=b.rate[lot_idx], order=b.order[lot_idx], sellable=b.sellable[lot_idx],
                       pair_start=np.concatenate([[0], np.cumsum(lot_counts)]).astype(np.int64))
        held_pos = pair_map[self.held_pos[bp_keep]]
        i = self.inp
        seg_keep = keep_c[p.cust[i.seg_pair]] if len(i.seg_pair) else np.zeros(0, dtype=bool)
        switch_to = i.switch_to[pair_idx]
        switch_to = np.where(switch_to >= 0, pair_map[np.maximum(switch_to, 0)], -1)
        per_pair = {f.name for f in fields(PlanInputs)
                    if isinstance(getattr(i, f.name), np.ndarray) and getattr(i, f.name).shape[:1] == (len(p.cust),)}
        per_cust = {"idle", "flow", "reserve_gap", "class_target", "active"}
        changes = {name: getattr(i, name)[pair_idx] for name in per_pair}
        changes.update({name: getattr(i, name)[rows] for name in per_cust})
        changes.update(pair_cust=pairs.cust, switch_to=switch_to, seg_pair=pair_map[i.seg_pair[seg_keep]],
                       seg_len=i.seg_len[seg_keep], seg_rate=i.seg_rate[seg_keep])
        sub = Problem(pairs=pairs, pclass=self.pclass[pair_idx], book=book, held_pos=held_pos,
                      inp=replace(i, **changes), flow=self.flow[rows], cash=self.cash[rows],
                      expenses=self.expenses[rows], portfolio=self.portfolio[rows], above=self.above[pair_idx],
                      event=self.event[pair_idx])
        return sub, pair_idx, lot_idx


@dataclass(frozen=True)
class Verdict:
    """A priced plan and the checks, per customer of the problem."""

    buy: np.ndarray  # (P,) gross yuan, in cents
    sell: np.ndarray  # (P,) yuan, in cents
    reason: np.ndarray  # (P,) trade reason codes
    mode: np.ndarray  # (C,)
    capped: np.ndarray  # (C,)
    priced: Priced
    traded: np.ndarray
    keep: np.ndarray
    worth: np.ndarray
    reduced: np.ndarray
    suitability: np.ndarray
    event: np.ndarray
    must: np.ndarray
    drift_after: np.ndarray
    drift_nothing: np.ndarray
    obj_nothing: np.ndarray
    obj_after: np.ndarray


def measure(problem: Problem, settings: RebalanceSettings, after: np.ndarray, cash: np.ndarray,
            fees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(drift, objective) of fund values `after` and the customers' total `cash` (the reserve kept out)."""
    n, k = problem.n, N_CLASSES
    pc = problem.pairs.cust
    cls = sum_by(pc * k + problem.pclass, after, n * k).reshape(n, k)
    cls[:, 0] += investable_cash(cash, problem.expenses, settings.reserve_months)
    total = cls.sum(axis=1)
    weights = np.divide(cls, total[:, None], out=np.zeros_like(cls), where=total[:, None] > 0)
    gap = weights - problem.inp.class_target
    drift = np.where(total > 0, np.abs(gap).sum(axis=1) / 2, 0.0)
    penalized = problem.above | problem.event
    bad = np.divide(sum_by(pc, np.where(penalized, after, 0.0), n), total, out=np.zeros(n), where=total > 0)
    scale = np.where(problem.portfolio > 0, problem.portfolio, 1.0)
    lam = CLASS_LAMBDA_VOL**2 + settings.risk_floor**2
    obj = (lam * gap**2).sum(axis=1) + settings.above_level_penalty * bad + settings.cost_aversion * fees / scale
    return drift, obj


def check(problem: Problem, plan: Plan, settings: RebalanceSettings, facts, fees_table, discount: float) -> Verdict:
    """Price the plan exactly (orders in cents) and decide per customer whether it is worth keeping.

    Kept: it trades, and either pays a withdrawal, or beats doing nothing on the objective while strictly
    reducing drift, reducing holdings above the level or selling a fund hit by an event.
    """
    pairs, pc, n = problem.pairs, problem.pairs.cust, problem.n
    # orders are placed in cents: buys rounded down, sales up (never beyond the position)
    buy = np.floor(plan.buy * 100.0 + 1e-6) / 100.0
    sell = np.where(plan.sell > 0, np.minimum(np.ceil(plan.sell * 100.0 - 1e-6) / 100.0, pairs.held), 0.0)
    priced = price(fees_table, facts.company, facts.base_sub_rate, discount, pairs, problem.book, problem.held_pos,
                   problem.flow, buy, sell, min_buy=facts.min_purchase[pairs.fund])
    drift_nothing, obj_nothing = measure(problem, settings, pairs.held, problem.cash + problem.flow, np.zeros(n))
    drift_after, obj_after = measure(problem, settings, priced.after, problem.cash + priced.cash, priced.fees)
    rows = problem.inp.active
    traded = sum_by(pc, buy + sell, n) > 0
    must = rows & (problem.flow < 0)
    worth = obj_after < obj_nothing - settings.min_improvement
    reduced = drift_after < drift_nothing - DRIFT_TOLERANCE
    suitability = sum_by(pc, np.where(problem.above, sell, 0.0), n) > 0
    event = sum_by(pc, np.where(problem.event & ~problem.above, sell, 0.0), n) > 0
    keep = rows & traded & ((worth & (reduced | suitability | event)) | must)
    return Verdict(buy=buy, sell=sell, reason=plan.reason, mode=plan.mode, capped=plan.capped, priced=priced,
                   traded=traded, keep=keep, worth=worth, reduced=reduced, suitability=suitability, event=event,
                   must=must, drift_after=drift_after, drift_nothing=drift_nothing, obj_nothing=obj_nothing,
                   obj_after=obj_after)


@dataclass(frozen=True)
class Outcome:
    """Per customer of a problem: the pass kept (−1: none), the first pass's verdict, the kept verdicts."""

    chosen: np.ndarray  # (C,)
    first: Verdict
    kept: Verdict  # the kept pass's numbers for each customer (the first pass's where none was kept)


def solve(problem: Problem, settings: RebalanceSettings, facts, fees_table, discount: float) -> Outcome:
    """The passes: the full plan with optional replacements; for customers whose plan was not kept, the
    plan without them; then the cash flows and forced sales alone. Each retry runs on the failing
    customers only."""
    n = problem.n
    ones = np.ones(n, dtype=bool)
    plan = build_plan(problem.inp, ones & PASSES[0][0], ones & PASSES[0][1])
    first = check(problem, plan, settings, facts, fees_table, discount)
    chosen = np.where(first.keep, 0, -1)
    everyone = np.arange(n)
    kept = overlay(no_plan(problem, first), first, everyone, np.arange(len(problem.pairs.cust)),
                    np.arange(len(problem.book.cust)), first.keep, problem)
    retry = np.flatnonzero(problem.inp.active & ~first.keep & first.traded)
    current, pair_idx, lot_idx = problem, np.arange(len(problem.pairs.cust)), np.arange(len(problem.book.cust))
    rows_here = np.arange(n)
    for number, (use_optional, allow_full) in enumerate(PASSES[1:], start=1):
        if not len(retry):
            break
        sub, sub_pairs, sub_lots = current.take(retry)
        m = sub.n
        plan = build_plan(sub.inp, np.full(m, use_optional), np.full(m, allow_full))
        verdict = check(sub, plan, settings, facts, fees_table, discount)
        rows_here = rows_here[retry]
        pair_idx, lot_idx = pair_idx[sub_pairs], lot_idx[sub_lots]
        won = verdict.keep
        chosen[rows_here[won]] = number
        kept = overlay(kept, verdict, rows_here, pair_idx, lot_idx, won, sub)
        current = sub
        retry = np.flatnonzero(sub.inp.active & ~verdict.keep & verdict.traded)
    return Outcome(chosen=chosen, first=first, kept=kept)


def overlay(base: Verdict, new: Verdict, rows: np.ndarray, pair_idx: np.ndarray, lot_idx: np.ndarray,
             won: np.ndarray, sub: Problem) -> Verdict:
    """`base` with the customers `rows[won]` replaced by the sub-problem's verdict `new`."""
    if not won.any():
        return base
    pair_won = won[sub.pairs.cust]
    lot_won = won[sub.book.cust] if len(sub.book.cust) else np.zeros(0, dtype=bool)
    pairs_at, cust_at, lots_at = pair_idx[pair_won], rows[won], lot_idx[lot_won]

    def put(old: np.ndarray, values: np.ndarray, where: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = old.copy()
        out[where] = values[mask]
        return out

    pb, pn = base.priced, new.priced
    priced = Priced(**{f.name: (put(getattr(pb, f.name), getattr(pn, f.name), lots_at, lot_won)
                                if f.name == "lot_sold" else
                                put(getattr(pb, f.name), getattr(pn, f.name), cust_at, won)
                                if f.name in ("fees", "cash") else
                                put(getattr(pb, f.name), getattr(pn, f.name), pairs_at, pair_won))
                       for f in fields(Priced)})
    changes = {}
    for f in fields(Verdict):
        if f.name == "priced":
            continue
        old, value = getattr(base, f.name), getattr(new, f.name)
        per_pair = f.name in ("buy", "sell", "reason")
        changes[f.name] = put(old, value, pairs_at if per_pair else cust_at, pair_won if per_pair else won)
    return Verdict(priced=priced, **changes)


def no_plan(problem: Problem, measured: Verdict | None = None) -> Verdict:
    """The verdict of doing nothing; drift and objective from `measured` (a verdict on the same problem)."""
    pairs, n, n_pairs = problem.pairs, problem.n, len(problem.pairs.cust)
    zero_p, zero_c = np.zeros(n_pairs), np.zeros(n)
    priced = Priced(buy_fee=zero_p, switch_fee=zero_p, switch_in=zero_p, switch_out=zero_p, sell_fee=zero_p,
                    short_fee=zero_p, min_days=np.full(n_pairs, np.nan), plain_share=zero_p, after=pairs.held.copy(),
                    fees=zero_c, cash=problem.flow.copy(), lot_sold=np.zeros(len(problem.book.cust)))
    false = np.zeros(n, dtype=bool)
    drift = zero_c if measured is None else measured.drift_nothing
    obj = zero_c if measured is None else measured.obj_nothing
    return Verdict(buy=zero_p, sell=zero_p, reason=np.zeros(n_pairs, np.int8), mode=np.zeros(n, np.int8),
                   capped=false, priced=priced, traded=false, keep=false, worth=false, reduced=false,
                   suitability=false, event=false, must=false, drift_after=drift, drift_nothing=drift,
                   obj_nothing=obj, obj_after=obj)

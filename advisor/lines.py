"""How many funds an amount deserves: no dust lines in a one-click portfolio.

Every line must be worth holding: at least `LinePolicy.min_line_share` of the amount, at least
`LinePolicy.min_line_amount` yuan, and at least the fund's minimum purchase. So a small amount holds few
funds (¥1,500 at the ¥500 default: three at most), and a large one never carries a token line.

`plan_lines` decides, before any optimization, which of a selection's funds a request uses:

1. **Never more risk than the model.** When the defensive part (cash + bonds) is too small for a line,
   it is raised to one line and the risk assets scaled down; when the rest could not then hold a line,
   the portfolio is all defensive. Small amounts round risk down, never up.
2. **Classes.** A class whose target (after moving what a class cannot hold, `effective_targets`) is too
   small for one line is closed, smallest first; its target moves to the class that stands in for it
   (`advisor.construction.SUBSTITUTES`: global ↔ A-share equity, gold → bonds, cash ↔ bonds), which keeps
   the portfolio's risk where the model put it as far as the amount allows. Repeat until every class left
   can hold a line.
3. **Funds per class.** Each class keeps as many funds as its amount allows lines — a class is split over
   several funds only in lines of at least `min_split_share` (5%) of the amount: a 9% equity sleeve is one
   fund, not three of 3% — broad funds before sector / theme funds, then by the selection's rank, skipping
   a fund whose minimum purchase its line would not reach.

The proposal then re-solves the weights on these funds and drops any line that still ends below its
floor (`advisor.proposal`). Deterministic; no solver call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.assumptions import CLASSES
from advisor.construction import SAFEST_FIRST, SelectionData, effective_targets
from products.errors import BadInputError

K = len(CLASSES)
# a planned line clears its floor by this margin, so that fees (which shift a few basis points between
# lines) never push it back under
FEE_MARGIN = 0.01
DEFENSIVE_IDX = [CLASSES.index("cash"), CLASSES.index("bond")]


@dataclass(frozen=True)
class LinePolicy:
    min_line_share: float = 0.03  # of the amount
    min_line_amount: float = 500.0  # yuan
    min_split_share: float = 0.05  # a class is split over several funds only in lines of at least this share

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_line_share < 1.0:
            raise BadInputError("min_line_share must be a fraction below 1", details={"field": "min_line_share"})
        if not 0.0 <= self.min_split_share < 1.0:
            raise BadInputError("min_split_share must be a fraction below 1", details={"field": "min_split_share"})
        if not self.min_line_amount >= 0.0:
            raise BadInputError("min_line_amount must be ≥ 0", details={"field": "min_line_amount"})

    def floor_cents(self, amount_cents: int) -> int:
        """The smallest line, in cents, for an amount."""
        return int(np.ceil(max(self.min_line_share * amount_cents, self.min_line_amount * 100.0)))

    def key(self) -> tuple:
        return (self.min_line_share, self.min_line_amount, self.min_split_share)


@dataclass(frozen=True)
class LinePlan:
    active: np.ndarray  # (n_funds,) bool: the funds this request uses
    targets: np.ndarray  # (K,) class targets for these funds (the model's, or less risky for small amounts)
    floor_cents: int  # the smallest line allowed
    closed_classes: tuple[int, ...]  # classes (index into CLASSES) closed for being too small a line
    limited: bool  # some class holds fewer funds than the selection offers because of the amount
    derisked: bool  # the defensive part was raised to one line (or to everything) at the risk assets' cost


def plan_lines(data: SelectionData, targets: np.ndarray, amount_cents: int, family_min_cents: np.ndarray,
               policy: LinePolicy, order: np.ndarray | None = None) -> LinePlan:
    """The funds (selection positions) and class targets a request of `amount_cents` uses (module
    docstring). `family_min_cents[i]` is fund i's minimum purchase; `order` ranks funds inside a class
    (default: selection order; broad funds always before sector / theme funds)."""
    n = data.n_funds
    floor = policy.floor_cents(amount_cents)
    t = np.asarray(targets, dtype=float).copy()
    active = np.ones(n, dtype=bool)
    if n == 0:
        return LinePlan(active, t, floor, (), False, False)
    fund_class = np.argmax(data.membership[:, :n], axis=0)
    line_min = np.maximum(np.asarray(family_min_cents, dtype=float), floor) * (1.0 + FEE_MARGIN)
    t, _ = effective_targets(t, data, active)
    active &= t[fund_class] > 1e-9  # a class the model does not hold is no place to move money to
    t, derisked = _defensive_first(t, amount_cents, line_min, fund_class)
    closed: list[int] = []
    while active.any():
        current, _ = effective_targets(t, data, active)
        cheapest = np.full(K, np.inf)
        np.minimum.at(cheapest, fund_class[active], line_min[active])
        small = [k for k in range(K) if current[k] > 1e-9 and current[k] * amount_cents < cheapest[k]]
        if not small:
            break
        k = min(small, key=lambda c: (current[c], c))
        active[fund_class == k] = False
        closed.append(int(k))
    if not active.any():  # nothing can hold a line: keep the class that can come closest, on its own
        active = _best_single(t, amount_cents, line_min, fund_class)
        return LinePlan(active, t, floor, tuple(closed), True, derisked)
    current, _ = effective_targets(t, data, active)
    rank = np.arange(n) if order is None else np.asarray(order)
    focused = data.focused[:n] > 0.5
    limited = False
    for k in range(K):
        members = np.flatnonzero(active & (fund_class == k))
        if len(members) == 0:
            continue
        budget = current[k] * amount_cents
        split = max(floor, policy.min_split_share * amount_cents) * (1.0 + FEE_MARGIN)
        lines = int(min(len(members), max(1, np.floor(budget / split + 1e-9))))
        ranked = members[np.lexsort((rank[members], focused[members]))]
        keep: list[int] = []
        for i in ranked:
            if len(keep) == lines:
                break
            if line_min[i] <= budget / lines + 1e-9:
                keep.append(int(i))
        if not keep:
            keep = [int(ranked[np.argmin(line_min[ranked])])]
        limited |= len(keep) < len(members)
        active[np.setdiff1d(members, keep)] = False
    return LinePlan(active, t, floor, tuple(closed), limited, derisked)


def _defensive_first(t: np.ndarray, amount_cents: int, line_min: np.ndarray, fund_class: np.ndarray
                     ) -> tuple[np.ndarray, bool]:
    """Never more risk than the model: when the defensive part (cash + bonds) is too small for one line,
    raise it to one line and scale the risk assets down; when the rest would then be too small for a line
    of its own, go all defensive."""
    defensive = np.isin(np.arange(K), DEFENSIVE_IDX)
    d = float(t[defensive].sum())
    has_defensive = np.isin(fund_class, DEFENSIVE_IDX)
    if d <= 1e-9 or d >= 1.0 - 1e-9 or not has_defensive.any():
        return t, False
    need = float(line_min[has_defensive].min())
    if d * amount_cents >= need:
        return t, False
    out = t.copy()
    risky_min = float(line_min[~has_defensive].min()) if (~has_defensive).any() else np.inf
    if amount_cents - need < risky_min:  # one line only: it is a defensive one
        out[~defensive] = 0.0
        out[defensive] = t[defensive] / d
        return out, True
    d_new = need / amount_cents
    out[defensive] = t[defensive] * d_new / d
    out[~defensive] = t[~defensive] * (1.0 - d_new) / (1.0 - d)
    return out, True


def _best_single(targets: np.ndarray, amount_cents: int, line_min: np.ndarray, fund_class: np.ndarray
                 ) -> np.ndarray:
    """One fund: the first reachable fund of the safest class with a target, else of any class."""
    active = np.zeros(len(fund_class), dtype=bool)
    order = [CLASSES.index(c) for c in SAFEST_FIRST]
    for k in sorted(order, key=lambda c: (targets[c] <= 1e-9, order.index(c))):
        members = np.flatnonzero(fund_class == k)
        reachable = members[line_min[members] <= amount_cents]
        if len(reachable):
            active[reachable[0]] = True
            return active
    return active

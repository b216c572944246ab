"""Discrete allocation: an amount of money → purchase amounts per fund, in cents, fees counted.

Conventions (domain brief): the customer pays a gross purchase amount per fund; the subscription fee is
taken out of it the Chinese way (外扣法, `FeeTable.subscription_fee`, bank discount applied), so
``paid = net invested + fee``. Minimum purchase (起购金额) and the purchase increment apply to the paid
amount. All money is integer cents, so ``Σ net + Σ fee + remainder == amount`` holds exactly.

Rule (greedy, with a stated bound):

1. Ideal paid amounts ``p*_i = A · w_i (1 + r_i) / Σ_j w_j (1 + r_j)`` make the *net* holdings match the
   target weights `w` (r_i = fund i's effective fee rate at that amount).
2. Funds whose ideal amount is below their minimum are reported (`below_minimum`); the caller drops them
   and re-solves the weights, then calls again (see `advisor.proposal`).
3. Each line is rounded down to its increment (raised to the minimum when needed); the money left over
   is handed out one increment at a time to the lines furthest below their ideal (largest shortfall
   first, ties by position), then what still remains goes to a money-market line when there is one (no
   fee, ¥0.01 increments).

Bound: every line ends within one increment of its ideal amount (|p_i − p*_i| < inc_i), except that a
line rounded *up* to reach its minimum (a minimum that is not a multiple of the increment) takes that
money from the largest lines; so each weight is off by less than (inc_i + raised) / A; the cash remainder is below the
smallest increment among the lines, or zero when a money-market line is present. (Only if raising lines
to their minimum would overspend — the caller's minimum check makes that rare — is the smallest line
dropped, and its money stays as remainder.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from products.fees import FeeTable


@dataclass(frozen=True, eq=False)
class Allocation:
    fund_idx: np.ndarray  # (m,) universe positions, lines with a purchase only
    paid_cents: np.ndarray  # (m,) int64 gross amount paid
    fee_cents: np.ndarray  # (m,) int64 subscription fee inside the paid amount
    remainder_cents: int  # not invested

    @property
    def net_cents(self) -> np.ndarray:
        return self.paid_cents - self.fee_cents

    @property
    def total_cents(self) -> int:
        return int(self.paid_cents.sum()) + int(self.remainder_cents)


def to_cents(amount: float) -> int:
    return round(float(amount) * 100.0)


def ideal_paid(amount_cents: int, fund_idx: np.ndarray, weights: np.ndarray, fees: FeeTable,
               discount: float) -> np.ndarray:
    """Ideal paid amounts in (fractional) cents so that net holdings are proportional to `weights`."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    yuan = amount_cents / 100.0 * w
    fee = fees.subscription_fee(fund_idx, yuan, discount)
    rate = np.divide(fee, yuan - fee, out=np.zeros_like(yuan), where=(yuan - fee) > 0)
    gross = w * (1.0 + rate)
    return amount_cents * gross / gross.sum()


def below_minimum(ideal_cents: np.ndarray, min_cents: np.ndarray) -> np.ndarray:
    """Bool per line: its ideal amount cannot reach the fund's minimum purchase."""
    return np.asarray(ideal_cents) < np.asarray(min_cents)


def discretize(amount_cents: int, fund_idx: np.ndarray, ideal_cents: np.ndarray, min_cents: np.ndarray,
               inc_cents: np.ndarray, fees: FeeTable, discount: float,
               money_market: np.ndarray | None = None) -> Allocation:
    """Round ideal amounts to purchasable ones (module docstring, step 3). Lines must all be ≥ minimum."""
    idx = np.asarray(fund_idx, dtype=np.intp)
    ideal = np.asarray(ideal_cents, dtype=float)
    inc = np.maximum(np.asarray(inc_cents, dtype=np.int64), 1)
    minimum = np.asarray(min_cents, dtype=np.int64)
    paid = (np.floor(ideal / inc).astype(np.int64)) * inc
    low = paid < minimum
    paid[low] = (-(-minimum[low] // inc[low])) * inc[low]  # the smallest increment multiple ≥ minimum
    over = int(paid.sum()) - amount_cents
    if over > 0:  # raising lines to their minimum overshot the budget: trim the largest lines
        for i in np.argsort(-(paid - minimum), kind="stable"):
            if over <= 0:
                break
            room = (paid[i] - minimum[i]) // inc[i]
            steps = min(room, -(-over // inc[i]))
            paid[i] -= steps * inc[i]
            over -= int(steps * inc[i])
    while over > 0 and len(paid):  # every line already at its minimum: drop the smallest line
        i = int(np.argmin(np.where(paid > 0, paid, np.iinfo(np.int64).max)))
        over -= int(paid[i])
        paid[i] = 0
    left = amount_cents - int(paid.sum())
    shortfall = ideal - paid
    for i in np.lexsort((np.arange(len(idx)), -shortfall)):
        if paid[i] > 0 and inc[i] <= left:
            paid[i] += inc[i]
            left -= int(inc[i])
    if left > 0 and money_market is not None and np.any(money_market & (paid > 0)):
        j = int(np.flatnonzero(money_market & (paid > 0))[0])
        steps = left // inc[j]
        paid[j] += steps * inc[j]
        left -= int(steps * inc[j])
    keep = paid > 0
    idx, paid = idx[keep], paid[keep]
    fee = np.round(fees.subscription_fee(idx, paid / 100.0, discount) * 100.0).astype(np.int64)
    fee = np.minimum(fee, paid)
    return Allocation(idx, paid.astype(np.int64), fee, int(left))

"""First-in-first-out lot tracking: holding days, per-lot redemption rates, and FIFO sales.

A customer's position in a fund is a list of lots (purchase date, current value). Redemptions use the
oldest lots first (先进先出), and each lot pays the redemption rate of its own holding period (at least
1.5% under 7 days, `products.fees`). All work is vectorized over every lot of every customer: lots are
sorted once by (customer, fund, purchase date) and groups are contiguous runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from products.fees import SHORT_HOLD_DAYS, FeeTable


@dataclass(frozen=True)
class LotBook:
    """Every lot, sorted FIFO inside each (customer, fund) pair; pairs are contiguous runs."""

    cust: np.ndarray  # (n_lots,) customer position (0 … C-1)
    fund_idx: np.ndarray  # (n_lots,) universe position
    value: np.ndarray  # (n_lots,) current value, yuan
    purchase_date: np.ndarray  # (n_lots,) datetime64[D]
    holding_days: np.ndarray  # (n_lots,) float
    rate: np.ndarray  # (n_lots,) redemption rate of the lot today
    pair_start: np.ndarray  # (n_pairs + 1,) offsets of each pair's run of lots
    order: np.ndarray  # (n_lots,) position of each sorted lot in the caller's input
    sellable: np.ndarray  # (n_lots,) False for lots under a lock-up (锁定期) that cannot be redeemed yet

    @property
    def n_pairs(self) -> int:
        return len(self.pair_start) - 1

    @property
    def pair_of_lot(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_pairs), np.diff(self.pair_start))

    @property
    def pair_cust(self) -> np.ndarray:
        return self.cust[self.pair_start[:-1]]

    @property
    def pair_fund(self) -> np.ndarray:
        return self.fund_idx[self.pair_start[:-1]]

    @property
    def pair_value(self) -> np.ndarray:
        return np.add.reduceat(self.value, self.pair_start[:-1]) if len(self.value) else np.zeros(0)


def build_lot_book(cust: np.ndarray, fund_idx: np.ndarray, value: np.ndarray, purchase_date: np.ndarray,
                   holding_days: np.ndarray, fees: FeeTable, locked: np.ndarray | None = None) -> LotBook:
    """Sort lots FIFO per (customer, fund) and price each lot's redemption today.

    `locked` lots count in the position but cannot be sold (lock-up periods); FIFO skips them.
    """
    cust = np.asarray(cust, dtype=np.int64)
    fund_idx = np.asarray(fund_idx, dtype=np.int64)
    dates = np.asarray(purchase_date, dtype="datetime64[D]")
    day = dates.astype(np.int64)
    day = np.where(np.isnat(dates), day.min(initial=0), day)
    span = int(day.max(initial=0) - day.min(initial=0)) + 1
    n_funds = int(fund_idx.max(initial=0)) + 1
    if len(cust) and (int(cust.max()) + 1) * n_funds * span < 2**62:
        key = (cust * n_funds + fund_idx) * span + (day - day.min())
        order = np.argsort(key, kind="stable")  # one int64 key: much faster than a 3-key lexsort
    else:
        order = np.lexsort((np.arange(len(cust)), dates, fund_idx, cust))
    cust, fund_idx, dates = cust[order], fund_idx[order], dates[order]
    value = np.asarray(value, dtype=float)[order]
    days = np.asarray(holding_days, dtype=float)[order]
    rate = fees.redemption_rate(fund_idx, days) if len(order) else np.zeros(0)
    new_pair = np.ones(len(order), dtype=bool)
    if len(order):
        new_pair[1:] = (cust[1:] != cust[:-1]) | (fund_idx[1:] != fund_idx[:-1])
    pair_start = np.append(np.flatnonzero(new_pair), len(order))
    sellable = np.ones(len(order), dtype=bool) if locked is None else ~np.asarray(locked, dtype=bool)[order]
    return LotBook(cust=cust, fund_idx=fund_idx, value=value, purchase_date=dates, holding_days=days,
                   rate=rate, pair_start=pair_start, order=order, sellable=sellable)


@dataclass(frozen=True)
class Segments:
    """Runs of consecutive FIFO lots with one redemption rate: the pieces of the convex fee curve."""

    pair: np.ndarray  # (n_segments,) pair index
    position: np.ndarray  # (n_segments,) 0 = sold first
    value: np.ndarray  # (n_segments,) yuan
    rate: np.ndarray  # (n_segments,) non-decreasing inside a pair


def fifo_segments(book: LotBook) -> Segments:
    """Merge equal-rate neighbours; rates are made non-decreasing along FIFO order (convex cost).

    Schedules fall with holding time and older lots are sold first, so rates already rise along the
    FIFO order; a schedule that does not (never seen in prospectuses) is priced at the running maximum,
    an upper bound, and the exact per-lot fee is charged in reporting.
    """
    if len(book.value) == 0:
        empty = np.zeros(0)
        return Segments(np.zeros(0, np.int64), np.zeros(0, np.int64), empty, empty)
    pair = book.pair_of_lot
    # running max of the rate inside each pair, exact (an offset trick would round differently with the
    # pair's position, so a customer's fees would depend on the other customers of the batch)
    monotone = np.round(pd.Series(book.rate).groupby(pair, sort=False).cummax().to_numpy(), 12)
    start = np.ones(len(pair), dtype=bool)
    start[1:] = (pair[1:] != pair[:-1]) | (np.abs(monotone[1:] - monotone[:-1]) > 1e-12)
    first = np.flatnonzero(start)
    seg_pair = pair[first]
    seg_value = np.add.reduceat(np.where(book.sellable, book.value, 0.0), first)
    seg_rate = monotone[first]
    new_pair = np.ones(len(first), dtype=bool)
    new_pair[1:] = seg_pair[1:] != seg_pair[:-1]
    group_first = np.maximum.accumulate(np.where(new_pair, np.arange(len(first)), 0))
    return Segments(pair=seg_pair, position=np.arange(len(first)) - group_first, value=seg_value, rate=seg_rate)


@dataclass(frozen=True)
class FifoSale:
    """The per-lot result of selling given amounts FIFO."""

    sold: np.ndarray  # (n_lots,) value sold from each lot
    fee: np.ndarray  # (n_lots,) redemption fee of each lot
    pair_fee: np.ndarray  # (n_pairs,)
    pair_short_fee: np.ndarray  # (n_pairs,) part of the fee on lots held under 7 days
    pair_min_days: np.ndarray  # (n_pairs,) youngest lot touched (NaN if nothing sold)


def sell_fifo(book: LotBook, pair_sell_value: np.ndarray) -> FifoSale:
    """Sell `pair_sell_value` yuan from each pair, oldest lots first; exact per-lot fees."""
    n_lots = len(book.value)
    if n_lots == 0:
        z = np.zeros(book.n_pairs)
        return FifoSale(np.zeros(0), np.zeros(0), z, z, np.full(book.n_pairs, np.nan))
    pair = book.pair_of_lot
    free = np.where(book.sellable, book.value, 0.0)
    # sellable value of older lots of the same pair: a running sum inside each pair (a difference of
    # book-wide running sums would round with the size of the whole batch)
    before = pd.Series(free).groupby(pair, sort=False).cumsum().to_numpy() - free
    want = np.asarray(pair_sell_value, dtype=float)[pair]
    sold = np.clip(want - before, 0.0, free)
    sold = np.where(sold < 0.005, 0.0, sold)  # float dust below half a cent does not touch a lot
    fee = sold * book.rate
    short = book.holding_days < SHORT_HOLD_DAYS
    pair_fee = np.bincount(pair, weights=fee, minlength=book.n_pairs)
    pair_short_fee = np.bincount(pair, weights=np.where(short, fee, 0.0), minlength=book.n_pairs)
    touched_days = np.where(sold > 0, book.holding_days, np.inf)
    min_days = np.full(book.n_pairs, np.inf)
    np.minimum.at(min_days, pair, touched_days)
    return FifoSale(sold=sold, fee=fee, pair_fee=pair_fee, pair_short_fee=pair_short_fee,
                    pair_min_days=np.where(np.isfinite(min_days), min_days, np.nan))

"""Exact prices of a plan: tiered subscription fees, FIFO lot redemption fees, switches inside one company.

A plan is per (customer, fund) pair: gross amount bought (fees included) and value sold. Sales redeem
lots first in, first out, each at its holding period's rate (`advisor.rebalancing.lots`); inside one
fund company, sale proceeds that go into another of its funds are a switch (转换) and pay only the
subscription-rate difference (`advisor.rebalancing.costs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from advisor.rebalancing import costs
from advisor.rebalancing.lots import LotBook, sell_fifo


def sum_by(index: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """Weighted bincount that is float even when empty."""
    return np.bincount(index, weights=weights, minlength=minlength).astype(float, copy=False)


@dataclass
class Pairs:
    """(customer, fund) pairs sorted by customer then fund: held funds ∪ model funds ∪ switch targets."""

    cust: np.ndarray
    fund: np.ndarray
    held: np.ndarray
    target: np.ndarray  # model weight of the fund for the customer's group
    first: np.ndarray  # (C + 1,) offsets per customer

    @property
    def n_customers(self) -> int:
        return len(self.first) - 1


@dataclass(frozen=True)
class Priced:
    """A plan's exact money per pair and per customer."""

    buy_fee: np.ndarray  # plain subscription fee per pair (the part not switched)
    switch_fee: np.ndarray  # fee on the switched-in part
    switch_in: np.ndarray  # gross yuan switched into the pair
    switch_out: np.ndarray  # yuan switched out of the pair
    sell_fee: np.ndarray
    short_fee: np.ndarray  # part of sell_fee on lots held under 7 days
    min_days: np.ndarray  # youngest lot a sale touches (NaN: no sale)
    plain_share: np.ndarray  # share of the purchase that is a plain subscription
    after: np.ndarray  # value per pair after the plan
    fees: np.ndarray  # (C,)
    cash: np.ndarray  # (C,) cash flow + sales − their fees − purchases
    lot_sold: np.ndarray  # (lots,) value sold per lot


def price(fees_table, company: np.ndarray, base_sub_rate: np.ndarray, discount: float, pairs: Pairs,
          book: LotBook, held_pos: np.ndarray, flow: np.ndarray, buy: np.ndarray, sell: np.ndarray,
          min_buy: np.ndarray | None = None) -> Priced:
    """Price a plan exactly (`buy` gross yuan, `sell` yuan, both per pair; `min_buy` the fund's minimum
    purchase per pair, which a subscription beside a switch into the same fund must meet too)."""
    pc, pf = pairs.cust, pairs.fund
    n = pairs.n_customers
    buy_fee = np.where(buy > 0, costs.buy_fees(fees_table, pf, buy, discount), 0.0)
    sale = sell_fifo(book, sell[held_pos] if len(held_pos) else np.zeros(0))
    sell_fee = np.zeros(len(pc))
    short_fee = np.zeros(len(pc))
    min_days = np.full(len(pc), np.nan)
    if len(held_pos):
        sell_fee[held_pos] = sale.pair_fee
        short_fee[held_pos] = sale.pair_short_fee
        min_days[held_pos] = sale.pair_min_days
    proceeds = sell - sell_fee
    by_key_sell, by_key_buy = company_sums(pairs, company, [proceeds, buy])
    matched = np.minimum(by_key_sell, by_key_buy)
    # the switched share of the company's sales and of its purchases; cent rounding leaves crumbs, so a
    # switch within a yuan of the whole sale (or purchase) is the whole of it — no ¥0.01 order is left over
    out_share = np.divide(matched, by_key_sell, out=np.zeros(len(pc)), where=by_key_sell > 0)
    out_share = np.where((matched > 0) & (by_key_sell - matched < 1.0), 1.0, out_share)
    in_share = np.divide(matched, by_key_buy, out=np.zeros(len(pc)), where=by_key_buy > 0)
    in_share = np.where((matched > 0) & (by_key_buy - matched < 1.0), 1.0, in_share)
    if min_buy is not None:
        in_share, out_share = _switch_whole_purchases(pairs, company, buy, matched, by_key_sell, min_buy,
                                                      in_share, out_share)
    switch_in = buy * in_share
    switch_out = sell * out_share
    out_num, out_den = company_sums(pairs, company, [switch_out * base_sub_rate[pf], switch_out])
    out_rate = np.divide(out_num, out_den, out=np.zeros(len(pc)), where=out_den > 0)
    in_rate = np.divide(buy_fee, buy - buy_fee, out=np.zeros(len(pc)), where=buy - buy_fee > 0)
    switch_fee = costs.switch_in_fees(in_rate, out_rate, switch_in)
    plain_share = np.divide(buy - switch_in, buy, out=np.zeros(len(pc)), where=buy > 0)
    buy_fee_total = buy_fee * plain_share + switch_fee
    after = pairs.held + buy - buy_fee_total - sell
    fees_c = sum_by(pc, buy_fee_total + sell_fee, n)
    cash = flow + sum_by(pc, sell - sell_fee - buy, n)
    return Priced(buy_fee=buy_fee, switch_fee=switch_fee, switch_in=switch_in, switch_out=switch_out,
                  sell_fee=sell_fee, short_fee=short_fee, min_days=min_days, plain_share=plain_share, after=after,
                  fees=fees_c, cash=cash, lot_sold=sale.sold)


def _switch_whole_purchases(pairs: Pairs, company: np.ndarray, buy: np.ndarray, matched: np.ndarray,
                            by_key_sell: np.ndarray, min_buy: np.ndarray, in_share: np.ndarray,
                            out_share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """When a company's purchases exceed what its sales raise, switch into its purchases one at a time
    (largest first) instead of a share of each, so at most one purchase per company is split between a
    switch and a subscription — and that subscription is at least the fund's minimum purchase (the
    switch carries less and the rest of the sale is a plain redemption)."""
    from advisor.rebalancing.plan import grouped_cumsum

    idx = np.flatnonzero((buy > 0) & (matched > 0) & (in_share < 1.0))
    if not len(idx):
        return in_share, out_share
    n_comp = int(company.max(initial=0)) + 1
    key = pairs.cust[idx].astype(np.int64) * n_comp + company[pairs.fund[idx]]
    order = np.lexsort((pairs.fund[idx], -buy[idx], key))
    s_idx, s_key = idx[order], key[order]
    gross = buy[s_idx]
    switched = np.clip(matched[s_idx] - (grouped_cumsum(gross, s_key) - gross), 0.0, gross)
    rest = gross - switched
    short = (switched > 0) & (rest > 0) & (rest < min_buy[s_idx] - 1e-9)
    switched = np.where(short, np.maximum(gross - min_buy[s_idx], 0.0), switched)
    switched = np.where((switched > 0) & (gross - switched < 1.0), gross, switched)  # no crumb subscription
    switched = np.where(switched < 1.0, 0.0, switched)  # no crumb switch (cents left of the company's sales)
    in_share = in_share.copy()
    in_share[s_idx] = switched / gross
    (total_in,) = company_sums(pairs, company, [buy * in_share])
    out_share = np.divide(np.minimum(total_in, by_key_sell), by_key_sell, out=np.zeros(len(buy)),
                          where=by_key_sell > 0)
    out_share = np.where((total_in > 0) & (by_key_sell - total_in < 1.0), 1.0, out_share)
    return in_share, out_share


def company_sums(pairs: Pairs, company: np.ndarray, values: list[np.ndarray], block: int = 65_536
                 ) -> list[np.ndarray]:
    """For each pair, the sum of each value over the customer's pairs in the same fund company."""
    comp = company[pairs.fund]
    n_comp = int(company.max(initial=0)) + 1
    n_cust = pairs.n_customers
    out = [np.zeros(len(pairs.cust)) for _ in values]
    for c0 in range(0, n_cust, block):
        c1 = min(c0 + block, n_cust)
        p0, p1 = pairs.first[c0], pairs.first[c1]
        key = (pairs.cust[p0:p1] - c0) * n_comp + comp[p0:p1]
        for o, v in zip(out, values, strict=True):
            o[p0:p1] = sum_by(key, v[p0:p1], (c1 - c0) * n_comp)[key]
    return out


def lot_dates_array(book: LotBook, held_pos: np.ndarray, n_pairs: int, lot_sold: np.ndarray) -> pa.Array:
    """Per pair, the purchase dates of the lots a sale touches (FIFO order), as an Arrow list array."""
    touched = lot_sold > 0
    pair_of_lot = held_pos[book.pair_of_lot] if len(lot_sold) else np.zeros(0, np.int64)
    counts = np.bincount(pair_of_lot[touched], minlength=n_pairs)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = pa.array(book.purchase_date[touched], type=pa.date32())
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)

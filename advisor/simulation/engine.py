"""The rebalancing engine, called for a slice of the simulated book (its public batch entry point).

The simulator hands `advisor.rebalancing.rebalance_batch` exactly what the nightly job would: the
customers (level, horizon, cash flow, last review) and their valued lots (purchase date, holding days),
on the point-in-time universe, with the research's fund targets. The engine's plan (per customer and
fund: yuan to sell, gross yuan to buy) becomes `Orders`; its fee per customer is kept: purchase fees
are the engine's (switches inside a company included), spread over the customer's purchases in
proportion to their subscription fees, and sales are priced again lot by lot when they fill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.rebalancing import costs, rebalance_batch
from advisor.rebalancing.report import REASONS
from advisor.rebalancing.settings import RebalanceSettings
from advisor.simulation.book import Book, Orders
from products.errors import DataError
from products.universe import Universe

REASON_NAMES: tuple[str, ...] = tuple(REASONS)
TargetFn = Callable[[int, float, bool], pd.Series]


@dataclass(frozen=True)
class FundMap:
    """Fund positions between the full universe (the book) and a point-in-time universe (the engine)."""

    to_pit: np.ndarray  # (F_full,) position in the point-in-time universe, −1 if absent
    to_full: np.ndarray  # (F_pit,) position in the full universe

    @classmethod
    def build(cls, full: Universe, pit: Universe) -> FundMap:
        return cls(to_pit=pit.index_of(full.codes), to_full=full.index_of(pit.codes))


@dataclass
class EnginePlan:
    orders: Orders
    reasons: np.ndarray  # (C,) reason names per customer asked
    customers: np.ndarray  # the customers asked
    engine_cash: np.ndarray  # (C,) cash the engine left after its plan
    engine_fees: np.ndarray  # (C,) fees the engine priced for its plan


def engine_inputs(book: Book, fund_map: FundMap, customers: np.ndarray, row: int, price_row: np.ndarray,
                  level: np.ndarray, lowest: np.ndarray, horizon: np.ndarray, cash_flow: np.ndarray,
                  last_review: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The engine's batch inputs for `customers` (sorted book positions) on the evening of `row`: the
    customers table, the valued lots (fund positions of the point-in-time universe), and the lots'
    positions in the book. `cash_flow` and `last_review` are per customer asked."""
    lot_pos = book.lots_of(customers)
    lot_pos = lot_pos[book.lot_shares[lot_pos] > 0]
    lot_fund = book.lot_fund[lot_pos]
    pit_idx = fund_map.to_pit[lot_fund]
    if (pit_idx < 0).any():
        missing = np.unique(lot_fund[pit_idx < 0])[:5].tolist()
        raise DataError("a held fund is missing from the point-in-time universe", details={"funds": missing})
    value = book.lot_shares[lot_pos] * price_row[lot_fund]
    purchase = book.day_number[book.lot_row[lot_pos]].astype("datetime64[D]")
    days = (book.day_number[row] - book.day_number[book.lot_row[lot_pos]]).astype(float)
    frame = pd.DataFrame({
        "customer_id": pd.array(customers.astype(str), dtype="str"), "risk_level": level[customers],
        "lowest_category": lowest[customers], "horizon_years": horizon[customers], "cash_flow": cash_flow,
        "last_rebalance_date": last_review.astype("datetime64[D]")})
    lots = pd.DataFrame({
        "customer_id": pd.array(book.lot_cust[lot_pos].astype(str), dtype="str"), "fund_idx": pit_idx,
        "value": value, "purchase_date": purchase, "holding_days": days})
    return frame, lots, lot_pos


def plan_rebalance(book: Book, pit: Universe, fund_map: FundMap, targets: TargetFn, customers: np.ndarray,
                   row: int, as_of: pd.Timestamp, price_row: np.ndarray, level: np.ndarray, lowest: np.ndarray,
                   horizon: np.ndarray, cash_flow: np.ndarray, last_review: np.ndarray,
                   settings: RebalanceSettings) -> EnginePlan:
    """Ask the engine about `customers` (sorted book positions; `level`, `lowest`, `horizon` are per book
    customer, `cash_flow` and `last_review` per customer asked) on the evening of `row`."""
    customers = np.asarray(customers, dtype=np.int64)
    if (np.diff(customers) <= 0).any():
        raise ValueError("customers must be sorted and unique")
    frame, lots, lot_pos = engine_inputs(book, fund_map, customers, row, price_row, level, lowest, horizon,
                                         cash_flow, last_review)
    value = lots["value"].to_numpy()
    core = rebalance_batch(pit, frame, lots, targets=targets, as_of=as_of.date(), settings=settings, frames=False)
    if len(core.reason) != len(customers):
        raise DataError("the rebalancing engine rejected simulated customers", details={"asked": len(customers),
                                                                                         "answered": len(core.reason)})
    pc, pf_pit = core.pair_cust, core.pair_fund
    trade = (core.buy_gross > 0) | (core.sell_value > 0)
    pc, pf_pit = pc[trade], pf_pit[trade]
    buy, sell = core.buy_gross[trade], core.sell_value[trade]
    discount = pit.fee_discount if settings.fee_discount is None else settings.fee_discount
    n = len(customers)
    # the engine's purchase fees per customer: fees − sale fees, where cash = flow + Σ(sell − sale fee − buy)
    held_total = np.bincount(np.searchsorted(customers, book.lot_cust[lot_pos]), weights=value, minlength=n)
    flow = np.where(np.abs(cash_flow) < 0.01, 0.0, cash_flow)
    flow = np.maximum(flow, -held_total)
    sells_c = np.bincount(pc, weights=sell, minlength=n)
    buys_c = np.bincount(pc, weights=buy, minlength=n)
    sale_fee_c = flow + sells_c - buys_c - core.cash
    buy_fee_c = np.maximum(core.fees - sale_fee_c, 0.0)
    plain = np.where(buy > 0, costs.buy_fees(pit.fees, pf_pit, buy, discount), 0.0)
    plain_c = np.bincount(pc, weights=plain, minlength=n)
    ratio = np.divide(buy_fee_c, plain_c, out=np.ones(n), where=plain_c > 1e-9)
    ratio = np.clip(ratio, 0.0, 1.0 + 1e-6)
    fund = fund_map.to_full[pf_pit]
    cust = customers[pc]
    held_now = book.positions[cust, fund] * price_row[fund]
    orders = Orders(cust=cust, fund=fund, sell_value=sell, ref_price=price_row[fund], buy_gross=buy,
                    buy_fee=plain * ratio[pc], first=np.zeros(len(pc), dtype=bool),
                    sell_all=(sell > 0) & (sell >= held_now - 0.005))
    reasons = np.asarray(REASON_NAMES, dtype=object)[core.reason]
    return EnginePlan(orders=orders, reasons=reasons, customers=customers, engine_cash=core.cash,
                      engine_fees=core.fees)

"""The rebalancing engine, called for a slice of the simulated book (its public batch entry point).

The simulator hands `advisor.rebalancing.rebalance_batch` exactly what the nightly job would: the
customers (level, horizon, cash flow — new money or a withdrawal —, idle cash, last review; no monthly
expenses, so no emergency reserve is kept out) and their valued lots (purchase date, holding days),
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
    """The engine's answers to questions (customer, evening): one entry per question, in the order asked."""

    orders: Orders  # every question's orders, `question` says whose
    question: np.ndarray  # (orders,) index of the question each order answers
    reasons: np.ndarray  # (Q,) reason names
    customers: np.ndarray  # (Q,) book customer of each question
    rows: np.ndarray  # (Q,) evening of each question
    engine_cash: np.ndarray  # (Q,) cash the engine left after its plan
    engine_fees: np.ndarray  # (Q,) fees the engine priced for its plan

    @property
    def trades(self) -> np.ndarray:
        """(Q,) whether the answer has at least one order."""
        return np.bincount(self.question, minlength=len(self.customers)) > 0


def engine_inputs(book: Book, fund_map: FundMap, customers: np.ndarray, rows: np.ndarray, prices: np.ndarray,
                  level: np.ndarray, lowest: np.ndarray, horizon: np.ndarray, cash_flow: np.ndarray,
                  last_review: np.ndarray, cash: np.ndarray | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """The engine's batch inputs for questions (customer `customers[q]` on the evening of `rows[q]`, valued
    at `prices[rows[q]]`): the customers table (one row per question, id = question number), the valued
    lots (fund positions of the point-in-time universe), and per lot its book position and question.
    `cash_flow` (new money > 0, withdrawal < 0), `cash` (idle cash already in the account, counted by the
    engine in the cash class; default none) and `last_review` are per question; `level`, `lowest`,
    `horizon` per book customer.

    A customer may be asked about several evenings at once (its book unchanged in between): the engine
    answers every question on its own, so this is the nightly run of each of those evenings."""
    customers = np.asarray(customers, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    order = np.argsort(book.lot_cust, kind="stable")
    lot_cust_sorted = book.lot_cust[order]
    start = np.searchsorted(lot_cust_sorted, customers, side="left")
    stop = np.searchsorted(lot_cust_sorted, customers, side="right")
    counts = stop - start
    question = np.repeat(np.arange(len(customers)), counts)
    offsets = np.cumsum(counts) - counts
    lot_pos = order[np.repeat(start, counts) + (np.arange(counts.sum()) - np.repeat(offsets, counts))]
    keep = book.lot_shares[lot_pos] > 0
    lot_pos, question = lot_pos[keep], question[keep]
    lot_fund = book.lot_fund[lot_pos]
    pit_idx = fund_map.to_pit[lot_fund]
    if (pit_idx < 0).any():
        missing = np.unique(lot_fund[pit_idx < 0])[:5].tolist()
        raise DataError("a held fund is missing from the point-in-time universe", details={"funds": missing})
    lot_row = rows[question]
    value = book.lot_shares[lot_pos] * prices[lot_row, lot_fund]
    bought = book.lot_row[lot_pos]
    days = (book.day_number[lot_row] - book.day_number[bought]).astype(float)
    ids = np.arange(len(customers)).astype(str)
    frame = pd.DataFrame({
        "customer_id": pd.array(ids, dtype="str"), "risk_level": level[customers],
        "lowest_category": lowest[customers], "horizon_years": horizon[customers], "cash_flow": cash_flow,
        "cash": np.zeros(len(customers)) if cash is None else np.maximum(np.asarray(cash, dtype=float), 0.0),
        "last_rebalance_date": np.asarray(last_review).astype("datetime64[D]")})
    lots = pd.DataFrame({
        "customer_id": pd.array(ids[question], dtype="str"), "fund_idx": pit_idx, "value": value,
        "purchase_date": book.day_number[bought].astype("datetime64[D]"), "holding_days": days})
    return frame, lots, lot_pos, question


def plan_rebalance(book: Book, pit: Universe, fund_map: FundMap, targets: TargetFn, customers: np.ndarray,
                   rows: np.ndarray, prices: np.ndarray, level: np.ndarray, lowest: np.ndarray,
                   horizon: np.ndarray, cash_flow: np.ndarray, last_review: np.ndarray,
                   settings: RebalanceSettings, cash: np.ndarray | None = None) -> EnginePlan:
    """Ask the engine questions (customer, evening) — see `engine_inputs` — in one batch call."""
    customers = np.asarray(customers, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    frame, lots, _, lot_question = engine_inputs(book, fund_map, customers, rows, prices, level, lowest,
                                                       horizon, cash_flow, last_review, cash)
    as_of = pd.Timestamp(book.day_number[int(rows.max())].astype("datetime64[D]")).date()
    core = rebalance_batch(pit, frame, lots, targets=targets, as_of=as_of, settings=settings, frames=False)
    n = len(customers)
    if len(core.reason) != n:
        raise DataError("the rebalancing engine rejected simulated customers", details={"asked": n,
                                                                                         "answered": len(core.reason)})
    pq, pf_pit = core.pair_cust, core.pair_fund
    trade = (core.buy_gross > 0) | (core.sell_value > 0)
    pq, pf_pit = pq[trade], pf_pit[trade]
    buy, sell = core.buy_gross[trade], core.sell_value[trade]
    discount = pit.fee_discount if settings.fee_discount is None else settings.fee_discount
    # the engine's purchase fees per question: fees − sale fees, where cash = flow + Σ(sell − sale fee − buy)
    held_total = np.bincount(lot_question, weights=lots["value"].to_numpy(), minlength=n)
    flow = np.where(np.abs(cash_flow) < 0.01, 0.0, cash_flow)
    idle = np.zeros(n) if cash is None else np.maximum(np.asarray(cash, dtype=float), 0.0)
    flow = np.maximum(flow, -(held_total + idle))  # the engine's clip: no more is withdrawn than is there
    sale_fee = flow + np.bincount(pq, weights=sell, minlength=n) - np.bincount(pq, weights=buy, minlength=n) - core.cash
    buy_fee = np.maximum(core.fees - sale_fee, 0.0)
    plain = np.where(buy > 0, costs.buy_fees(pit.fees, pf_pit, buy, discount), 0.0)
    plain_q = np.bincount(pq, weights=plain, minlength=n)
    ratio = np.clip(np.divide(buy_fee, plain_q, out=np.ones(n), where=plain_q > 1e-9), 0.0, 1.0 + 1e-6)
    fund = fund_map.to_full[pf_pit]
    cust = customers[pq]
    ref = prices[rows[pq], fund]
    held_now = book.positions[cust, fund] * ref
    orders = Orders(cust=cust, fund=fund, sell_value=sell, ref_price=ref, buy_gross=buy, buy_fee=plain * ratio[pq],
                    first=np.zeros(len(pq), dtype=bool), sell_all=(sell > 0) & (sell >= held_now - 0.005))
    reasons = np.asarray(REASON_NAMES, dtype=object)[core.reason]
    return EnginePlan(orders=orders, question=pq, reasons=reasons, customers=customers, rows=rows,
                      engine_cash=core.cash, engine_fees=core.fees)

"""Customers who invest by a plan of their own (定投 plans) instead of through the rebalancing engine.

A plan customer lives in the same book as every simulated customer — lots first in first out, the one cost
model, fills at the next trading day's NAV after an evening decision, point-in-time research — with three
differences (`advisor.simulation.simulator` applies them; the plan's own rules come from its owner, e.g.
`advisor.lifecycle.sip`):

* **No proposal, no rebalancing engine.** On every evening whose morning brought money (the first deposit,
  a scheduled debit) the plan's `invest` rule decides the purchases from what is known that evening (the
  close, the holdings, the point-in-time model targets); they fill at the next trading day's NAV.
* **Target profit** (目标止盈). A plan's cycle return is ``(value at the close) / (money paid in during the
  cycle) − 1``. At the first close where it reaches `target_return`, the plan either stops (later debits
  are cancelled, the holdings stay) or takes profit: every fund is redeemed at the next NAV (each lot
  paying its own redemption fee), the proceeds are paid out to the customer, and a new cycle starts with
  the next debit.
* **Transactions are kept** (`Book.log`), so the plan's ledger can be shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from advisor.simulation.book import Orders
from advisor.simulation.research import ResearchState
from products.fees import FeeTable
from products.universe import Universe


@dataclass(frozen=True)
class PlanEvening:
    """What a plan may read on the evenings it invests (one entry per customer; nothing after the close)."""

    cust: np.ndarray  # book customers
    rows: np.ndarray  # trading row of each evening
    cash: np.ndarray  # yuan in the account to invest
    positions: np.ndarray  # (customers, funds) shares held (the book's funds = the full universe)
    prices: np.ndarray  # (customers, funds) the evening's close (total-return index; NaN before a fund's first NAV)
    fund_class: np.ndarray  # (funds,) asset class index of every fund
    targets: Callable[[int, float, bool], dict[str, float]]  # point-in-time model fund weights (level, years, lowest)
    fees: FeeTable
    discount: float


@dataclass(frozen=True)
class PlanRules:
    """The plans of some simulated customers: who, how money is invested, and the target-profit rule."""

    customer_ids: Sequence[str]
    invest: Callable[[PlanEvening], Orders]
    target_return: np.ndarray  # per customer of `customer_ids`; NaN = no target
    take_profit: np.ndarray  # per customer: True = redeem and start again, False = stop debiting
    needs_research: bool = False  # invest reads point-in-time model targets


class NoResearch:
    """The research calendar without research: for books whose customers all follow plans of named funds."""

    cache_hits = 0

    class State(ResearchState):
        """An empty research state (no targets, no proposals)."""

    def __init__(self, universe: Universe, dates: list[pd.Timestamp]):
        self.universe, self.dates = universe, dates

    def __iter__(self) -> Iterator[ResearchState]:
        for day in self.dates:
            yield NoResearch.State(as_of=pd.Timestamp(day), universe_version=self.universe.version,
                                n_funds=len(self.universe.funds), targets={}, model_weights={}, proposals={})

    def close(self) -> None:
        pass


def buy_orders(cust: np.ndarray, fund: np.ndarray, gross: np.ndarray, price: np.ndarray, fees: FeeTable,
               discount: float) -> Orders:
    """Purchases of `gross` yuan (fee included, whole cents) priced with the one cost model."""
    from advisor.rebalancing import costs

    gross = np.floor(np.asarray(gross, dtype=float) * 100.0 + 1e-6) / 100.0
    n = len(gross)
    return Orders(cust=np.asarray(cust, dtype=np.int64), fund=np.asarray(fund, dtype=np.int64), sell_value=np.zeros(n),
                  ref_price=np.asarray(price, dtype=float), buy_gross=gross,
                  buy_fee=costs.buy_fees(fees, np.asarray(fund, dtype=np.int64), gross, discount),
                  first=np.zeros(n, dtype=bool), sell_all=np.zeros(n, dtype=bool))

"""The simulated book: every customer's lots (first in, first out) and cash, and how orders fill.

All customers live in flat arrays (no per-customer objects). A lot is (customer, fund, purchase row,
shares); shares are priced with the fund's total-return index (dividends reinvested, 红利再投资), so
a lot's value is ``shares × index`` on any day. `positions` (customers × funds) is the sum of the lots,
kept in step with them.

Fills use the shared cost model: a purchase of gross amount B pays the subscription fee the
rebalancing engine priced (tiered, 外扣法, bank discount: `advisor.rebalancing.costs`), a sale redeems
the oldest lots first and each lot pays the redemption rate of its own holding period at the fill date
(at least 1.5 % under 7 days: `products.fees`). Cash is conserved exactly: every yuan that leaves a
customer's cash is in a lot, in a fee, or paid out as a withdrawal (`Ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from advisor.rebalancing import costs
from products.fees import FeeTable


@dataclass
class Orders:
    """Orders decided on one evening, to fill on `fill_row`.

    `sell_value` is in yuan at the decision's prices (`ref_price`): the customer redeems
    ``sell_value / ref_price`` shares; `buy_gross` is what the customer pays (fee included) and
    `buy_fee` the fee the engine priced for it; `first` marks a first purchase (a proposal).
    """

    cust: np.ndarray
    fund: np.ndarray
    sell_value: np.ndarray
    ref_price: np.ndarray
    buy_gross: np.ndarray
    buy_fee: np.ndarray
    first: np.ndarray
    sell_all: np.ndarray  # redeem the whole position (a full exit planned at the decision)

    @classmethod
    def empty(cls) -> Orders:
        z = np.zeros(0)
        i = np.zeros(0, dtype=np.int64)
        b = np.zeros(0, dtype=bool)
        return cls(i, i.copy(), z, z.copy(), z.copy(), z.copy(), b, b.copy())

    @classmethod
    def concat(cls, parts: list[Orders]) -> Orders:
        parts = [p for p in parts if len(p.cust)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("cust", "fund", "sell_value", "ref_price", "buy_gross", "buy_fee", "first", "sell_all")))

    def __len__(self) -> int:
        return len(self.cust)


@dataclass
class Ledger:
    """Running totals per customer (yuan): what came in and out, fees, and turnover."""

    deposits: np.ndarray
    withdrawals: np.ndarray
    buy_fees: np.ndarray
    sell_fees: np.ndarray
    bought: np.ndarray  # gross purchases after the first one
    sold: np.ndarray  # redemption proceeds before fees
    first_fees: np.ndarray
    first_bought: np.ndarray  # gross first purchases
    trades: np.ndarray  # orders filled after the first purchase (one per fund and side)
    liquidated: np.ndarray  # paid out by funds that stopped (no fee)
    shortfall: np.ndarray  # withdrawals that could not be paid in full

    @classmethod
    def zeros(cls, n: int) -> Ledger:
        return cls(*(np.zeros(n) for _ in range(11)))


@dataclass
class Book:
    n_customers: int
    n_funds: int
    fees: FeeTable
    discount: float
    day_number: np.ndarray  # calendar day number of each trading row (holding periods)
    cash: np.ndarray = field(init=False)
    positions: np.ndarray = field(init=False)
    ledger: Ledger = field(init=False)
    lot_cust: np.ndarray = field(init=False)
    lot_fund: np.ndarray = field(init=False)
    lot_row: np.ndarray = field(init=False)
    lot_shares: np.ndarray = field(init=False)
    log: list[dict[str, np.ndarray]] | None = None  # filled orders, when kept

    def __post_init__(self) -> None:
        self.cash = np.zeros(self.n_customers)
        self.positions = np.zeros((self.n_customers, self.n_funds))
        self.ledger = Ledger.zeros(self.n_customers)
        self.lot_cust = np.zeros(0, dtype=np.int64)
        self.lot_fund = np.zeros(0, dtype=np.int64)
        self.lot_row = np.zeros(0, dtype=np.int64)
        self.lot_shares = np.zeros(0)

    # ---- cash flows -------------------------------------------------------------------------------------

    def deposit(self, cust: np.ndarray, amount: np.ndarray) -> None:
        np.add.at(self.cash, cust, amount)
        np.add.at(self.ledger.deposits, cust, amount)

    def withdraw(self, cust: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """Pay out up to `amount` from cash; returns what was paid (the rest is a recorded shortfall)."""
        cust = np.asarray(cust, dtype=np.int64)
        want = np.asarray(amount, dtype=float)
        paid = np.minimum(want, np.maximum(self.cash[cust], 0.0))
        np.subtract.at(self.cash, cust, paid)
        np.add.at(self.ledger.withdrawals, cust, paid)
        np.add.at(self.ledger.shortfall, cust, want - paid)
        return paid

    # ---- lots -------------------------------------------------------------------------------------------
    # Rows are trading-day numbers and `prices` the (days × funds) total-return index; every operation takes
    # one row per order, so customers at different dates can be filled in one call.

    def _add_lots(self, cust: np.ndarray, fund: np.ndarray, rows: np.ndarray, shares: np.ndarray) -> None:
        keep = shares > 0
        cust, fund, rows, shares = cust[keep], fund[keep], rows[keep], shares[keep]
        self.lot_cust = np.concatenate([self.lot_cust, cust])
        self.lot_fund = np.concatenate([self.lot_fund, fund])
        self.lot_row = np.concatenate([self.lot_row, rows.astype(np.int64)])
        self.lot_shares = np.concatenate([self.lot_shares, shares])
        np.add.at(self.positions, (cust, fund), shares)

    def _compact(self) -> None:
        keep = self.lot_shares > 0
        if not keep.all():
            self.lot_cust, self.lot_fund = self.lot_cust[keep], self.lot_fund[keep]
            self.lot_row, self.lot_shares = self.lot_row[keep], self.lot_shares[keep]

    def liquidate(self, cust: np.ndarray, fund: np.ndarray, rows: np.ndarray, prices: np.ndarray) -> None:
        """Funds that stopped: each (customer, fund) is paid the last NAV on its row, without fee."""
        if len(cust) == 0:
            return
        key = np.asarray(cust, np.int64) * self.n_funds + np.asarray(fund, np.int64)
        lot_key = self.lot_cust * self.n_funds + self.lot_fund
        hit = np.flatnonzero(np.isin(lot_key, key))
        if hit.size == 0:
            return
        sorter = np.argsort(key)
        row_of = np.asarray(rows, np.int64)[sorter][np.searchsorted(key[sorter], lot_key[hit])]
        c, f, shares = self.lot_cust[hit], self.lot_fund[hit], self.lot_shares[hit]
        proceeds = shares * np.nan_to_num(prices[row_of, f])
        np.add.at(self.cash, c, proceeds)
        np.add.at(self.ledger.liquidated, c, proceeds)
        self.positions[c, f] = 0.0
        self.lot_shares[hit] = 0.0
        self._compact()

    def sell_fifo(self, cust: np.ndarray, fund: np.ndarray, shares: np.ndarray, rows: np.ndarray,
                  prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Redeem `shares` of each (customer, fund) on its row, oldest lots first, at that row's price.

        Returns (proceeds, fee) per request; each lot pays the redemption rate of its holding period at
        the fill date (calendar days)."""
        n_req = len(cust)
        proceeds = np.zeros(n_req)
        fee = np.zeros(n_req)
        if n_req == 0 or len(self.lot_cust) == 0:
            return proceeds, fee
        key_req = cust * self.n_funds + fund
        key_lot = self.lot_cust * self.n_funds + self.lot_fund
        hit = np.flatnonzero(np.isin(key_lot, key_req))
        if hit.size == 0:
            return proceeds, fee
        order = hit[np.lexsort((self.lot_row[hit], key_lot[hit]))]
        keys = key_lot[order]
        lot_sh = self.lot_shares[order]
        start = np.ones(len(order), dtype=bool)
        start[1:] = keys[1:] != keys[:-1]
        cum = np.cumsum(lot_sh)
        group_first = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
        before = cum - lot_sh - (cum - lot_sh)[group_first]
        sorter = np.argsort(key_req, kind="stable")
        req_pos = sorter[np.searchsorted(key_req[sorter], keys)]
        want = shares[req_pos]
        sold = np.clip(want - before, 0.0, lot_sh)
        sold = np.where(lot_sh - sold < 1e-9 * np.maximum(lot_sh, 1.0), lot_sh, sold)  # no float dust left
        fill_row = np.asarray(rows, np.int64)[req_pos]
        lot_price = np.nan_to_num(prices[fill_row, self.lot_fund[order]])
        # orders are placed in whole cents, rounded up: less than a cent beyond the older lots leaves a lot untouched
        sold = np.where((sold * lot_price < 0.01) & (want < np.inf), 0.0, sold)
        value = sold * lot_price
        days = (self.day_number[fill_row] - self.day_number[self.lot_row[order]]).astype(float)
        rate = self.fees.redemption_rate(self.lot_fund[order], days)
        np.add.at(proceeds, req_pos, value)
        np.add.at(fee, req_pos, value * rate)
        self.lot_shares[order] = lot_sh - sold
        touched_c, touched_f = self.lot_cust[order], self.lot_fund[order]
        self.positions[touched_c, touched_f] = 0.0  # rebuilt from the lots left: no float dust of sold units
        np.add.at(self.positions, (touched_c, touched_f), self.lot_shares[order])
        self._compact()
        return proceeds, fee

    # ---- fills ------------------------------------------------------------------------------------------

    def fill(self, orders: Orders, rows: np.ndarray | int, prices: np.ndarray) -> None:
        """Fill `orders`, each on its row (an int: all on one row) at that row's prices: sales first (their
        cash funds the purchases), then buys, scaled down pro rata if a customer's cash falls short (prices
        moved since the decision)."""
        if len(orders) == 0:
            return
        rows = np.broadcast_to(np.asarray(rows, dtype=np.int64), (len(orders),))
        sells = np.flatnonzero((orders.sell_value > 0) | orders.sell_all)
        if sells.size:
            c, f = orders.cust[sells], orders.fund[sells]
            held = self.positions[c, f]
            want = np.where(orders.sell_all[sells], np.inf,
                            np.minimum(orders.sell_value[sells] / orders.ref_price[sells], held))
            proceeds, fee = self.sell_fifo(c, f, want, rows[sells], prices)
            if self.log is not None:
                self.log.append({"row": rows[sells], "cust": c, "fund": f, "side": np.full(c.size, "sell"),
                                 "amount": proceeds, "fee": fee})
            np.add.at(self.cash, c, proceeds - fee)
            np.add.at(self.ledger.sell_fees, c, fee)
            np.add.at(self.ledger.sold, c, proceeds)
            np.add.at(self.ledger.trades, c, (proceeds > 0).astype(float))
        buys = np.flatnonzero(orders.buy_gross > 0)
        if buys.size:
            c, f, r = orders.cust[buys], orders.fund[buys], rows[buys]
            gross, fee = orders.buy_gross[buys].copy(), orders.buy_fee[buys].copy()
            need = np.bincount(c, weights=gross, minlength=self.n_customers)
            have = np.maximum(self.cash, 0.0)
            scale = np.where(need > have + 1e-9, np.divide(have, need, out=np.zeros_like(have), where=need > 0), 1.0)
            short = scale[c] < 1.0
            if short.any():
                # prices moved against the plan: buy less, and price the smaller purchase with the same model
                plain = costs.buy_fees(self.fees, f, gross, self.discount)
                ratio = np.divide(fee, plain, out=np.ones_like(fee), where=plain > 0)
                gross = np.where(short, np.floor(gross * scale[c] * 100.0) / 100.0, gross)
                fee = np.where(short, costs.buy_fees(self.fees, f, gross, self.discount) * np.minimum(ratio, 1.0), fee)
            price = prices[r, f]
            ok = np.isfinite(price) & (price > 0) & (gross > 0)
            gross, fee = np.where(ok, gross, 0.0), np.where(ok, fee, 0.0)
            np.subtract.at(self.cash, c, gross)
            first = orders.first[buys]
            if self.log is not None:
                self.log.append({"row": r, "cust": c, "fund": f, "side": np.where(first, "first", "buy"),
                                 "amount": gross, "fee": fee})
            np.add.at(self.ledger.first_fees, c, np.where(first, fee, 0.0))
            np.add.at(self.ledger.first_bought, c, np.where(first, gross, 0.0))
            np.add.at(self.ledger.buy_fees, c, np.where(first, 0.0, fee))
            np.add.at(self.ledger.bought, c, np.where(first, 0.0, gross))
            np.add.at(self.ledger.trades, c, np.where(first, 0.0, (gross > 0).astype(float)))
            self._add_lots(c[ok], f[ok], r[ok], (gross[ok] - fee[ok]) / price[ok])

    def cash_identity_gap(self, customers: np.ndarray | None = None) -> float:
        """Largest |cash − (deposits − withdrawals + sale proceeds − sale fees − purchases + payouts)| over
        `customers` (default all): every yuan that moved is accounted for (zero up to float noise)."""
        led = self.ledger
        idx = slice(None) if customers is None else customers
        expected = (led.deposits[idx] - led.withdrawals[idx] + led.sold[idx] - led.sell_fees[idx]
                    - led.first_bought[idx] - led.bought[idx] + led.liquidated[idx])
        return float(np.abs(self.cash[idx] - expected).max(initial=0.0))

    def holdings_of(self, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in `customers`, fund, shares) of every fund each customer holds."""
        local, fund = np.nonzero(self.positions[customers] > 0)
        return local, fund, self.positions[customers[local], fund]

    def lots_of(self, customers: np.ndarray) -> np.ndarray:
        """Positions (into the lot arrays) of the lots of `customers`."""
        return np.flatnonzero(np.isin(self.lot_cust, customers))

    def check_positions(self) -> float:
        """Largest gap between `positions` and the sum of the lots (should be float noise)."""
        rebuilt = np.zeros_like(self.positions)
        np.add.at(rebuilt, (self.lot_cust, self.lot_fund), self.lot_shares)
        return float(np.abs(rebuilt - self.positions).max(initial=0.0))

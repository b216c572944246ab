"""The transaction ledger (交易流水): read, validate, and turn into priced events, lots and cost basis.

Batch format ``ledger`` — one row per confirmed transaction, append-only (Parquet, CSV or a frame):

``customer_id``, ``date`` (the NAV date the transaction was confirmed at), ``code``, ``kind``, and per kind:

=====================  =====================================================  ==================
kind (or 中文)          amount (yuan, at the NAV, fees excluded)                shares
=====================  =====================================================  ==================
subscription 申购       money invested in the fund (the customer pays amount    shares confirmed
                        + fee)
redemption 赎回         money redeemed at the NAV (the customer receives        shares redeemed
                        amount − fee)
switch_out 转换转出     value switched out at the NAV (amount − fee moves on)    shares switched out
switch_in 转换转入      value invested in this fund (amount + fee arrived)      shares confirmed
dividend_cash 现金分红  cash paid                                              —
dividend_reinvest 红利再投资  dividend reinvested                               shares added
=====================  =====================================================  ==================

The money words are the service's one contract (#19): ``amount`` is money at the NAV without fees,
``fee`` the fee in yuan, ``paid`` = amount + fee the cash a buy costs, ``received`` = amount − fee the
cash a sale brings.

Optional: ``fee`` (yuan, default 0), ``nav`` (the confirmed unit NAV), ``txn_id`` (unique per customer:
a repeated id is rejected, so re-sending a feed never double counts), ``plan_id`` (the SIP plan of a
debit). Either of amount and shares may be left out where the other and the NAV determine it.

Rows that cannot be used are returned as rejects (``table, customer_id, row, field, reason``) and the
rest goes on: unknown fund or kind, a date after the as-of date or before the fund's first NAV, negative
numbers, a fee above the amount, a repeated txn_id, and a redemption or switch-out of more shares than
the customer held at that moment.

Stored holdings stay valid input (`events_from_lots`): a lot becomes one estimated purchase whose cost
is its value today divided by the fund's total return since the purchase date (dividends taken as
reinvested) plus the subscription fee the fee table charges on that amount; every number that depends
on it says ``cost_basis_estimated``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from advisor import batch_io
from advisor.lifecycle.prices import TOTAL, PriceTable, epoch_days
from products.errors import BadInputError
from products.universe import Universe

KINDS: tuple[str, ...] = ("subscription", "redemption", "switch_out", "switch_in", "dividend_cash",
                          "dividend_reinvest")
SUBSCRIPTION, REDEMPTION, SWITCH_OUT, SWITCH_IN, DIVIDEND_CASH, DIVIDEND_REINVEST = range(len(KINDS))
KIND_ALIASES: dict[str, int] = {
    **{k: i for i, k in enumerate(KINDS)},
    "申购": SUBSCRIPTION, "认购": SUBSCRIPTION, "定投": SUBSCRIPTION, "sip": SUBSCRIPTION, "buy": SUBSCRIPTION,
    "赎回": REDEMPTION, "sell": REDEMPTION,
    "转换转出": SWITCH_OUT, "转换转入": SWITCH_IN,
    "现金分红": DIVIDEND_CASH, "红利再投资": DIVIDEND_REINVEST, "红利再投": DIVIDEND_REINVEST,
}
KIND_NAMES_ZH = ("申购", "赎回", "转换转出", "转换转入", "现金分红", "红利再投资")
LEDGER_REQUIRED = ("customer_id", "date", "code", "kind")
LEDGER_COLUMNS = ("customer_id", "txn_id", "date", "code", "kind", "amount", "shares", "fee", "nav", "plan_id")
BUY_KINDS = (SUBSCRIPTION, SWITCH_IN, DIVIDEND_REINVEST)
SELL_KINDS = (REDEMPTION, SWITCH_OUT)
SHARE_EPS = 1e-6
MIN_NAV = 0.0001  # the smallest quoted NAV (four decimals); also keeps amount / nav finite


@dataclass
class Events:
    """Priced ledger events sorted by (customer, fund, day, input order): the one input of the returns engine.

    `units` are signed share changes in the position's price mode (`mode`, see `advisor.lifecycle.prices`);
    cash columns are yuan and never negative."""

    cust: np.ndarray  # int64 customer row
    fund: np.ndarray  # int64 universe position
    day: np.ndarray  # int64 epoch day
    kind: np.ndarray  # int8, index into KINDS
    units: np.ndarray  # float64, + buys, − sells
    cash_in: np.ndarray  # yuan into the position (subscription gross, switch-in value)
    cash_out: np.ndarray  # yuan out of the position (redemption net, switch-out net, cash dividend)
    fee_in: np.ndarray  # fees on money coming in (subscription, switch-in)
    fee_out: np.ndarray  # fees on money going out (redemption, switch-out)
    income: np.ndarray  # dividends (cash or reinvested)
    cost: np.ndarray  # cost a buy adds to the position (paid, value switched in; 0 for reinvested dividends)
    mode: np.ndarray  # int8 price mode of the position
    estimated: np.ndarray  # bool: derived from a lot, not a ledger row
    row: np.ndarray  # int64 source row (-1 for lots)
    plan: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # index into plan ids, -1 none

    def __len__(self) -> int:
        return len(self.cust)

    @classmethod
    def empty(cls) -> Events:
        z = np.zeros(0)
        i = np.zeros(0, dtype=np.int64)
        return cls(i, i, i, np.zeros(0, np.int8), z, z, z, z, z, z, z, np.zeros(0, np.int8), np.zeros(0, bool), i, i)

    def take(self, index: np.ndarray) -> Events:
        return Events(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})

    @staticmethod
    def concat(parts: list[Events]) -> Events:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Events.empty()
        if len(parts) == 1:
            return parts[0]
        return Events(**{name: np.concatenate([getattr(p, name) for p in parts])
                         for name in Events.__dataclass_fields__})

    def sorted(self) -> Events:
        """Sorted by customer, fund, day and row."""
        return self.take(sort_order(self.cust, self.fund, self.day, self.row))

    def sort_in_place(self) -> None:
        """`sorted()` field by field, so a book of millions of rows never holds two whole copies."""
        order = sort_order(self.cust, self.fund, self.day, self.row)
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name)[order])


def sort_order(cust: np.ndarray, fund: np.ndarray, day: np.ndarray, row: np.ndarray) -> np.ndarray:
    """The order of `np.lexsort((row, day, fund, cust))`, ~10x faster on millions of rows: one stable sort of a
    packed (customer, fund, day) key, which keeps ties in row order whenever rows already are (checked;
    otherwise the lexsort)."""
    n = len(cust)
    if n:
        low = int(day.min())
        day_bits = (int(day.max()) - low + 1).bit_length()
        fund_bits = (int(fund.max()) + 1).bit_length()
        cust_bits = (int(cust.max()) + 1).bit_length()
        if min(int(cust.min()), int(fund.min())) >= 0 and cust_bits + fund_bits + day_bits <= 62:
            key = (cust.astype(np.int64) << (fund_bits + day_bits)) | (fund.astype(np.int64) << day_bits) | (
                day.astype(np.int64) - low)
            order = np.argsort(key, kind="stable")
            k, r = key[order], row[order]
            ties = k[1:] == k[:-1]
            if not (r[1:][ties] < r[:-1][ties]).any():
                return order
    return np.lexsort((row, day, fund, cust))


# ---------------------------------------------------------------------------------------------
# reading the ledger
# ---------------------------------------------------------------------------------------------

@dataclass
class LedgerRows:
    """Validated ledger rows as events, with the customer ids they belong to and the rejects."""

    events: Events
    customer_id: pa.Array  # per event (before mapping to customer rows)
    txn_id: pa.Array
    rejects: pd.DataFrame
    plan_ids: np.ndarray  # the distinct plan ids; `events.plan` indexes it
    position: np.ndarray | None = None  # per event, the customer's row (`read_ledger(customer_ids=...)`)


def read_ledger(source: batch_io.PathOrFrame, universe: Universe, prices: PriceTable,
                as_of: date, customer_ids: pd.Series | None = None) -> LedgerRows:
    """Read and validate a ledger table (see the module docstring); bad rows become rejects. With
    `customer_ids`, each kept row's position among them (-1: unknown customer) comes along as `position`."""
    raw, typed = batch_io.read_arrow(source, string_columns=("customer_id", "code", "kind", "txn_id", "plan_id"))
    names = list(raw.columns) if isinstance(raw, pd.DataFrame) else raw.column_names
    missing = [c for c in LEDGER_REQUIRED if c not in names]
    if missing:
        raise BadInputError(f"ledger table is missing column(s) {', '.join(missing)}", code="missing_columns",
                            details={"table": "ledger", "missing": missing})
    n = len(raw)
    trim = not typed
    ids = batch_io._column_text(raw["customer_id"], trim)
    rejects = batch_io._Rejects("ledger", ids)
    txn = batch_io._column_text(raw["txn_id"], trim) if "txn_id" in names else pa.nulls(n, pa.string())
    # hashing millions of ids is the longest work here and Arrow does it without the GIL: in threads, beside the rest
    repeated = _BACKGROUND.submit(_repeated_txn, ids, txn) if "txn_id" in names else None
    located = None if customer_ids is None else _BACKGROUND.submit(batch_io.customer_positions, customer_ids, ids)
    rejects.add(ids.is_null().to_numpy(zero_copy_only=False), "customer_id", "customer_id is empty")
    codes = batch_io._column_text(raw["code"], trim, pad_code=True)
    code_missing = codes.is_null().to_numpy(zero_copy_only=False)
    rejects.add(code_missing, "code", "fund code is empty")
    fund = batch_io.fund_index(universe, codes)
    rejects.add((fund < 0) & ~code_missing, "code", "unknown fund code")

    kind_text = pc.utf8_lower(batch_io._column_text(raw["kind"], True))
    spellings = list(KIND_ALIASES)
    found = pc.index_in(kind_text, value_set=pa.array(spellings)).to_numpy(zero_copy_only=False)
    found = np.asarray(found, dtype=float)
    kind = np.full(n, -1, dtype=np.int8)
    known = ~np.isnan(found)
    kind[known] = np.array([KIND_ALIASES[s] for s in spellings], dtype=np.int8)[found[known].astype(np.int64)]
    rejects.add(~known, "kind", f"unknown kind; expected one of {', '.join(KINDS)}")

    day_values, bad_date = batch_io._column_dates(raw["date"])
    rejects.add(bad_date | np.isnat(day_values), "date", "date is missing or not a date")
    day = np.where(np.isnat(day_values), 0, (day_values.astype("datetime64[D]") - np.datetime64("1970-01-01", "D"))
                   .astype(np.int64))
    rejects.add(day > epoch_days(np.array([np.datetime64(as_of, "D")]))[0], "date", f"date after {as_of}")
    safe_fund = np.maximum(fund, 0)
    rejects.add((fund >= 0) & (day < prices.first_day[safe_fund]), "date", "date before the fund's first NAV")

    numbers: dict[str, np.ndarray] = {}
    for name in ("amount", "shares", "fee", "nav"):
        if name in names:
            values, bad = batch_io._column_number(raw[name])
            rejects.add(bad, name, f"{name} is not a number")
            rejects.add(~np.isfinite(values) & ~np.isnan(values), name, f"{name} is not finite")
            rejects.add(values < 0, name, f"negative {name}")
        else:
            values = np.full(n, np.nan)
        numbers[name] = values
    amount, shares, fee, nav = numbers["amount"], numbers["shares"], numbers["fee"], numbers["nav"]
    fee = np.nan_to_num(fee)
    rejects.add(nav < MIN_NAV, "nav", f"nav must be at least {MIN_NAV} (NAVs are quoted to four decimals)")
    if "plan_id" in names:
        encoded = batch_io._column_text(raw["plan_id"], trim).dictionary_encode()
        plan = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        plan_ids = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    else:
        plan, plan_ids = np.full(n, -1, dtype=np.int64), np.zeros(0, dtype=object)

    needs_amount = np.isin(kind, (SUBSCRIPTION, DIVIDEND_CASH))
    rejects.add(needs_amount & ~(amount > 0), "amount", "amount must be given and positive for this kind")
    rejects.add(np.isin(kind, (*SELL_KINDS, SWITCH_IN, DIVIDEND_REINVEST)) & np.isnan(amount) & ~(shares > 0),
                "shares", "give shares or amount")
    traded = np.isin(kind, (SUBSCRIPTION, SWITCH_IN, *SELL_KINDS))
    rejects.add(traded & (fee > np.nan_to_num(amount, nan=np.inf)), "fee", "fee larger than the amount")

    mode = prices.default_mode(safe_fund)
    price = prices.price(mode, day, safe_fund)
    unit_price = prices.price(0, day, safe_fund)
    recorded_nav = np.where(np.isfinite(nav), nav, np.where(prices.money_market[safe_fund], 1.0, unit_price))
    # shares in the position's price mode: money-market shares (1.00 each) are re-expressed in total-return
    # units, so the daily income that arrives as new shares is in the price instead
    to_units = np.where(mode == TOTAL, recorded_nav / price, 1.0)
    kind_safe = np.where(kind >= 0, kind, 0)
    units, cash_in, cash_out, fee_in, fee_out, income, cost = _flows(kind_safe, amount, shares, fee, recorded_nav,
                                                                     to_units)
    if repeated is not None:
        rejects.add(repeated.result(), "txn_id", "duplicate txn_id for this customer (first row kept)")
    rejects.add(~np.isfinite(units) | ~np.isfinite(cash_in) | ~np.isfinite(cash_out), "shares",
                "shares or amount cannot be derived (no NAV on that date)")

    keep = ~rejects.bad
    ev = Events(cust=np.zeros(n, dtype=np.int64), fund=safe_fund.astype(np.int64), day=day.astype(np.int64),
                kind=kind_safe.astype(np.int8), units=units, cash_in=cash_in, cash_out=cash_out, fee_in=fee_in,
                fee_out=fee_out, income=income, cost=cost, mode=mode.astype(np.int8),
                estimated=np.zeros(n, dtype=bool), row=np.arange(n, dtype=np.int64), plan=plan)
    position = None if located is None else located.result()
    if keep.all():
        return LedgerRows(events=ev, customer_id=ids, txn_id=txn, rejects=rejects.frame(), plan_ids=plan_ids,
                          position=position)
    mask = pa.array(keep)
    return LedgerRows(events=ev.take(np.flatnonzero(keep)), customer_id=ids.filter(mask), txn_id=txn.filter(mask),
                      rejects=rejects.frame(), plan_ids=plan_ids,
                      position=None if position is None else position[keep])


_BACKGROUND = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ledger")


def _repeated_txn(ids: pa.Array, txn: pa.Array) -> np.ndarray:
    """True on a row whose (customer, txn_id) an earlier row already has (rows without a txn_id never)."""
    key = pc.binary_join_element_wise(ids, txn, "\x1f")
    first_seen = batch_io.positions_in(key, key)
    return (first_seen != np.arange(len(key))) & ~txn.is_null().to_numpy(zero_copy_only=False)


def _flows(kind: np.ndarray, amount: np.ndarray, shares: np.ndarray, fee: np.ndarray, nav: np.ndarray,
           to_units: np.ndarray) -> tuple[np.ndarray, ...]:
    """Units and yuan flows per row from what the row gives (missing amount or shares derived at `nav`);
    each kind's formula runs on that kind's rows only."""
    n = len(kind)
    cash_in, cash_out, fee_in, fee_out, income, cost = (np.zeros(n) for _ in range(6))
    units = 0.0 * to_units  # rows whose unit price is unknown stay unknown (and are rejected) whatever their kind

    def given(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(shares, money at the NAV) of `rows`, each derived from the other where missing."""
        a, s, v = amount[rows], shares[rows], nav[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(np.isfinite(s), s, a / v), np.where(np.isfinite(a), a, s * v)

    # amount = money at the NAV, fees excluded: paid = amount + fee on a buy, received = amount − fee
    buy = np.flatnonzero((kind == SUBSCRIPTION) | (kind == SWITCH_IN))
    got_shares, money = given(buy)
    units[buy] = got_shares * to_units[buy]
    cash_in[buy] = cost[buy] = money + fee[buy]
    fee_in[buy] = fee[buy]
    sell = np.flatnonzero((kind == REDEMPTION) | (kind == SWITCH_OUT))
    got_shares, money = given(sell)
    units[sell] = -got_shares * to_units[sell]
    cash_out[sell] = money - fee[sell]
    fee_out[sell] = fee[sell]
    # reinvested shares cost the customer nothing (the money came out of the fund's own value), so a
    # reinvestment leaves 持有收益 unchanged, as the lots-only estimate (dividends as reinvested) does
    reinvest = np.flatnonzero(kind == DIVIDEND_REINVEST)
    got_shares, money = given(reinvest)
    units[reinvest] = got_shares * to_units[reinvest]
    income[reinvest] = money
    cash_div = np.flatnonzero(kind == DIVIDEND_CASH)
    cash_out[cash_div] = income[cash_div] = amount[cash_div]
    return units, cash_in, cash_out, fee_in, fee_out, income, cost


def reject_oversells(events: Events) -> tuple[Events, Events]:
    """(kept, dropped): sorted events without the sells that take a position below zero at that moment.

    Repeats until consistent: dropping one sell can only raise the balance after it."""
    dropped: list[Events] = []
    while len(events):
        pos_start = _group_starts(events.cust, events.fund)
        balance = _segment_cumsum(events.units, pos_start)
        bad = (events.units < 0) & (balance < -SHARE_EPS * np.maximum(1.0, np.abs(events.units)))
        if not bad.any():
            break
        # only the first offending sell of each position: the ones after it may be fine once it is gone
        first_bad = bad & _first_in_segment(bad, np.cumsum(pos_start) - 1)
        dropped.append(events.take(np.flatnonzero(first_bad)))
        events = events.take(np.flatnonzero(~first_bad))
    return events, Events.concat(dropped)


def _first_in_segment(mask: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """True at the first True of `mask` within each segment id run."""
    idx = np.flatnonzero(mask)
    out = np.zeros(len(mask), dtype=bool)
    if len(idx):
        seg = segment[idx]
        first = np.r_[True, seg[1:] != seg[:-1]]
        out[idx[first]] = True
    return out


def _group_starts(*keys: np.ndarray) -> np.ndarray:
    """Bool per row: a new group starts here (keys sorted)."""
    n = len(keys[0])
    start = np.zeros(n, dtype=bool)
    if n:
        start[0] = True
        for key in keys:
            start[1:] |= key[1:] != key[:-1]
    return start


def _segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at every `starts` row, each segment summed on its own (pandas' grouped
    cumsum), so a customer's numbers never depend on which other customers share the batch."""
    if not len(values):
        return np.asarray(values).cumsum()
    group = np.cumsum(starts) - 1
    return pd.Series(values).groupby(group, sort=False).cumsum().to_numpy()


def segment_cumsums(columns: dict[str, np.ndarray], starts: np.ndarray) -> dict[str, np.ndarray]:
    """`_segment_cumsum` of several columns with the same segments: the groups are found once (the same
    grouped cumsum, column by column, so each result equals `_segment_cumsum` of that column)."""
    if not len(starts):
        return {name: np.asarray(values, dtype=float).cumsum() for name, values in columns.items()}
    group = np.cumsum(starts) - 1
    summed = pd.DataFrame(columns, copy=False).groupby(group, sort=False).cumsum()
    return {name: summed[name].to_numpy() for name in columns}


# ---------------------------------------------------------------------------------------------
# lots (stored holdings) as estimated events
# ---------------------------------------------------------------------------------------------

def events_from_lots(universe: Universe, prices: PriceTable, cust: np.ndarray, fund: np.ndarray,
                     shares: np.ndarray, amount: np.ndarray, purchase_day: np.ndarray) -> Events:
    """One estimated purchase per lot, priced at the dividend-adjusted price (see the module docstring).

    `amount` (current value) is used where `shares` is missing. A purchase date before the fund's first
    NAV is moved to that first NAV (the estimate says so through `estimated`)."""
    fund = np.asarray(fund, dtype=np.int64)
    last = np.full(len(fund), prices.last_day)
    last_price = prices.price(TOTAL, last, fund)
    units = np.where(np.isfinite(shares), shares, amount / last_price)
    day = np.maximum(np.asarray(purchase_day, dtype=np.int64), prices.first_day[fund])
    day = np.minimum(day, prices.last_day)
    net = units * prices.price(TOTAL, day, fund)
    rate, flat = universe.fees.subscription_rate(fund, net, universe.fee_discount)
    gross = np.where(np.isnan(flat), net * (1.0 + rate), net + np.nan_to_num(flat))
    zero = np.zeros(len(fund))
    return Events(cust=np.asarray(cust, dtype=np.int64), fund=fund, day=day, kind=np.zeros(len(fund), np.int8),
                  units=units, cash_in=gross, cash_out=zero, fee_in=gross - net, fee_out=zero, income=zero,
                  cost=gross, mode=np.full(len(fund), TOTAL, dtype=np.int8), estimated=np.ones(len(fund), bool),
                  row=np.full(len(fund), -1, dtype=np.int64), plan=np.full(len(fund), -1, dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# FIFO lots and cost basis
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenLots:
    """The lots still held after first-in-first-out sales, one row per buy with shares left."""

    cust: np.ndarray
    fund: np.ndarray
    day: np.ndarray  # purchase day
    units: np.ndarray  # remaining
    cost: np.ndarray  # remaining cost (yuan, fees included)
    mode: np.ndarray
    estimated: np.ndarray


def open_lots(events: Events) -> OpenLots:
    """FIFO end state per (customer, fund) of sorted events: sales consume the oldest buys first.

    With no sale ever exceeding the balance (`reject_oversells`), the end state equals taking the total
    sold from the earliest lots: remaining_i = min(units_i, max(0, bought up to and including i − sold))."""
    if not len(events):
        z = np.zeros(0)
        i = np.zeros(0, dtype=np.int64)
        return OpenLots(i, i, i, z, z, np.zeros(0, np.int8), np.zeros(0, bool))
    starts = _group_starts(events.cust, events.fund)
    position = np.cumsum(starts) - 1
    sold = np.bincount(position, weights=np.where(events.units < 0, -events.units, 0.0))
    buys = np.flatnonzero(events.units > 0)
    bought = _segment_cumsum(np.where(events.units > 0, events.units, 0.0), starts)[buys]
    units = events.units[buys]
    remaining = np.minimum(units, np.maximum(0.0, bought - sold[position[buys]]))
    remaining = np.where(remaining > SHARE_EPS, remaining, 0.0)
    cost = events.cost[buys] * np.divide(remaining, units, out=np.zeros_like(units), where=units > 0)
    keep = remaining > 0
    b = buys[keep]
    return OpenLots(cust=events.cust[b], fund=events.fund[b], day=events.day[b], units=remaining[keep],
                    cost=cost[keep], mode=events.mode[b], estimated=events.estimated[b])

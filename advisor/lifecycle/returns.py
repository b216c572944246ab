"""Returns from the ledger, per customer and per fund, for every customer of a batch at once.

For each customer (and each customer × fund position):

* **market value** (shares × price on the as-of date), **cost basis** (the FIFO cost of the shares still
  held, subscription fees included), **holding gain** 持有收益 = market value − cost basis and the holding
  return (gain / cost basis); **total gain** 累计收益 = market value + money received − money paid, which
  also counts realized gains and cash dividends; **fees paid** (subscription, redemption, switch; in yuan);
  dividends received.
* **time-weighted return** (TWR) since inception, year to date and over one year: sub-period returns
  chained between flows. A sub-period runs from one flow date to the next; it ends at the value before the
  next flow plus the dividends earned then, less fees charged on money going out, and starts at the value
  after the flow plus fees charged on money coming in (so every fee lowers the return of the period in
  which it was paid, and a full redemption ends its period at the cash received).
* **money-weighted return** (XIRR, annual) over the same windows: the value at the window's start is
  paid in, flows are paid in or out on their dates, the value at the end is received
  (`advisor.lifecycle.xirr`).
* **gain** over each window (value at the end − value at the start − net money paid in).

At the customer level switches between two funds are internal (their amounts cancel) and cash dividends
leave the portfolio; at the fund level a switch is money in or out of that fund. Year to date starts
after the close of the last day of the previous year; one year after the close of the same date a year
earlier; a window that starts before the customer's first transaction is the customer's whole history.

How it is vectorized: the dates a customer has flows on, plus the window starts and the as-of date, are
the customer's *nodes*; every position is laid out over the nodes of its customer from its first flow
on (positions × nodes rows), units are cumulated along the rows, priced once, and summed back per node.
Every chain, window and cash flow is then a segment sum over rows. Tests check TWR against chaining
hand-made sub-period returns and XIRR against `scipy.optimize.brentq`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from advisor.lifecycle.ledger import Events, _group_starts, _segment_cumsum, open_lots, segment_cumsums
from advisor.lifecycle.prices import PriceTable, date_of, day_of
from advisor.lifecycle.xirr import xirr

DAYS_PER_YEAR = 365.0
MIN_ANNUALIZED_DAYS = 365  # a money-weighted annual rate needs a year of history (GIPS)
EVENT, BOUNDARY, FINAL = 0, 1, 2  # node types, in their order within a day
VALUE_EPS = 1e-6


@dataclass(frozen=True)
class Window:
    """A reporting window: `start_day` is the boundary (returns start after its close); None = inception."""

    name: str
    start_day: int | None


def one_year_before(as_of: date) -> date:
    try:
        return as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - 1, day=28)


def standard_windows(as_of: date) -> tuple[Window, ...]:
    """Since inception, year to date, one year."""
    return (Window("inception", None), Window("ytd", day_of(date(as_of.year - 1, 12, 31))),
            Window("1y", day_of(one_year_before(as_of))))


METRICS = ("market_value", "cost_basis", "holding_gain", "holding_return", "total_gain", "invested",
           "withdrawn", "fees", "dividends")


@dataclass
class Returns:
    """Per-customer and per-position metrics (numpy columns); windows add `twr_<w>`, `xirr_<w>`, `gain_<w>`,
    `start_value_<w>`, `net_flow_<w>`."""

    as_of: date
    windows: tuple[Window, ...]
    customer: dict[str, np.ndarray]
    position: dict[str, np.ndarray]  # includes `cust` and `fund`

    def customer_frame(self, ids: np.ndarray | pd.Series) -> pd.DataFrame:
        frame = pd.DataFrame(self.customer)
        frame.insert(0, "customer_id", np.asarray(ids, dtype=object))
        return frame

    def position_frame(self, ids: np.ndarray | pd.Series, codes: np.ndarray, names: np.ndarray) -> pd.DataFrame:
        cols = dict(self.position)
        cust, fund = cols.pop("cust"), cols.pop("fund")
        frame = pd.DataFrame(cols)
        frame.insert(0, "name", np.asarray(names, dtype=object)[fund])
        frame.insert(0, "code", np.asarray(codes, dtype=object)[fund])
        frame.insert(0, "customer_id", np.asarray(ids, dtype=object)[cust])
        return frame


def compute_returns(events: Events, n_customers: int, prices: PriceTable, as_of: date,
                    windows: tuple[Window, ...] | None = None, *, fund_windows: bool = True) -> Returns:
    """Every metric of the module docstring for customers 0…n-1 from their sorted `events` (day ≤ as_of).

    With `fund_windows` False the per-fund results stop at values, cost basis and gains (no per-fund TWR or
    XIRR): what a nightly run needs, at a fraction of the work."""
    windows = windows if windows is not None else standard_windows(as_of)
    as_of_day = day_of(as_of)
    layout = _Layout(events, n_customers, prices, as_of_day, windows)
    customer = layout.customer_metrics()
    position = layout.position_metrics(fund_windows)
    return Returns(as_of=as_of, windows=windows, customer=customer, position=position)


def total(index: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """Sums of `weights` by `index` as floats (`np.bincount` answers integers when `index` is empty)."""
    return np.bincount(index, weights=np.asarray(weights, dtype=float), minlength=minlength).astype(float)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a mask: faster than `np.unique` on millions of int64 keys)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]


class _Layout:
    """Nodes per customer and positions × nodes rows (see the module docstring)."""

    def __init__(self, ev: Events, n: int, prices: PriceTable, as_of_day: int, windows: tuple[Window, ...]):
        self.ev, self.n, self.prices, self.as_of_day, self.windows = ev, n, prices, as_of_day, windows
        pos_start = _group_starts(ev.cust, ev.fund)
        self.pos_id = np.cumsum(pos_start) - 1
        first = np.flatnonzero(pos_start)
        self.n_pos = len(first)
        self.pos_cust, self.pos_fund, self.pos_mode = ev.cust[first], ev.fund[first], ev.mode[first].astype(np.int64)
        self.pos_estimated = total(self.pos_id, weights=ev.estimated, minlength=self.n_pos) > 0
        self._nodes()
        self._rows()

    # ---- nodes ----------------------------------------------------------------------------------
    @staticmethod
    def key(cust: np.ndarray, day: np.ndarray, kind: np.ndarray | int) -> np.ndarray:
        return (np.asarray(cust, dtype=np.int64) << 23) | (np.asarray(day, dtype=np.int64) << 2) | kind

    def _nodes(self) -> None:
        ev, n = self.ev, self.n
        has = np.bincount(ev.cust, minlength=n) > 0
        self.has_events = has
        first_day = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_day, ev.cust, ev.day)
        self.first_day = first_day
        customers = np.flatnonzero(has)
        parts = [self.key(ev.cust, ev.day, EVENT), self.key(customers, np.full(len(customers), self.as_of_day), FINAL)]
        for window in self.windows:
            if window.start_day is None:
                continue
            inside = customers[(first_day[customers] <= window.start_day) & (window.start_day < self.as_of_day)]
            parts.append(self.key(inside, np.full(len(inside), window.start_day), BOUNDARY))
        keys = sorted_unique(np.concatenate(parts))
        self.node_key = keys
        self.node_cust = keys >> 23
        self.node_day = (keys >> 2) & ((1 << 21) - 1)
        self.node_type = keys & 3
        self.cust_first_node = np.searchsorted(self.node_cust, np.arange(n), side="left")
        self.cust_last_node = np.searchsorted(self.node_cust, np.arange(n), side="right") - 1
        self.event_node = np.searchsorted(keys, self.key(ev.cust, ev.day, EVENT))

    def boundary_node(self, window: Window) -> np.ndarray:
        """Per customer, the node a window starts at: its boundary node, else the first node (inception)."""
        if window.start_day is None or not len(self.node_key):
            return self.cust_first_node
        keys = self.key(np.arange(self.n), np.full(self.n, window.start_day), BOUNDARY)
        found = np.searchsorted(self.node_key, keys)
        found_ok = (found < len(self.node_key)) & (self.node_key[np.minimum(found, len(self.node_key) - 1)] == keys)
        return np.where(found_ok, found, self.cust_first_node)

    # ---- positions × nodes rows -----------------------------------------------------------------
    def _rows(self) -> None:
        ev = self.ev
        first_event = np.flatnonzero(_group_starts(ev.cust, ev.fund))
        a = self.event_node[first_event]
        last = self.cust_last_node[self.pos_cust]
        length = last - a + 1
        self.pos_first_node = a
        self.row_start = np.cumsum(length) - length
        n_rows = int(length.sum())
        self.row_pos = np.repeat(np.arange(self.n_pos), length)
        self.row_node = np.repeat(a - self.row_start, length) + np.arange(n_rows)
        self.event_row = self.row_start[self.pos_id] + (self.event_node - a[self.pos_id])
        delta = total(self.event_row, weights=ev.units, minlength=n_rows)
        row_first = np.zeros(n_rows, dtype=bool)
        row_first[self.row_start] = True
        self.row_first = row_first
        after = _segment_cumsum(delta, row_first)
        after = np.where(np.abs(after) < 1e-9, 0.0, after)
        before = after - delta
        pos = self.row_pos
        price = self.prices.price(self.pos_mode[pos], self.node_day[self.row_node], self.pos_fund[pos])
        self.row_vb = np.where(before != 0, before * price, 0.0)
        self.row_va = np.where(after != 0, after * price, 0.0)
        self.row_flows = {name: total(self.event_row, weights=getattr(ev, name), minlength=n_rows)
                          for name in ("cash_in", "cash_out", "fee_in", "fee_out", "income")}

    # ---- metrics ----------------------------------------------------------------------------------
    def customer_metrics(self) -> dict[str, np.ndarray]:
        n_nodes = len(self.node_key)
        vb = total(self.row_node, weights=self.row_vb, minlength=n_nodes)
        va = total(self.row_node, weights=self.row_va, minlength=n_nodes)
        flows = {name: total(self.event_node, weights=getattr(self.ev, name), minlength=n_nodes)
                 for name in ("cash_in", "cash_out", "fee_in", "fee_out", "income")}
        node_first = np.zeros(n_nodes, dtype=bool)
        node_first[self.cust_first_node[self.has_events]] = True
        groups = _Chain(vb, va, flows, node_first, self.node_day)
        has = self.has_events
        last = np.where(has, self.cust_last_node, 0)
        first = np.where(has, self.cust_first_node, 0)
        out = groups.totals(first, last, has)
        lots = open_lots(self.ev)
        out["cost_basis"] = np.where(has, total(lots.cust, weights=lots.cost, minlength=self.n), np.nan)
        out.update(_holding(out))
        out["cost_basis_estimated"] = total(self.ev.cust, weights=self.ev.estimated, minlength=self.n) > 0
        first_date = np.where(has, self.first_day, 0).astype("datetime64[D]")
        out["first_date"] = np.where(has, first_date, np.datetime64("NaT"))
        for window in self.windows:
            b = np.where(has, self.boundary_node(window), 0)
            out.update(groups.window(window.name, b, last, has))
        return {**{k: out[k] for k in METRICS}, **{k: v for k, v in out.items() if k not in METRICS}}

    def position_metrics(self, with_windows: bool = True) -> dict[str, np.ndarray]:
        total_rows = len(self.row_pos)
        groups = _Chain(self.row_vb, self.row_va, self.row_flows, self.row_first, self.node_day[self.row_node])
        first = self.row_start
        length = np.diff(np.r_[self.row_start, total_rows]) if self.n_pos else np.zeros(0, dtype=np.int64)
        last = first + length - 1
        has = np.ones(self.n_pos, dtype=bool)
        out = groups.totals(first, last, has)
        lots = open_lots(self.ev)
        lot_pos = np.searchsorted(self.key(self.pos_cust, self.pos_fund, 0), self.key(lots.cust, lots.fund, 0))
        out["cost_basis"] = total(lot_pos, weights=lots.cost, minlength=self.n_pos)
        out["units"] = total(lot_pos, weights=lots.units, minlength=self.n_pos)
        out.update(_holding(out))
        out["cost_basis_estimated"] = self.pos_estimated
        for window in self.windows if with_windows else ():
            node = self.boundary_node(window)[self.pos_cust]
            b = np.where(node >= self.pos_first_node, first + (node - self.pos_first_node), first)
            out.update(groups.window(window.name, b, last, has))
        metrics = {k: out[k] for k in METRICS}
        return {"cust": self.pos_cust, "fund": self.pos_fund, **metrics,
                **{k: v for k, v in out.items() if k not in METRICS}}


def _holding(out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    gain = out["market_value"] - out["cost_basis"]
    ret = np.divide(gain, out["cost_basis"], out=np.full_like(gain, np.nan), where=out["cost_basis"] > VALUE_EPS)
    return {"holding_gain": gain, "holding_return": ret}


class _Chain:
    """Rows of groups (customers' nodes or positions' rows), contiguous per group, in time order."""

    def __init__(self, vb: np.ndarray, va: np.ndarray, flows: dict[str, np.ndarray], first: np.ndarray,
                 day: np.ndarray):
        self.vb, self.va, self.flows, self.first, self.day = vb, va, flows, first, day
        end = vb + flows["income"] - flows["fee_out"]
        start = va + flows["fee_in"]
        prev_start = np.r_[np.nan, start[:-1]]
        valid = ~first & (prev_start > VALUE_EPS)
        ratio = np.divide(end, prev_start, out=np.ones_like(end), where=valid)
        # every running total the metrics read, within each group, in one grouped pass
        self._cumulative = segment_cumsums({
            "log_growth": np.log(np.maximum(ratio, 1e-12)), "net_in": flows["cash_in"] - flows["cash_out"],
            "cash_in": flows["cash_in"], "cash_out": flows["cash_out"], "income": flows["income"],
            "fees": flows["fee_in"] + flows["fee_out"]}, first)
        self.log_growth = self._cumulative["log_growth"]
        self.net_in = self._cumulative["net_in"]

    def cumulative(self, name: str) -> np.ndarray:
        """Running total of `name` (a flow, `fees`, `net_in` or `log_growth`) within each group."""
        return self._cumulative[name]

    def totals(self, first: np.ndarray, last: np.ndarray, has: np.ndarray) -> dict[str, np.ndarray]:
        def flow_sum(name: str) -> np.ndarray:
            cum = self.cumulative(name)
            return np.where(has, cum[last], np.nan) if len(cum) else np.full(len(has), np.nan)

        mv = np.where(has, self.vb[last], 0.0) if len(self.vb) else np.zeros(len(has))
        invested = flow_sum("cash_in")
        withdrawn = flow_sum("cash_out")
        return {"market_value": mv, "invested": invested, "withdrawn": withdrawn,
                "total_gain": mv - invested + withdrawn,
                "fees": flow_sum("fees"),
                "dividends": flow_sum("income")}

    def window(self, name: str, b: np.ndarray, last: np.ndarray, has: np.ndarray) -> dict[str, np.ndarray]:
        """TWR, XIRR, gain, start value and net flow of the window starting at row `b` of each group."""
        n = len(b)
        if not len(self.vb):
            nan = np.full(n, np.nan)
            return {f"twr_{name}": nan, f"xirr_{name}": nan, f"gain_{name}": nan, f"start_value_{name}": nan,
                    f"net_flow_{name}": nan}
        at_boundary = ~self.first[b]
        start_value = np.where(at_boundary, self.va[b], 0.0)
        # rows b … last: net money in (boundary rows carry no flows, so counting row b is right both ways)
        net_flow = self.net_in[last] - np.where(self.first[b], 0.0, self.net_in[np.maximum(b - 1, 0)])
        growth = self.log_growth[last] - self.log_growth[b]
        live = has & ((start_value > VALUE_EPS) | (self._inflow_between(b, last) > VALUE_EPS))
        twr = np.where(live, np.expm1(growth), np.nan)
        mv = self.vb[last]
        gain = np.where(has, mv - start_value - net_flow, np.nan)
        # an annual rate is not shown for money invested less than a year (GIPS; the rule every figure follows):
        # 1.5 months of +3% would read as "+23% a year"
        span = self.day[last] - self.day[b] if len(self.day) else np.zeros(n)
        year = span >= MIN_ANNUALIZED_DAYS
        rate = np.where(year, self._xirr(b, last, start_value, live & year), np.nan)
        return {f"twr_{name}": twr, f"xirr_{name}": rate, f"gain_{name}": gain,
                f"start_value_{name}": np.where(has, start_value, np.nan),
                f"net_flow_{name}": np.where(has, net_flow, np.nan)}

    def _inflow_between(self, b: np.ndarray, last: np.ndarray) -> np.ndarray:
        cum = self.cumulative("cash_in")
        before = np.where(self.first[b], 0.0, cum[np.maximum(b - 1, 0)])
        return cum[last] - before

    def _xirr(self, b: np.ndarray, last: np.ndarray, start_value: np.ndarray, live: np.ndarray) -> np.ndarray:
        n = len(b)
        groups = np.flatnonzero(live)
        if not len(groups):
            return np.full(n, np.nan)
        length = last[groups] - b[groups] + 1
        group = np.repeat(groups, length)
        offset = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
        row = np.repeat(b[groups], length) + offset
        cf = self.flows["cash_out"][row] - self.flows["cash_in"][row]
        is_last = offset == np.repeat(length - 1, length)
        is_first = offset == 0
        cf = cf + np.where(is_last, self.vb[row], 0.0) - np.where(is_first, start_value[group], 0.0)
        t = (self.day[row] - np.repeat(self.day[b[groups]], length)) / DAYS_PER_YEAR
        rate = np.full(n, np.nan)
        rate[groups] = xirr(np.repeat(np.arange(len(groups)), length), t, cf, len(groups))
        return rate


def annualized(total_return: np.ndarray, days: np.ndarray) -> np.ndarray:
    """(1 + R)^(365 / days) − 1 where the span is at least a year; NaN for shorter spans."""
    days = np.asarray(days, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.power(1.0 + np.asarray(total_return, dtype=float), DAYS_PER_YEAR / days) - 1.0
    return np.where(days >= DAYS_PER_YEAR, out, np.nan)


__all__ = ["METRICS", "Returns", "Window", "annualized", "compute_returns", "date_of", "one_year_before",
           "standard_windows"]

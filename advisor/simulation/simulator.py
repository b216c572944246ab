"""The walk-forward simulator: a book of customers stepped day by day through the real history.

Each trading day t (docs/simulation.md has the full account):

1. **Morning / day** — funds silent for `silence_days` pay their holders out at the last NAV; orders
   decided the evening before fill at t's NAV (`Book.fill`); contributions arrive; withdrawals are
   paid from the fills' cash.
2. **Close** — every customer is valued on t's NAV (total-return index: dividends reinvested).
3. **Evening** — on a research date the point-in-time research is refreshed
   (`advisor.simulation.research`); customers whose first purchase is due tomorrow get the one-click
   proposal of the latest research; the rebalancing engine (`advisor.rebalancing.rebalance_batch`) is
   asked about every customer on a review day of its calendar or a research date, and on any other day
   about customers with a cash flow, idle cash of at least its minimum trade, or class drift within
   `drift_margin` of its suggest band (a superset of its triggers: the engine decides). Its plan fills
   the next trading day. Buy-and-hold twins never rebalance.

Nothing in an evening's decision reads a price or a fund after t: the research universe is cut at its
research date, the engine sees values at t's close, and fills happen at t + 1 (tested by deleting the
data after t).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from advisor.assumptions import CLASSES
from advisor.model_portfolios import horizon_bucket
from advisor.simulation.book import Book, Ledger, Orders
from advisor.simulation.config import SimulationConfig
from advisor.simulation.customers import CustomerArrays, validate_customers
from advisor.simulation.engine import FundMap, plan_rebalance
from advisor.simulation.pointintime import as_timestamp, point_in_time
from advisor.simulation.research import ResearchRequest, ResearchRunner, ResearchState
from advisor.simulation.schedule import research_rows, review_rows
from products.analytics import total_return_index
from products.errors import BadInputError
from products.universe import Universe

KINDS: tuple[str, ...] = ("policy", "buy_and_hold")
BUCKET_YEARS: dict[str, float] = {"short": 0.5, "medium": 2.0, "long": 5.0}
Progress = Callable[[int, int], None]


@dataclass
class SimulationResult:
    """Everything a simulation produced, enough to compute every figure and draw every chart."""

    dates: pd.DatetimeIndex  # the simulated trading days (column j of `values`)
    customers: pd.DataFrame  # customer_id, level, horizon_years, lowest_category, start, amount, kind, twin
    values: np.ndarray  # (customers, days) value at the close, cash included; NaN before the first deposit
    flow_cust: np.ndarray  # external flows (deposit > 0, withdrawal < 0) on the day they reach the value
    flow_day: np.ndarray
    flow_amount: np.ndarray
    ledger: Ledger
    groups: pd.DataFrame  # group id → level, horizon_years, kind
    group_of: np.ndarray  # (customers,) group id
    class_values: np.ndarray  # (groups, classes, days) value held per asset class (cash excluded)
    research: list[dict[str, Any]]  # one entry per refresh: date, universe version, diagnostics, models
    shown: list[dict[str, Any] | None]  # per customer: the in-sample figure its first proposal showed
    engine: dict[str, Any]  # calls, customers asked, reasons
    config: SimulationConfig
    universe_version: str
    universe_as_of: str
    cash_check: float = 0.0  # largest daily break of cash conservation seen (yuan)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        return len(self.customers)


def _prices(universe: Universe) -> np.ndarray:
    """Total-return index per fund, carried forward over days without a NAV (NaN before the first)."""
    index = total_return_index(universe.returns)
    return index.ffill().to_numpy(dtype=float)


def _silence_events(valid: np.ndarray, silence_days: int) -> list[np.ndarray]:
    """For each row, the funds that reach `silence_days` rows without a NAV on that row."""
    rows = np.arange(valid.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    started = last >= 0
    hit = started & (rows - last == silence_days)
    return [np.flatnonzero(hit[r]) for r in range(valid.shape[0])]


class _Targets:
    """The rebalancing engine's target provider for one research state (fund codes → weights)."""

    def __init__(self, state: ResearchState, pit: Universe, config: SimulationConfig):
        self.state, self.pit, self.config = state, pit, config
        self.by_bucket: dict[tuple[int, str, bool], dict[str, float]] = {}
        for (level, years, lowest), weights in state.targets.items():
            self.by_bucket.setdefault((level, horizon_bucket(years), lowest), weights)

    def weights(self, level: int, years: float, lowest: bool) -> dict[str, float]:
        found = self.state.targets.get((int(level), float(years), bool(lowest)))
        if found is None:
            found = self.by_bucket.get((int(level), horizon_bucket(years), bool(lowest)))
        if found is None:  # not requested ahead: computed here, on the same point-in-time universe
            from advisor.proposal import target_fund_weights
            from advisor.simulation.record import records_disabled

            with records_disabled():
                series = target_fund_weights(self.pit, level, years, lowest_category=lowest,
                                             config=self.config.proposal)
            found = {str(k): float(v) for k, v in series.items()}
            self.state.targets[(int(level), float(years), bool(lowest))] = found
        return found

    def __call__(self, level: int, years: float, lowest: bool) -> pd.Series:
        return pd.Series(self.weights(level, years, lowest), dtype=float, name="weight")


def simulate(universe: Universe, customers: pd.DataFrame, *, flows: pd.DataFrame | None = None,
             config: SimulationConfig | None = None, end: object = None,
             progress: Progress | None = None) -> SimulationResult:
    """Simulate `customers` (see `advisor.simulation.customers`) on `universe` until `end` (default: the
    last day of data). Deterministic: the same data, customers and config give the same result."""
    config = config or SimulationConfig()
    dates = universe.returns.index
    if len(dates) < 3:
        raise BadInputError("the universe has too little history to simulate", details={"field": "data"})
    last_row = len(dates) - 1 if end is None else int(dates.searchsorted(as_timestamp(end), side="right")) - 1
    if last_row < 2:
        raise BadInputError(f"end {end} is before the data", details={"field": "end"})
    spec = validate_customers(customers, dates, flows, last_row)
    return _Simulation(universe, spec, config, last_row, progress).run()


class _Simulation:
    def __init__(self, universe: Universe, spec: CustomerArrays, config: SimulationConfig, last_row: int,
                 progress: Progress | None):
        self.universe, self.spec, self.config, self.progress = universe, spec, config, progress
        self.settings = config.rebalance
        self.dates = universe.returns.index
        self.last_row = last_row
        self.lag = config.execution_lag
        n = len(spec)
        twins = config.buy_and_hold
        self.n = n
        self.n_total = 2 * n if twins else n
        rep = (lambda a: np.concatenate([a, a])) if twins else (lambda a: a)
        self.level, self.lowest, self.horizon = rep(spec.level), rep(spec.lowest), rep(spec.horizon)
        self.start_row, self.first_amount = rep(spec.start_row), rep(spec.first_amount)
        self.kind = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)]) if twins else np.zeros(n, np.int64)
        self.is_policy = self.kind == 0
        self.first_row = int(self.start_row.min()) - 1  # the evening before the first purchase
        self.rows = np.arange(self.first_row, last_row + 1)
        self.n_days = len(self.rows)
        self.prices = _prices(universe)
        self.valid = universe.returns.notna().to_numpy()
        self.silence = _silence_events(self.valid, config.silence_days)
        self.fund_class = np.array([CLASSES.index(c) for c in universe.funds["asset_class"].astype(str)], np.int64)
        self.day_number = self.dates.to_numpy().astype("datetime64[D]").astype(np.int64)
        discount = universe.fee_discount if self.settings.fee_discount is None else self.settings.fee_discount
        self.book = Book(self.n_total, len(universe.funds), universe.fees, discount, self.day_number)
        self.values = np.full((self.n_total, self.n_days), np.nan)
        self.flows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.pending: dict[int, list[Orders]] = {}
        self.withdrawal_due = np.zeros(self.n_total)  # requested, paid when its sales have filled
        self.withdrawal_row = np.full(self.n_total, np.iinfo(np.int64).max, dtype=np.int64)
        self.last_review = np.full(self.n_total, np.datetime64("NaT"), dtype="datetime64[D]")
        self.started = np.zeros(self.n_total, dtype=bool)  # first purchase filled
        self.initial_weights: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # twin → (funds, net weights)
        self.shown: list[dict[str, Any] | None] = [None] * self.n_total
        # groups: (level, horizon, kind)
        keys = pd.DataFrame({"level": self.level, "horizon_years": self.horizon, "kind": self.kind})
        self.groups = keys.drop_duplicates().sort_values(["kind", "level", "horizon_years"]).reset_index(drop=True)
        self.group_of = keys.merge(self.groups.reset_index(), on=["level", "horizon_years", "kind"],
                                   how="left")["index"].to_numpy(dtype=np.int64)
        self.class_values = np.zeros((len(self.groups), len(CLASSES), self.n_days))
        self.engine_stats: dict[str, Any] = {"calls": 0, "asked": 0, "reasons": {}, "trading": 0}
        self.research_log: list[dict[str, Any]] = []
        self.cash_check = 0.0

    # ------------------------------------------------------------------------------------------------
    def _research_plan(self) -> tuple[np.ndarray, list[ResearchRequest]]:
        first, last = self.first_row, self.last_row
        rows = research_rows(self.dates, first, last, self.config.research_cadence)
        decision = self.start_row - 1 if self.lag == 1 else self.start_row
        decision = np.maximum(decision, first)
        groups: set[tuple[int, float, bool]] = set()
        for level, years, lowest in zip(self.level, self.horizon, self.lowest, strict=True):
            groups.add((int(level), float(years), bool(lowest)))
            groups.add((int(level), BUCKET_YEARS[horizon_bucket(years)], bool(lowest)))
        group_keys = tuple(sorted(groups))
        requests = []
        for i, row in enumerate(rows):
            nxt = rows[i + 1] if i + 1 < len(rows) else last + 1
            due = np.flatnonzero((decision >= row) & (decision < nxt))
            props = sorted({(int(self.level[c]), float(self.horizon[c]), bool(self.lowest[c]),
                             float(self.first_amount[c])) for c in due})
            requests.append(ResearchRequest(groups=group_keys, proposals=tuple(props)))
        return rows, requests

    def run(self) -> SimulationResult:
        rows, requests = self._research_plan()
        runner = ResearchRunner(self.universe, [self.dates[r] for r in rows], requests, self.config)
        states = iter(runner)
        research_at = {int(r): i for i, r in enumerate(rows)}
        state: ResearchState | None = None
        pit: Universe | None = None
        fund_map: FundMap | None = None
        targets: _Targets | None = None
        target_classes = np.zeros((self.n_total, len(CLASSES)))
        review = set(review_rows(self.dates, self.first_row, self.last_row, self.settings.calendar).tolist())
        deposit_row = self.start_row - 1
        decision_row = self.start_row - 1 if self.lag == 1 else self.start_row
        flow_ptr = 0
        spec = self.spec
        twins = self.config.buy_and_hold
        f_cust = np.concatenate([spec.flow_cust, spec.flow_cust + self.n]) if twins else spec.flow_cust
        f_row = np.concatenate([spec.flow_row, spec.flow_row]) if twins else spec.flow_row
        f_amt = np.concatenate([spec.flow_amount, spec.flow_amount]) if twins else spec.flow_amount
        order = np.argsort(f_row, kind="stable")
        f_cust, f_row, f_amt = f_cust[order], f_row[order], f_amt[order]
        try:
            for j, row in enumerate(self.rows):
                price = self.prices[row]
                # ---- day: liquidations, fills, flows
                gone = self.silence[row]
                if gone.size:
                    self.book.liquidate(gone, price)
                self._fill(row, price)
                start_deposit = np.flatnonzero(deposit_row == row)
                if start_deposit.size:
                    self.book.deposit(start_deposit, self.first_amount[start_deposit])
                    self.flows.append((start_deposit, np.full(start_deposit.size, j), self.first_amount[start_deposit]))
                while flow_ptr < len(f_row) and f_row[flow_ptr] < row:
                    flow_ptr += 1
                today = []
                while flow_ptr < len(f_row) and f_row[flow_ptr] == row:
                    today.append(flow_ptr)
                    flow_ptr += 1
                flow_today = np.zeros(self.n_total, dtype=bool)
                if today:
                    idx = np.array(today)
                    c, a = f_cust[idx], f_amt[idx]
                    dep = a > 0
                    if dep.any():
                        self.book.deposit(c[dep], a[dep])
                        self.flows.append((c[dep], np.full(int(dep.sum()), j), a[dep]))
                    if (~dep).any():
                        np.add.at(self.withdrawal_due, c[~dep], -a[~dep])
                        self.withdrawal_row[c[~dep]] = row + self.lag
                    flow_today[c] = True
                # ---- evening: research, first purchases, rebalancing
                if row in research_at:
                    state = next(states)
                    pit = point_in_time(self.universe, self.dates[row], min_history_days=self.config.min_history_days,
                                        silence_days=self.config.silence_days)
                    fund_map = FundMap.build(self.universe, pit)
                    targets = _Targets(state, pit, self.config)
                    target_classes = self._target_classes(targets)
                    self._log_research(row, state)
                orders: list[Orders] = []
                due = np.flatnonzero(decision_row == row)
                if due.size:
                    orders.append(self._first_purchases(due, state, price))
                if state is not None and pit is not None and fund_map is not None and targets is not None:
                    ask = self._to_ask(row, price, target_classes, flow_today, row in review or row in research_at)
                    if ask.size:
                        orders.append(self._rebalance(ask, row, price, pit, fund_map, targets))
                twin_orders = self._twin_flows(flow_today, price)
                if twin_orders is not None:
                    orders.append(twin_orders)
                batch = Orders.concat(orders)
                if len(batch):
                    self.pending.setdefault(row + self.lag, []).append(batch)
                if self.lag == 0:
                    self._fill(row, price)
                # ---- close: value and allocation
                self._record(j, row, price)
                if self.progress is not None and (j % 20 == 0 or j == self.n_days - 1):
                    self.progress(j + 1, self.n_days)
        finally:
            runner.close()
        return self._result(runner)

    # ------------------------------------------------------------------------------------------------
    def _fill(self, row: int, price: np.ndarray) -> None:
        batches = self.pending.pop(row, [])
        if batches:
            orders = Orders.concat(batches)
            self.book.fill(orders, row, price)
            first = orders.cust[orders.first]
            self.started[first] = True
        # a withdrawal is paid once the sales decided for it have filled
        ready = np.flatnonzero((self.withdrawal_due > 0) & (self.withdrawal_row <= row))
        if ready.size:
            paid = self.book.withdraw(ready, self.withdrawal_due[ready])
            self.withdrawal_due[ready] = 0.0
            self.flows.append((ready, np.full(ready.size, row - self.first_row), -paid))

    def _first_purchases(self, due: np.ndarray, state: ResearchState | None, price: np.ndarray) -> Orders:
        if state is None:
            raise BadInputError("no research before the first purchase", details={"field": "start"})
        parts = []
        codes = self.universe.code_index
        for c in due:
            key = (int(self.level[c]), float(self.horizon[c]), bool(self.lowest[c]), float(self.first_amount[c]))
            proposal = state.proposals[key]
            self.shown[c] = proposal.shown
            fund = np.array([codes[x] for x in proposal.codes], dtype=np.int64)
            net, fee = np.array(proposal.net, dtype=float), np.array(proposal.fee, dtype=float)
            m = len(fund)
            parts.append(Orders(cust=np.full(m, c, dtype=np.int64), fund=fund, sell_value=np.zeros(m),
                                ref_price=price[fund] if m else np.zeros(0), buy_gross=net + fee, buy_fee=fee,
                                first=np.ones(m, dtype=bool), sell_all=np.zeros(m, dtype=bool)))
            if m and net.sum() > 0:
                self.initial_weights[int(c)] = (fund, net / net.sum())
        return Orders.concat(parts)

    def _target_classes(self, targets: _Targets) -> np.ndarray:
        out = np.zeros((self.n_total, len(CLASSES)))
        cls_of = dict(zip(self.universe.funds.index.astype(str), self.fund_class, strict=True))
        cache: dict[tuple[int, float, bool], np.ndarray] = {}
        for c in np.flatnonzero(self.is_policy):
            key = (int(self.level[c]), float(self.horizon[c]), bool(self.lowest[c]))
            if key not in cache:
                vec = np.zeros(len(CLASSES))
                for code, w in targets.weights(*key).items():
                    vec[cls_of[code]] += w
                cache[key] = vec / vec.sum() if vec.sum() > 0 else vec
            out[c] = cache[key]
        return out

    def _class_values(self, price: np.ndarray) -> np.ndarray:
        cols = np.unique(self.book.lot_fund) if len(self.book.lot_fund) else np.zeros(0, np.int64)
        out = np.zeros((self.n_total, len(CLASSES)))
        if cols.size == 0:
            return out
        held = self.book.positions[:, cols] * np.nan_to_num(price[cols])
        for k in range(len(CLASSES)):
            in_k = self.fund_class[cols] == k
            if in_k.any():
                out[:, k] = held[:, in_k].sum(axis=1)
        return out

    def _to_ask(self, row: int, price: np.ndarray, target_classes: np.ndarray, flow_today: np.ndarray,
                full_review: bool) -> np.ndarray:
        """Policy customers the engine is asked about this evening (a superset of its triggers)."""
        active = self.is_policy & self.started
        if not active.any():
            return np.zeros(0, dtype=np.int64)
        if full_review:
            return np.flatnonzero(active)
        cv = self._class_values(price)
        total = cv.sum(axis=1)
        weights = np.divide(cv, total[:, None], out=np.zeros_like(cv), where=total[:, None] > 0)
        gap = np.abs(weights - target_classes)
        drift = np.maximum(gap.sum(axis=1) / 2.0, gap.max(axis=1))
        band = self.settings.suggest_band - self.config.drift_margin
        idle = self.book.cash >= self.settings.min_trade
        ask = active & ((total > 0) & (drift >= band) | idle | flow_today | (self.withdrawal_due > 0))
        return np.flatnonzero(ask)

    def _rebalance(self, ask: np.ndarray, row: int, price: np.ndarray, pit: Universe, fund_map: FundMap,
                   targets: _Targets) -> Orders:
        cash = self.book.cash[ask]
        due = self.withdrawal_due[ask]
        flow = np.where(due > 0, cash - due, np.where(cash >= self.settings.min_trade, cash, 0.0))
        plan = plan_rebalance(self.book, pit, fund_map, targets, ask, row, self.dates[row], price, self.level,
                              self.lowest, self.horizon, flow, self.last_review[ask], self.settings)
        self.last_review[ask] = self.dates[row].to_datetime64().astype("datetime64[D]")
        stats = self.engine_stats
        stats["calls"] += 1
        stats["asked"] += int(ask.size)
        names, counts = np.unique(plan.reasons, return_counts=True)
        for name, count in zip(names.tolist(), counts.tolist(), strict=True):
            stats["reasons"][name] = stats["reasons"].get(name, 0) + count
        stats["trading"] += int(np.unique(plan.orders.cust).size)
        return plan.orders

    def _twin_flows(self, flow_today: np.ndarray, price: np.ndarray) -> Orders | None:
        """Buy-and-hold twins: deposits buy the first proposal's weights, withdrawals sell pro rata."""
        if not self.config.buy_and_hold:
            return None
        twins = np.flatnonzero(flow_today & ~self.is_policy & self.started)
        if twins.size == 0:
            return None
        parts = []
        fees, discount = self.book.fees, self.book.discount
        from advisor.rebalancing import costs

        for c in twins:
            due = self.withdrawal_due[c]
            cash = self.book.cash[c]
            if due > 0:
                need = max(due - cash, 0.0)
                funds = np.flatnonzero(self.book.positions[c] > 0)
                value = self.book.positions[c, funds] * price[funds]
                if need > 0 and value.sum() > 0:
                    share = min(need * 1.02 / value.sum(), 1.0)
                    sell = value * share
                    parts.append(Orders(cust=np.full(funds.size, c, np.int64), fund=funds, sell_value=sell,
                                        ref_price=price[funds], buy_gross=np.zeros(funds.size),
                                        buy_fee=np.zeros(funds.size), first=np.zeros(funds.size, bool),
                                        sell_all=np.full(funds.size, share >= 1.0)))
            elif cash >= self.settings.min_trade and int(c) in self.initial_weights:
                funds, weights = self.initial_weights[int(c)]
                alive = np.isfinite(price[funds]) & (self.book.positions[c, funds] > 0)
                if alive.any():
                    w = weights[alive] / weights[alive].sum()
                    gross = np.floor(cash * w * 100.0) / 100.0
                    f = funds[alive]
                    parts.append(Orders(cust=np.full(f.size, c, np.int64), fund=f, sell_value=np.zeros(f.size),
                                        ref_price=price[f], buy_gross=gross,
                                        buy_fee=costs.buy_fees(fees, f, gross, discount),
                                        first=np.zeros(f.size, bool), sell_all=np.zeros(f.size, bool)))
        return Orders.concat(parts) if parts else None

    def _record(self, j: int, row: int, price: np.ndarray) -> None:
        cv = self._class_values(price)
        value = cv.sum(axis=1) + self.book.cash
        live = self.started | (self.book.cash > 0) | (self.book.ledger.deposits > 0)
        self.values[:, j] = np.where(live, value, np.nan)
        for k in range(len(CLASSES)):
            self.class_values[:, k, j] = np.bincount(self.group_of, weights=cv[:, k], minlength=len(self.groups))
        self.cash_check = max(self.cash_check, self.book.cash_identity_gap())

    def _log_research(self, row: int, state: ResearchState) -> None:
        self.research_log.append({"date": self.dates[row].date().isoformat(),
                                  "universe_version": state.universe_version, "funds": state.n_funds,
                                  **state.diagnostics,
                                  "models": {f"C{lvl}/{h}": w for (lvl, h), w in state.model_weights.items()}})

    def _result(self, runner: ResearchRunner) -> SimulationResult:
        spec = self.spec
        twins = self.config.buy_and_hold
        ids = np.concatenate([spec.ids, spec.ids]) if twins else spec.ids
        frame = pd.DataFrame({
            "customer_id": ids, "level": self.level, "horizon_years": self.horizon, "lowest_category": self.lowest,
            "start": self.dates[self.start_row], "amount": self.first_amount,
            "kind": np.asarray(KINDS, dtype=object)[self.kind],
            "twin": np.concatenate([np.arange(self.n) + self.n, np.arange(self.n)]) if twins else np.full(self.n, -1)})
        if self.flows:
            fc = np.concatenate([f[0] for f in self.flows])
            fd = np.concatenate([f[1] for f in self.flows])
            fa = np.concatenate([f[2] for f in self.flows])
        else:
            fc, fd, fa = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        groups = self.groups.assign(kind=np.asarray(KINDS, dtype=object)[self.groups["kind"].to_numpy()])
        self.engine_stats["research_cache_hits"] = runner.cache_hits
        return SimulationResult(
            dates=self.dates[self.rows], customers=frame, values=self.values, flow_cust=fc, flow_day=fd,
            flow_amount=fa, ledger=self.book.ledger, groups=groups, group_of=self.group_of,
            class_values=self.class_values, research=self.research_log, shown=self.shown, engine=self.engine_stats,
            config=self.config, universe_version=self.universe.version, universe_as_of=str(self.universe.as_of),
            cash_check=self.cash_check,
            extras={"book": self.book, "pending": {row: Orders.concat(b) for row, b in self.pending.items()},
                    "first_row": self.first_row})

"""The walk-forward simulator: a book of customers stepped through the real history, day by day.

Each trading day t of a customer (docs/simulation.md has the full account):

1. **Morning / day** — a fund silent for `silence_days` pays its holders the last NAV; orders decided
   the evening before fill at t's NAV (`Book.fill`); withdrawals are paid from the fills' cash;
   deposits and contributions arrive; withdrawals are asked for.
2. **Close** — the customer is valued on t's NAV (total-return index: dividends reinvested).
3. **Evening** — the first purchase is the one-click proposal of the latest research; afterwards the
   rebalancing engine (`advisor.rebalancing.rebalance_batch`) answers for the evening — asked on every
   research date and review day of its calendar, and on other days when the customer has a cash flow,
   idle cash of at least its minimum trade, or class drift within `drift_margin` of its suggest band (a
   superset of its triggers: the engine decides). Its plan fills the next trading day. Buy-and-hold
   twins never rebalance.

**How the book is stepped.** Customers are independent of each other, so the simulator does not step
the whole book one day at a time. Inside a research period (one point-in-time universe and one set of
targets), each customer's book stays the same from one of its events (a fill, a flow, a payout) to the
next; for such a quiet stretch the simulator asks the engine, in one batch call for all customers, about
every evening of the stretch on which it would be asked (with that evening's prices and holding days),
keeps the answers up to the customer's first trade, fills it, and goes on from there. Every answer used
is the one a nightly run would have given that evening; `lookahead=1` is the plain daily loop (one call
per day), and the tests check that both give the same book. Decisions read nothing after their evening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from advisor.assumptions import CLASSES
from advisor.model_portfolios import horizon_bucket
from advisor.rebalancing import costs
from advisor.rebalancing.universe_facts import _one_group_target
from advisor.simulation.book import Book, Ledger, Orders
from advisor.simulation.config import SimulationConfig
from advisor.simulation.customers import CustomerArrays, validate_customers
from advisor.simulation.engine import FundMap, plan_rebalance
from advisor.simulation.plans import NoResearch, PlanEvening, PlanRules
from advisor.simulation.pointintime import as_timestamp, point_in_time
from advisor.simulation.research import ResearchRequest, ResearchRunner, ResearchState, SideTasks
from advisor.simulation.schedule import research_rows, review_rows
from products.analytics import total_return_index
from products.errors import BadInputError
from products.research.leaderboard import adopt_dimensions
from products.universe import Universe

KINDS: tuple[str, ...] = ("policy", "buy_and_hold")
CASH_CLASS = CLASSES.index("cash")
BUCKET_YEARS: dict[str, float] = {"short": 0.5, "medium": 2.0, "long": 5.0}
NEVER = np.iinfo(np.int64).max // 4
WITHDRAWAL_CUSHION = 0.01  # sales paying a withdrawal raise 1% more: they fill at the next NAV, not the evening's
WITHDRAWAL_TRIES = 2  # further sales raising the rest of a withdrawal its first sales fell short of (NAV moves)
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
    engine: dict[str, Any]  # calls, evenings answered, reasons
    config: SimulationConfig
    universe_version: str
    universe_as_of: str
    cash_check: float = 0.0  # largest break of cash conservation seen (yuan)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        return len(self.customers)


def _prices(universe: Universe) -> np.ndarray:
    """Total-return index per fund, carried forward over days without a NAV (NaN before the first)."""
    return total_return_index(universe.returns).ffill().to_numpy(dtype=float)


def _next_silence(valid: np.ndarray, silence_days: int) -> tuple[np.ndarray, np.ndarray]:
    """(bool rows × funds: the fund reaches `silence_days` rows without a NAV on that row, and the first
    such row at or after each row, `NEVER` if none)."""
    n_rows = valid.shape[0]
    rows = np.arange(n_rows)[:, None]
    last = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    hit = (last >= 0) & (rows - last == silence_days)
    upcoming = np.where(hit, rows, NEVER)
    nxt = np.minimum.accumulate(upcoming[::-1], axis=0)[::-1]
    return hit, nxt


ENGINE_HISTORY_ROWS = 1_260  # five years: the rebalancing engine reads three (risk weights, 1-year drawdowns)


def engine_view(pit: Universe) -> Universe:
    """The point-in-time universe as the rebalancing engine needs it: funds, fees and the last five years of
    returns, without disclosures or unit NAVs (values come with the lots; research ran on the full view).
    The engine's caches keep each period's view alive, so a long run stays small; a test checks that the
    engine answers the same on this view as on the full one. Its leaderboard (the weak-fund rule) is not
    ranked on this view but adopted from the research of the period (`_period`): five years of returns
    score the persistence dimension differently, and the engine must judge funds as the selection did."""
    # copies, not slices: a slice keeps the whole frame it was cut from alive (the period's full returns and
    # every disclosed holding), and the engine's caches keep hundreds of views
    return replace(pit, returns=pit.returns.iloc[-ENGINE_HISTORY_ROWS:].copy(), holdings=pit.holdings.iloc[:0].copy(),
                   stock_industry=pit.stock_industry.iloc[:0].copy(), unit_nav=pd.DataFrame())


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
             progress: Progress | None = None, plans: PlanRules | None = None,
             side_tasks: SideTasks | None = None) -> SimulationResult:
    """Simulate `customers` (see `advisor.simulation.customers`) on `universe` until `end` (default: the
    last day of data); customers named in `plans` follow their own plan (`advisor.simulation.plans`).
    Deterministic: the same data, customers and config give the same result.

    `side_tasks` ({name: (fn, args)}, `fn(universe, *args)` importable by name) run in the research workers
    beside the simulation (in process when `config.workers` is 1); their results are `extras["side"]`."""
    config = config or SimulationConfig()
    dates = universe.returns.index
    if len(dates) < 3:
        raise BadInputError("the universe has too little history to simulate", details={"field": "data"})
    last_row = len(dates) - 1 if end is None else int(dates.searchsorted(as_timestamp(end), side="right")) - 1
    if last_row < 2:
        raise BadInputError(f"end {end} is before the data", details={"field": "end"})
    spec = validate_customers(customers, dates, flows, last_row)
    return _Simulation(universe, spec, config, last_row, progress, plans).run(side_tasks)


@dataclass
class _Period:
    """One research period: rows [first, last], its research and the engine's view of the universe."""

    first: int
    last: int
    state: ResearchState
    pit: Universe
    fund_map: FundMap
    targets: _Targets
    target_classes: np.ndarray  # (customers, classes)
    full_ask: np.ndarray  # sorted rows on which every active customer is asked (research date, reviews)


class _Simulation:
    def __init__(self, universe: Universe, spec: CustomerArrays, config: SimulationConfig, last_row: int,
                 progress: Progress | None, plans: PlanRules | None = None):
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
        self._init_plans(plans)
        self.is_policy = (self.kind == 0) & ~self.on_plan
        self.deposit_row = self.start_row - 1  # the evening before the first purchase: the money is in
        self.decision_row = self.start_row - 1 if self.lag == 1 else self.start_row
        self.first_row = int(self.deposit_row.min())
        self.rows = np.arange(self.first_row, last_row + 1)
        self.n_days = len(self.rows)
        self.prices = _prices(universe)
        self.silent, self.next_silent = _next_silence(universe.returns.notna().to_numpy(), config.silence_days)
        self.fund_class = np.array([CLASSES.index(c) for c in universe.funds["asset_class"].astype(str)], np.int64)
        self.day_number = self.dates.to_numpy().astype("datetime64[D]").astype(np.int64)
        discount = universe.fee_discount if self.settings.fee_discount is None else self.settings.fee_discount
        self.book = Book(self.n_total, len(universe.funds), universe.fees, discount, self.day_number)
        self.values = np.full((self.n_total, self.n_days), np.nan)
        self.flows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # flows (both kinds of customer), sorted by customer then row
        f_cust = np.concatenate([spec.flow_cust, spec.flow_cust + n]) if twins else spec.flow_cust
        f_row = np.concatenate([spec.flow_row, spec.flow_row]) if twins else spec.flow_row
        f_amt = np.concatenate([spec.flow_amount, spec.flow_amount]) if twins else spec.flow_amount
        order = np.lexsort((f_row, f_cust))
        self.f_cust, self.f_row, self.f_amt = f_cust[order], f_row[order], f_amt[order]
        self.f_key = self.f_cust * (len(self.dates) + 1) + self.f_row
        self.cursor = self.deposit_row.copy()  # the next row whose morning is still to come, per customer
        self.pending: list[tuple[Orders, np.ndarray]] = []  # orders and their fill rows
        self.withdrawal_due = np.zeros(self.n_total)  # asked for, paid when its sales have filled
        self.withdrawal_row = np.full(self.n_total, NEVER, dtype=np.int64)
        self.withdrawal_tries = np.zeros(self.n_total, dtype=np.int64)  # evenings spent raising the current one
        self.new_money = np.zeros(self.n_total)  # deposits of the morning, offered to the engine that evening
        self.last_review = np.full(self.n_total, np.datetime64("NaT"), dtype="datetime64[D]")
        self.started = self.on_plan.copy()  # first purchase decided (plans make none: they invest each debit)
        self.initial_weights: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # twin → (funds, net weights)
        self.shown: list[dict[str, Any] | None] = [None] * self.n_total
        keys = pd.DataFrame({"level": self.level, "horizon_years": self.horizon, "kind": self.kind})
        self.groups = keys.drop_duplicates().sort_values(["kind", "level", "horizon_years"]).reset_index(drop=True)
        self.group_of = keys.merge(self.groups.reset_index(), on=["level", "horizon_years", "kind"],
                                   how="left")["index"].to_numpy(dtype=np.int64)
        self.class_values = np.zeros((len(self.groups), len(CLASSES), self.n_days))
        self.engine_stats: dict[str, Any] = {"calls": 0, "asked": 0, "reasons": {}, "trading": 0}
        self.research_log: list[dict[str, Any]] = []
        self.cash_check = 0.0
        self.lookahead = max(int(config.lookahead), 1)
        if plans is not None:
            self.book.log = []

    def _init_plans(self, plans: PlanRules | None) -> None:
        """Customers on a plan of their own (`advisor.simulation.plans`): its target rule and cycle."""
        self.plans = plans
        self.on_plan = np.zeros(self.n_total, dtype=bool)
        self.plan_target = np.full(self.n_total, np.nan)
        self.plan_take = np.zeros(self.n_total, dtype=bool)
        self.cycle_base = np.zeros(self.n_total)  # deposits before the plan's current cycle
        self.plan_events: list[dict[str, Any]] = []
        if plans is None:
            return
        if self.config.buy_and_hold:
            raise BadInputError("plans are simulated without buy-and-hold twins", details={"field": "buy_and_hold"})
        lookup = {c: i for i, c in enumerate(self.spec.ids.tolist())}
        idx = np.array([lookup.get(str(c), -1) for c in plans.customer_ids], dtype=np.int64)
        if (idx < 0).any():
            raise BadInputError("a plan names an unknown customer", details={"field": "customer_id"})
        self.on_plan[idx] = True
        self.plan_target[idx] = np.asarray(plans.target_return, dtype=float)
        self.plan_take[idx] = np.asarray(plans.take_profit, dtype=bool)

    # ------------------------------------------------------------------------------------------------
    # research
    # ------------------------------------------------------------------------------------------------

    def _research_plan(self) -> tuple[np.ndarray, list[ResearchRequest]]:
        first, last = self.first_row, self.last_row
        rows = research_rows(self.dates, first, last, self.config.research_cadence)
        decision = np.maximum(self.decision_row, first)
        groups: set[tuple[int, float, bool]] = set()
        researched = ~self.on_plan | (self.plans is not None and self.plans.needs_research)
        for level, years, lowest in zip(self.level[researched], self.horizon[researched], self.lowest[researched],
                                        strict=True):
            groups.add((int(level), float(years), bool(lowest)))
            groups.add((int(level), BUCKET_YEARS[horizon_bucket(years)], bool(lowest)))
        group_keys = tuple(sorted(groups))
        requests = []
        for i, row in enumerate(rows):
            nxt = rows[i + 1] if i + 1 < len(rows) else last + 1
            due = np.flatnonzero((decision >= row) & (decision < nxt) & ~self.on_plan)
            props = sorted({(int(self.level[c]), float(self.horizon[c]), bool(self.lowest[c]),
                             float(self.first_amount[c])) for c in due})
            requests.append(ResearchRequest(groups=group_keys, proposals=tuple(props)))
        return rows, requests

    def _period(self, first: int, last: int, state: ResearchState, review: np.ndarray) -> _Period:
        if isinstance(state, NoResearch.State):  # only plans of named funds: no engine, no point-in-time view
            pit = self.universe
        else:
            pit = engine_view(point_in_time(self.universe, self.dates[first],
                                            min_history_days=self.config.min_history_days,
                                            silence_days=self.config.silence_days))
            if state.leaderboard_dimensions is not None:  # research ranked these funds at this date already
                adopt_dimensions(pit, state.leaderboard_dimensions)
        targets = _Targets(state, pit, self.config)
        full_ask = np.unique(np.concatenate([[first], review[(review >= first) & (review <= last)]]))
        self._log_research(first, state)
        return _Period(first, last, state, pit, FundMap.build(self.universe, pit), targets,
                       self._target_classes(targets), full_ask.astype(np.int64))

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

    # ------------------------------------------------------------------------------------------------
    # the run
    # ------------------------------------------------------------------------------------------------

    def run(self, side_tasks: SideTasks | None = None) -> SimulationResult:
        self.side_tasks = dict(side_tasks or {})
        rows, requests = self._research_plan()
        research_dates = [self.dates[r] for r in rows]
        runner: ResearchRunner | NoResearch = (
            ResearchRunner(self.universe, research_dates, requests, self.config, side_tasks)
            if any(r.groups or r.proposals for r in requests) else NoResearch(self.universe, research_dates))
        review = review_rows(self.dates, self.first_row, self.last_row, self.settings.calendar)
        bounds = [*rows.tolist(), self.last_row + 1]
        try:
            for i, state in enumerate(runner):
                period = self._period(bounds[i], bounds[i + 1] - 1, state, review)
                while True:
                    active = np.flatnonzero(self.cursor <= period.last)
                    if active.size == 0:
                        break
                    self._round(active, period)
                if self.progress is not None:
                    self.progress(period.last - self.first_row + 1, self.n_days)
        finally:
            runner.close()
            # the engine memoizes each group's target per universe view (up to 512 entries, each holding its
            # view alive): this run's views are never asked about again
            _one_group_target.cache_clear()
        return self._result(runner)

    def _flows_at(self, cust: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first, stop) positions of each customer's flows on its row, in the sorted flow arrays."""
        key = cust * (len(self.dates) + 1) + rows
        return np.searchsorted(self.f_key, key, side="left"), np.searchsorted(self.f_key, key, side="right")

    def _next_flow_row(self, cust: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Row of each customer's next flow strictly after `after` (`NEVER` if none)."""
        if len(self.f_key) == 0:
            return np.full(cust.size, NEVER, dtype=np.int64)
        pos = np.searchsorted(self.f_key, cust * (len(self.dates) + 1) + after, side="right")
        at = np.minimum(pos, len(self.f_key) - 1)
        ok = (pos < len(self.f_key)) & (self.f_cust[at] == cust)
        return np.where(ok, self.f_row[at], NEVER)

    def _morning(self, cust: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Everything that happens to `cust` before the close of its row: payouts of silent funds, fills,
        withdrawal payments, deposits, withdrawal requests. Returns whether each had a flow that day."""
        book = self.book
        local, fund, _ = book.holdings_of(cust)
        gone = self.silent[rows[local], fund]
        if gone.any():
            book.liquidate(cust[local[gone]], fund[gone], rows[local[gone]], self.prices)
        self._fill_due(cust, rows)
        first = self.deposit_row[cust] == rows
        if first.any():
            c = cust[first]
            book.deposit(c, self.first_amount[c])
            self.flows.append((c, rows[first] - self.first_row, self.first_amount[c]))
        lo, hi = self._flows_at(cust, rows)
        flow_today = hi > lo
        if flow_today.any():
            count = hi - lo
            idx = np.repeat(lo, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
            c, r, a = self.f_cust[idx], self.f_row[idx], self.f_amt[idx]
            dep = a > 0
            if dep.any():
                book.deposit(c[dep], a[dep])
                np.add.at(self.new_money, c[dep], a[dep])
                self.flows.append((c[dep], r[dep] - self.first_row, a[dep]))
            if (~dep).any():
                np.add.at(self.withdrawal_due, c[~dep], -a[~dep])
                self.withdrawal_row[c[~dep]] = r[~dep] + self.lag
                self.withdrawal_tries[c[~dep]] = 0
        self.cash_check = max(self.cash_check, book.cash_identity_gap(cust))
        return flow_today

    def _fill_due(self, cust: np.ndarray, rows: np.ndarray) -> None:
        """Fill the pending orders of `cust` due on their rows, then pay the withdrawals due."""
        if self.pending:
            due_row = np.full(self.n_total, -1, dtype=np.int64)
            due_row[cust] = rows
            keep, now, now_rows = [], [], []
            for orders, fill_rows in self.pending:
                hit = due_row[orders.cust] == fill_rows
                if hit.all():
                    now.append(orders)
                    now_rows.append(fill_rows)
                elif hit.any():
                    now.append(_take(orders, hit))
                    now_rows.append(fill_rows[hit])
                    keep.append((_take(orders, ~hit), fill_rows[~hit]))
                else:
                    keep.append((orders, fill_rows))
            self.pending = keep
            if now:
                self.book.fill(Orders.concat(now), np.concatenate(now_rows), self.prices)
        ready = (self.withdrawal_due[cust] > 0) & (self.withdrawal_row[cust] <= rows)
        if ready.any():
            c, r = cust[ready], rows[ready]
            due = self.withdrawal_due[c]
            due = np.where(np.isposinf(due), np.maximum(self.book.cash[c], 0.0), due)  # a take-profit pays out all
            # sales fill at the next NAV, not the evening's: when they fetch a little less than asked, the rest
            # is raised by another sale that evening (twice at most); only then is it a recorded shortfall
            short = np.maximum(due - np.maximum(self.book.cash[c], 0.0), 0.0)
            holds = np.zeros(c.size, dtype=bool)
            local, _, _ = self.book.holdings_of(c)
            holds[local] = True
            again = (short > 0.01) & holds & (self.withdrawal_tries[c] < WITHDRAWAL_TRIES) & self.is_policy[c]
            paid = self.book.withdraw(c, np.where(again, due - short, due))
            self.withdrawal_due[c] = np.where(again, short, 0.0)
            self.withdrawal_row[c] = np.where(again, r + self.lag, NEVER)
            self.withdrawal_tries[c] += again
            self.flows.append((c, r - self.first_row, -paid))

    def _round(self, active: np.ndarray, period: _Period) -> None:
        """One step for every active customer: its morning, then its quiet stretch of evenings up to the
        first trade (one engine call for all), its values, and its orders (module docstring)."""
        s = self.cursor[active]
        flow_today = self._morning(active, s)
        book = self.book
        # ---- the quiet stretch [s, w] of each customer: its book does not change before w's close
        w = np.minimum(period.last, s + self.lookahead - 1)
        w = np.minimum(w, self._next_flow_row(active, s) - 1)
        local, fund, _ = book.holdings_of(active)
        if local.size:
            upcoming = np.full(active.size, NEVER, dtype=np.int64)
            np.minimum.at(upcoming, local, self.next_silent[np.minimum(s[local] + 1, len(self.dates) - 1), fund])
            upcoming = np.where(s + 1 < len(self.dates), upcoming, NEVER)
            w = np.minimum(w, upcoming - 1)
        due = self.withdrawal_due[active] > 0
        w = np.where(due, np.minimum(w, np.maximum(self.withdrawal_row[active] - 1, s)), w)
        waiting = ~self.started[active] & (self.decision_row[active] >= s)  # first purchase still to decide
        w = np.where(waiting, np.minimum(w, self.decision_row[active]), w)
        twin_flow = ~self.is_policy[active] & ~self.on_plan[active] & flow_today & self.started[active]
        w = np.where(twin_flow, s, w)
        plan_money = self.on_plan[active] & (flow_today | (self.deposit_row[active] == s))
        w = np.where(plan_money, s, w)  # a plan invests the morning's money that evening
        w = np.maximum(w, s)
        # ---- the stretch's closes: values and class values (cash included in the values)
        length = w - s + 1
        offset = np.cumsum(length) - length
        total = int(length.sum())
        flat_cust = np.repeat(np.arange(active.size), length)
        flat_row = np.repeat(s, length) + (np.arange(total) - np.repeat(offset, length))
        k = len(CLASSES)
        class_flat = np.zeros(total * k)
        if local.size:
            pair_len = length[local]
            pair_idx = np.repeat(np.arange(local.size), pair_len)
            within = np.arange(pair_len.sum()) - np.repeat(np.cumsum(pair_len) - pair_len, pair_len)
            pr = s[local][pair_idx] + within
            pf = fund[pair_idx]
            value = book.positions[active[local][pair_idx], pf] * np.nan_to_num(self.prices[pr, pf])
            slot = offset[local][pair_idx] + within
            class_flat = np.bincount(slot * k + self.fund_class[pf], weights=value, minlength=total * k)
        class_vals = class_flat.reshape(total, k)
        held = class_vals.sum(axis=1)
        # ---- decisions: first purchases, twins' flows, and the engine's answers for policy customers
        end = w.copy()
        orders: list[Orders] = []
        if self.plans is not None:
            hit = self._plan_targets(active, s, flat_cust, flat_row, held)
            end = np.where(hit >= 0, hit, end)
            if plan_money.any():
                orders.append(self._plan_orders(active[plan_money], s[plan_money], period))
            if (hit >= 0).any():
                orders.append(self._plan_on_target(active[hit >= 0], hit[hit >= 0], s[hit >= 0]))
        decide = waiting & (self.decision_row[active] == w)
        if decide.any():
            c = active[decide]
            orders.append(self._first_purchases(c, period.state, w[decide]))
            self.started[c] = True
        if twin_flow.any():
            twin_orders = self._twin_orders(active[twin_flow], s[twin_flow])
            if twin_orders is not None:
                orders.append(twin_orders)
        ask = self.is_policy[active] & self.started[active] & ~decide
        if ask.any():
            traded, plan_orders = self._ask_engine(active, s, w, ask, flow_today, flat_cust, flat_row, class_vals,
                                                   held, period)
            end = np.where(traded >= 0, traded, end)
            if plan_orders is not None:
                orders.append(plan_orders)
        # ---- record the closes up to each customer's end (an evening that changes the book is recorded after)
        batch = Orders.concat(orders)
        has_orders = np.zeros(active.size, dtype=bool)
        if len(batch):
            has_orders[np.searchsorted(active, np.unique(batch.cust))] = True
        if self.lag == 0:  # fills and withdrawal payments happen the same evening
            changed = has_orders | ((self.withdrawal_due[active] > 0) & (self.withdrawal_row[active] <= end))
        else:
            changed = np.zeros(active.size, dtype=bool)
        keep = flat_row <= np.where(changed, end - 1, end)[flat_cust]
        self._write_values(active[flat_cust[keep]], flat_row[keep], held[keep], class_vals[keep])
        if len(batch):
            fill_row = end[np.searchsorted(active, batch.cust)] + self.lag
            if self.lag == 0:
                book.fill(batch, fill_row, self.prices)
            else:
                self.pending.append((batch, fill_row))
        if changed.any():
            c = active[changed]
            self._fill_due(c, end[changed])  # withdrawals asked for this evening are paid now
            self._value_now(c, end[changed])
        self.new_money[active] = 0.0  # offered on its evening; from now on it is the account's balance
        self.cursor[active] = end + 1

    def _write_values(self, cust: np.ndarray, rows: np.ndarray, held: np.ndarray, class_vals: np.ndarray) -> None:
        j = rows - self.first_row
        self.values[cust, j] = held + self.book.cash[cust]
        group = self.group_of[cust]
        flat = self.class_values.reshape(-1)
        k = len(CLASSES)
        for cls in range(k):
            np.add.at(flat, (group * k + cls) * self.n_days + j, class_vals[:, cls])

    def _value_now(self, cust: np.ndarray, rows: np.ndarray) -> None:
        """Record the close of `rows` for `cust` from the book as it is now (after a same-evening fill)."""
        local, fund, shares = self.book.holdings_of(cust)
        k = len(CLASSES)
        value = shares * np.nan_to_num(self.prices[rows[local], fund])
        class_vals = np.bincount(local * k + self.fund_class[fund], weights=value,
                                 minlength=cust.size * k).reshape(cust.size, k)
        j = rows - self.first_row
        self.values[cust, j] = class_vals.sum(axis=1) + self.book.cash[cust]
        flat = self.class_values.reshape(-1)
        for cls in range(k):
            np.add.at(flat, (self.group_of[cust] * k + cls) * self.n_days + j, class_vals[:, cls])

    def _ask_engine(self, active: np.ndarray, s: np.ndarray, w: np.ndarray, ask: np.ndarray, flow_today: np.ndarray,
                    flat_cust: np.ndarray, flat_row: np.ndarray, class_vals: np.ndarray, held: np.ndarray,
                    period: _Period) -> tuple[np.ndarray, Orders | None]:
        """The engine's answers for every evening it would be asked in each stretch; returns, per active
        customer, the row of its first trade (−1 if none) and the orders of those trades."""
        settings = self.settings
        cust_of = active[flat_cust]
        first_evening = flat_row == s[flat_cust]
        cash = np.maximum(self.book.cash[cust_of], 0.0)
        new = np.where(first_evening, np.minimum(self.new_money[cust_of], cash), 0.0)  # the morning's deposits
        idle = cash - new  # counted by the engine in the cash class, as a real customer's account balance
        with_cash = class_vals.copy()
        with_cash[:, CASH_CLASS] += idle
        total = with_cash.sum(axis=1)
        weights = np.divide(with_cash, total[:, None], out=np.zeros_like(with_cash), where=total[:, None] > 0)
        gap = np.abs(weights - period.target_classes[cust_of])
        drift = np.maximum(gap.sum(axis=1) / 2.0, gap.max(axis=1))
        due = self.withdrawal_due[cust_of]
        candidate = ((total > 0) & (drift >= settings.suggest_band - self.config.drift_margin)) | (
            first_evening & (flow_today[flat_cust] | (due > 0) | (new >= 0.01)))
        candidate |= np.isin(flat_row, period.full_ask)
        candidate &= ask[flat_cust]
        q = np.flatnonzero(candidate)
        traded = np.full(active.size, -1, dtype=np.int64)
        if q.size == 0:
            return traded, None
        q_cust, q_row, q_local = cust_of[q], flat_row[q], flat_cust[q]
        # new money, or the withdrawal asked for (the part sales must raise with a cushion for the next NAV's
        # move, the rest staying as cash); the account's balance is `cash`
        raise_ = np.maximum(due[q] - idle[q] - new[q], 0.0)
        flow = new[q] - due[q] - WITHDRAWAL_CUSHION * raise_
        plan = plan_rebalance(self.book, period.pit, period.fund_map, period.targets, q_cust, q_row, self.prices,
                              self.level, self.lowest, self.horizon, flow, self.last_review[q_cust], settings,
                              cash=idle[q])
        stats = self.engine_stats
        stats["calls"] += 1
        stats["questions"] = stats.get("questions", 0) + int(q.size)  # asked, including evenings after a trade
        # each customer's first trading evening; answers after it are discarded (its book changes)
        trade_q = plan.trades
        first_trade = np.full(active.size, NEVER, dtype=np.int64)
        np.minimum.at(first_trade, q_local[trade_q], q_row[trade_q])
        used = q_row <= first_trade[q_local]
        names, counts = np.unique(plan.reasons[used], return_counts=True)
        for name, count in zip(names.tolist(), counts.tolist(), strict=True):
            stats["reasons"][name] = stats["reasons"].get(name, 0) + count
        stats["asked"] += int(used.sum())
        asked_last = np.full(active.size, -1, dtype=np.int64)
        np.maximum.at(asked_last, q_local[used], q_row[used])
        seen = asked_last >= 0
        self.last_review[active[seen]] = self.day_number[asked_last[seen]].astype("datetime64[D]")
        chosen = trade_q & (q_row == first_trade[q_local])
        traded = np.where(first_trade < NEVER, first_trade, -1)
        stats["trading"] += int(chosen.sum())
        picked = np.isin(plan.question, np.flatnonzero(chosen))
        return traded, _take(plan.orders, picked) if picked.any() else None

    # ------------------------------------------------------------------------------------------------
    # orders that are not the engine's
    # ------------------------------------------------------------------------------------------------

    def _first_purchases(self, due: np.ndarray, state: ResearchState, rows: np.ndarray) -> Orders:
        parts = []
        codes = self.universe.code_index
        for c, row in zip(due.tolist(), rows.tolist(), strict=True):
            key = (int(self.level[c]), float(self.horizon[c]), bool(self.lowest[c]), float(self.first_amount[c]))
            proposal = state.proposals[key]
            self.shown[c] = proposal.shown
            fund = np.array([codes[x] for x in proposal.codes], dtype=np.int64)
            net, fee = np.array(proposal.net, dtype=float), np.array(proposal.fee, dtype=float)
            m = len(fund)
            parts.append(Orders(cust=np.full(m, c, dtype=np.int64), fund=fund, sell_value=np.zeros(m),
                                ref_price=self.prices[row, fund] if m else np.zeros(0), buy_gross=net + fee,
                                buy_fee=fee, first=np.ones(m, dtype=bool), sell_all=np.zeros(m, dtype=bool)))
            if m and net.sum() > 0:
                self.initial_weights[int(c)] = (fund, net / net.sum())
        return Orders.concat(parts)

    def _plan_orders(self, cust: np.ndarray, rows: np.ndarray, period: _Period) -> Orders:
        """Plan customers invest the morning's money by their plan's own rule (`advisor.simulation.plans`)."""
        assert self.plans is not None
        evening = PlanEvening(cust=cust, rows=rows, cash=np.maximum(self.book.cash[cust], 0.0),
                              positions=self.book.positions[cust], prices=self.prices[rows], fund_class=self.fund_class,
                              targets=period.targets.weights, fees=self.book.fees, discount=self.book.discount)
        return self.plans.invest(evening)

    def _plan_targets(self, active: np.ndarray, s: np.ndarray, flat_cust: np.ndarray, flat_row: np.ndarray,
                      held: np.ndarray) -> np.ndarray:
        """Per active customer, the first close of its stretch at which its plan's cycle return reaches the
        target (−1 if none): value (cash included) over the money paid in during the cycle, minus one."""
        hit = np.full(active.size, -1, dtype=np.int64)
        watch = self.on_plan[active] & np.isfinite(self.plan_target[active])
        if not watch.any():
            return hit
        cust_of = active[flat_cust]
        cost = self.book.ledger.deposits[cust_of] - self.cycle_base[cust_of]
        value = held + np.maximum(self.book.cash[cust_of], 0.0)
        ok = watch[flat_cust] & (cost > 0.005)
        ret = np.divide(value, cost, out=np.zeros_like(value), where=ok) - 1.0
        reached = ok & (ret >= self.plan_target[cust_of] - 1e-12)
        first = np.full(active.size, NEVER, dtype=np.int64)
        np.minimum.at(first, flat_cust[reached], flat_row[reached])
        hit = np.where(first < NEVER, first, -1)
        self._hit_return = {int(active[i]): float(ret[(flat_cust == i) & (flat_row == hit[i])][0])
                            for i in np.flatnonzero(hit >= 0)}
        return hit

    def _plan_on_target(self, cust: np.ndarray, rows: np.ndarray, s: np.ndarray) -> Orders:
        """A plan reached its target at the close of `rows`: stop (cancel later debits) or take profit (sell
        everything at the next NAV, pay the proceeds out, start a new cycle with the next debit)."""
        take = self.plan_take[cust]
        for c, row, taking in zip(cust.tolist(), rows.tolist(), take.tolist(), strict=True):
            self.plan_events.append({"customer_id": str(self.spec.ids[c]), "row": int(row),
                                     "action": "take_profit" if taking else "stop",
                                     "return": self._hit_return[c]})
        stop = cust[~take]
        if stop.size:
            self.plan_target[stop] = np.nan
            later = np.zeros(len(self.f_cust), dtype=bool)
            for c, row in zip(stop.tolist(), rows[~take].tolist(), strict=True):
                later |= (self.f_cust == c) & (self.f_row > row)
            self.f_cust, self.f_row, self.f_amt, self.f_key = (a[~later] for a in
                                                                (self.f_cust, self.f_row, self.f_amt, self.f_key))
        c, r = cust[take], rows[take]
        if c.size == 0:
            return Orders.empty()
        self.withdrawal_due[c] = np.inf  # paid when the sales have filled: everything in the account
        self.withdrawal_row[c] = r + self.lag
        self.withdrawal_tries[c] = 0
        self.cycle_base[c] = self.book.ledger.deposits[c] - np.where(r == s[take], self.new_money[c], 0.0)
        local, fund, shares = self.book.holdings_of(c)
        price = self.prices[r[local], fund]
        m = local.size
        return Orders(cust=c[local], fund=fund, sell_value=shares * price, ref_price=price, buy_gross=np.zeros(m),
                      buy_fee=np.zeros(m), first=np.zeros(m, dtype=bool), sell_all=np.ones(m, dtype=bool))

    def _twin_orders(self, twins: np.ndarray, rows: np.ndarray) -> Orders | None:
        """Buy-and-hold twins: deposits buy the first proposal's weights, withdrawals sell pro rata."""
        parts = []
        fees, discount = self.book.fees, self.book.discount
        for c, row in zip(twins.tolist(), rows.tolist(), strict=True):
            price = self.prices[row]
            due = self.withdrawal_due[c]
            cash = self.book.cash[c]
            if due > 0:
                need = max(due - cash, 0.0)
                funds = np.flatnonzero(self.book.positions[c] > 0)
                value = self.book.positions[c, funds] * price[funds]
                if need > 0 and value.sum() > 0:
                    share = min(need * 1.02 / value.sum(), 1.0)
                    parts.append(Orders(cust=np.full(funds.size, c, np.int64), fund=funds, sell_value=value * share,
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

    # ------------------------------------------------------------------------------------------------
    # result
    # ------------------------------------------------------------------------------------------------

    def _log_research(self, row: int, state: ResearchState) -> None:
        self.research_log.append({"date": self.dates[row].date().isoformat(),
                                  "universe_version": state.universe_version, "funds": state.n_funds,
                                  **state.diagnostics,
                                  "models": {f"C{lvl}/{h}": w for (lvl, h), w in state.model_weights.items()}})

    def _result(self, runner: ResearchRunner | NoResearch) -> SimulationResult:
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
        pending = Orders.concat([o for o, _ in self.pending])
        return SimulationResult(
            dates=self.dates[self.rows], customers=frame, values=self.values, flow_cust=fc, flow_day=fd,
            flow_amount=fa, ledger=self.book.ledger, groups=groups, group_of=self.group_of,
            class_values=self.class_values, research=self.research_log, shown=self.shown, engine=self.engine_stats,
            config=self.config, universe_version=self.universe.version, universe_as_of=str(self.universe.as_of),
            cash_check=self.cash_check,
            extras={"book": self.book, "pending": {self.last_row + 1: pending}, "first_row": self.first_row,
                    "plan_events": self.plan_events,
                    "side": runner.side_results if isinstance(runner, ResearchRunner) else
                    {name: fn(self.universe, *args) for name, (fn, args) in self.side_tasks.items()}})


def _take(orders: Orders, mask: np.ndarray) -> Orders:
    return Orders(*(getattr(orders, f)[mask] for f in
                    ("cust", "fund", "sell_value", "ref_price", "buy_gross", "buy_fee", "first", "sell_all")))

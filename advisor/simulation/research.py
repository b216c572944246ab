"""Point-in-time research at each research date: what the service would have recommended then.

For a research date t the universe is cut at t (`point_in_time`) and the service's own code runs on it:
the models for every level and horizon (capital market assumptions estimated on data to t), the
selection from the leaderboard as of t, the construction with the holdings disclosed by t, and

* the fund-level targets the rebalancing engine tracks (`advisor.proposal.target_fund_weights`), for
  every (level, horizon, lowest category) the book needs;
* the one-click proposals (`advisor.proposal.propose`) for the first purchases due before the next
  research date (discrete amounts, fees, minimums), with the in-sample figure the proposal showed then.

A refresh is independent of every other one, so refreshes run in parallel processes (`workers`) and
are kept in a cache directory keyed by data version, settings and the code's fingerprint.
"""

from __future__ import annotations

import copyreg
import hashlib
import multiprocessing
import pickle
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from advisor.simulation.config import RESEARCH_SOURCES, SimulationConfig, code_fingerprint
from advisor.simulation.pointintime import point_in_time
from products.universe import Universe

GroupKey = tuple[int, float, bool]  # (level, horizon years, lowest category)
ProposalKey = tuple[int, float, bool, float]  # (level, horizon years, lowest category, amount)


@dataclass(frozen=True)
class ProposalOrder:
    """A first purchase as the proposal engine made it: lines (code, net amount, fee), cash remainder."""

    codes: tuple[str, ...]
    net: tuple[float, ...]
    fee: tuple[float, ...]
    remainder: float
    strategy_risk_level: int
    shown: dict[str, Any] | None  # the in-sample backtest the proposal showed at the time
    solver: str


@dataclass(frozen=True)
class ResearchRequest:
    groups: tuple[GroupKey, ...]
    proposals: tuple[ProposalKey, ...] = ()


@dataclass(frozen=True)
class ResearchState:
    """Research as of one date (plain data: it crosses process boundaries and goes to the cache)."""

    as_of: pd.Timestamp
    universe_version: str
    n_funds: int
    targets: dict[GroupKey, dict[str, float]]
    model_weights: dict[tuple[int, str], dict[str, float]]
    proposals: dict[ProposalKey, ProposalOrder]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    # the leaderboard's dimension table at `as_of` (the rebalancing engine's weak-fund rule reads it: computed
    # once here, adopted by the engine's lighter view instead of ranking every fund again each period)
    leaderboard_dimensions: pd.DataFrame | None = None


def compute_research(universe: Universe, as_of: pd.Timestamp, request: ResearchRequest,
                     config: SimulationConfig) -> ResearchState:
    """Run the service's research, targets and proposals on the universe as known at `as_of`."""
    from advisor.model_portfolios import build_model_portfolios
    from advisor.proposal import in_sample_backtest, propose, target_fund_weights
    from advisor.simulation.record import records_disabled
    from products.research import leaderboard
    from products.research.leaderboard import leaderboard_dimensions

    pit = point_in_time(universe, as_of, min_history_days=config.min_history_days,
                        silence_days=config.silence_days)
    policy = config.proposal
    with records_disabled():
        targets = {}
        for level, years, lowest in request.groups:
            weights = target_fund_weights(pit, level, years, lowest_category=lowest, config=policy)
            targets[(level, years, lowest)] = {str(k): float(v) for k, v in weights.items()}
        proposals = {}
        for level, years, lowest, amount in request.proposals:
            p = propose(pit, level, amount, years, lowest_category=lowest, config=policy)
            proposals[(level, years, lowest, amount)] = ProposalOrder(
                codes=tuple(line.code for line in p.lines), net=tuple(line.amount for line in p.lines),
                fee=tuple(line.fee for line in p.lines), remainder=float(p.cash_remainder),
                strategy_risk_level=int(p.strategy_risk_level), shown=in_sample_backtest(pit, p, config=policy),
                solver=str(p.solver.get("answered_by", "")))
    models = build_model_portfolios(pit, policy=policy.model, assumptions=policy.assumptions)
    model_weights = {key: {c: float(w) for c, w in m.weights.items()} for key, m in models.items()}
    board = leaderboard(pit)
    dimensions = leaderboard_dimensions(pit)
    picked = sorted({code for t in targets.values() for code in t})
    rated = board["rated"].reindex(picked).fillna(False).astype(bool) if len(picked) else pd.Series(dtype=bool)
    diagnostics = {
        "funds": len(pit.funds), "rated_funds": int(board["rated"].sum()),
        "target_funds": len(picked), "unrated_target_funds": int((~rated).sum()),
        "holdings_quarters": sorted(pit.holdings["quarter"].astype(str).unique().tolist())[-1:]
        if not pit.holdings.empty else [],
        "closed_funds": int((pit.funds["status"] == "closed").sum()) if "status" in pit.funds else 0,
        "model_steps": sorted({m.report.answered_by for m in models.values()}),
    }
    return ResearchState(as_of=pd.Timestamp(as_of), universe_version=pit.version, n_funds=len(pit.funds),
                         targets=targets, model_weights=model_weights, proposals=proposals, diagnostics=diagnostics,
                         leaderboard_dimensions=dimensions)


# ------------------------------------------------------------------------------------------------
# cache
# ------------------------------------------------------------------------------------------------

def missing_part(state: ResearchState | None, request: ResearchRequest) -> ResearchRequest | None:
    """What `request` asks that `state` does not hold (None when it holds everything)."""
    if state is None:
        return request
    groups = tuple(g for g in request.groups if g not in state.targets)
    proposals = tuple(p for p in request.proposals if p not in state.proposals)
    return ResearchRequest(groups, proposals) if groups or proposals else None


def merged(state: ResearchState | None, extra: ResearchState) -> ResearchState:
    """`state` extended with the targets and proposals of `extra` (same date and universe)."""
    if state is None:
        return extra
    return replace(state, targets={**state.targets, **extra.targets}, proposals={**state.proposals, **extra.proposals})


class ResearchCache:
    """Research states by date: in memory for the process, and on disk when a directory is given.

    The key is the data version, the date, the research settings and the fingerprint of the code research
    runs; a state grows as runs ask for more groups or proposals (a later run reuses what an earlier one
    computed, e.g. one customer at a time after the whole grid)."""

    _memory: ClassVar[dict[str, ResearchState]] = {}

    def __init__(self, directory: Path | None):
        self.directory = None if directory is None else Path(directory) / "research"

    def key(self, universe: Universe, as_of: pd.Timestamp, config: SimulationConfig) -> str:
        text = repr((universe.version, str(as_of.date()), config.research_key(), code_fingerprint(RESEARCH_SOURCES)))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def get(self, key: str) -> ResearchState | None:
        found = self._memory.get(key)
        if found is not None or self.directory is None:
            return found
        path = self.directory / f"{key}.pkl"
        if not path.exists():
            return None
        try:
            with path.open("rb") as fh:
                state = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            return None
        return state if isinstance(state, ResearchState) else None

    def put(self, key: str, state: ResearchState) -> None:
        if len(self._memory) > 256:
            self._memory.clear()
        self._memory[key] = state
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{key}.tmp"
        with tmp.open("wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.directory / f"{key}.pkl")

    @classmethod
    def forget(cls) -> None:
        cls._memory.clear()


# ------------------------------------------------------------------------------------------------
# runner
# ------------------------------------------------------------------------------------------------

def _mapping_proxy(items: dict) -> types.MappingProxyType:
    return types.MappingProxyType(items)


def _reduce_mapping_proxy(proxy: types.MappingProxyType) -> tuple:
    return _mapping_proxy, (dict(proxy),)


# policy settings hold read-only mappings (MappingProxyType), which pickle cannot send to a worker by default
copyreg.pickle(types.MappingProxyType, _reduce_mapping_proxy)

_WORKER_UNIVERSE: Universe | None = None  # set once per worker process (never pickled per task)


def _init_worker(universe: Universe) -> None:
    global _WORKER_UNIVERSE
    _WORKER_UNIVERSE = universe


def _work(as_of: pd.Timestamp, request: ResearchRequest, config: SimulationConfig) -> ResearchState:
    assert _WORKER_UNIVERSE is not None
    return compute_research(_WORKER_UNIVERSE, as_of, request, config)


def _side_work(fn: Callable[..., Any], args: tuple) -> Any:
    assert _WORKER_UNIVERSE is not None
    return fn(_WORKER_UNIVERSE, *args)


SideTasks = dict[str, tuple[Callable[..., Any], tuple]]  # name → (fn(universe, *args), args); fn importable


class ResearchRunner:
    """Research states for a list of dates, in date order: from the cache, else computed (in parallel
    processes when `config.workers > 1`, started ahead so that the simulation rarely waits)."""

    def __init__(self, universe: Universe, dates: list[pd.Timestamp], requests: list[ResearchRequest],
                 config: SimulationConfig, side_tasks: SideTasks | None = None):
        self.universe = universe
        self.side_tasks = dict(side_tasks or {})
        self.side_results: dict[str, Any] = {}
        self._side_futures: dict[str, Future] = {}
        self.dates = dates
        self.requests = requests
        self.config = config
        self.cache = ResearchCache(config.cache_dir)
        self.keys = [self.cache.key(universe, d, config) for d in dates]
        self.cache_hits = 0
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[int, Future] = {}

    def __iter__(self) -> Iterator[ResearchState]:
        cached = [self.cache.get(k) for k in self.keys]
        todo = {i: missing_part(cached[i], r) for i, r in enumerate(self.requests)}
        todo = {i: r for i, r in todo.items() if r is not None}
        if self.config.workers > 1 and (len(todo) > 1 or self.side_tasks):
            self._start_pool(todo)
        try:
            for i, key in enumerate(self.keys):
                state = cached[i]
                if i not in todo:
                    self.cache_hits += 1
                else:
                    future = self._futures.pop(i, None)
                    extra = (future.result() if future is not None else
                             compute_research(self.universe, self.dates[i], todo[i], self.config))
                    state = merged(state, extra)
                    self.cache.put(key, state)
                assert state is not None
                yield state
            self._finish_side_tasks()
        finally:
            self.close()

    def _finish_side_tasks(self) -> None:
        """Results of the side tasks: from the pool (they ran beside the simulation), else computed here."""
        for name, (fn, args) in self.side_tasks.items():
            future = self._side_futures.pop(name, None)
            self.side_results[name] = future.result() if future is not None else fn(self.universe, *args)

    def _start_pool(self, todo: dict[int, ResearchRequest]) -> None:
        # spawned, not forked: a fork inherits locks held by the parent's threads (BLAS, Arrow) and can hang
        context = multiprocessing.get_context("spawn")
        jobs = len(todo) + len(self.side_tasks)
        self._pool = ProcessPoolExecutor(max_workers=min(self.config.workers, jobs), mp_context=context,
                                         initializer=_init_worker, initargs=(self.universe,))
        for i, request in todo.items():
            self._futures[i] = self._pool.submit(_work, self.dates[i], request, self.config)
        # queued after the research: a worker takes them up while the simulation runs the last periods
        for name, (fn, args) in self.side_tasks.items():
            self._side_futures[name] = self._pool.submit(_side_work, fn, args)

    def close(self) -> None:
        if self._pool is not None:
            for fut in [*self._futures.values(), *self._side_futures.values()]:
                fut.cancel()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._futures.clear()
            self._side_futures.clear()

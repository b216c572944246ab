"""Nightly jobs over a whole book, Parquet to Parquet, in bounded-memory chunks of customers."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from advisor import batch_io, batch_memory
from advisor.lifecycle import tables
from advisor.lifecycle.alerts import KINDS, AlertBook, AlertPolicy, AlertRule, AlertRun, lifecycle_context, run_alerts
from advisor.lifecycle.alerts.policy import empty_history
from advisor.lifecycle.book import LifecycleBook, load_book
from advisor.lifecycle.goals import RESERVE, GoalSettings, GoalSimulator, goal_simulator, project_many
from advisor.lifecycle.report import DEFAULT_CHUNK, returns_chunks, returns_of
from advisor.lifecycle.returns import Window, compute_returns
from advisor.lifecycle.sip_guard import book_holds, holds_table
from products.universe import Universe


def _writer_for(path: Path, frame: pd.DataFrame, writer: pq.ParquetWriter | None) -> pq.ParquetWriter:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table.cast(writer.schema))
    return writer


def write_rejects(rejects: pd.DataFrame, path: Path) -> None:
    frame = rejects.astype({"customer_id": "str", "field": "str", "reason": "str", "table": "str"})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def write_returns(universe: Universe, customers: batch_io.PathOrFrame, out: str | Path, *,
                  holdings: batch_io.PathOrFrame | None = None, ledger: batch_io.PathOrFrame | None = None,
                  as_of: date | None = None, chunk_size: int = DEFAULT_CHUNK,
                  on_start: Callable[[int], None] | None = None,
                  on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Per-customer returns to `out`, per fund to `<stem>.funds.parquet`, rejects to `<stem>.rejects.parquet`."""
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    funds_out = out.with_name(f"{out.stem}.funds.parquet")
    rejects_out = out.with_name(f"{out.stem}.rejects.parquet")
    book = load_book(universe, customers, holdings=holdings, ledger=ledger, as_of=as_of or universe.as_of)
    if on_start is not None:
        on_start(book.n)
    writers: list[pq.ParquetWriter | None] = [None, None]
    try:
        for per_customer, per_fund in returns_chunks(book, chunk_size, on_progress):
            writers[0] = _writer_for(out, per_customer, writers[0])
            writers[1] = _writer_for(funds_out, per_fund, writers[1])
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
    write_rejects(book.rejects, rejects_out)
    return {"customers": book.n, "out": str(out), "funds_out": str(funds_out), "rejects_out": str(rejects_out),
            "rejected": len(book.rejects), "as_of": book.as_of.isoformat(),
            "seconds": round(time.perf_counter() - started, 2)}


# ---------------------------------------------------------------------------------------------
# the nightly 陪伴 run: returns, goals and alerts for a whole book
# ---------------------------------------------------------------------------------------------

@dataclass
class NightlyTables:
    """Validated inputs of one run; `goals`, `plans`, `debits` carry `cust` (customer row)."""

    book: LifecycleBook
    goals: pd.DataFrame
    plans: pd.DataFrame
    debits: pd.DataFrame
    preferences: pd.DataFrame
    history: pd.DataFrame
    fund_events: pd.DataFrame
    rejects: pd.DataFrame

    @property
    def as_of(self) -> date:
        return self.book.as_of


@dataclass
class ChunkResult:
    returns: pd.DataFrame
    goals: pd.DataFrame
    alerts: AlertRun
    holds: pd.DataFrame | None = None  # SIP plans that may not debit (advisor.lifecycle.sip_guard)


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).assign(cust=pd.Series(dtype=np.int64))


def prepare_tables(universe: Universe, customers: batch_io.PathOrFrame, *, as_of: date,
                   holdings: batch_io.PathOrFrame | None = None, ledger: batch_io.PathOrFrame | None = None,
                   goals: batch_io.PathOrFrame | None = None, plans: batch_io.PathOrFrame | None = None,
                   debits: batch_io.PathOrFrame | None = None, preferences: batch_io.PathOrFrame | None = None,
                   history: batch_io.PathOrFrame | pd.DataFrame | None = None,
                   fund_events: batch_io.PathOrFrame | None = None) -> NightlyTables:
    """Read and validate every table; rows that cannot be used are rejects, the run goes on."""
    book = load_book(universe, customers, holdings=holdings, ledger=ledger, as_of=as_of)
    ids = book.customers["customer_id"]
    customer_rejects = book.rejects[book.rejects["table"] == "customers"]
    parts = [book.rejects]
    frames: dict[str, pd.DataFrame] = {}
    for name, source, reader in (("goals", goals, tables.read_goals), ("plans", plans, tables.read_plans),
                                 ("debits", debits, tables.read_debits)):
        if source is None:
            frames[name] = _empty(("customer_id",))
            continue
        frame, rejects = reader(source)
        frame, orphans = tables.attach_customers(frame, ids, {"goals": "goals", "plans": "sip_plans",
                                                              "debits": "sip_debits"}[name], customer_rejects)
        frames[name] = frame.sort_values("cust", kind="stable", ignore_index=True)
        parts += [rejects, orphans]
    prefs = _empty(("customer_id", "kind", "opted_out"))
    if preferences is not None:
        prefs, rejects = tables.read_preferences(preferences, KINDS)
        parts.append(rejects)
    hist = empty_history() if history is None else (history if isinstance(history, pd.DataFrame) and
                                                    "channel" in history.columns else tables.read_history(history))
    events = batch_io.read_table(fund_events, string_columns=("code", "event")) if fund_events is not None \
        else pd.DataFrame()
    rejects = pd.concat([p for p in parts if len(p)] or [batch_io.empty_rejects()], ignore_index=True)
    return NightlyTables(book, frames["goals"], frames["plans"], frames["debits"], by_customer(prefs, ids),
                         by_customer(hist, ids), events, rejects)


def by_customer(frame: pd.DataFrame, customer_ids: pd.Series) -> pd.DataFrame:
    """`frame` with `cust` (customer row), sorted by it, for slicing chunk by chunk (`_rows`); rows of
    customers not in the book are left out (they cannot concern this run)."""
    if not len(frame):
        return frame.assign(cust=pd.Series(dtype=np.int64))
    position = batch_io.customer_positions(customer_ids, frame["customer_id"])
    known = position >= 0
    return frame.loc[known].assign(cust=position[known]).sort_values("cust", kind="stable", ignore_index=True)


def _rows(frame: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    if not len(frame):
        return frame
    a, b = np.searchsorted(frame["cust"].to_numpy(), [lo, hi])
    return frame.iloc[a:b].assign(cust=lambda f: f["cust"] - lo).reset_index(drop=True)


def months_between(as_of: date, target: np.ndarray) -> np.ndarray:
    """Whole months from `as_of` to each target date (`goals.months_until`, vectorized; 0 once passed)."""
    t = np.asarray(target, dtype="datetime64[D]")
    ty = t.astype("datetime64[Y]").astype(np.int64) + 1970
    tm = t.astype("datetime64[M]").astype(np.int64) % 12 + 1
    td = (t - t.astype("datetime64[M]")).astype(np.int64) + 1
    months = (ty - as_of.year) * 12 + (tm - as_of.month) - (td < as_of.day)
    ahead = t > np.datetime64(as_of, "D")
    return np.where(ahead, np.maximum(months, 1), 0)


def project_goals(sim: GoalSimulator, goals: pd.DataFrame, allowed_level: np.ndarray, as_of: date) -> pd.DataFrame:
    """Probability and on-track flag of every goal (the advice is computed for the goals that alert)."""
    if not len(goals):
        return goals
    stated = goals["level"].to_numpy(dtype=np.int64)
    allowed = allowed_level[goals["cust"].to_numpy()]
    level = np.where(goals["kind"].to_numpy() == "reserve", RESERVE,
                     np.where(stated > 0, np.minimum(stated, allowed), allowed))  # never above the customer's level
    months = months_between(as_of, goals["target_date"].to_numpy())
    result = project_many(sim, level, months, goals["current_amount"].to_numpy(dtype=float),
                          goals["monthly_contribution"].to_numpy(dtype=float),
                          goals["target_amount"].to_numpy(dtype=float))
    return goals.assign(level_used=level, months=months, probability=result["probability"],
                        on_track=result["on_track"])


def plan_returns(book: LifecycleBook, plans: pd.DataFrame) -> pd.DataFrame:
    """Each plan's return and value from the ledger rows carrying its id (from `cycle_start` on)."""
    if not len(plans):
        return plans
    ev = book.events
    idx = np.flatnonzero(ev.plan >= 0)
    # (customer row, plan id) as one integer: the plan id's position among the ledger's plan ids; a plan
    # whose id no ledger row carries has no rows
    width = max(len(book.plan_ids), 1)
    plan_code = batch_io.positions_in(plans["plan_id"].astype(str), book.plan_ids.astype(str)) if \
        len(book.plan_ids) else np.full(len(plans), -1)
    matched = np.flatnonzero(plan_code >= 0)
    keys = pd.Index(plans["cust"].to_numpy(dtype=np.int64)[matched] * width + plan_code[matched])
    found = keys.get_indexer(ev.cust[idx].astype(np.int64) * width + ev.plan[idx])
    row = np.where(found >= 0, matched[np.maximum(found, 0)], -1)
    start = plans["cycle_start"].to_numpy(dtype="datetime64[D]")
    start_day = np.where(np.isnat(start), np.iinfo(np.int64).min, (start - np.datetime64("1970-01-01", "D")).astype(
        np.int64))
    keep = (row >= 0)
    keep[keep] &= ev.day[idx[keep]] >= start_day[row[keep]]
    sub = ev.take(idx[keep])
    sub.cust = row[keep].astype(np.int64)
    result = compute_returns(sub.sorted(), len(plans), book.prices, book.as_of, windows=(Window("inception", None),),
                             fund_windows=False)
    pairs = np.unique(np.stack([sub.cust, sub.fund], axis=1), axis=0) if len(sub) else np.zeros((0, 2), np.int64)
    funds = np.empty(len(plans), dtype=object)
    funds[:] = [[] for _ in range(len(plans))]
    for plan_row, fund in pairs.tolist():
        funds[plan_row].append(fund)
    return plans.assign(plan_return=result.customer["holding_return"], plan_value=result.customer["market_value"],
                        funds=funds)


def run_chunk(tables_: NightlyTables, lo: int, hi: int, *, rules: tuple[AlertRule, ...] | None = None,
              policy: AlertPolicy | None = None, goal_settings: GoalSettings | None = None) -> ChunkResult:
    """Returns, goals and alerts of customers lo…hi-1."""
    book = tables_.book.slice(lo, hi)
    universe = book.universe
    ctx = lifecycle_context(universe)
    result = returns_of(book, fund_windows=False)
    held = result.position["market_value"] > 1e-6
    alert_book = AlertBook(ctx=ctx, as_of=book.as_of, customers=book.customers,
                           pos_cust=result.position["cust"][held], pos_fund=result.position["fund"][held],
                           pos_value=result.position["market_value"][held])
    sim = goal_simulator(universe, goal_settings)
    alert_book.goal_sim = sim
    goals = project_goals(sim, _rows(tables_.goals, lo, hi), alert_book.allowed_level, book.as_of)
    plans = plan_returns(book, _rows(tables_.plans, lo, hi))
    debits = _rows(tables_.debits, lo, hi)
    if len(debits) and len(plans):
        # plan ids are a customer's own: a debit takes the name of its customer's plan
        names = dict(zip(zip(plans["cust"].tolist(), plans["plan_id"].astype(str).tolist(), strict=True),
                         plans["name"].astype(str).tolist(), strict=True))
        debits = debits.assign(plan_name=[names.get(key) for key in zip(
            debits["cust"].tolist(), debits["plan_id"].astype(str).tolist(), strict=True)])
    alert_book.goals, alert_book.plans, alert_book.debits = goals, plans, debits
    alert_book.fund_events = tables_.fund_events
    run = run_alerts(alert_book, rules, history=_rows(tables_.history, lo, hi),
                     preferences=_rows(tables_.preferences, lo, hi), policy=policy)
    goal_cols = ["customer_id", "goal_id", "name", "kind", "level_used", "months", "target_amount", "target_date",
                 "current_amount", "monthly_contribution", "probability", "on_track"]
    goals_out = goals[goal_cols] if len(goals) else pd.DataFrame(columns=goal_cols)
    return ChunkResult(result.customer_frame(book.customer_id), goals_out, run, holds_table(book_holds(alert_book)))


# ---------------------------------------------------------------------------------------------
# Parquet in, outbox out
# ---------------------------------------------------------------------------------------------

OUTPUTS = ("alerts", "rm_tasks", "candidates", "returns", "goals", "sip_holds")


def partition_dir(out: Path, as_of: date) -> Path:
    return out / f"as_of={as_of.isoformat()}"


def outbox_history(out: Path, as_of: date, days: int = 400) -> pd.DataFrame:
    """Alerts pushed and tasks created by earlier runs in `out` (partitions dated before `as_of`)."""
    parts = []
    for folder in sorted(out.glob("as_of=*")):
        day = date.fromisoformat(folder.name.split("=", 1)[1])
        if not (as_of.toordinal() - days < day.toordinal() < as_of.toordinal()):
            continue
        for name, channel in (("alerts", "customer"), ("rm_tasks", "rm_task")):
            path = folder / f"{name}.parquet"
            if path.exists():
                frame = pq.read_table(path, columns=["customer_id", "kind", "dedupe_key", "as_of"]).to_pandas()
                parts.append(frame.assign(channel=channel))
    if not parts:
        return empty_history()
    return pd.concat(parts, ignore_index=True)


def run_files(universe: Universe, customers: batch_io.PathOrFrame, out: str | Path, *, as_of: date,
              holdings: batch_io.PathOrFrame | None = None, ledger: batch_io.PathOrFrame | None = None,
              goals: batch_io.PathOrFrame | None = None, plans: batch_io.PathOrFrame | None = None,
              debits: batch_io.PathOrFrame | None = None, preferences: batch_io.PathOrFrame | None = None,
              history: batch_io.PathOrFrame | None = None, fund_events: batch_io.PathOrFrame | None = None,
              chunk_size: int = DEFAULT_CHUNK, policy: AlertPolicy | None = None, workers: int | None = None,
              on_start: Callable[[int], None] | None = None,
              on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The nightly 陪伴 run for a whole book: writes `out/as_of=DATE/{alerts, rm_tasks, candidates, returns,
    goals, sip_holds, rejects}.parquet` and `summary.json` (sip_holds: plans the bank's debit run must not debit).
    Earlier partitions in `out` (and `history`, if given) are the
    dedupe and cap history; re-running a date replaces that date's partition."""
    started = time.perf_counter()
    out = Path(out)
    target = partition_dir(out, as_of)
    target.mkdir(parents=True, exist_ok=True)
    past = outbox_history(out, as_of)
    if history is not None:
        past = pd.concat([past, tables.read_history(history)], ignore_index=True)
    inputs = prepare_tables(universe, customers, as_of=as_of, holdings=holdings, ledger=ledger, goals=goals,
                            plans=plans, debits=debits, preferences=preferences, history=past,
                            fund_events=fund_events)
    prepared = time.perf_counter()
    if on_start is not None:
        on_start(inputs.book.n)
    writers: dict[str, pq.ParquetWriter | None] = dict.fromkeys(OUTPUTS)
    counts = {"alerts": 0, "rm_tasks": 0, "sip_holds": 0}
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    try:
        for (lo, hi), frames in chunk_frames(inputs, chunk_size, workers, policy):
            for name, frame in frames.items():
                writers[name] = _write(target / f"{name}.parquet", frame, writers[name])
            counts["alerts"] += frames["alerts"].num_rows
            counts["rm_tasks"] += frames["rm_tasks"].num_rows
            counts["sip_holds"] += frames["sip_holds"].num_rows
            for key, value in _value_counts(frames["candidates"], "status").items():
                by_status[key] = by_status.get(key, 0) + value
            for key, value in _value_counts(frames["alerts"], "kind").items():
                by_kind[key] = by_kind.get(key, 0) + value
            if on_progress is not None:
                on_progress(hi - lo)
    finally:
        for writer in writers.values():
            if writer is not None:
                writer.close()
    write_rejects(inputs.rejects, target / "rejects.parquet")
    summary = {"as_of": as_of.isoformat(), "customers": inputs.book.n, "outbox": str(target),
               "alerts": counts["alerts"], "rm_tasks": counts["rm_tasks"], "sip_holds": counts["sip_holds"],
               "candidates_by_status": by_status,
               "alerts_by_kind": by_kind, "rejected": len(inputs.rejects),
               "rejected_by_table": {str(k): int(v) for k, v in inputs.rejects["table"].value_counts().items()},
               "universe_version": universe.version,
               "seconds": {"prepare": round(prepared - started, 2), "total": round(time.perf_counter() - started, 2)}}
    (target / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary


_WORK: tuple[NightlyTables, AlertPolicy | None] | None = None


def _frames(inputs: NightlyTables, lo: int, hi: int, policy: AlertPolicy | None) -> dict[str, pa.Table]:
    """One chunk's outputs as Arrow tables: built where the chunk was computed (a worker, in parallel), they
    reach the writing process as Arrow buffers instead of pickled Python objects."""
    chunk = run_chunk(inputs, lo, hi, policy=policy)
    frames = {"alerts": chunk.alerts.outbox, "rm_tasks": chunk.alerts.rm_tasks,
              "candidates": chunk.alerts.candidates.drop(columns=["cust"]), "returns": chunk.returns,
              "goals": chunk.goals, "sip_holds": chunk.holds if chunk.holds is not None else pd.DataFrame()}
    return {name: pa.Table.from_pandas(plain_objects(frame), preserve_index=False) for name, frame in frames.items()}


def _value_counts(table: pa.Table, column: str) -> dict[str, int]:
    counts = pc.value_counts(table[column]).to_pylist() if table.num_rows else []
    return {str(c["values"]): int(c["counts"]) for c in counts}


def _chunk_in_worker(bounds: tuple[int, int]) -> dict[str, pa.Table]:
    """Worker: one chunk's outputs (the prepared inputs are inherited from the parent by fork)."""
    assert _WORK is not None
    return _frames(_WORK[0], bounds[0], bounds[1], _WORK[1])


def chunk_frames(inputs: NightlyTables, chunk_size: int, workers: int | None,
                 policy: AlertPolicy | None) -> Iterator[tuple[tuple[int, int], dict[str, pa.Table]]]:
    """Each chunk's output frames in customer order; with several workers the chunks are computed in forked
    processes (both cores by default for runs of several chunks), a window of 2 × workers in flight."""
    global _WORK
    n = inputs.book.n
    bounds = [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]
    workers = default_workers(n, chunk_size) if workers is None else workers
    if workers <= 1 or len(bounds) <= 1:
        for lo, hi in bounds:
            yield (lo, hi), _frames(inputs, lo, hi, policy)
        return
    # the per-universe work every chunk shares is done once, before forking
    lifecycle_context(inputs.book.universe)
    sim = goal_simulator(inputs.book.universe)
    for level in range(6):
        sim.tables(level)
    _WORK = (inputs, policy)
    batch_memory.return_freed_memory()  # the workers start on a lean copy of this process
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                 initializer=batch_memory.keep_freed_memory) as pool:
            pending: deque = deque()
            queue = iter(bounds)
            for item in queue:
                pending.append((item, pool.submit(_chunk_in_worker, item)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                item, future = pending.popleft()
                frames = future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(_chunk_in_worker, nxt)))
                yield item, frames
    finally:
        _WORK = None


def default_workers(n_customers: int, chunk_size: int) -> int:
    """Both cores for runs of several chunks (fork only, i.e. Linux); one otherwise."""
    if n_customers <= chunk_size or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def _write(path: Path, table: pa.Table, writer: pq.ParquetWriter | None) -> pq.ParquetWriter | None:
    if writer is None and not table.num_rows and path.exists():
        path.unlink()
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
    return writer


def plain_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding pandas NA become None, so every chunk writes the same Arrow types."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out

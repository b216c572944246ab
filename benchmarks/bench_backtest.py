"""The walk-forward grid: the simulator's book against a straightforward per-customer daily loop, in one run.

    python benchmarks/bench_backtest.py [--data ../shared/data] [--workers 2] [--every 131] [--no-warm]
                                        [--research-only] [--cache DIR]

Side by side in ONE invocation, on the real data:

* **grid, cold** — what a first-time user gets from `advisor backtest --data DIR`: `run_backtest` over the
  full grid (5 levels × 3 horizons × every monthly start, daily to the end of the data, with buy-and-hold
  twins and every comparison), point-in-time research computed from scratch in `--workers` processes (a
  fresh cache directory), the simulation and the report;
* **grid, warm** — the same run again with the research kept from the first (what a change to the
  rebalancing engine or the simulator costs to re-evaluate; any change to research code recomputes it);
* **loop** — the plain daily loop a developer writes first: one customer (and its buy-and-hold twin) at a
  time, every trading day, the same proposal and rebalancing engines asked about that customer on every
  evening it is due (`lookahead=1`: one engine call per evening), with the same research (read from the
  grid's research cache: both sides would compute the identical per-date research, so it is left out of
  the loop's time). It is timed on a rule-chosen sample — every `--every`-th customer of the grid in grid
  order (131 is prime and not a multiple of 15, so the sample cycles through every level × horizon and
  spreads over the start years) — and extrapolated to the grid in proportion to the number of customers;
  each sampled customer's and twin's daily values must equal the grid's (largest relative difference);
* **research cadence** — CPU seconds of one point-in-time refresh, and the refreshes per cadence.

CPU seconds are user + system of this process and its workers (`resource.getrusage`, children included);
peak memory is the largest resident set of this process and of any worker. The machine has 2 cores shared
with other jobs: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.simulation.backtest import run_backtest
from advisor.simulation.config import SimulationConfig
from advisor.simulation.customers import grid_customers
from advisor.simulation.research import ResearchRequest, compute_research
from advisor.simulation.schedule import default_start, research_rows
from advisor.simulation.simulator import simulate
from products.loading import load_universe


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    wall, cpu = time.perf_counter(), cpu_seconds()
    out = fn()
    return out, time.perf_counter() - wall, cpu_seconds() - cpu


def peak_mb() -> tuple[float, float]:
    """Largest resident set (MB) of this process and of any finished worker."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_maxrss / 1024, kids.ru_maxrss / 1024


def rss_mb() -> tuple[float, float]:
    """(resident set now, its peak so far) of this process, MB (Linux /proc; NaN elsewhere)."""
    found = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line[:5]] = float(line.split()[1]) / 1024
    except OSError:
        pass
    return found.get("VmRSS", float("nan")), found.get("VmHWM", float("nan"))


def memory_note() -> str:
    now, peak = rss_mb()
    return f"main process {now:,.0f} MB now, {peak:,.0f} MB peak so far"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("ADVISOR_SHARED_DATA", "../shared/data"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=131, help="the loop runs every N-th customer of the grid")
    parser.add_argument("--no-warm", action="store_true", help="skip the second (warm research) grid run")
    parser.add_argument("--research-only", action="store_true", help="only time one research refresh")
    parser.add_argument("--cache", default=None, help="research cache to (re)use, e.g. one `advisor backtest "
                        "--cache` filled; default a fresh one (the first grid run is then cold)")
    args = parser.parse_args()
    print(f"load average before: {load_average()}", flush=True)
    universe, wall, cpu = timed(lambda: load_universe(args.data))
    print(f"load universe: {wall:.1f} s wall, {cpu:.1f} s CPU ({len(universe.funds)} funds × "
          f"{len(universe.returns)} days); {memory_note()}", flush=True)

    # ---- research: one refresh, and how many each cadence needs
    groups = tuple((lv, y, False) for lv in range(1, 6) for y in (0.5, 2.0, 5.0))
    request = ResearchRequest(groups, tuple((lv, y, False, 100_000.0) for lv, y, _ in groups))
    config = SimulationConfig()
    day = universe.returns.index[-300]
    _, r_wall, r_cpu = timed(lambda: compute_research(universe, day, request, config))
    start = default_start(universe.returns, universe.funds["asset_class"].astype(str).to_numpy(),
                          config.min_history_days)
    first = int(universe.returns.index.searchsorted(start)) - 1
    counts = {c: len(research_rows(universe.returns.index, first, len(universe.returns) - 1, c))
              for c in ("monthly", "quarterly", "semiannual", "yearly")}
    print(f"one research refresh ({day.date()}): {r_wall:.1f} s wall, {r_cpu:.1f} s CPU; refreshes per cadence "
          + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    if args.research_only:
        return

    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as tmp:
        cache = Path(args.cache or tmp)
        config = SimulationConfig(workers=args.workers, cache_dir=cache)
        load_cold = load_average()
        cold, c_wall, c_cpu = timed(lambda: run_backtest(universe, config=config))
        customers = len(cold.result.customers)
        state = "cold research" if args.cache is None else f"research from {cache} where cached"
        print(f"grid, {state} ({args.workers} workers): {c_wall:.1f} s wall, {c_cpu:.1f} s CPU (load "
              f"{load_cold} → {load_average()}) — {customers:,} customers incl. twins, "
              f"{cold.payload['grid']['starts']} starts, {len(cold.result.dates):,} days; engine "
              f"{cold.payload['engine']['calls']:,} calls, {cold.payload['engine']['asked']:,} evenings answered; "
              f"{memory_note()}", flush=True)
        recorded = Path(__file__).resolve().parents[1] / "docs" / "backtest-baseline.json"
        if recorded.exists():  # the grid's recorded results (docs/backtest-results.md) must be reproduced
            import json

            before = {(r["level"], r["horizon_years"]): r for r in json.loads(recorded.read_text())["results"]}
            gaps = [abs(float(now[k]) - float(before[(now["level"], now["horizon_years"])][k]))
                    for now in cold.payload["results"] if (now["level"], now["horizon_years"]) in before
                    for k in now if isinstance(now[k], float) and isinstance(
                        before[(now["level"], now["horizon_years"])].get(k), float)]
            print(f"recorded grid (docs/backtest-baseline.json): {len(gaps):,} figures compared, largest "
                  f"difference {max(gaps, default=float('nan')):.1e}", flush=True)
        if not args.no_warm:
            warm, w_wall, w_cpu = timed(lambda: run_backtest(universe, config=config))
            print(f"grid, warm research: {w_wall:.1f} s wall, {w_cpu:.1f} s CPU (simulation "
                  f"{warm.payload['timing']['simulation_seconds']:.1f} s wall); {memory_note()}", flush=True)
            assert np.array_equal(np.nan_to_num(cold.result.values), np.nan_to_num(warm.result.values))

        # ---- the per-customer daily loop on every N-th customer of the grid, with the same research
        grid = grid_customers(universe.returns.index, start, universe.returns.index[-1])
        sample = grid.iloc[::max(args.every, 1)]
        daily = SimulationConfig(cache_dir=cache, lookahead=1)
        ids = cold.result.customers["customer_id"].to_numpy()
        loop_wall = loop_cpu = 0.0
        worst = 0.0
        for _, row in sample.iterrows():
            one, wall, cpu = timed(lambda row=row: simulate(universe, pd.DataFrame([row]), config=daily))
            loop_wall += wall
            loop_cpu += cpu
            for kind in (0, 1):  # the customer and its buy-and-hold twin
                mine = one.values[kind]
                theirs = cold.result.values[np.flatnonzero(ids == row["customer_id"])[kind]][-len(mine):]
                ok = np.isfinite(mine)
                assert np.array_equal(ok, np.isfinite(theirs)), row["customer_id"]
                worst = max(worst, float(np.max(np.abs(mine[ok] - theirs[ok]) / np.abs(theirs[ok]))))
            print(f"  loop {row['customer_id']}: {wall:.1f} s wall, {cpu:.1f} s CPU, {one.engine['calls']:,} "
                  f"engine calls; {memory_note()}", flush=True)
        scale = len(grid) / len(sample)
        print(f"loop, one customer at a time (every {args.every}th of {len(grid):,}: {len(sample)} customers + "
              f"twins): {loop_wall:.1f} s wall, {loop_cpu:.1f} s CPU → {loop_wall * scale:,.0f} s wall, "
              f"{loop_cpu * scale:,.0f} s CPU for the grid", flush=True)
        print(f"ratio loop / grid: {loop_wall * scale / c_wall:,.1f}× wall, {loop_cpu * scale / c_cpu:,.1f}× CPU "
              f"against the cold grid (research included in the grid only)"
              + ("" if args.no_warm else f"; {loop_wall * scale / w_wall:,.1f}× wall, "
                 f"{loop_cpu * scale / w_cpu:,.1f}× CPU against the warm grid (both without research)"),
              flush=True)
        print(f"agreement: largest relative difference of the sampled customers' daily values {worst:.1e}")
    main_mb, worker_mb = peak_mb()
    print(f"peak memory: {main_mb:,.0f} MB main process, {worker_mb:,.0f} MB largest worker")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()

"""The walk-forward grid: the simulator's book against a straightforward per-customer daily loop.

    python benchmarks/bench_backtest.py [--data ../shared/data] [--workers 2] [--sample 6] [--research-only]
                                        [--cache DIR]

Side by side in one run, on the real data:

* **grid, cold**: `run_backtest` over the full grid (5 levels × 3 horizons × every monthly start, daily to
  the end of the data, with buy-and-hold twins and every comparison), research computed from scratch in
  `--workers` processes (a fresh cache directory);
* **grid, warm**: the same run again with the research kept from the first (what a change to the
  rebalancing engine costs to re-evaluate; any change to research code recomputes it);
* **baseline**: the plain daily loop a developer writes first — one customer at a time, every trading
  day, the engine asked about that customer on every evening it is due (`lookahead=1`, one engine call
  per evening) — timed on a sample of the grid's customers (spread over levels, horizons and start
  years) with the same research, extrapolated to the grid; each sampled customer's daily values must
  equal the grid's to 1e-9 (the book's stretches give the nightly answers exactly);
* **research cadence**: CPU seconds of one point-in-time refresh, and the number of refreshes for each
  cadence (monthly, quarterly, semiannual, yearly).

The machine has 2 cores shared with other jobs: the load average is printed before and after.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("ADVISOR_SHARED_DATA", "../shared/data"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=6, help="customers timed in the per-customer daily loop")
    parser.add_argument("--research-only", action="store_true", help="only time one research refresh")
    parser.add_argument("--cache", default=None, help="research cache to (re)use, e.g. one `advisor backtest "
                        "--cache` filled; default a fresh one (the first grid run is then cold)")
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    universe, wall, cpu = timed(lambda: load_universe(args.data))
    print(f"load universe: {wall:.1f} s wall, {cpu:.1f} s CPU ({len(universe.funds)} funds × "
          f"{len(universe.returns)} days)")

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
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if args.research_only:
        return

    with tempfile.TemporaryDirectory(prefix="bench-backtest-") as tmp:
        cache = Path(args.cache or tmp)
        config = SimulationConfig(workers=args.workers, cache_dir=cache)
        cold, c_wall, c_cpu = timed(lambda: run_backtest(universe, config=config))
        customers = len(cold.result.customers)
        state = "cold research" if args.cache is None else f"research from {cache} where cached"
        print(f"grid, {state} ({args.workers} workers): {c_wall:.1f} s wall, {c_cpu:.1f} s CPU — "
              f"{customers:,} customers incl. twins, {cold.payload['grid']['starts']} starts, "
              f"{len(cold.result.dates):,} days; engine {cold.payload['engine']['calls']:,} calls, "
              f"{cold.payload['engine']['asked']:,} evenings answered")
        if args.cache is None:  # the first run filled the research cache: the second is the warm one
            warm, w_wall, w_cpu = timed(lambda: run_backtest(universe, config=config))
            print(f"grid, warm research: {w_wall:.1f} s wall, {w_cpu:.1f} s CPU (simulation "
                  f"{warm.payload['timing']['simulation_seconds']:.1f} s)")
            assert np.array_equal(np.nan_to_num(cold.result.values), np.nan_to_num(warm.result.values))
        else:  # research came from the given cache: that run was the warm one
            w_wall, w_cpu = c_wall, c_cpu

        # ---- the per-customer daily loop on a sample, with the same research
        grid = grid_customers(universe.returns.index, start, universe.returns.index[-1])
        rng = np.random.default_rng(0)
        sample = grid.iloc[np.sort(rng.choice(len(grid), size=min(args.sample, len(grid)), replace=False))]
        daily = SimulationConfig(cache_dir=cache, lookahead=1)
        ids = cold.result.customers["customer_id"].to_numpy()
        total_wall = total_cpu = 0.0
        worst = 0.0
        for _, row in sample.iterrows():
            one, wall, cpu = timed(lambda row=row: simulate(universe, pd.DataFrame([row]), config=daily))
            total_wall += wall
            total_cpu += cpu
            print(f"  loop customer {row['customer_id']}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
                  f"{one.engine['calls']:,} engine calls", flush=True)
            for kind in (0, 1):
                mine = one.values[kind]
                theirs = cold.result.values[np.flatnonzero(ids == row["customer_id"])[kind]]
                theirs = theirs[-len(mine):]
                ok = np.isfinite(mine)
                worst = max(worst, float(np.max(np.abs(mine[ok] - theirs[ok]) / np.abs(theirs[ok]))))
        per_customer = total_wall / len(sample)
        loop_cpu = total_cpu / len(sample) * len(grid)
        print(f"baseline, per-customer daily loop: {per_customer:.1f} s wall ({total_cpu / len(sample):.1f} s CPU) "
              f"per customer and twin over {len(sample)} sampled → {per_customer * len(grid):,.0f} s for the grid "
              f"({per_customer * len(grid) / w_wall:,.0f}× the warm grid); in CPU "
              f"{loop_cpu:,.0f} s for the grid ({loop_cpu / w_cpu:,.0f}× the warm grid's CPU); "
              f"largest value difference {worst:.1e}")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()

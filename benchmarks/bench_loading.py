"""Data loading: the shared raw layout → a validated Universe, against the plain-pandas load a developer
would write first (read_csv per NAV file, json per profile, read_csv on the holdings archive, pivot), and
the canonical Parquet read the service does at start-up.

    python benchmarks/bench_loading.py [--data ../shared/data] [--repeat 3]

The baseline does less than we do (no validation, no fees, no industries mapping, no money funds), so the
ratio understates our advantage. Timings are wall-clock, best of --repeat, in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def naive_pandas_load(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What a developer writes first: a per-file pandas loop, then pivot."""
    frames = []
    for path in sorted((root / "cn_funds" / "nav").glob("*.csv")):
        frame = pd.read_csv(path)
        frame["净值日期"] = pd.to_datetime(frame["净值日期"])
        frame["code"] = path.stem
        frames.append(frame)
    nav = pd.concat(frames, ignore_index=True)
    returns = nav.pivot_table(index="净值日期", columns="code", values="日增长率") / 100
    profiles = pd.DataFrame([json.loads(p.read_text(encoding="utf-8"))
                             for p in sorted((root / "cn_funds" / "meta").glob("*.json"))])
    holdings = pd.read_csv(root / "cn_funds" / "holdings_top10.csv.gz", dtype={"stock_code": str, "fund_code": str},
                           low_memory=False)
    holdings = holdings.drop_duplicates()
    pd.read_csv(root / "cn_funds" / "sw_industry" / "stock_industry_history.csv", dtype=str)
    pd.read_csv(root / "benchmarks" / "cn_etf_prices.csv", index_col=0, parse_dates=True)
    return returns, profiles, holdings


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("ADVISOR_SHARED_DATA", "../shared/data"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(args.data).resolve()
    if not (root / "cn_funds").is_dir():
        raise SystemExit(f"shared data not found at {root}: pass --data or set ADVISOR_SHARED_DATA")

    from products.canonical import read_canonical, write_canonical
    from products.sources.shared import load_shared_layout

    ours, universe = best_of(lambda: load_shared_layout(root), args.repeat)
    base, (returns, _, holdings) = best_of(lambda: naive_pandas_load(root), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        write_s, _ = best_of(lambda: write_canonical(universe, tmp), 1)
        read_s, _ = best_of(lambda: read_canonical(tmp), args.repeat)

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"shared layout → validated Universe ({len(universe.funds)} funds, {len(universe.returns)} days, "
          f"{len(universe.holdings):,} holdings, {len(universe.issues):,} findings): {ours:.2f} s")
    print(f"plain pandas loop (returns {returns.shape}, {len(holdings):,} holdings, no validation): {base:.2f} s")
    print(f"ratio (pandas / ours): {base / ours:.1f}×   target ≤ 10 s: {'met' if ours <= 10 else 'MISSED'}")
    print(f"canonical Parquet: write {write_s:.2f} s, read {read_s:.2f} s")


if __name__ == "__main__":
    main()

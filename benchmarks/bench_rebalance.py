"""Rebalancing: what the policy does to a book, and how fast — side by side in one run.

    python benchmarks/bench_rebalance.py [--data DIR] [--book demo|near] [--customers 20000] [--seed 1]
        [--before-repo PATH] [--speed 1000000] [--latency-sample 200]

Outcome (the numbers a relationship manager asks for, `advisor.rebalancing.metrics.run_summary`): shares of
customers by status, customers trading, orders per trading customer, value sold and bought back in the same
asset class (round trip), fees per yuan of drift removed. Two books:

* `--book demo` — the book users generate (`advisor demo-data customers --n N --seed S`): random holdings,
  heavily drifted, idle cash, expired assessments;
* `--book near` — customers near their model (the proposal's funds, a weak or event fund replaced within its
  class as the engine does) with ±12% noise, 0–2 funds of their own
  (some above the level), some idle cash, lots of all ages (2% under 7 days), 8% deposits, 3% withdrawals,
  2% lowered levels, 12% expired assessments: the steady state.

`--before-repo PATH` runs the engine of another checkout (e.g. the commit before this policy) on the same
book files in a subprocess and reports its outcome beside this one's.

Speed (`--speed N`): N customers of the chosen book, valued lots in memory → `rebalance_batch` → trades,
summary, positions and lots-after frames; peak RSS. The baseline is what a team without a batch engine does:
one customer at a time through the same engine (a batch of one, as the API runs it), its median time on a
sample of trading customers times N. The machine has 2 cores shared with other jobs: the load average is
printed with every number, and the CPU time the batch used (both threads) beside its wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor import demo_customers
from advisor.batch_io import read_customers, read_holdings, value_lots
from advisor.rebalancing import rebalance_batch, rebalance_book
from advisor.rebalancing.metrics import run_summary
from advisor.rebalancing.universe_facts import (
    HORIZON_OF_BUCKET,
    default_targets,
    fund_event_names,
    fund_facts,
    group_targets,
)
from products.loading import load_universe

AS_OF = date(2026, 12, 4)
LEVEL_MIX = (0.12, 0.30, 0.33, 0.18, 0.07)

BEFORE_SCRIPT = """
import json, sys
from datetime import date
import pandas as pd
from products.loading import load_universe
from advisor.rebalancing import rebalance_book
data, book, out = sys.argv[1:4]
u = load_universe(None if data == "-" else data)
r = rebalance_book(u, f"{book}/customers.parquet", f"{book}/holdings.parquet", as_of=date.fromisoformat(sys.argv[4]))
r.summary.to_parquet(f"{out}/summary.parquet")
r.trades.drop(columns=["lot_dates"], errors="ignore").to_parquet(f"{out}/trades.parquet")
"""


def load(universe_dir: str | None):
    return load_universe(universe_dir)


def demo_book(universe, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    customers, holdings = demo_customers.generate(universe, n, seed=seed, as_of=AS_OF)
    return customers.to_pandas(), holdings.to_pandas()


def near_book(universe, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers near their model (see the module docstring), in the batch table formats."""
    rng = np.random.default_rng(seed)
    provider = default_targets(universe)
    level = rng.choice(np.arange(1, 6), size=n, p=LEVEL_MIX)
    bucket = rng.choice(3, size=n, p=(0.2, 0.4, 0.4))
    group = (level - 1) * 3 + bucket
    n_funds = len(universe.funds)
    # the model the engine tracks: the proposal's funds, weak or event funds replaced within their class
    blocked = (fund_event_names(universe, None) != "") | fund_facts(universe).weak
    groups = np.array([(lv, lv, b) for lv in range(1, 6) for b in range(3)])
    targets, _ = group_targets(universe, provider, groups, blocked)
    wealth = np.exp(rng.normal(np.log(80_000), 1.0, n))
    cash_share = np.where(rng.random(n) < 0.7, rng.uniform(0.0, 0.10, n), 0.0)
    cash = np.round(wealth * cash_share, 2)
    funds_value = wealth - cash
    g_rows, g_funds = np.nonzero(targets > 0)
    per_group = np.bincount(g_rows, minlength=15)
    first = np.concatenate([[0], np.cumsum(per_group)])
    counts = per_group[group]
    cust = np.repeat(np.arange(n), counts)
    offsets = np.cumsum(counts) - counts
    pos = np.repeat(first[group], counts) + np.arange(counts.sum()) - np.repeat(offsets, counts)
    fund = g_funds[pos]
    value = targets[group[cust], fund] * funds_value[cust] * np.exp(rng.normal(0.0, 0.12, len(fund)))
    n_extra = rng.choice(3, size=n, p=(0.5, 0.35, 0.15))
    e_cust = np.repeat(np.arange(n), n_extra)
    levels = universe.funds["risk_level"].to_numpy()
    e_fund = rng.integers(0, n_funds, len(e_cust))
    suitable = levels[e_fund] <= level[e_cust]
    e_fund = np.where(suitable | (rng.random(len(e_cust)) < 0.15), e_fund, rng.integers(0, n_funds, len(e_cust)))
    e_value = funds_value[e_cust] * rng.uniform(0.02, 0.10, len(e_cust))
    cust = np.concatenate([cust, e_cust])
    fund = np.concatenate([fund, e_fund])
    value = np.concatenate([value, e_value])
    split = rng.random(len(cust)) < 0.3
    share = rng.uniform(0.2, 0.8, split.sum())
    lot_cust = np.concatenate([cust, cust[split]])
    lot_fund = np.concatenate([fund, fund[split]])
    lot_value = np.concatenate([value, value[split] * share])
    lot_value[: len(cust)][split] *= 1 - share
    days = rng.integers(7, 1500, len(lot_cust))
    days[rng.random(len(days)) < 0.02] = rng.integers(0, 7)
    ids = np.char.add("N", np.char.zfill(np.arange(n).astype(str), 9)).astype(object)
    previous = np.where(rng.random(n) < 0.02, np.minimum(level + 1, 5), level)
    flow = np.where(rng.random(n) < 0.08, np.round(rng.uniform(1000, 50_000, n), 2), 0.0)
    withdraw = rng.random(n) < 0.03
    flow = np.where(withdraw, -np.round(wealth * rng.uniform(0.05, 0.3, n), 2), flow)
    expires = pd.Timestamp(AS_OF) + pd.to_timedelta(rng.integers(-44, 365, n), unit="D")
    customers = pd.DataFrame({
        "customer_id": ids, "risk_level": np.char.add("C", level.astype(str)), "lowest_category": False,
        "assessment_expires_on": expires, "horizon_years": np.array(HORIZON_OF_BUCKET)[bucket], "cash": cash,
        "monthly_expenses": np.round(np.exp(rng.normal(np.log(5_000), 0.4, n)), -1),
        "previous_risk_level": np.char.add("C", previous.astype(str)), "cash_flow": flow})
    holdings = pd.DataFrame({"customer_id": ids[lot_cust], "code": universe.codes[lot_fund],
                             "amount": np.round(lot_value, 2),
                             "purchase_date": pd.Timestamp(AS_OF) - pd.to_timedelta(days, unit="D")})
    return customers, holdings


def make_book(universe, kind: str, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return demo_book(universe, n, seed) if kind == "demo" else near_book(universe, n, seed)


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def outcome_table(rows: dict[str, dict]) -> str:
    keys = [("share_trading", "customers trading", "{:.1%}"),
            ("trades_per_trading_customer", "orders per trading customer", "{:.2f}"),
            ("median_trades_per_trading_customer", "median orders per trading customer", "{:.0f}"),
            ("trading_under_one_point_drift", "customers trading with drift under 1 pp", "{:,}"),
            ("round_trip_share_of_sold", "value sold bought back in its class", "{:.1%}"),
            ("round_trip_share_of_sold_without_replacements", "… excluding fund replacements", "{:.1%}"),
            ("total_fee", "fees, yuan", "{:,.0f}"),
            ("drift_removed_yuan", "drift removed, yuan", "{:,.0f}"),
            ("fee_per_yuan_of_drift_removed", "fees per yuan of drift removed", "{:.4f}")]
    names = list(rows)
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label, fmt in keys:
        cells = []
        for name in names:
            value = rows[name].get(key)
            cells.append("—" if value is None or (isinstance(value, float) and np.isnan(value)) else fmt.format(value))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for name in names:
        lines.append(f"\n{name}: status {json.dumps(rows[name].get('by_status'))}; reasons "
                     f"{json.dumps(rows[name].get('by_reason'))}; value by trade reason "
                     f"{json.dumps(rows[name].get('value_by_trade_reason'))}")
    return "\n".join(lines)


def run_before(repo: str, data: str | None, book_dir: Path) -> dict:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PYTHONPATH": repo}
        subprocess.run([sys.executable, "-c", BEFORE_SCRIPT, data or "-", str(book_dir), out, AS_OF.isoformat()],
                       check=True, env=env, cwd=repo)
        summary = pd.read_parquet(f"{out}/summary.parquet")
        trades = pd.read_parquet(f"{out}/trades.parquet")
    return run_summary(summary, trades)


def speed(universe, kind: str, n: int, seed: int, sample: int) -> dict:
    customers, holdings = make_book(universe, kind, n, seed)
    clean_c, _ = read_customers(customers)
    if "cash_flow" in customers.columns:
        clean_c = clean_c.join(customers[["cash_flow", "previous_risk_level"]].reset_index(drop=True), on="row")
    clean_h, _ = read_holdings(holdings, universe=universe, as_of=AS_OF)
    lots = value_lots(universe, clean_h, AS_OF)
    del customers, holdings, clean_h
    rebalance_batch(universe, clean_c.head(50), lots[lots["customer_id"].isin(clean_c["customer_id"].head(50))],
                    as_of=AS_OF)  # warm: targets per group, fund facts
    load_before = load_average()
    t0, c0 = time.perf_counter(), time.process_time()
    result = rebalance_batch(universe, clean_c, lots, as_of=AS_OF)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    trading = result.summary.loc[result.summary["status"] == "trade", "customer_id"].astype(str)
    picks = trading.sample(min(sample, len(trading)), random_state=0).tolist()
    by_customer = lots.groupby("customer_id", sort=False).indices
    times = []
    for cid in picks:
        one_c = clean_c[clean_c["customer_id"] == cid]
        one_l = lots.iloc[by_customer[cid]]
        t = time.perf_counter()
        rebalance_batch(universe, one_c, one_l, as_of=AS_OF)
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    return {"customers": n, "lots": len(lots), "trades": len(result.trades), "seconds": seconds, "cpu_seconds": cpu,
            "per_customer_ms": 1000 * seconds / n, "peak_rss_gb": rss_gb, "one_customer_median_ms": 1000 * median,
            "one_customer_p95_ms": 1000 * float(np.percentile(times, 95)), "loop_seconds": median * n,
            "speedup": median * n / seconds, "load_before": load_before, "load_after": load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="universe directory (default: the embedded demo universe)")
    parser.add_argument("--book", choices=("demo", "near"), default="demo")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--before-repo", default=None, help="a checkout whose engine to compare with")
    parser.add_argument("--speed", type=int, default=0, help="customers for the timing run (0: skip)")
    parser.add_argument("--latency-sample", type=int, default=200)
    args = parser.parse_args()
    universe = load(args.data)
    print(f"universe {universe.version} ({len(universe.funds)} funds), as of {AS_OF}, load {load_average()}")
    if args.customers:
        customers, holdings = make_book(universe, args.book, args.customers, args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            book_dir = Path(tmp)
            customers.to_parquet(book_dir / "customers.parquet", index=False)
            holdings.to_parquet(book_dir / "holdings.parquet", index=False)
            rows = {}
            if args.before_repo:
                t0 = time.perf_counter()
                rows["before"] = run_before(args.before_repo, args.data, book_dir)
                print(f"before: {time.perf_counter() - t0:.1f} s (incl. loading), load {load_average()}")
            t0 = time.perf_counter()
            result = rebalance_book(universe, book_dir / "customers.parquet", book_dir / "holdings.parquet",
                                    as_of=AS_OF)
            rows["after"] = run_summary(result.summary, result.trades)
            print(f"after: {time.perf_counter() - t0:.1f} s, load {load_average()}")
        print(f"\n{args.book} book, {args.customers:,} customers, seed {args.seed}:\n")
        print(outcome_table(rows))
    if args.speed:
        out = speed(universe, args.book, args.speed, args.seed, args.latency_sample)
        print(f"\nspeed, {args.book} book: " + json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                                                         for k, v in out.items()}))


if __name__ == "__main__":
    main()

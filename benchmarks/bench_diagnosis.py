"""Health check at scale: 1,000,000 customers (~8 lots each), Parquet to Parquet, against per-customer pandas.

    python benchmarks/bench_diagnosis.py [--customers 1000000] [--mean-holdings 8] [--sample 300] [--data DIR]

1. Generates the customers and holdings (`advisor.demo_customers`, not timed) into a temp directory.
2. Runs `advisor.diagnosis.batch.diagnose_files` (read, validate, value, 26 checks, score, actions, write)
   in a child process and reports its wall time and peak memory (``ru_maxrss`` of the child, plus
   tracemalloc's peak of Python-level allocations).
3. Runs the same checks written the way a developer would first write them — a loop over customers,
   each a small pandas frame merged with the fund table — on a sample, extrapolates to the full
   population, and checks the sample's numbers agree with the vectorized engine.

Targets (issue 6): ≤ 60 s and ≤ 6 GB for 1M customers on this 2-core machine; ≥ 50× the pandas loop.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = date(2026, 3, 1)


def run_engine(directory: Path, data: str | None, chunk: int) -> dict:
    """Child process: the timed Parquet → Parquet run, with its own memory accounting."""
    import tracemalloc

    from advisor.diagnosis import diagnosis_context
    from advisor.diagnosis.batch import diagnose_files
    from products.loading import load_universe

    ctx = diagnosis_context(load_universe(data))  # per-universe precompute: once per snapshot, not per run
    tracemalloc.start()
    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    started = time.perf_counter()
    outcome = diagnose_files(ctx, directory / "customers.parquet", directory / "holdings.parquet",
                             directory / "report.parquet", directory / "summary.json", as_of=AS_OF,
                             chunk_size=chunk)
    seconds = time.perf_counter() - started
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum((a.ru_utime - b.ru_utime) + (a.ru_stime - b.ru_stime) for a, b in zip(after, before, strict=True))
    _, traced_peak = tracemalloc.get_traced_memory()
    return {"seconds": seconds, "cpu_seconds": cpu, "prepare_seconds": outcome.summary["seconds"]["prepare"],
            "customers": outcome.summary["customers"], "lots": outcome.summary["lots"],
            "tracemalloc_peak_gb": traced_peak / 1e9,
            "maxrss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


# ---------------------------------------------------------------------------------------------
# The per-customer pandas implementation of the same checks (the baseline)
# ---------------------------------------------------------------------------------------------

class PandasChecker:
    """Each customer: a frame of lots merged with the fund table, then one pandas expression per check."""

    def __init__(self, ctx):
        from products.taxonomy import ASSET_CLASSES

        self.ctx = ctx
        codes = pd.Index(ctx.codes, name="code")
        self.funds = pd.DataFrame({
            "level": ctx.risk_level, "asset_class": [ASSET_CLASSES[c].value for c in ctx.asset_class],
            "family": ctx.family, "company": ctx.company_names[ctx.company], "manager": ctx.manager_names[ctx.manager],
            "running_cost": ctx.running_cost, "stars": ctx.stars, "bottom": ctx.bottom_quartile,
            "money": ctx.money_market, "drift": ctx.style_drift, "nav": _nav(ctx)}, index=codes)
        self.industry = pd.DataFrame(ctx.industry, index=codes, columns=ctx.industry_names)
        coo = ctx.stock_exposure.tocoo()
        self.stocks = pd.DataFrame({"code": ctx.codes[coo.row], "stock": coo.col, "weight": coo.data})
        self.overlap = pd.DataFrame(ctx.overlap, index=codes, columns=codes)
        self.corr = pd.DataFrame(ctx.correlation, index=codes, columns=codes)
        self.style = pd.DataFrame(ctx.style, index=codes, columns=ctx.style_names)
        self.monthly = pd.DataFrame(ctx.returns.T, columns=codes)
        self.classes = [c.value for c in ASSET_CLASSES]

    def check(self, customer: pd.Series, lots: pd.DataFrame) -> dict[str, float]:
        ctx = self.ctx
        f = lots.merge(self.funds, left_on="code", right_index=True)
        f["value"] = np.where(f["shares"].notna(), f["shares"] * f["nav"], f["amount"])
        pos = f.groupby("code").agg(value=("value", "sum"), level=("level", "first"),
                                    asset_class=("asset_class", "first"), family=("family", "first"),
                                    company=("company", "first"), manager=("manager", "first"),
                                    running_cost=("running_cost", "first"), money=("money", "first"),
                                    stars=("stars", "first"), bottom=("bottom", "first"), drift=("drift", "first"))
        total = pos["value"].sum()
        pos["w"] = pos["value"] / total
        level = int(customer["risk_level"])
        allowed = 1 if customer["lowest_category"] else level
        bucket = 0 if customer["horizon_years"] < 1 else (1 if customer["horizon_years"] <= 3 else 2)
        out: dict[str, float] = {}
        out["above_level"] = pos.loc[pos["level"] > allowed, "w"].sum()
        mean_level = np.ceil((pos["w"] * pos["level"]).sum() - 1e-9)
        out["portfolio_risk"] = max(mean_level, pos.loc[pos["w"] >= 0.2, "level"].max() if (pos["w"] >= 0.2).any()
                                    else 0) - allowed
        expires = customer["assessment_expires_on"]
        out["assessment_expired"] = (expires - pd.Timestamp(AS_OF)).days if pd.notna(expires) else -99_999
        classes = pos.groupby("asset_class")["value"].sum().reindex(self.classes, fill_value=0.0)
        classes["cash"] += customer["cash"] - min(customer["cash"], 3 * customer["monthly_expenses"])
        actual = classes / classes.sum()
        target = pd.Series(ctx.model.class_targets[allowed - 1, bucket], index=self.classes)
        out["drift_total"] = (actual - target).abs().sum() / 2
        out["drift_class"] = (actual - target).abs().max()
        risky = pos[~pos["money"]]
        rw = risky["value"] / risky["value"].sum()
        by_family = rw.groupby(risky["family"]).sum()
        out["top_fund"] = by_family.max()
        out["hhi"] = (by_family ** 2).sum() if len(by_family) >= 2 else np.nan
        for name in ("company", "manager"):
            groups = risky.assign(rw=rw).groupby(name).agg(share=("rw", "sum"), n=("family", "nunique"))
            out[name] = groups.loc[groups["n"] >= 2, "share"].max() if len(by_family) >= 2 else np.nan
        out["industry"] = self.industry.loc[pos.index].mul(pos["w"], axis=0).sum().max()
        held = self.stocks.merge(risky[["family"]], left_on="code", right_index=True)
        out["shared_stocks"] = float((held.groupby("stock")["family"].nunique() >= 3).sum())
        best_overlap, duplicates = 0.0, 0
        for a, b in combinations(pos.index, 2):
            same = pos.at[a, "family"] == pos.at[b, "family"]
            money = pos.at[a, "money"] or pos.at[b, "money"]
            if not same and not money:
                best_overlap = max(best_overlap, self.overlap.at[a, b])
            duplicates += bool(same or (not money and self.corr.at[a, b] >= 0.97))
        out["overlap"], out["duplicates"] = best_overlap, float(duplicates)
        style = self.style.loc[pos.index].mul(pos["w"], axis=0).sum()
        out["style_gap"] = (style - ctx.model_style[allowed - 1, bucket]).abs().sum() / 2
        monthly = self.monthly[pos.index].mul(pos["w"], axis=1).sum(axis=1)
        path = (1 + monthly).cumprod()
        model = {k: v[allowed - 1, bucket] for k, v in ctx.model_metrics.items()}
        out["return_gap"] = path.iloc[-1] ** (12 / len(path)) - 1 - model["return_3y"]
        out["volatility_gap"] = monthly.std() * np.sqrt(12) - model["volatility_3y"]
        tolerance = (0.05, 0.10, 0.20, 0.30, 0.40)[allowed - 1]
        out["drawdown"] = -(path / path.cummax().clip(lower=1.0) - 1).min() / tolerance
        out["weak_funds"] = pos.loc[((pos["stars"] <= 2) | pos["bottom"]) & ~pos["money"], "w"].sum()
        out["fee_drag"] = (pos["w"] * pos["running_cost"]).sum() - ctx.model_fee[allowed - 1, bucket]
        days = (pd.Timestamp(AS_OF) - f["purchase_date"]).dt.days
        out["short_hold"] = float(((days < 7) & ~f["money"]).sum())
        liquid = customer["cash"] + pos.loc[pos["money"], "value"].sum()
        out["liquidity"] = liquid / customer["monthly_expenses"]
        out["no_insurance"] = 0.0 if pd.isna(customer["insurance"]) else customer["insurance"]
        visible = total + customer["cash"]
        out["coverage"] = visible / (visible + customer["deposits"] + customer["wealth_products"])
        return out


def _nav(ctx) -> np.ndarray:
    from advisor.batch_io import latest_unit_nav

    return latest_unit_nav(ctx.universe)


def run_pandas(directory: Path, data: str | None, sample: int) -> dict:
    from advisor.diagnosis import diagnosis_context
    from products.loading import load_universe

    ctx = diagnosis_context(load_universe(data))
    customers = pd.read_parquet(directory / "customers.parquet").head(sample)
    customers["risk_level"] = customers["risk_level"].str[1].astype(int)
    customers["assessment_expires_on"] = pd.to_datetime(customers["assessment_expires_on"])
    holdings = pd.read_parquet(directory / "holdings.parquet")
    holdings = holdings[holdings["customer_id"].isin(set(customers["customer_id"]))].copy()
    holdings["purchase_date"] = pd.to_datetime(holdings["purchase_date"])
    checker = PandasChecker(ctx)
    lots_of = dict(tuple(holdings.groupby("customer_id")))
    started = time.perf_counter()
    rows = {c["customer_id"]: checker.check(c, lots_of[c["customer_id"]]) for _, c in customers.iterrows()}
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "customers": len(rows), "values": rows}


def agreement(directory: Path, values: dict[str, dict[str, float]]) -> dict[str, float]:
    """Largest absolute difference per check between the pandas loop and the engine on the sample."""
    report = pd.read_parquet(directory / "report.parquet").set_index("customer_id")
    diffs: dict[str, float] = {}
    for customer, checks in values.items():
        for name, value in checks.items():
            column = f"{name}_value"
            if column not in report.columns or value is None or not np.isfinite(value):
                continue
            diffs[name] = max(diffs.get(name, 0.0), abs(float(report.at[customer, column]) - float(value)))
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--mean-holdings", type=float, default=8.0)
    parser.add_argument("--sample", type=int, default=300, help="customers timed with the pandas loop")
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--data", default=None, help="data directory (default: embedded demo universe)")
    parser.add_argument("--dir", default=None, help="work directory (default: a temp dir)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="bench_diagnosis_"))
    if args.child:
        print(json.dumps(run_engine(directory, args.data, args.chunk)))
        return

    from advisor.demo_customers import generate
    from products.loading import load_universe

    universe = load_universe(args.data)
    started = time.perf_counter()
    customers, holdings = generate(universe, args.customers, seed=1, as_of=AS_OF, mean_holdings=args.mean_holdings)
    pq.write_table(customers, directory / "customers.parquet")
    pq.write_table(holdings, directory / "holdings.parquet")
    print(f"generated {customers.num_rows:,} customers, {holdings.num_rows:,} lots "
          f"({holdings.num_rows / customers.num_rows:.1f} per customer) in {time.perf_counter() - started:.1f}s "
          f"→ {directory}")
    del customers, holdings

    command = [sys.executable, __file__, "--child", "--dir", str(directory), "--chunk", str(args.chunk)]
    if args.data:
        command += ["--data", args.data]
    child = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    engine = json.loads(child.stdout.strip().splitlines()[-1])
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    print(f"engine: {engine['customers']:,} customers / {engine['lots']:,} lots, Parquet → Parquet in "
          f"{engine['seconds']:.1f}s wall, {engine['cpu_seconds']:.1f}s CPU incl. workers (read + validate + value "
          f"{engine['prepare_seconds']:.1f}s wall); "
          f"peak RSS {child_rss:.2f} GB (incl. the universe and its research context), "
          f"tracemalloc peak {engine['tracemalloc_peak_gb']:.2f} GB")

    baseline = run_pandas(directory, args.data, args.sample)
    per_customer = baseline["seconds"] / baseline["customers"]
    extrapolated = per_customer * engine["customers"]
    print(f"pandas per-customer loop: {baseline['customers']} customers in {baseline['seconds']:.1f}s "
          f"({per_customer * 1e3:.1f} ms each) → {extrapolated / 3600:.1f} h for {engine['customers']:,} "
          f"(extrapolated)")
    print(f"ratio: {extrapolated / engine['seconds']:.0f}× faster (wall clock, both under the same machine load)")
    diffs = agreement(directory, baseline["values"])
    worst = ", ".join(f"{k} {v:.1e}" for k, v in sorted(diffs.items(), key=lambda kv: -kv[1])[:6])
    print(f"agreement on the sample (max |engine − pandas| per check; float32 report columns): {worst}")
    load = os.getloadavg()[0]
    print(f"machine load average during the run ≈ {load:.1f} on {os.cpu_count()} cores")
    targets = {"≤ 60 s": engine["seconds"] <= 60, "≤ 6 GB": child_rss <= 6,
               "≥ 50×": extrapolated / engine["seconds"] >= 50}
    print("targets: " + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in targets.items()))


if __name__ == "__main__":
    main()

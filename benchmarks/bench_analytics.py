"""Fund analytics for every real fund over its full history: ours (vectorized) vs a per-fund empyrical loop.

Run from the repository root: ``python benchmarks/bench_analytics.py`` (reads ``ADVISOR_SHARED_DATA``,
default ``../shared/data``). Both sides compute the same metrics with the same conventions (see
``products/analytics/metrics.py``): standalone metrics, drawdown dates, each fund's benchmark pairing,
beta / alpha / tracking error / information ratio, and monthly win rate and capture ratios. Loading
the data is not timed (``bench_loading.py`` covers it). The script also checks that both sides agree.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from pathlib import Path

import empyrical as ep
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from products.analytics import compute_metrics, fund_benchmark_returns, rolling_metrics  # noqa: E402
from products.benchmark import clear_caches  # noqa: E402
from products.loading import load_universe  # noqa: E402

RF = 0.02
RF_DAILY = (1 + RF) ** (1 / 252) - 1


def shared_data() -> Path:
    path = Path(os.environ.get("ADVISOR_SHARED_DATA") or REPO.parent / "shared" / "data")
    if not (path / "cn_funds").is_dir():
        sys.exit(f"shared data not found at {path}: set ADVISOR_SHARED_DATA")
    return path


def ours(universe) -> pd.DataFrame:
    clear_caches()  # time a cold run: parse every benchmark text and build every series
    return compute_metrics(universe.returns, fund_benchmark_returns(universe), risk_free=RF)


def empyrical_loop(returns: pd.DataFrame, bench: pd.DataFrame) -> pd.DataFrame:
    """What an analyst would write: one fund at a time, empyrical for the ratios, pandas for the rest."""
    rows = {}
    for code in returns.columns:
        s = returns[code].dropna()
        level = (1 + s).cumprod()
        peak = level.cummax().clip(lower=1.0)
        dd = level / peak - 1
        trough = dd.idxmin()
        row = {
            "annual_return": ep.annual_return(s),
            "annual_volatility": ep.annual_volatility(s),
            "downside_deviation": ep.downside_risk(s, required_return=RF_DAILY),
            "max_drawdown": ep.max_drawdown(s),
            "sharpe": ep.sharpe_ratio(s, risk_free=RF_DAILY),
            "sortino": ep.sortino_ratio(s, required_return=RF_DAILY),
            "calmar": ep.calmar_ratio(s),
            "trough_date": trough,
        }
        after = level.loc[trough:].iloc[1:]
        recovered = after[after >= peak.loc[trough]]
        row["recovery_date"] = recovered.index[0] if len(recovered) else pd.NaT
        # the benchmark compounded over the rows since the fund's previous observation
        first = s.index[0]
        span = returns[code].loc[first:]
        key = pd.Series(span.index.where(span.notna()), index=span.index).bfill()
        b = bench[code].reindex(span.index)
        grouped = pd.DataFrame({"g": 1 + b, "m": b.isna(), "k": key}).groupby("k")
        pair_b = (grouped["g"].prod() - 1).where(~grouped["m"].any())
        pairs = pd.DataFrame({"r": s, "b": pair_b.reindex(s.index)}).dropna()
        if len(pairs) > 2:
            r, bb = pairs["r"], pairs["b"]
            months = (1 + pairs).groupby(pairs.index.to_period("M")).prod() - 1
            row.update({
                "excess_return": ep.annual_return(r) - ep.annual_return(bb),
                "tracking_error": ep.annual_volatility(r - bb),
                "information_ratio": ep.excess_sharpe(r, bb) * math.sqrt(252),
                "beta": ep.beta(r, bb),
                "alpha": ep.alpha(r, bb, risk_free=RF_DAILY),
                "monthly_win_rate": float((months["r"] > months["b"]).mean()),
                "up_capture": ep.up_capture(months["r"], months["b"], period="monthly"),
                "down_capture": ep.down_capture(months["r"], months["b"], period="monthly"),
            })
        rows[code] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def timed(fn, repeat: int) -> tuple[float, float, float, object]:
    """(best wall s, median wall s, best CPU s, result): CPU time is what the code costs when the two
    shared cores are busy with other work, wall time what a caller waits."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), statistics.median(walls), min(cpus), result


def max_rel_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    worst = 0.0
    for col in b.columns:
        if col.endswith("_date"):
            continue
        x = a.loc[b.index, col].to_numpy(dtype=float)
        y = b[col].to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        rel = np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-12)
        worst = max(worst, float(rel.max(initial=0.0)))
    return worst


def same_dates(a: pd.Series, b: pd.Series) -> bool:
    a, b = pd.to_datetime(a), pd.to_datetime(b)
    return bool((a.isna() == b.isna()).all() and (a.dropna() == b.dropna()).all())


def main() -> None:
    universe = load_universe(shared_data())
    returns = universe.returns
    n_funds, n_days = returns.shape[1], returns.shape[0]
    print(f"universe: {n_funds} funds × {n_days} dates ({returns.index[0].date()} … {returns.index[-1].date()}), "
          f"{int(returns.notna().sum().sum()):,} fund-days; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores")

    best, median, cpu, metrics = timed(lambda: ours(universe), repeat=7)
    bench = fund_benchmark_returns(universe)
    b_best, b_median, b_cpu, baseline = timed(lambda: empyrical_loop(returns, bench), repeat=1)
    roll = {}
    for years in (1, 3, 5):
        roll[years] = timed(lambda y=years: rolling_metrics(returns, y, risk_free=RF), repeat=3)[:3]

    agree = max_rel_diff(metrics, baseline)
    fell = baseline.index[baseline["max_drawdown"] < 0]
    dates_equal = all(same_dates(metrics.loc[fell, col], baseline.loc[fell, col])
                      for col in ("trough_date", "recovery_date"))
    print()
    print(f"{'task':58s} {'best s':>8s} {'median s':>9s} {'CPU s':>7s}")
    print(f"{'ours: benchmarks + compute_metrics, all funds, full history':58s} {best:8.3f} {median:9.3f} {cpu:7.3f}")
    print(f"{'empyrical + pandas, one fund at a time (same metrics)':58s} {b_best:8.3f} {b_median:9.3f} {b_cpu:7.3f}")
    for years, (rb, rm, rc) in roll.items():
        label = f"ours: rolling {years}y return/vol/Sharpe/MDD, every day"
        print(f"{label:58s} {rb:8.3f} {rm:9.3f} {rc:7.3f}")
    print()
    print(f"speed-up (empyrical loop / ours): {b_best / best:.0f}× wall, {b_cpu / cpu:.0f}× CPU;   "
          f"target ≤ 2 s: {'met' if best <= 2.0 else 'NOT met'} ({best:.2f} s wall, {cpu:.2f} s CPU)")
    print(f"agreement: max relative difference {agree:.1e} over {len(baseline.columns) - 2} metrics × "
          f"{len(baseline)} funds; trough and recovery dates equal: {dates_equal}")


if __name__ == "__main__":
    main()

"""Benchmark: automatic risk profiling of 1,000,000 customers, and suitability/tier checks.

Side by side in one run:
- ours: `risk.profiling.infer_profiles` over the whole frame (numpy columns, evidence decoded per
  distinct bitmask);
- baseline: the per-customer loop a developer would otherwise write — call the profiler for one customer
  at a time (`df.iloc[[i]]`) — timed on a sample and extrapolated to the full size.

Usage: python benchmarks/bench_risk.py [--rows 1000000] [--sample 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from risk.profiling import infer_profiles
from risk.suitability import is_suitable, portfolio_risk_levels
from risk.synthetic import synthetic_kyc
from risk.tiers import customer_tiers


def _time(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()

    gen_s, kyc = _time(synthetic_kyc, args.rows, 7)
    print(f"generated {len(kyc):,} synthetic KYC rows in {gen_s:.1f}s")

    ours_s, profiles = _time(infer_profiles, kyc)
    print(f"ours     infer_profiles, {len(kyc):,} customers: {ours_s:.2f}s "
          f"({len(kyc) / ours_s:,.0f} customers/s)")

    sample = kyc.iloc[: args.sample]
    loop_s, _ = _time(lambda: [infer_profiles(sample.iloc[[i]]) for i in range(len(sample))])
    per_row = loop_s / len(sample)
    print(f"baseline per-customer loop, {len(sample)} customers: {loop_s:.2f}s → extrapolated "
          f"{per_row * len(kyc):,.0f}s for {len(kyc):,}")
    print(f"ratio    baseline / ours = {per_row * len(kyc) / ours_s:,.0f}×")

    levels = profiles["inferred_level"].to_numpy()
    print("inferred level distribution:", dict(zip(*np.unique(levels, return_counts=True), strict=True)))
    contradicts = (profiles["flag_behaviour_more_cautious_than_stated"]
                   | profiles["flag_behaviour_bolder_than_stated"]).mean()
    print(f"flags: level_gap {profiles['flag_level_gap'].mean():.1%}, behaviour contradicts {contradicts:.1%}")

    rng = np.random.default_rng(1)
    products = rng.integers(1, 6, 50)
    suit_s, _ = _time(is_suitable, levels[:, None], products[None, :])
    print(f"is_suitable {len(levels):,} customers × {len(products)} products: {suit_s:.2f}s")
    weights = rng.random((len(levels), 10))
    port_s, _ = _time(portfolio_risk_levels, weights, products[:10])
    print(f"portfolio_risk_levels {len(levels):,} portfolios × 10 holdings: {port_s:.2f}s")
    tier_s, _ = _time(customer_tiers, kyc["financial_assets"].to_numpy())
    print(f"customer_tiers {len(levels):,}: {tier_s:.3f}s")


if __name__ == "__main__":
    main()

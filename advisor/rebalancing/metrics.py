"""What a run did, in the numbers a relationship manager or a risk officer asks for.

Shares of customers by status and reason, value by trade reason, how many customers trade and how many
orders each, value sold and bought back in the same asset class (a round trip), and fees per yuan of
drift removed. The CLI's batch summary, the nightly job and the benchmarks report these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SALES = ("sell", "switch_out")
BUYS = ("buy", "switch_in")
REPLACEMENTS = ("above_level", "fund_event", "fund_quality", "cost_saving")


def round_trip_value(trades: pd.DataFrame, exclude_reasons: tuple[str, ...] = ()) -> float:
    """Value sold and bought back in the same asset class by the same customer: Σ min(sold, bought)."""
    if trades.empty:
        return 0.0
    t = trades
    if exclude_reasons and "reason" in t.columns:
        t = t[~t["reason"].astype("str").isin(exclude_reasons)]
    action = t["action"].astype("str")
    key = [t["customer_id"].astype("str"), t["asset_class"].astype("str")]
    sold = t["amount"].where(action.isin(SALES), 0.0).groupby(key).sum()
    bought = t["amount"].where(action.isin(BUYS), 0.0).groupby(key).sum()
    return float(np.minimum(sold, bought).sum())


def run_counts(summary: pd.DataFrame, trades: pd.DataFrame) -> dict[str, Any]:
    """The additive parts of a run's outcome (counts and yuan), so partitions of a book add up."""
    status = summary["status"].astype("str")
    trading = status == "trade"
    action = trades["action"].astype("str") if len(trades) else pd.Series(dtype="str")
    cash = summary["investable_cash"] if "investable_cash" in summary.columns else 0.0
    portfolio = summary["value_before"] + cash
    removed = ((summary["drift_before"] - summary["drift_after"]) * portfolio)[trading].sum()
    by_value = (trades.groupby(trades["reason"].astype("str"))["amount"].sum()
                if len(trades) and "reason" in trades.columns else pd.Series(dtype=float))
    return {
        "customers": len(summary),
        "by_status": {str(k): int(v) for k, v in status.value_counts().items()},
        "by_reason": {str(k): int(v) for k, v in summary["reason"].astype("str").value_counts().items()},
        "value_by_trade_reason": {str(k): float(v) for k, v in by_value.items() if v > 0},
        "trading": int(trading.sum()),
        # customers trading although their drift was under one point (a withdrawal, a deposit, a suitability
        # or event sale can be the reason; drift alone never is)
        "trading_under_one_point_drift": int((trading & (summary["drift_before"] < 0.01)).sum()),
        "trades": len(trades),
        "traded": float(trades["amount"].sum()) if len(trades) else 0.0,
        "value_sold": float(trades.loc[action.isin(SALES), "amount"].sum()) if len(trades) else 0.0,
        "round_trip_value": round_trip_value(trades),
        "round_trip_without_replacements": round_trip_value(trades, REPLACEMENTS),
        "total_fee": float(summary["fee"].sum()) if len(summary) else 0.0,
        "drift_removed_yuan": float(removed),
        "turnover_capped": int(summary["turnover_capped"].sum()) if "turnover_capped" in summary.columns else 0,
    }


def merge_counts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """`run_counts` of several partitions added up."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if isinstance(value, dict):
                into = out.setdefault(key, {})
                for name, x in value.items():
                    into[name] = into.get(name, 0) + x
            else:
                out[key] = out.get(key, 0) + value
    return out


def outcome(counts: dict[str, Any]) -> dict[str, Any]:
    """The outcome of a run from its counts (fractions, not percent; yuan): shares of customers by status,
    shares of traded value by trade reason, trades per trading customer, round trips, fees per drift."""
    n, trading, sold = counts.get("customers", 0), counts.get("trading", 0), counts.get("value_sold", 0.0)
    traded, removed = counts.get("traded", 0.0), counts.get("drift_removed_yuan", 0.0)
    by_status = counts.get("by_status", {})
    by_value = counts.get("value_by_trade_reason", {})
    fees = counts.get("total_fee", 0.0)
    return {
        "customers": n,
        "by_status": {k: round(v / n, 6) for k, v in sorted(by_status.items(), key=lambda kv: -kv[1])} if n else {},
        "by_reason": dict(sorted(counts.get("by_reason", {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        "value_by_trade_reason": ({k: round(v / traded, 6) for k, v in sorted(by_value.items(), key=lambda kv: -kv[1])}
                                  if traded > 0 else {}),
        "share_trading": trading / n if n else 0.0,
        "trading_under_one_point_drift": counts.get("trading_under_one_point_drift", 0),
        "trades": counts.get("trades", 0),
        "trades_per_trading_customer": counts.get("trades", 0) / trading if trading else 0.0,
        "value_sold": sold,
        "round_trip_value": counts.get("round_trip_value", 0.0),
        "round_trip_share_of_sold": counts.get("round_trip_value", 0.0) / sold if sold else 0.0,
        "round_trip_share_of_sold_without_replacements": (counts.get("round_trip_without_replacements", 0.0) / sold
                                                          if sold else 0.0),
        "total_fee": fees,
        "drift_removed_yuan": removed,
        "fee_per_yuan_of_drift_removed": fees / removed if removed > 0 else None,
        "turnover_capped": counts.get("turnover_capped", 0),
    }


def run_summary(summary: pd.DataFrame, trades: pd.DataFrame) -> dict[str, Any]:
    """The outcome of a run (fractions, not percent; yuan), with the median orders per trading customer."""
    per_customer = trades.groupby(trades["customer_id"].astype("str")).size() if len(trades) else pd.Series(dtype=int)
    return {**outcome(run_counts(summary, trades)),
            "median_trades_per_trading_customer": float(per_customer.median()) if len(per_customer) else 0.0}

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


def run_summary(summary: pd.DataFrame, trades: pd.DataFrame) -> dict[str, Any]:
    """The outcome of a run (fractions, not percent; yuan)."""
    n = len(summary)
    status = summary["status"].astype("str")
    trading = status == "trade"
    n_trading = int(trading.sum())
    action = trades["action"].astype("str") if len(trades) else pd.Series(dtype="str")
    sold = float(trades.loc[action.isin(SALES), "amount"].sum()) if len(trades) else 0.0
    traded = float(trades["amount"].sum()) if len(trades) else 0.0
    cash = summary["investable_cash"] if "investable_cash" in summary.columns else 0.0
    portfolio = summary["value_before"] + cash
    removed = float(((summary["drift_before"] - summary["drift_after"]) * portfolio)[trading].sum())
    fees = float(summary["fee"].sum()) if n else 0.0
    per_customer = trades.groupby(trades["customer_id"].astype("str")).size() if len(trades) else pd.Series(dtype=int)
    by_reason = (trades.groupby(trades["reason"].astype("str"))["amount"].sum() / traded
                 if len(trades) and "reason" in trades.columns and traded > 0 else pd.Series(dtype=float))
    round_trip = round_trip_value(trades)
    return {
        "customers": n,
        "by_status": {k: round(v / n, 6) for k, v in status.value_counts().items()} if n else {},
        "by_reason": {str(k): int(v) for k, v in summary["reason"].astype("str").value_counts().items()},
        "value_by_trade_reason": {str(k): round(float(v), 6) for k, v in by_reason.items()},
        "share_trading": n_trading / n if n else 0.0,
        # customers trading although their drift was under one point (a withdrawal, a deposit, a suitability
        # or event sale can be the reason; drift alone never is)
        "trading_under_one_point_drift": int((trading & (summary["drift_before"] < 0.01)).sum()),
        "trades": len(trades),
        "trades_per_trading_customer": len(trades) / n_trading if n_trading else 0.0,
        "median_trades_per_trading_customer": float(per_customer.median()) if len(per_customer) else 0.0,
        "value_sold": sold,
        "round_trip_value": round_trip,
        "round_trip_share_of_sold": round_trip / sold if sold else 0.0,
        "round_trip_share_of_sold_without_replacements": (round_trip_value(trades, REPLACEMENTS) / sold
                                                          if sold else 0.0),
        "total_fee": fees,
        "drift_removed_yuan": removed,
        "fee_per_yuan_of_drift_removed": fees / removed if removed > 0 else None,
        "turnover_capped": int(summary["turnover_capped"].sum()) if "turnover_capped" in summary.columns else 0,
    }

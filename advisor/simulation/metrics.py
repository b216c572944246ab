"""Figures of a simulation: per customer, per cohort, and per level × horizon composite.

Definitions (docs/simulation.md):

* **Daily return** of a customer: time-weighted, ``r_t = (V_t − F_t) / V_{t−1} − 1`` with ``V`` the value
  at the close (cash included) and ``F_t`` the external flow (deposit > 0, withdrawal < 0) of day t; the
  first deposit is made the evening before the first purchase, so the first return carries its fees.
* **Composite** of a level × horizon (GIPS style): every customer of the group, asset-weighted,
  ``r_t = Σ (V_t − F_t) / Σ V_{t−1} − 1`` over the customers alive the day before.
* Annual return, volatility, maximum drawdown and recovery follow `products.analytics.compute_metrics`
  (CAGR over 252 trading days, sample σ × √252, drawdown from the running peak).
* **Turnover per year**: ``min(purchases, sales)`` after the first purchase (so deposits and withdrawals
  are not turnover), over average assets, per year. **Fees per year**: all trading fees paid
  (subscription, switch, redemption), in yuan and as a share of average assets; running fees are inside
  the NAV and not counted again. **Trades per year**: orders filled after the first purchase.
* **Risk budget used**: realized volatility and maximum drawdown over the level's investment policy
  (`advisor.model_portfolios.LevelPolicy`: `max_volatility`, `max_drawdown`) — the budget the models are
  built to, tighter than the rebalancing engine's drawdown alert.
* **Horizon outcome** of a cohort: its time-weighted return over its stated horizon (annualized when the
  horizon is at least a year), for the cohorts the data covers to the end of their horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from advisor.model_portfolios import HORIZON_LABELS, horizon_bucket
from advisor.simulation.simulator import SimulationResult
from products.analytics import compute_metrics

TRADING_DAYS = 252


def flow_matrix(result: SimulationResult) -> np.ndarray:
    flows = np.zeros_like(result.values)
    np.add.at(flows, (result.flow_cust, result.flow_day), result.flow_amount)
    return flows


def daily_returns(result: SimulationResult) -> np.ndarray:
    """Customers × days time-weighted daily returns (NaN where the customer had nothing the day before)."""
    values = result.values
    flows = flow_matrix(result)
    prev = np.concatenate([np.full((values.shape[0], 1), np.nan), values[:, :-1]], axis=1)
    ok = np.isfinite(prev) & (prev > 0.005) & np.isfinite(values)
    return np.where(ok, np.divide(values - flows, prev, out=np.zeros_like(values), where=ok) - 1.0, np.nan)


def composite_returns(result: SimulationResult, members: np.ndarray) -> np.ndarray:
    values = result.values[members]
    flows = flow_matrix(result)[members]
    prev = np.concatenate([np.full((len(members), 1), np.nan), values[:, :-1]], axis=1)
    ok = np.isfinite(prev) & (prev > 0.005) & np.isfinite(values)
    num = np.where(ok, values - flows, 0.0).sum(axis=0)
    den = np.where(ok, prev, 0.0).sum(axis=0)
    return np.where(den > 0, np.divide(num, den, out=np.zeros_like(num), where=den > 0) - 1.0, np.nan)


def _metrics_frame(returns: np.ndarray, dates: pd.DatetimeIndex, names: list[str]) -> pd.DataFrame:
    """compute_metrics over columns of a (series × days) array."""
    frame = pd.DataFrame(returns.T, index=dates, columns=names)
    return compute_metrics(frame)


def _years(start: pd.Series, end: pd.Series) -> np.ndarray:
    return ((pd.to_datetime(end) - pd.to_datetime(start)).dt.days.to_numpy(dtype=float) + 1.0) / 365.25


def customer_table(result: SimulationResult, returns: np.ndarray | None = None) -> pd.DataFrame:
    """One row per simulated customer (policy and buy-and-hold twins): life figures and costs."""
    returns = daily_returns(result) if returns is None else returns
    cust = result.customers
    m = _metrics_frame(returns, result.dates, list(range(len(cust))))
    led = result.ledger
    values = result.values
    alive = np.isfinite(values)
    avg_assets = np.where(alive.any(axis=1), np.nanmean(np.where(alive, values, np.nan), axis=1), np.nan)
    start = pd.Series(m["start"].to_numpy())
    end = pd.Series(m["end"].to_numpy())
    years = _years(start, end)
    fees = led.buy_fees + led.sell_fees + led.first_fees
    out = pd.DataFrame({
        "customer_id": cust["customer_id"].to_numpy(), "kind": cust["kind"].to_numpy(),
        "level": cust["level"].to_numpy(), "horizon_years": cust["horizon_years"].to_numpy(),
        "start": start.to_numpy(), "end": end.to_numpy(), "years": years,
        "annual_return": m["annual_return"].to_numpy(), "annual_volatility": m["annual_volatility"].to_numpy(),
        "max_drawdown": m["max_drawdown"].to_numpy(), "recovery_days": m["recovery_days"].to_numpy(),
        "total_return": m["total_return"].to_numpy(), "n_days": m["n_days"].to_numpy(),
        "avg_assets": avg_assets, "final_value": _last_finite(values),
        "deposits": led.deposits, "withdrawals": led.withdrawals,
        "fees": fees, "first_fees": led.first_fees, "rebalance_fees": led.buy_fees + led.sell_fees,
        "turnover": np.minimum(led.bought, led.sold), "trades": led.trades, "liquidated": led.liquidated,
    })
    out["horizon_return"] = horizon_returns(result, returns)
    shown = [s.get("annual_return") if isinstance(s, dict) else np.nan for s in result.shown]
    out["shown_annual_return"] = np.asarray(shown, dtype=float)
    return out


def _last_finite(values: np.ndarray) -> np.ndarray:
    alive = np.isfinite(values)
    last = np.where(alive.any(axis=1), values.shape[1] - 1 - np.argmax(alive[:, ::-1], axis=1), -1)
    return np.where(last >= 0, values[np.arange(len(values)), np.maximum(last, 0)], np.nan)


def horizon_returns(result: SimulationResult, returns: np.ndarray) -> np.ndarray:
    """Each customer's return over its stated horizon from its first purchase (annualized from a year
    on); NaN when the data ends before the horizon does."""
    dates = result.dates
    out = np.full(len(result.customers), np.nan)
    valid = np.isfinite(returns)
    first = np.where(valid.any(axis=1), valid.argmax(axis=1), -1)
    for i, (f, years) in enumerate(zip(first, result.customers["horizon_years"].to_numpy(dtype=float), strict=True)):
        if f < 0:
            continue
        end_date = dates[f] + pd.DateOffset(days=round(max(years, 1 / 12) * 365.25))
        if end_date > dates[-1]:
            continue
        stop = int(dates.searchsorted(end_date, side="right"))
        window = returns[i, f:stop]
        growth = float(np.prod(1.0 + window[np.isfinite(window)]))
        out[i] = growth ** (1.0 / years) - 1.0 if years >= 1.0 else growth - 1.0
    return out


def group_table(result: SimulationResult, customers: pd.DataFrame | None = None,
                returns: np.ndarray | None = None) -> pd.DataFrame:
    """One row per level × horizon × kind: the composite's figures and the group's costs."""
    returns = daily_returns(result) if returns is None else returns
    customers = customer_table(result, returns) if customers is None else customers
    groups = result.groups
    comp = np.stack([composite_returns(result, np.flatnonzero(result.group_of == g)) for g in range(len(groups))])
    m = _metrics_frame(comp, result.dates, list(range(len(groups))))
    rows = []
    policies = result.config.proposal.model.policies  # each level's investment policy: its risk budget
    for g, grp in groups.iterrows():
        members = customers[result.group_of == g]
        level = int(grp["level"])
        exposure = float((members["avg_assets"] * members["years"]).sum())
        years = float(members["years"].sum())
        vol_budget = float(policies[level].max_volatility)
        dd_budget = float(policies[level].max_drawdown)
        metrics = m.iloc[g]
        horizon = members["horizon_return"].dropna()
        rows.append({
            "level": f"C{level}", "horizon_years": float(grp["horizon_years"]),
            "horizon": horizon_bucket(float(grp["horizon_years"])), "kind": grp["kind"],
            "start": metrics["start"], "end": metrics["end"], "customers": len(members),
            "annual_return": metrics["annual_return"], "annual_volatility": metrics["annual_volatility"],
            "max_drawdown": metrics["max_drawdown"], "recovery_days": metrics["recovery_days"],
            "peak_date": metrics["peak_date"], "trough_date": metrics["trough_date"],
            "total_return": metrics["total_return"], "n_days": int(metrics["n_days"]),
            "turnover_per_year": float(members["turnover"].sum() / exposure) if exposure > 0 else np.nan,
            "fees_per_year": float(members["fees"].sum() / years) if years > 0 else np.nan,
            "fees_pct_per_year": float(members["fees"].sum() / exposure) if exposure > 0 else np.nan,
            "rebalance_fees_per_year": float(members["rebalance_fees"].sum() / years) if years > 0 else np.nan,
            "trades_per_year": float(members["trades"].sum() / years) if years > 0 else np.nan,
            "volatility_budget": vol_budget, "drawdown_tolerance": dd_budget,
            "volatility_budget_used": metrics["annual_volatility"] / vol_budget if vol_budget > 0 else np.nan,
            "drawdown_budget_used": -metrics["max_drawdown"] / dd_budget if dd_budget > 0 else np.nan,
            "horizon_cohorts": len(horizon),
            "horizon_median": float(horizon.median()) if len(horizon) else np.nan,
            "horizon_p05": float(horizon.quantile(0.05)) if len(horizon) else np.nan,
            "horizon_worst": float(horizon.min()) if len(horizon) else np.nan,
            "horizon_share_negative": float((horizon < 0).mean()) if len(horizon) else np.nan,
            "turnover_above_1x": bool(exposure > 0 and members["turnover"].sum() / exposure > 1.0),
            "liquidated": float(members["liquidated"].sum()),
        })
    table = pd.DataFrame(rows)
    table.attrs["composite_returns"] = comp
    return table


def horizon_label(bucket: str) -> dict[str, str]:
    zh, en = HORIZON_LABELS[bucket]
    return {"zh": zh, "en": en}


def summary_numbers(row: pd.Series | dict[str, Any]) -> dict[str, Any]:
    keys = ("annual_return", "annual_volatility", "max_drawdown", "recovery_days", "turnover_per_year",
            "fees_per_year", "fees_pct_per_year", "trades_per_year", "start", "end")
    return {k: row[k] for k in keys if k in row}

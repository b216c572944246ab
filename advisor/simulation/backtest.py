"""The standard grid: every level × horizon × monthly start as one book, and its report.

`run_backtest` builds the grid's customers (`grid_customers`), simulates them with their buy-and-hold
twins (`simulate`), and assembles the payload of `advisor backtest --json`: `results` (the policy per
level × horizon), `comparisons` (buy-and-hold, the passive ETF mix, the in-sample figure proposals showed
today, and what each cohort was shown at its start), `cohorts` (one row per start month), the research
log and the run's checks. All fractions, not percent.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from advisor.model_portfolios import LEVEL_NAMES_ZH, horizon_bucket
from advisor.simulation.comparisons import in_sample_today, passive_mix
from advisor.simulation.config import SIMULATOR_VERSION, SimulationConfig, code_fingerprint
from advisor.simulation.customers import DEFAULT_AMOUNT, DEFAULT_HORIZONS, DEFAULT_LEVELS, grid_customers
from advisor.simulation.metrics import customer_table, daily_returns, group_table
from advisor.simulation.pointintime import as_timestamp
from advisor.simulation.record import MIN_RECORD_DAYS, register_records
from advisor.simulation.schedule import default_start
from advisor.simulation.simulator import SimulationResult, simulate
from products.analytics import compute_metrics
from products.errors import BadInputError
from products.universe import Universe

LABEL = {"zh": "模拟业绩：按每个时点当时可得的数据逐月重演本策略（含申购、赎回费用），并非真实投资业绩。",
         "en": "Simulated record: this strategy replayed month by month on the data known at each date, with "
               "subscription and redemption fees; not the results of real accounts."}
METHOD = ("walk-forward simulation: a customer starts every month; research, models and fund choice "
          "recomputed point in time; proposals with fees and minimums; the rebalancing engine on its triggers")


@dataclass
class Backtest:
    result: SimulationResult
    payload: dict[str, Any]
    customers: pd.DataFrame
    groups: pd.DataFrame


def run_backtest(universe: Universe, *, levels: Sequence[int] = DEFAULT_LEVELS,
                 horizons: Sequence[float] = DEFAULT_HORIZONS, start: object = None, end: object = None,
                 amount: float = DEFAULT_AMOUNT, monthly: float = 0.0, config: SimulationConfig | None = None,
                 progress=None, comparisons: bool = True) -> Backtest:
    """Simulate the grid and build its report (module docstring)."""
    config = config or SimulationConfig()
    dates = universe.returns.index
    if not np.isfinite(amount) or amount < 0 or not np.isfinite(monthly) or monthly < 0 or amount + monthly <= 0:
        raise BadInputError("amount and monthly must be ≥ 0 and not both 0", details={"field": "amount"})
    first = (as_timestamp(start) if start is not None else
             default_start(universe.returns, universe.funds["asset_class"].astype(str).to_numpy(),
                           config.min_history_days))
    last = as_timestamp(end) if end is not None else dates[-1]
    if last <= first:
        raise BadInputError(f"end {last.date()} must be after start {first.date()}", details={"field": "end"})
    customers = grid_customers(dates, first, last, levels=levels, horizons=horizons, amount=amount, monthly=monthly)
    if customers.empty:
        raise BadInputError(f"no month starts between {first.date()} and {last.date()}", details={"field": "start"})
    side = {}
    if comparisons:  # today's proposals and their in-sample figures: computed in a research worker meanwhile
        pairs = sorted({(int(lv), float(h)) for lv, h in zip(customers["level"], customers["horizon_years"],
                                                                  strict=True)})
        shown_groups = pd.DataFrame({"level": [f"C{lv}" for lv, _ in pairs], "horizon_years": [h for _, h in pairs]})
        side["in_sample_today"] = (in_sample_today, (shown_groups, amount if amount > 0 else monthly,
                                                     config.proposal))
    clock = time.perf_counter()
    result = simulate(universe, customers, config=config, end=last, progress=progress, side_tasks=side)
    elapsed = time.perf_counter() - clock
    returns = daily_returns(result)
    table = customer_table(result, returns)
    groups = group_table(result, table, returns)
    payload = _payload(universe, result, table, groups, amount=amount, monthly=monthly, levels=levels,
                       horizons=horizons, comparisons=comparisons)
    payload["timing"] = {"simulation_seconds": round(elapsed, 2),
                         "research_cache_hits": result.engine.get("research_cache_hits", 0)}
    return Backtest(result=result, payload=payload, customers=table, groups=groups)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, pd.Timestamp | np.datetime64):
            value = None if pd.isna(value) else pd.Timestamp(value).date().isoformat()
        elif isinstance(value, float | np.floating) and not np.isfinite(value):
            value = None
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _payload(universe: Universe, result: SimulationResult, table: pd.DataFrame, groups: pd.DataFrame, *,
             amount: float, monthly: float, levels: Sequence[int], horizons: Sequence[float],
             comparisons: bool) -> dict[str, Any]:
    policy = groups[groups["kind"] == "policy"].reset_index(drop=True)
    twins = groups[groups["kind"] == "buy_and_hold"].reset_index(drop=True)
    results = [_clean({**row, "kind": None, "level_name_zh": LEVEL_NAMES_ZH[int(row["level"][1:])]})
               for row in policy.to_dict(orient="records")]
    for row in results:
        row.pop("kind")
    payload: dict[str, Any] = {
        "kind": "simulated_walk_forward", "label": LABEL, "method": METHOD,
        "universe_version": result.universe_version, "universe_as_of": result.universe_as_of,
        "span": {"start": result.dates[0].date().isoformat(), "end": result.dates[-1].date().isoformat()},
        "grid": {"levels": [f"C{lv}" for lv in levels], "horizons_years": [float(h) for h in horizons],
                 "amount": amount, "monthly": monthly,
                 "starts": int(table[table["kind"] == "policy"]["start"].nunique())},
        "settings": _settings(result.config),
        "results": results,
    }
    comp: dict[str, Any] = {}
    if len(twins):
        comp["buy_and_hold"] = [_clean({k: v for k, v in row.items() if k != "kind"})
                                for row in twins.to_dict(orient="records")]
    if comparisons:
        comp["passive_etf_mix"] = _passive(result, universe, groups.attrs["composite_returns"])
        today = result.extras["side"].get("in_sample_today")
        if today is None:
            today = in_sample_today(universe, policy, amount if amount > 0 else monthly, result.config.proposal)
        order = pd.DataFrame({"level": policy["level"].astype(str).to_numpy(),
                              "horizon_years": policy["horizon_years"].to_numpy(dtype=float)})
        today = order.merge(today.astype({"level": str}), on=["level", "horizon_years"], how="left")
        comp["in_sample_shown_today"] = [_clean(r) for r in today.to_dict(orient="records")]
        comp["shown_at_start"] = _shown_at_start(table, policy)
    payload["comparisons"] = comp
    payload["cohorts"] = _cohorts(table)
    payload["research"] = [{k: v for k, v in r.items() if k != "models"} for r in result.research]
    payload["engine"] = {k: v for k, v in result.engine.items()}
    payload["checks"] = {"cash_identity_gap": result.cash_check,
                         "liquidated_yuan": float(table["liquidated"].sum()),
                         "withdrawal_shortfall_yuan": float(result.ledger.shortfall.sum())}
    payload["policy_checks"] = policy_checks(results)
    return payload


def policy_checks(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an investment committee flags in the grid (one entry per finding, `group` = "C5/5y"):

    * `turnover_above_1x` — one-way turnover above 1× a year (the advisory rules' flag);
    * `volatility_over_budget` — realized volatility above the level's volatility budget;
    * `drawdown_beyond_tolerance` — maximum drawdown deeper than the model's drawdown budget
      (`LevelPolicy.max_drawdown`, inside the customer's tolerance `risk.levels.DRAWDOWN_TOLERANCE`);
    * `risk_not_increasing` — at one horizon, a higher level with lower realized volatility or a shallower
      maximum drawdown than the level below it (levels must order risk);
    * `risk_falls_with_horizon` — at one level, a longer horizon with lower realized volatility than a
      shorter one (the models' glide path promises risk never falls as the horizon grows)."""
    found: list[dict[str, Any]] = []

    def flag(check: str, row: dict[str, Any], value: float | None, limit: float | None, **more: Any) -> None:
        found.append({"check": check, "group": f"{row['level']}/{row['horizon_years']:g}y", "level": row["level"],
                      "horizon_years": row["horizon_years"], "value": value, "limit": limit, **more})

    for row in results:
        turnover, vol, dd = row.get("turnover_per_year"), row.get("annual_volatility"), row.get("max_drawdown")
        if turnover is not None and turnover > 1.0:
            flag("turnover_above_1x", row, turnover, 1.0)
        budget, tolerance = row.get("volatility_budget"), row.get("drawdown_tolerance")
        if vol is not None and budget and vol > budget:
            flag("volatility_over_budget", row, vol, budget)
        if dd is not None and tolerance and -dd > tolerance:
            flag("drawdown_beyond_tolerance", row, dd, -tolerance)
    by_horizon: dict[float, list[dict[str, Any]]] = {}
    for row in results:
        by_horizon.setdefault(float(row["horizon_years"]), []).append(row)
    for rows in by_horizon.values():
        rows = sorted(rows, key=lambda r: int(str(r["level"])[1:]))
        for lower, higher in pairwise(rows):
            for measure, worse in (("annual_volatility", lambda a, b: b < a - 1e-9),
                                   ("max_drawdown", lambda a, b: b > a + 1e-9)):
                a, b = lower.get(measure), higher.get(measure)
                if a is not None and b is not None and worse(a, b):
                    flag("risk_not_increasing", higher, b, a, measure=measure, below=lower["level"])
    by_level: dict[str, list[dict[str, Any]]] = {}
    for row in results:
        by_level.setdefault(str(row["level"]), []).append(row)
    for rows in by_level.values():
        rows = sorted(rows, key=lambda r: float(r["horizon_years"]))
        for shorter, longer in pairwise(rows):
            a, b = shorter.get("annual_volatility"), longer.get("annual_volatility")
            if a is not None and b is not None and b < a - 1e-9:
                flag("risk_falls_with_horizon", longer, b, a, measure="annual_volatility",
                     shorter=f"{shorter['horizon_years']:g}y")
    return found


def _settings(config: SimulationConfig) -> dict[str, Any]:
    s = config.rebalance
    return {"simulator_version": SIMULATOR_VERSION, "code_fingerprint": code_fingerprint(),
            "research_cadence": config.research_cadence, "execution_lag_days": config.execution_lag,
            "rebalance_calendar": s.calendar, "suggest_band": s.suggest_band, "urge_band": s.urge_band,
            "turnover_cap": s.turnover_cap, "min_trade": s.min_trade, "cost_aversion": s.cost_aversion,
            "silence_days": config.silence_days, "min_history_days": config.min_history_days}


def _passive(result: SimulationResult, universe: Universe, composite: np.ndarray) -> list[dict[str, Any]]:
    """Passive ETF mix per group, and the policy composite over the same (common) span."""
    frame, _ = passive_mix(result, universe)
    rows = []
    for g, grp in result.groups.iterrows():
        key = f"C{int(grp['level'])}/{float(grp['horizon_years']):g}"
        if grp["kind"] != "policy" or key not in frame.columns:
            continue
        passive = frame[key].to_numpy()
        common = np.isfinite(passive) & np.isfinite(composite[g])
        both = pd.DataFrame({"passive": np.where(common, passive, np.nan),
                             "policy": np.where(common, composite[g], np.nan)}, index=result.dates)
        m = compute_metrics(both)
        row = {"level": f"C{int(grp['level'])}", "horizon_years": float(grp["horizon_years"]),
               "horizon": horizon_bucket(float(grp["horizon_years"])),
               "start": m.loc["passive", "start"], "end": m.loc["passive", "end"]}
        for name in ("annual_return", "annual_volatility", "max_drawdown"):
            row[name] = m.loc["passive", name]
            row[f"policy_{name}"] = m.loc["policy", name]
        rows.append(_clean(row))
    return rows


def _shown_at_start(table: pd.DataFrame, policy: pd.DataFrame) -> list[dict[str, Any]]:
    """What cohorts were shown (the in-sample figure of their first proposal) versus what they got."""
    rows = []
    mine = table[table["kind"] == "policy"]
    for _, grp in policy.iterrows():
        members = mine[(mine["level"] == int(grp["level"][1:])) & (mine["horizon_years"] == grp["horizon_years"])]
        shown = members["shown_annual_return"].dropna()
        got = members.loc[shown.index, "annual_return"]
        longer = members.loc[shown.index, "years"] >= 1.0
        rows.append(_clean({"level": grp["level"], "horizon_years": float(grp["horizon_years"]),
                            "cohorts": len(shown), "shown_median": float(shown.median()) if len(shown) else None,
                            "realized_median": float(got[longer].median()) if longer.any() else None,
                            "share_realized_below_shown": float((got[longer] < shown[longer]).mean())
                            if longer.any() else None}))
    return rows


def _cohorts(table: pd.DataFrame) -> list[dict[str, Any]]:
    policy = table[table["kind"] == "policy"].reset_index(drop=True)
    twin = table[table["kind"] == "buy_and_hold"].reset_index(drop=True)
    cols = ["customer_id", "level", "horizon_years", "start", "end", "years", "annual_return", "annual_volatility",
            "max_drawdown", "horizon_return", "fees", "trades", "turnover", "avg_assets", "shown_annual_return"]
    out = policy[cols].copy()
    out["level"] = "C" + out["level"].astype(str)
    if len(twin) == len(policy):
        out["buy_and_hold_annual_return"] = twin["annual_return"].to_numpy()
        out["buy_and_hold_max_drawdown"] = twin["max_drawdown"].to_numpy()
    return [_clean(r) for r in out.to_dict(orient="records")]


def proposal_records(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The `historical` blocks proposals show: per level and horizon bucket, the composite record when it
    spans more than a year (the advisory rule), labelled as simulated."""
    records: dict[str, dict[str, Any]] = {}
    for row in payload["results"]:
        start, end = row.get("start"), row.get("end")
        if not start or not end or (pd.Timestamp(end) - pd.Timestamp(start)).days < MIN_RECORD_DAYS:
            continue
        key = f"{row['level']}/{row['horizon']}"
        if key in records:
            continue
        records[key] = {
            "kind": "simulated_walk_forward", "label_zh": LABEL["zh"], "label_en": LABEL["en"],
            "start": start, "end": end, "annual_return": row["annual_return"],
            "annual_volatility": row["annual_volatility"], "max_drawdown": row["max_drawdown"],
            "n_days": row["n_days"], "customers": row["customers"], "fees_pct_per_year": row["fees_pct_per_year"],
            "turnover_per_year": row["turnover_per_year"], "method": METHOD,
            "universe_version": payload["universe_version"],
        }
    return records


def save_records(universe: Universe, payload: dict[str, Any], config: SimulationConfig) -> object:
    """Register the run's records for proposals on this universe (memory and disk cache)."""
    records = proposal_records(payload)
    meta = {"universe_version": payload["universe_version"], "span": payload["span"], "grid": payload["grid"],
            "settings": payload["settings"]}
    return register_records(universe, config.proposal.key(), records, meta=meta)


def is_standard_grid(levels: Sequence[int], horizons: Sequence[float]) -> bool:
    """Whether a run covers every level and horizon bucket (then it can stand as the proposals' record)."""
    buckets = {horizon_bucket(h) for h in horizons}
    return set(levels) == set(DEFAULT_LEVELS) and buckets == {"short", "medium", "long"}


COMPARED = ("annual_return", "annual_volatility", "max_drawdown", "turnover_per_year", "fees_pct_per_year",
            "trades_per_year", "volatility_budget_used", "horizon_share_negative")


def compare_to_baseline(payload: dict[str, Any], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Per level × horizon, each figure before (the recorded baseline) and after (this run), and the change:
    how a change to data, models, selection or rebalancing is judged."""
    if not isinstance(baseline, dict) or not isinstance(baseline.get("results"), list):
        raise BadInputError("the baseline must be a backtest JSON report (with results)", details={"field": "baseline"})
    before = {(r.get("level"), r.get("horizon_years")): r for r in baseline["results"]}
    rows = []
    for now in payload["results"]:
        old = before.get((now["level"], now["horizon_years"]))
        if old is None:
            continue
        row: dict[str, Any] = {"level": now["level"], "horizon_years": now["horizon_years"]}
        for key in COMPARED:
            a, b = old.get(key), now.get(key)
            row[key] = {"before": a, "after": b,
                        "change": None if a is None or b is None else b - a}
        rows.append(row)
    return rows

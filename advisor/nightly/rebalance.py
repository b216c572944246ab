"""Nightly rebalancing (调仓建议) as a partition job: the same engine as `advisor rebalance`.

Per partition: `advisor.rebalancing.rebalance_book` (validation, valuation, triggers, the vectorized
solver, exact pricing) over the partition's customers and lots. Outputs: `trades` (one row per order)
and `trades_summary` (one row per customer), as `advisor rebalance --out` writes them; the run summary
counts customers by reason, trades and fees over every partition.

Options (JSON-able, recorded with the run): `calendar` (quarterly / monthly), `turnover_cap` (0–2),
`fund_events` (path of a code,event table every worker can read).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from advisor.nightly.jobs import Job, JobContext, PartitionResult, register, sum_counts
from advisor.rebalancing import rebalance_book
from advisor.rebalancing.metrics import merge_counts, outcome, run_counts
from advisor.rebalancing.settings import DEFAULT_SETTINGS, RebalanceSettings
from products.errors import BadInputError

MAX_TURNOVER_CAP = 2.0
OPTIONS = ("calendar", "turnover_cap", "fund_events")


def _options(given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(given) - set(OPTIONS)
    if unknown:
        raise BadInputError(f"unknown rebalance option(s): {', '.join(sorted(unknown))} (known: {', '.join(OPTIONS)})",
                            details={"field": "options"})
    out: dict[str, Any] = {"calendar": str(given.get("calendar", DEFAULT_SETTINGS.calendar))}
    cap = given.get("turnover_cap")
    if cap is not None:
        try:
            cap = float(cap)
        except (TypeError, ValueError):
            cap = math.nan
        if not math.isfinite(cap) or not 0.0 <= cap <= MAX_TURNOVER_CAP:
            raise BadInputError(f"turnover_cap must be a number between 0 and {MAX_TURNOVER_CAP:g}",
                                details={"field": "turnover_cap"})
        out["turnover_cap"] = cap
    events = given.get("fund_events")
    if events:
        path = Path(str(events)).expanduser().resolve()
        if not path.is_file():
            raise BadInputError(f"fund events file {path} does not exist", details={"field": "fund_events"})
        out["fund_events"] = str(path)
    _settings(out)  # the settings' own checks (calendar) name the bad value
    return out


def _settings(options: Mapping[str, Any], threads: int = DEFAULT_SETTINGS.workers) -> RebalanceSettings:
    changes: dict[str, Any] = {"calendar": options.get("calendar", DEFAULT_SETTINGS.calendar), "workers": threads}
    if options.get("turnover_cap") is not None:
        changes["turnover_cap"] = float(options["turnover_cap"])
    return DEFAULT_SETTINGS.with_(**changes)


@lru_cache(maxsize=4)
def _fund_events(path: str) -> pd.DataFrame:
    from advisor.batch_io import read_table

    return read_table(path, string_columns=("code", "event"))


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """Parquet-ready table without pandas metadata (list columns read back anywhere), as `write_parquet`."""
    return pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)


def run(ctx: JobContext, customers: pa.Table, holdings: pa.Table) -> PartitionResult:
    events = _fund_events(ctx.options["fund_events"]) if ctx.options.get("fund_events") else None
    settings = _settings(ctx.options, threads=max(1, ctx.threads))
    result = rebalance_book(ctx.universe, customers, holdings, as_of=ctx.as_of, fund_events=events,
                            settings=settings)
    summary = result.summary
    reasons = summary["reason"].astype("str").value_counts() if len(summary) else pd.Series(dtype="int64")
    actions = result.trades["action"].astype("str").value_counts() if len(result.trades) else pd.Series(dtype="int64")
    part = {
        "customers": len(summary), "trades": len(result.trades),
        "by_reason": {str(k): int(v) for k, v in reasons.items()},
        "by_action": {str(k): int(v) for k, v in actions.items()},
        "total_fee": float(summary["fee"].sum()) if len(summary) else 0.0,
        "traded_amount": float(result.trades["amount"].sum()) if len(result.trades) else 0.0,
        "rejected_rows": len(result.rejects),
        "reject_reasons": {str(k): int(v) for k, v in result.rejects["reason"].value_counts().items()},
        "universe_version": result.universe_version,
        "outcome": run_counts(summary, result.trades),
    }
    return PartitionResult({"trades": _arrow(result.trades), "trades_summary": _arrow(summary)},
                           result.rejects, part)


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run summary: customers by status and reason, value by trade reason, orders by action, fees — as
    `advisor rebalance` reports."""
    reasons = sum_counts(parts, "reject_reasons")
    # shares of customers by status and of traded value by trade reason, round trips, fees per drift removed
    shares = outcome(merge_counts([p["outcome"] for p in parts if p.get("outcome")]))
    return {
        **shares,
        "customers": sum(int(p["customers"]) for p in parts), "trades": sum(int(p["trades"]) for p in parts),
        "by_reason": sum_counts(parts, "by_reason"), "by_action": sum_counts(parts, "by_action"),
        "total_fee": round(sum(float(p["total_fee"]) for p in parts), 2),
        "traded_amount": round(sum(float(p["traded_amount"]) for p in parts), 2),
        "rejected_rows": sum(int(p["rejected_rows"]) for p in parts),
        "reject_reasons": dict(list(reasons.items())[:20]),
    }


JOB = register(Job(
    name="rebalance", run=run, merge=merge, outputs=("trades", "trades_summary"), check_options=_options,
    description="调仓建议 rebalancing: fee-aware, suitability-safe orders and one summary row per customer",
))

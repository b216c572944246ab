"""Rebalancing suggestions (调仓建议) a banker would sign: asset classes first, held funds kept unless they
have a reason of their own to go, no churn, minimums honoured, every trade with its reason.

Entry points: `rebalance_book` (raw batch tables → trades, summary, rejects, lots after),
`rebalance_customer` (a batch of one → the single-customer JSON), `rebalance_batch` (already valued lots;
the entry point the simulator and the distributed nightly run call). See docs/rebalancing.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from advisor.rebalancing.batch import BatchResult, TargetProvider, rebalance_batch
from advisor.rebalancing.report import customer_json
from advisor.rebalancing.settings import DEFAULT_SETTINGS, RebalanceSettings
from products.errors import BadInputError
from products.universe import Universe

__all__ = ["BatchResult", "RebalanceSettings", "rebalance_batch", "rebalance_book", "rebalance_customer"]


def rebalance_book(universe: Universe, customers: Any, holdings: Any, *, as_of: date | None = None,
                   targets: TargetProvider | None = None, fund_events: pd.DataFrame | None = None,
                   settings: RebalanceSettings = DEFAULT_SETTINGS, progress=None) -> BatchResult:
    """Read and validate the batch tables (paths or frames, `advisor.batch_io`), value the lots, rebalance.

    Optional customer columns beyond the batch contract: `cash_flow` (deposit > 0 / withdrawal < 0),
    `previous_risk_level`, `last_rebalance_date`.
    """
    from advisor.batch_io import read_customers, read_holdings, read_table, reject_orphans, value_lots

    as_of = as_of or date.today()
    raw_customers = read_table(customers, string_columns=("customer_id", "risk_level", "rm_id"))
    clean_c, rej_c = read_customers(raw_customers)
    extra = [c for c in ("cash_flow", "previous_risk_level", "last_rebalance_date") if c in raw_customers.columns]
    if extra:
        clean_c = clean_c.join(raw_customers[extra], on="row")
    if "assessment_expires_on" not in raw_customers.columns:  # not given: the caller vouches for validity
        clean_c = clean_c.drop(columns="assessment_expires_on", errors="ignore")
    clean_h, rej_h = read_holdings(holdings, universe=universe, as_of=as_of)
    clean_h, rej_o = reject_orphans(clean_c, clean_h, rej_c)
    lots = value_lots(universe, clean_h, as_of=as_of)
    result = rebalance_batch(universe, clean_c, lots, targets=targets, fund_events=fund_events, as_of=as_of,
                             settings=settings, progress=progress)
    # customers whose lots were rejected while reading must not be rebalanced on a partial picture
    bad_ids = set(rej_h["customer_id"].dropna().astype(str))
    parts = [r for r in (rej_c, rej_h, rej_o, result.rejects) if len(r)]
    summary, trades, positions, lots_after = result.summary, result.trades, result.positions, result.lots_after
    if bad_ids:
        skip = summary["customer_id"].isin(bad_ids)
        skipped = summary.loc[skip, "customer_id"].to_numpy(dtype=object)
        if len(skipped):
            parts.append(pd.DataFrame({"table": "customers", "customer_id": skipped, "row": -1, "field": "holdings",
                                       "reason": "customer skipped: one of their holding rows was rejected"}))
        summary = summary.loc[~skip].reset_index(drop=True)
        trades = trades.loc[~trades["customer_id"].astype("str").isin(bad_ids)].reset_index(drop=True)
        positions = positions.loc[~positions["customer_id"].astype("str").isin(bad_ids)].reset_index(drop=True)
        if lots_after is not None:
            lots_after = lots_after.loc[~lots_after["customer_id"].isin(bad_ids)].reset_index(drop=True)
    rejects = pd.concat(parts, ignore_index=True) if parts else result.rejects
    return BatchResult(trades=trades, summary=summary, positions=positions, rejects=rejects, as_of=result.as_of,
                       universe_version=result.universe_version, lots_after=lots_after)


def rebalance_customer(universe: Universe, customers: Any, holdings: Any, *, cash_flow: float = 0.0,
                       as_of: date | None = None, targets: TargetProvider | None = None,
                       fund_events: pd.DataFrame | None = None,
                       settings: RebalanceSettings = DEFAULT_SETTINGS) -> dict[str, Any]:
    """One customer (a batch of one) → the single-customer JSON; a rejected row is a BadInputError."""
    frame = customers if isinstance(customers, pd.DataFrame) else pd.DataFrame([customers])
    if len(frame) != 1:
        raise BadInputError("rebalance_customer takes exactly one customer", details={"rows": len(frame)})
    frame = frame.copy()
    if cash_flow:
        frame["cash_flow"] = float(cash_flow)
    lots = holdings if isinstance(holdings, pd.DataFrame) else pd.DataFrame(list(holdings))
    if lots.empty:
        lots = pd.DataFrame({"customer_id": pd.Series(dtype="str"), "code": pd.Series(dtype="str"),
                             "amount": pd.Series(dtype=float), "purchase_date": pd.Series(dtype="datetime64[s]")})
    result = rebalance_book(universe, frame, lots, as_of=as_of, targets=targets, fund_events=fund_events,
                            settings=settings)
    if len(result.rejects):
        first = result.rejects.iloc[0]
        raise BadInputError(f"{first['table']} row {first['row']}: {first['field']}: {first['reason']}",
                            code="bad_row", details={"rejects": result.rejects.to_dict(orient="records")})
    return customer_json(result, str(frame["customer_id"].iloc[0]), universe)


DEFAULTS = DEFAULT_SETTINGS

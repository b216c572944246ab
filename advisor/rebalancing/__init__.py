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
    from advisor.batch_io import (
        read_customers,
        read_holdings,
        read_table,
        reject_orphans,
        skip_customers_with_rejected_lots,
        value_lots,
    )

    as_of = as_of or date.today()
    raw_customers = read_table(customers, string_columns=("customer_id", "risk_level", "rm_id"))
    clean_c, rej_c = read_customers(raw_customers)
    extra = [c for c in ("cash_flow", "previous_risk_level", "last_rebalance_date") if c in raw_customers.columns]
    if extra:
        clean_c = clean_c.join(raw_customers[extra], on="row")
    if "assessment_expires_on" not in raw_customers.columns:  # not given: the caller vouches for validity
        clean_c = clean_c.drop(columns="assessment_expires_on", errors="ignore")
    clean_h, rej_h = read_holdings(holdings, universe=universe, as_of=as_of)
    clean_c, rej_skip = skip_customers_with_rejected_lots(clean_c, rej_h)
    rej_c = pd.concat([r for r in (rej_c, rej_skip) if len(r)] or [rej_c], ignore_index=True)
    clean_h, rej_o = reject_orphans(clean_c, clean_h, rej_c)
    lots = value_lots(universe, clean_h, as_of=as_of)
    result = rebalance_batch(universe, clean_c, lots, targets=targets, fund_events=fund_events, as_of=as_of,
                             settings=settings, progress=progress)
    parts = [r for r in (rej_c, rej_h, rej_o, result.rejects) if len(r)]
    summary, trades, positions, lots_after = result.summary, result.trades, result.positions, result.lots_after
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
        from advisor.batch_io import single_customer_error

        raise single_customer_error(result.rejects)
    return customer_json(result, str(frame["customer_id"].iloc[0]), universe)


DEFAULTS = DEFAULT_SETTINGS

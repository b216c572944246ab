"""Customers with their ledger (or, where there is none, their stored lots) as priced events.

`load_book` reads and validates the three batch tables (customers and holdings as in `advisor.batch_io`,
the ledger as in `advisor.lifecycle.ledger`) and returns one `LifecycleBook`: the customers, their events
sorted per customer and fund, and every rejected row with its reason. A customer with ledger rows is
valued from the ledger only (the ledger is the record); a customer with lots only gets estimated events.
A single customer is a book of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from advisor import batch_io
from advisor.lifecycle.ledger import Events, events_from_lots, read_ledger, reject_oversells
from advisor.lifecycle.prices import PriceTable, price_table
from products.errors import BadInputError
from products.universe import Universe


@dataclass
class LifecycleBook:
    """Validated customers (`batch_io.read_customers` columns) and their events (`cust` = customer row)."""

    universe: Universe
    prices: PriceTable
    customers: pd.DataFrame
    events: Events
    rejects: pd.DataFrame
    as_of: date
    plan_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))  # `events.plan` indexes it

    @property
    def n(self) -> int:
        return len(self.customers)

    @property
    def customer_id(self) -> np.ndarray:
        return self.customers["customer_id"].to_numpy(dtype=object)

    def slice(self, lo: int, hi: int) -> LifecycleBook:
        """Customers lo…hi-1 with their events (renumbered from 0)."""
        a, b = np.searchsorted(self.events.cust, [lo, hi])
        events = self.events.take(np.arange(a, b))
        events.cust = events.cust - lo
        return LifecycleBook(self.universe, self.prices, self.customers.iloc[lo:hi].reset_index(drop=True), events,
                             batch_io.empty_rejects(), self.as_of, self.plan_ids)


PROFILE_FIELDS = ("customer_id", "risk_level", "lowest_category", "assessment_expires_on", "age", "horizon_years",
                  "monthly_expenses", "cash", "deposits", "wealth_products", "insurance", "rm_id")


def customer_tables(payload: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """(customers, holdings or None, ledger or None) from one customer's JSON: profile fields, optional
    `holdings` (lots) and `ledger` (transactions) lists."""
    if not isinstance(payload, dict):
        raise BadInputError("customer JSON must be an object with profile fields, holdings and/or ledger")
    unknown = set(payload) - set(PROFILE_FIELDS) - {"holdings", "ledger"}
    if unknown:
        raise BadInputError(f"unknown field(s) in customer JSON: {', '.join(sorted(unknown))}",
                            details={"field": sorted(unknown)[0]})
    profile = {k: payload[k] for k in PROFILE_FIELDS if k in payload}
    profile.setdefault("customer_id", "customer")
    profile.setdefault("risk_level", "C3")
    cid = str(profile["customer_id"])
    customers = pd.DataFrame([{k: (str(v) if k in ("customer_id", "risk_level", "rm_id") and v is not None else v)
                               for k, v in profile.items()}])
    tables: list[pd.DataFrame | None] = []
    for name, columns in (("holdings", ("code", "shares", "amount", "purchase_date")),
                          ("ledger", ("txn_id", "date", "code", "kind", "amount", "shares", "fee", "nav", "plan_id"))):
        rows = payload.get(name)
        if rows is None:
            tables.append(None)
            continue
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise BadInputError(f"{name} must be a list of objects", details={"field": name})
        frame = pd.DataFrame([{"customer_id": cid, **{k: r.get(k) for k in columns}} for r in rows],
                             columns=["customer_id", *columns])
        for column in ("shares", "amount", "fee", "nav"):
            if column in frame.columns:
                frame[column] = pd.to_numeric(frame[column], errors="coerce").where(frame[column].notna())
        for column in ("code", "kind", "txn_id", "plan_id"):
            if column in frame.columns:
                frame[column] = frame[column].map(lambda v: None if v is None else str(v)).astype(object)
        tables.append(frame)
    return customers, tables[0], tables[1]


def load_book(universe: Universe, customers: batch_io.PathOrFrame, *, holdings: batch_io.PathOrFrame | None = None,
              ledger: batch_io.PathOrFrame | None = None, as_of: date | None = None) -> LifecycleBook:
    """Read, validate and price the batch tables (paths or frames); see the module docstring."""
    as_of = as_of or date.today()
    prices = price_table(universe)
    clean, rejects_c = batch_io.read_customers(customers)
    parts: list[pd.DataFrame] = [rejects_c]
    events: list[Events] = []
    with_ledger = np.zeros(len(clean), dtype=bool)
    plan_ids = np.zeros(0, dtype=object)
    if ledger is not None:
        rows = read_ledger(ledger, universe, prices, as_of, customer_ids=clean["customer_id"])
        plan_ids = rows.plan_ids
        parts.append(rows.rejects)
        position = rows.position
        orphan = position < 0
        if orphan.any():
            ids = np.asarray(rows.customer_id.to_pylist(), dtype=object)[orphan]
            orphans = batch_io.orphan_rejects(ids, rows.events.row[orphan], rejects_c).assign(table="ledger")
            parts.append(orphans)
        ledger_events = rows.events.take(np.flatnonzero(~orphan)) if orphan.any() else rows.events
        ledger_events.cust = position[~orphan]
        with_ledger[ledger_events.cust] = True
        events.append(ledger_events)
        del rows, ledger_events  # the list holds the only reference: sorting below replaces it field by field
    if holdings is not None:
        lots = batch_io.validate_holdings(holdings, universe=universe, as_of=as_of)
        parts.append(lots.rejects)
        keep = np.flatnonzero(~lots.bad)
        ids = lots.customer_id.take(keep) if len(keep) < len(lots.bad) else lots.customer_id
        position = batch_io.customer_positions(clean["customer_id"], ids)
        orphan = position < 0
        if orphan.any():
            orphan_ids = np.asarray(ids.to_pylist(), dtype=object)[orphan]
            parts.append(batch_io.orphan_rejects(orphan_ids, keep[orphan], rejects_c))
        use = ~orphan
        use[use] = ~with_ledger[position[use]]  # the ledger is the record where there is one
        rows_used = keep[use]
        day = (lots.purchase_date[rows_used].astype("datetime64[D]") - np.datetime64("1970-01-01", "D")).astype(
            np.int64)
        events.append(events_from_lots(universe, prices, position[use], lots.fund_idx[rows_used],
                                       lots.shares[rows_used], lots.amount[rows_used], day))
    merged = Events.concat(events)
    events.clear()
    merged.sort_in_place()
    merged, oversold = reject_oversells(merged)
    if len(oversold):
        parts.append(pd.DataFrame({"table": "ledger", "customer_id": clean["customer_id"].to_numpy(dtype=object)[
            oversold.cust], "row": oversold.row, "field": "shares",
            "reason": "sells more shares than the customer held on that date"}))
    rejects = pd.concat([p for p in parts if len(p)] or [batch_io.empty_rejects()], ignore_index=True)
    return LifecycleBook(universe, prices, clean, merged, rejects, as_of, plan_ids)

"""The nightly 陪伴 run as a partition job (`advisor nightly run lifecycle --book BOOK --out OUT`).

Per partition: the customers and lots of the book, and this partition's rows of the book's other tables —
`ledger`, `goals`, `sip_plans`, `sip_debits`, `alert_preferences`, `alert_history` (written with
`advisor nightly partition … --table NAME=FILE`) — go through the same functions as `advisor plan alerts`
(`advisor.lifecycle.nightly.prepare_tables` and `run_chunk`), chunk by chunk. A customer's results never
depend on the other customers of the partition, so a partitioned run equals one run over the whole book.

Options: `fund_events` (path of the fund-events table: global, not partitioned), `chunk_size`.
The dedupe and cap history is the book's `alert_history` table (the earlier outboxes and tasks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from advisor.lifecycle.nightly import plain_objects, prepare_tables, run_chunk
from advisor.lifecycle.report import DEFAULT_CHUNK
from advisor.lifecycle.tables import read_history
from advisor.nightly.jobs import Job, JobContext, PartitionResult, register, sum_counts
from products.errors import BadInputError

OUTPUTS = ("alerts", "rm_tasks", "candidates", "returns", "goals", "sip_holds")
TABLES = {"ledger": "ledger", "goals": "goals", "plans": "sip_plans", "debits": "sip_debits",
          "preferences": "alert_preferences"}


def _options(given: Mapping[str, Any]) -> dict[str, Any]:
    known = {"chunk_size", "fund_events"}
    unknown = set(given) - known
    if unknown:
        raise BadInputError(f"unknown lifecycle option(s): {', '.join(sorted(unknown))} (known: "
                            f"{', '.join(sorted(known))})", details={"field": "options"})
    chunk = given.get("chunk_size", DEFAULT_CHUNK)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise BadInputError("chunk_size must be a positive whole number of customers", details={"field": "chunk_size"})
    events = given.get("fund_events")
    if events is not None and not Path(str(events)).is_file():
        raise BadInputError(f"fund_events: no such file {events}", details={"field": "fund_events"})
    return {"chunk_size": chunk, "fund_events": None if events is None else str(events)}


def run(ctx: JobContext, customers: pa.Table, holdings: pa.Table) -> PartitionResult:
    extra = {key: ctx.table(name) for key, name in TABLES.items()}
    history = ctx.table("alert_history")
    inputs = prepare_tables(ctx.universe, customers, as_of=ctx.as_of, holdings=holdings, **extra,
                            history=None if history is None else read_history(history),
                            fund_events=ctx.options.get("fund_events"))
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in OUTPUTS}
    chunk = int(ctx.options.get("chunk_size", DEFAULT_CHUNK))
    for lo in range(0, inputs.book.n, chunk):
        result = run_chunk(inputs, lo, min(lo + chunk, inputs.book.n))
        parts["alerts"].append(result.alerts.outbox)
        parts["rm_tasks"].append(result.alerts.rm_tasks)
        parts["candidates"].append(result.alerts.candidates.drop(columns=["cust"]))
        parts["returns"].append(result.returns)
        parts["goals"].append(result.goals)
        parts["sip_holds"].append(result.holds)
    outputs = {name: plain_objects(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
               for name, frames in parts.items()}
    candidates = outputs["candidates"]
    summary = {
        "customers": inputs.book.n, "alerts": len(outputs["alerts"]), "rm_tasks": len(outputs["rm_tasks"]),
        "by_kind": ({str(k): int(v) for k, v in outputs["alerts"]["kind"].value_counts().items()}
                    if len(outputs["alerts"]) else {}),
        "by_status": ({str(k): int(v) for k, v in candidates["status"].value_counts().items()}
                      if len(candidates) else {}),
        "rejected": {str(k): int(v) for k, v in inputs.rejects["table"].value_counts().items()},
        "universe_version": ctx.universe.version,
    }
    return PartitionResult(outputs, inputs.rejects, summary)


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"customers": sum(int(p.get("customers", 0)) for p in parts),
            "alerts": sum(int(p.get("alerts", 0)) for p in parts),
            "rm_tasks": sum(int(p.get("rm_tasks", 0)) for p in parts),
            "alerts_by_kind": sum_counts(parts, "by_kind"), "candidates_by_status": sum_counts(parts, "by_status"),
            "rejected_by_table": sum_counts(parts, "rejected"),
            "universe_versions": sorted({str(p.get("universe_version", "")) for p in parts})}


JOB = register(Job(
    name="lifecycle", run=run, merge=merge, outputs=OUTPUTS, check_options=_options,
    description="陪伴 run: returns, goal probabilities and alerts (outbox, RM tasks) per customer",
))

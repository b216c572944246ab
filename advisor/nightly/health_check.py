"""The nightly health check (财富体检) as a partition job: the same engine as `advisor diagnose`.

Per partition: validate and value the lots (`advisor.diagnosis.prepare`), run the 26 checks in chunks
(`diagnose_tables`, in this process: the partitions are the parallelism), write the report rows
(one per customer, the columns of `advisor diagnose --out`), and keep the summary counts so the run
summary of all partitions equals the summary of one run over the whole book.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from advisor.diagnosis.context import diagnosis_context
from advisor.diagnosis.engine import DEFAULT_CHUNK, diagnose_tables, prepare
from advisor.diagnosis.report import SummaryBuilder
from advisor.diagnosis.rules import default_rules
from advisor.nightly.jobs import Job, JobContext, PartitionResult, register, sum_counts
from products.errors import BadInputError


def _options(given: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(given) - {"chunk_size"}
    if unknown:
        raise BadInputError(f"unknown health-check option(s): {', '.join(sorted(unknown))} (known: chunk_size)",
                            details={"field": "options"})
    chunk = given.get("chunk_size", DEFAULT_CHUNK)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise BadInputError("chunk_size must be a positive whole number of customers", details={"field": "chunk_size"})
    return {"chunk_size": chunk}


def run(ctx: JobContext, customers: pa.Table, holdings: pa.Table) -> PartitionResult:
    dctx = diagnosis_context(ctx.universe)
    rules = default_rules()
    inputs = prepare(dctx, customers, holdings, ctx.as_of)
    builder = SummaryBuilder(rule.id for rule in rules)
    tables = []
    for table in diagnose_tables(dctx, inputs, rules, ctx.options.get("chunk_size", DEFAULT_CHUNK), workers=1):
        builder.add(table)
        tables.append(table)
    report = pa.concat_tables(tables) if tables else pa.table({"customer_id": pa.array([], pa.string())})
    rejects = inputs.rejects
    counts = rejects["table"].value_counts()
    summary = {
        "builder": builder.state(), "lots": len(inputs.lot_customer),
        "rejected": {"customers": int(counts.get("customers", 0)), "lots": int(counts.get("holdings", 0))},
        "reasons": {str(k): int(v) for k, v in rejects["reason"].value_counts().items()},
        "notes": list(dctx.notes), "universe_version": dctx.version, "model_version": dctx.model.version,
    }
    return PartitionResult({"report": report}, rejects, summary)


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The summary of `advisor diagnose --summary`, for the whole book."""
    builder = SummaryBuilder(rule.id for rule in default_rules())
    for part in parts:
        builder.merge(part["builder"])
    reasons = sum_counts(parts, "reasons")
    rejected = sum_counts(parts, "rejected")
    notes = sorted({note for part in parts for note in part.get("notes", [])})
    versions = sorted({part.get("model_version", "") for part in parts})
    return builder.build(
        rejected={"customers": rejected.get("customers", 0), "lots": rejected.get("lots", 0),
                  "reasons": dict(list(reasons.items())[:20])},
        lots=sum(int(part.get("lots", 0)) for part in parts), model_version=", ".join(versions), notes=notes)


JOB = register(Job(
    name="health_check", run=run, merge=merge, outputs=("report",), check_options=_options,
    description="财富体检 health check: one report row per customer (26 checks, scores, top actions)",
))

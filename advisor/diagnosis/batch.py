"""The nightly job: customers and holdings files in, one report row per customer out, Parquet to Parquet.

Inputs are validated and valued once (vectorized over every lot), then customers are processed in
chunks of `chunk_size` (100k by default) so memory stays bounded — on both cores by default (forked
workers share the prepared arrays) — and each chunk's report rows are written as one Parquet row group.
Rows that cannot be used go to `<out stem>.rejects.parquet` (or `rejects_path`) with the reason, rows counted
from 1 (`advisor.batch_io.write_rejects`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from advisor import batch_io
from advisor.diagnosis.context import DiagnosisContext
from advisor.diagnosis.engine import DEFAULT_CHUNK, diagnose_tables, prepare
from advisor.diagnosis.report import SummaryBuilder
from advisor.diagnosis.rules import Rule, default_rules


@dataclass(frozen=True)
class BatchOutcome:
    report_path: Path
    rejects_path: Path
    summary: dict[str, Any]


def diagnose_files(ctx: DiagnosisContext, customers: batch_io.PathOrFrame, holdings: batch_io.PathOrFrame,
                   out: str | Path, summary_path: str | Path | None = None, as_of: date | None = None,
                   rules: Sequence[Rule] | None = None, chunk_size: int = DEFAULT_CHUNK,
                   workers: int | None = None, on_start: Callable[[int, int], None] | None = None,
                   on_progress: Callable[[int], None] | None = None,
                   rejects_path: str | Path | None = None) -> BatchOutcome:
    """Run the health check over two files; returns the paths written and the summary."""
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rules = tuple(rules) if rules is not None else default_rules()
    inputs = prepare(ctx, customers, holdings, as_of)
    prepared = time.perf_counter()
    if on_start is not None:  # (customers to check, customers rejected)
        rejected = inputs.rejects.loc[inputs.rejects["table"] == "customers", "customer_id"].nunique()
        on_start(len(inputs.customers), int(rejected))
    summary = SummaryBuilder(rule.id for rule in rules)
    writer: pq.ParquetWriter | None = None
    try:
        for table in diagnose_tables(ctx, inputs, rules, chunk_size, workers, on_progress):
            if writer is None:
                dictionary_columns = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
                writer = pq.ParquetWriter(out, table.schema, use_dictionary=dictionary_columns,
                                          write_statistics=["customer_id", "health_score"])
            writer.write_table(table)
            summary.add(table)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no customer at all: still write an empty report with the columns
        pq.write_table(pa.table({"customer_id": pa.array([], pa.string())}), out)
    rejects = inputs.rejects.astype({"customer_id": "str", "field": "str", "reason": "str", "table": "str"})
    rejects_path = batch_io.write_rejects(rejects, rejects_path or batch_io.rejects_path_for(out))
    finished = time.perf_counter()
    counts = rejects["table"].value_counts()
    payload = summary.build(
        as_of=inputs.as_of.isoformat(), universe_as_of=str(ctx.as_of), universe_version=ctx.version,
        model_version=ctx.model.version,
        rejected={"customers": int(counts.get("customers", 0)), "lots": int(counts.get("holdings", 0)),
                  "reasons": {str(k): int(v) for k, v in rejects["reason"].value_counts().head(20).items()}},
        lots=len(inputs.lot_customer), seconds={"prepare": round(prepared - started, 2),
                                                     "total": round(finished - started, 2)},
        report=str(out), rejects_file=str(rejects_path), notes=list(ctx.notes))
    if summary_path is not None:
        Path(summary_path).parent.mkdir(parents=True, exist_ok=True)
        Path(summary_path).write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
    return BatchOutcome(out, rejects_path, payload)

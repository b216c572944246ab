"""Nightly jobs over a whole book, Parquet to Parquet, in bounded-memory chunks of customers."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from advisor import batch_io
from advisor.lifecycle.book import load_book
from advisor.lifecycle.report import DEFAULT_CHUNK, returns_chunks
from products.universe import Universe


def _writer_for(path: Path, frame: pd.DataFrame, writer: pq.ParquetWriter | None) -> pq.ParquetWriter:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table.cast(writer.schema))
    return writer


def write_rejects(rejects: pd.DataFrame, path: Path) -> None:
    frame = rejects.astype({"customer_id": "str", "field": "str", "reason": "str", "table": "str"})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)


def write_returns(universe: Universe, customers: batch_io.PathOrFrame, out: str | Path, *,
                  holdings: batch_io.PathOrFrame | None = None, ledger: batch_io.PathOrFrame | None = None,
                  as_of: date | None = None, chunk_size: int = DEFAULT_CHUNK,
                  on_start: Callable[[int], None] | None = None,
                  on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Per-customer returns to `out`, per fund to `<stem>.funds.parquet`, rejects to `<stem>.rejects.parquet`."""
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    funds_out = out.with_name(f"{out.stem}.funds.parquet")
    rejects_out = out.with_name(f"{out.stem}.rejects.parquet")
    book = load_book(universe, customers, holdings=holdings, ledger=ledger, as_of=as_of or universe.as_of)
    if on_start is not None:
        on_start(book.n)
    writers: list[pq.ParquetWriter | None] = [None, None]
    try:
        for per_customer, per_fund in returns_chunks(book, chunk_size, on_progress):
            writers[0] = _writer_for(out, per_customer, writers[0])
            writers[1] = _writer_for(funds_out, per_fund, writers[1])
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
    write_rejects(book.rejects, rejects_out)
    return {"customers": book.n, "out": str(out), "funds_out": str(funds_out), "rejects_out": str(rejects_out),
            "rejected": len(book.rejects), "as_of": book.as_of.isoformat(),
            "seconds": round(time.perf_counter() - started, 2)}

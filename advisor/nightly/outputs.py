"""The output directory of a partitioned run: datasets, per-partition status, run manifest.

Layout::

    OUT/run.json                          the run: job, date, options, universe, partitions done / failed
    OUT/summary.json                      the job's merged summary (written when every partition is done)
    OUT/rejects.parquet                   every rejected row of the run, with its partition
    OUT/<output>/part=N/part-0.parquet    each output of the job, one file per partition
    OUT/rejects/part=N/part-0.parquet     the partition's rejected rows
    OUT/_status/part=N.json               the partition's status: ok / failed, counts, summary part

Every file is written under a temporary name and renamed into place, and a partition's status is written
last: a partition is done only when its status says so, and running it again replaces its files, so a
re-run never duplicates rows.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

RUN_FILE = "run.json"
SUMMARY_FILE = "summary.json"
REJECTS = "rejects"
STATUS_DIR = "_status"
PART_FILE = "part-0.parquet"


def part_path(out: Path, name: str, partition: int) -> Path:
    return out / name / f"part={partition}" / PART_FILE


def status_path(out: Path, partition: int) -> Path:
    return out / STATUS_DIR / f"part={partition}.json"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_part(out: Path, name: str, partition: int, table: pa.Table) -> int:
    """Replace the partition's file of dataset `name` (nothing else is left in its folder)."""
    path = part_path(out, name, partition)
    folder = path.parent
    if folder.exists():
        for stale in folder.iterdir():
            if stale.is_file():
                stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return table.num_rows


def remove_partition(out: Path, names: Iterable[str], partition: int) -> None:
    """Delete a partition's files of every dataset and its status (a failed partition leaves no rows)."""
    for name in names:
        folder = part_path(out, name, partition).parent
        if folder.exists():
            shutil.rmtree(folder)
    status_path(out, partition).unlink(missing_ok=True)


def clear_run(out: Path, names: Iterable[str]) -> None:
    """Remove everything a run wrote in `out` (and nothing else)."""
    for name in [*names, REJECTS, STATUS_DIR]:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for name in (RUN_FILE, SUMMARY_FILE, f"{REJECTS}.parquet"):
        (out / name).unlink(missing_ok=True)


def statuses(out: Path) -> dict[int, dict[str, Any]]:
    """Partition → its status record (`OUT/_status`)."""
    found: dict[int, dict[str, Any]] = {}
    folder = out / STATUS_DIR
    if not folder.is_dir():
        return found
    for path in folder.glob("part=*.json"):
        record = read_json(path)
        if record is not None and "partition" in record:
            found[int(record["partition"])] = record
    return found


def read_output(out: str | os.PathLike[str], name: str, partitions: Iterable[int] | None = None) -> pa.Table:
    """One output dataset of a run as a single table, partition by partition in partition order.

    (`pyarrow.parquet.read_table(OUT/name)` or Dask's `read_parquet` read the same folder directly; this
    also unifies a column that is all-null in one partition and typed in another.)"""
    root = Path(out) / name
    if partitions is None:
        partitions = sorted(int(d.name.split("=", 1)[1]) for d in root.glob("part=*") if d.is_dir())
    tables = [pq.read_table(part_path(Path(out), name, p)) for p in partitions
              if part_path(Path(out), name, p).exists()]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


def merge_rejects(out: Path, partitions: Iterable[int]) -> tuple[Path, int]:
    """Stream every partition's rejects into `OUT/rejects.parquet` (bounded memory); (path, rows)."""
    path = out / f"{REJECTS}.parquet"
    tmp = _temporary(path)
    schema = pa.schema([("partition", pa.int32()), ("table", pa.string()), ("customer_id", pa.string()),
                        ("row", pa.int64()), ("field", pa.string()), ("reason", pa.string())])
    rows = 0
    with pq.ParquetWriter(tmp, schema) as writer:
        for p in partitions:
            part = part_path(out, REJECTS, p)
            if not part.exists():
                continue
            table = pq.read_table(part)
            if table.num_rows:
                writer.write_table(table.select(schema.names).cast(schema))
                rows += table.num_rows
    os.replace(tmp, path)
    return path, rows

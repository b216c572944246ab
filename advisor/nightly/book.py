"""A partitioned book: customers and their lots as Parquet datasets split by a hash of the customer id.

Layout (hive-style, so pyarrow, Dask and Spark read it as a dataset)::

    BOOK/book.json                          manifest (partitions, key, hash, row counts)
    BOOK/customers/part=17/part-0.parquet   the customers whose id hashes to partition 17
    BOOK/holdings/part=17/part-0.parquet    their lots (same columns as `advisor.batch_io`)

Other per-customer tables a job needs (a ledger, goals, SIP plans, alert history …) are partitioned the same
way, `BOOK/<table>/part=N/`, and read by a job with `JobContext.table(name)`.

Every customer's lots are in the customer's partition, so a partition is a complete, independent book:
the nightly jobs run one partition at a time in bounded memory, anywhere. A partition directory may hold
several Parquet files (a Spark job writes one per task); they are read in name order.

`partition_of` is the hash the writers here use (pandas' SipHash of the id, modulo the partition count);
any other function of the customer id works as well (a bank's Spark job may use `pmod(hash(id), N)`):
the runner only needs a customer's lots to sit in the customer's partition. Lots that do not are
reported as rejects ("customer_id not in customers table"), never silently dropped.

Writers stream: `BookWriter` takes the book in chunks of any size and never holds more than
`flush_rows` buffered rows, so a book of tens of millions of customers is written in bounded memory.
Each row carries `source_row`, its position in the stream written (for `partition_flat_book`, the row
of the flat file), so rejects of a partitioned run name the same rows as a run over the flat files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from products.errors import BadInputError, DataError

MANIFEST = "book.json"
BOOK_FORMAT = "advisor-book"
BOOK_FORMAT_VERSION = 1
TABLES = ("customers", "holdings")
KEY = "customer_id"
SOURCE_ROW = "source_row"
HASH_NAME = "pandas.util.hash_array(customer_id) % partitions"
MAX_PARTITIONS = 4096
DEFAULT_CUSTOMERS_PER_PARTITION = 50_000
_PART_DIR = re.compile(r"^part=(\d+)$")
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

EMPTY_SCHEMAS = {
    "customers": pa.schema([("customer_id", pa.string()), ("risk_level", pa.string())]),
    "holdings": pa.schema([("customer_id", pa.string()), ("code", pa.string()), ("shares", pa.float64()),
                           ("amount", pa.float64()), ("purchase_date", pa.date32())]),
}


def partition_of(customer_ids: pa.Array | pa.ChunkedArray | pd.Series | np.ndarray, partitions: int) -> np.ndarray:
    """Partition number (0 … partitions − 1) of each customer id; stable across processes and machines.

    Ids are hashed as trimmed text (a CSV's " C1 " is the customer "C1"); each distinct id is hashed once."""
    ids = customer_ids if isinstance(customer_ids, pa.Array | pa.ChunkedArray) else pa.array(
        np.asarray(customer_ids, dtype=object), type=pa.string(), from_pandas=True)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if not pa.types.is_string(ids.type):
        ids = ids.cast(pa.string())
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(ids))
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    buckets = (pd.util.hash_array(distinct, categorize=False) % np.uint64(partitions)).astype(np.int32)
    # an empty id (rejected later) goes to partition 0, with the rows that name it
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return np.where(indices >= 0, buckets[np.maximum(indices, 0)] if len(buckets) else 0, 0).astype(np.int32)


def suggested_partitions(customers: int, per_partition: int = DEFAULT_CUSTOMERS_PER_PARTITION) -> int:
    """Enough partitions for about `per_partition` customers each (at least 1)."""
    return max(1, min(MAX_PARTITIONS, -(-int(customers) // per_partition)))


def partition_dir(root: Path, table: str, partition: int) -> Path:
    return root / table / f"part={partition}"


def _check_partitions(partitions: int) -> int:
    if not isinstance(partitions, int | np.integer) or not 1 <= int(partitions) <= MAX_PARTITIONS:
        raise BadInputError(f"partitions must be a whole number from 1 to {MAX_PARTITIONS}, got {partitions!r}",
                            details={"field": "partitions"})
    return int(partitions)


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Book:
    """An opened partitioned book (see the module docstring)."""

    root: Path
    partitions: tuple[int, ...]
    manifest: dict[str, Any]
    tables: tuple[str, ...] = TABLES  # customers, holdings, then any other per-customer table
    folders: dict[str, dict[int, Path]] = field(default_factory=dict, compare=False, repr=False)  # part=N dirs

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Book:
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise DataError(f"book directory {root} does not exist", code="file_missing", details={"path": str(root)})
        missing = [t for t in TABLES if not (root / t).is_dir()]
        if missing:
            raise DataError(f"{root} is not a partitioned book: no {' or '.join(missing)} directory "
                            "(write one with `advisor demo-data customers --partitions N` or "
                            "`advisor nightly partition`)", code="bad_format", details={"path": str(root)})
        manifest: dict[str, Any] = {}
        if (root / MANIFEST).exists():
            try:
                manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
            except json.JSONDecodeError as err:
                raise DataError(f"{root / MANIFEST} is not valid JSON: {err.msg}", code="bad_format",
                                details={"path": str(root / MANIFEST)}) from None
        tables = (*TABLES, *sorted(d.name for d in root.iterdir() if d.is_dir() and d.name not in TABLES
                                   and not d.name.startswith((".", "_"))
                                   and any(_PART_DIR.match(c.name) for c in d.iterdir() if c.is_dir())))
        folders = {t: {int(m.group(1)): d for d in sorted((root / t).iterdir())
                       if d.is_dir() and (m := _PART_DIR.match(d.name))} for t in tables}  # part=17 or part=00017
        found = sorted({p for by_number in folders.values() for p in by_number})
        if "partitions" in manifest:
            declared = range(int(manifest["partitions"]))
            extra = sorted(set(found) - set(declared))
            if extra:
                raise DataError(f"{root}: partition directories {extra[:5]} beyond the {len(declared)} the "
                                "manifest declares", code="bad_format", details={"path": str(root)})
            found = list(declared)
        if not found:
            raise DataError(f"{root} has no partitions (customers/part=N/ directories)", code="bad_format",
                            details={"path": str(root)})
        return cls(root, tuple(found), manifest, tables, folders)

    @property
    def customers(self) -> int | None:
        value = self.manifest.get("customers")
        return None if value is None else int(value)

    def files(self, table: str, partition: int) -> list[Path]:
        folder = self.folders.get(table, {}).get(partition, partition_dir(self.root, table, partition))
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    def read_table(self, table: str, partition: int) -> pa.Table | None:
        """One table of one partition (all its files); an empty table if the partition has none of its rows;
        None for a table the book does not have."""
        if table not in self.tables:
            return None
        files = self.files(table, partition)
        if not files:
            schema = EMPTY_SCHEMAS.get(table, pa.schema([(KEY, pa.string())]))
            return schema.empty_table()
        parts = [pq.read_table(f) for f in files]
        if len(parts) == 1:
            return parts[0]
        return pa.concat_tables(parts, promote_options="permissive")

    def read(self, partition: int) -> tuple[pa.Table, pa.Table]:
        """(customers, holdings) of one partition."""
        if partition not in self.partitions:
            raise BadInputError(f"partition {partition} is not in the book (0 … {max(self.partitions)})",
                                details={"field": "partitions"})
        return self.read_table("customers", partition), self.read_table("holdings", partition)


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------

class BookWriter:
    """Writes a partitioned book from chunks of (customers, holdings) in bounded memory.

    Rows are split by `partition_of`, buffered per partition and flushed as Parquet row groups when the
    buffers together exceed `flush_rows` rows. Customers and lots of one chunk may come in any order; a
    customer's lots may even arrive in another chunk than the customer. Use as a context manager."""

    def __init__(self, root: str | os.PathLike[str], partitions: int, *, flush_rows: int = 2_000_000,
                 source: dict[str, Any] | None = None, overwrite: bool = False):
        self.root = Path(root)
        self.partitions = _check_partitions(partitions)
        if (self.root / MANIFEST).exists() or any((self.root / t).exists() for t in TABLES):
            if not overwrite:
                raise BadInputError(f"{self.root} already holds a book; choose another directory or overwrite it",
                                    details={"field": "out", "path": str(self.root)})
            _remove_book(self.root)
        self.flush_rows = flush_rows
        self.source = source or {}
        self._buffers: dict[tuple[str, int], list[pa.Table]] = {}
        self._buffered = 0
        self._writers: dict[tuple[str, int], pq.ParquetWriter] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self._rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._part_rows = {t: np.zeros(self.partitions, dtype=np.int64) for t in TABLES}
        self._manifest: dict[str, Any] | None = None
        _raise_open_files_limit(2 * self.partitions + 64)

    def __enter__(self) -> BookWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self._abort()

    @property
    def closed(self) -> bool:
        return self._manifest is not None

    def write(self, customers: pa.Table | pd.DataFrame, holdings: pa.Table | pd.DataFrame) -> None:
        """Add a chunk of customers and a chunk of lots (either may be empty)."""
        self.write_table("customers", customers)
        self.write_table("holdings", holdings)

    def write_table(self, name: str, table: pa.Table | pd.DataFrame) -> None:
        """Add a chunk of one table: "customers", "holdings" or any other per-customer table (a ledger,
        goals …) with a `customer_id` column, partitioned the same way."""
        if not _TABLE_NAME.match(name):
            raise BadInputError(f"table name {name!r}: use lower-case letters, digits and underscores",
                                details={"field": "table"})
        if not isinstance(table, pa.Table):
            table = pa.Table.from_pandas(table, preserve_index=False)
        self._add(name, table)
        if self._buffered >= self.flush_rows:
            self._flush()

    def _add(self, name: str, table: pa.Table) -> None:
        if KEY not in table.column_names:
            raise BadInputError(f"{name} table has no {KEY} column", code="missing_columns",
                                details={"table": name, "missing": [KEY]})
        n = table.num_rows
        self._rows.setdefault(name, 0)
        self._part_rows.setdefault(name, np.zeros(self.partitions, dtype=np.int64))
        if SOURCE_ROW not in table.column_names:
            table = table.append_column(SOURCE_ROW, pa.array(np.arange(self._rows[name], self._rows[name] + n,
                                                                       dtype=np.int64)))
        self._rows[name] += n
        if n == 0:
            return
        if name not in self._schemas:
            self._schemas[name] = table.schema
        elif table.schema != self._schemas[name]:
            table = _conform(table, self._schemas[name], name)
        part = partition_of(table[KEY], self.partitions)
        order = np.argsort(part, kind="stable")
        ordered = table.take(pa.array(order))
        counts = np.bincount(part, minlength=self.partitions)
        self._part_rows[name] += counts
        starts = np.concatenate([[0], np.cumsum(counts)])
        for p in np.flatnonzero(counts):
            self._buffers.setdefault((name, int(p)), []).append(ordered.slice(int(starts[p]), int(counts[p])))
        self._buffered += n

    def _writer(self, name: str, p: int) -> pq.ParquetWriter:
        key = (name, p)
        if key not in self._writers:
            folder = partition_dir(self.root, name, p)
            folder.mkdir(parents=True, exist_ok=True)
            self._writers[key] = pq.ParquetWriter(folder / "part-0.parquet", self._schemas[name])
        return self._writers[key]

    def _flush(self) -> None:
        for (name, p), parts in sorted(self._buffers.items()):
            self._writer(name, p).write_table(pa.concat_tables(parts).combine_chunks())
        self._buffers.clear()
        self._buffered = 0

    def close(self) -> dict[str, Any]:
        """Flush, write empty files for empty partitions, close every file and write `book.json` (once)."""
        if self._manifest is not None:
            return self._manifest
        self._flush()
        for name in [*TABLES, *(t for t in self._rows if t not in TABLES)]:
            schema = self._schemas.get(name, EMPTY_SCHEMAS.get(name, pa.schema([(KEY, pa.string())])))
            self._schemas[name] = schema
            for p in range(self.partitions):
                self._writer(name, p)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        manifest = {
            "format": BOOK_FORMAT, "format_version": BOOK_FORMAT_VERSION, "key": KEY, "hash": HASH_NAME,
            "partitions": self.partitions, "customers": self._rows["customers"], "lots": self._rows["holdings"],
            "largest_partition": {t: int(rows.max(initial=0)) for t, rows in self._part_rows.items()},
            "tables": {t: rows for t, rows in self._rows.items() if t not in TABLES},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "source": self.source,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        self._manifest = manifest
        return manifest

    def _abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # close what can be closed on the way out of an error
                writer.close()
        self._writers.clear()


def _conform(table: pa.Table, schema: pa.Schema, name: str) -> pa.Table:
    """A later chunk in the first chunk's schema (same columns; types cast, e.g. an all-null column)."""
    if table.column_names != schema.names:
        if set(table.column_names) != set(schema.names):
            differing = sorted(set(table.column_names) ^ set(schema.names))
            raise BadInputError(f"{name} chunks disagree on their columns: {differing}", details={"table": name})
        table = table.select(schema.names)
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise BadInputError(f"{name} chunks disagree on column types: {err}", details={"table": name}) from None


def _remove_book(root: Path) -> None:
    import shutil

    for folder in root.iterdir() if root.is_dir() else []:
        if folder.is_dir() and (folder.name in TABLES or any(_PART_DIR.match(c.name) for c in folder.iterdir())):
            shutil.rmtree(folder)
    (root / MANIFEST).unlink(missing_ok=True)


def _raise_open_files_limit(needed: int) -> None:
    """One open file per table and partition while writing: raise the soft limit if it is lower."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def write_book(chunks: Iterable[tuple[pa.Table, pa.Table]], root: str | os.PathLike[str], partitions: int,
               **kwargs: Any) -> dict[str, Any]:
    """Write every (customers, holdings) chunk of `chunks` as a partitioned book; returns the manifest."""
    with BookWriter(root, partitions, **kwargs) as writer:
        for customers, holdings in chunks:
            writer.write(customers, holdings)
        return writer.close()


def _batches(path: str | os.PathLike[str], batch_rows: int, table: str) -> Iterator[pa.Table]:
    """A Parquet or CSV file as Arrow tables of about `batch_rows` rows (CSV ids and codes stay text)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"input file {path} does not exist", code="file_missing", details={"path": str(path)})
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        file = pq.ParquetFile(path)
        for batch in file.iter_batches(batch_size=batch_rows):
            yield pa.Table.from_batches([batch])
        return
    if suffix == ".csv" or path.name.endswith(".csv.gz"):
        import pyarrow.csv as pacsv

        text = {"customers": ("customer_id", "risk_level", "rm_id"), "holdings": ("customer_id", "code")}.get(
            table, ("customer_id",))
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=64 << 20),
                                convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in text},
                                                                     strings_can_be_null=True))
        for batch in reader:
            yield pa.Table.from_batches([batch])
        return
    raise DataError(f"{path.name}: expected a .parquet or .csv file", code="bad_format", details={"path": str(path)})


def partition_flat_book(customers: str | os.PathLike[str], holdings: str | os.PathLike[str],
                        root: str | os.PathLike[str], partitions: int, *, batch_rows: int = 1_000_000,
                        overwrite: bool = False,
                        tables: dict[str, str | os.PathLike[str]] | None = None) -> dict[str, Any]:
    """Split flat customers / holdings files (Parquet or CSV) — and any other per-customer `tables`
    (name → file, each with a customer_id column) — into a partitioned book, streaming every file.

    `source_row` keeps each row's position in its file, so rejects name the rows of the original files."""
    files = {"customers": customers, "holdings": holdings, **(tables or {})}
    source = {name: str(Path(path).resolve()) for name, path in files.items()}
    with BookWriter(root, partitions, source=source, overwrite=overwrite) as writer:
        for name, path in files.items():
            for chunk in _batches(path, batch_rows, name):
                writer.write_table(name, chunk)
        return writer.close()

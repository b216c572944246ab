"""Run a nightly job over a partitioned book, one partition at a time, in-process or on Dask.

`run_job` plans the run (which partitions are still to do for this exact job, date, options, universe
and book), hands each partition to `run_partition` — in this process (`scheduler="none"`), on a local
Dask cluster sized to the machine (`"local"`) or on a bank's Dask cluster (`"tcp://host:8786"`) — and
merges what the partitions wrote: the job's summary, the rejects, the run manifest.

`run_partition` is the whole unit of work and is the same function everywhere: it loads the universe
with its research context (from the context cache: a worker is ready in about a second), reads its
partition of the book, runs the job, writes the outputs and the status. Memory therefore depends on the
size of a partition, not of the book, and results do not depend on where a partition ran.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from advisor.nightly import outputs
from advisor.nightly.book import SOURCE_ROW, Book
from advisor.nightly.jobs import Job, JobContext, get_job
from products.errors import BadInputError
from products.universe import Universe

SCHEDULERS = ("none", "local")  # or a scheduler address, tcp://host:8786
LOCAL_DEFAULT_CUSTOMERS = 200_000  # books larger than this default to a local cluster


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to run one partition (small and picklable: sent with every task)."""

    job: str
    book: str
    out: str
    data: str | None
    as_of: str
    options: dict[str, Any]
    fingerprint: str
    threads: int = 1


@dataclass
class RunOutcome:
    out: Path
    job: str
    summary: dict[str, Any]
    done: list[int]
    failed: dict[int, dict[str, Any]]  # partition → error
    missing: list[int]
    ran: list[int]
    seconds: float
    rejects_path: Path | None = None
    workers: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.missing


# ---------------------------------------------------------------------------------------------
# one partition (runs wherever the scheduler puts it)
# ---------------------------------------------------------------------------------------------

def run_partition(spec: RunSpec, partition: int, universe: Universe | None = None,
                  job: Job | None = None) -> dict[str, Any]:
    """Run the job on one partition and write its outputs and status; never raises for a job error
    (the status says `failed`, with the error, and the partition's outputs are removed)."""
    started = time.perf_counter()
    out = Path(spec.out)
    job = job or get_job(spec.job)
    names = (*job.outputs, outputs.REJECTS)
    book = Book.open(spec.book)
    record: dict[str, Any] = {"partition": partition, "fingerprint": spec.fingerprint,
                              "inputs": partition_signature(book, partition),
                              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        if universe is None:
            from advisor.context_cache import warm_universe

            universe = warm_universe(spec.data)
        ready = time.perf_counter()
        customers, holdings = book.read(partition)
        read = time.perf_counter()
        ctx = JobContext(universe, date.fromisoformat(spec.as_of), spec.options, partition, spec.threads, book)
        result = job.run(ctx, customers, holdings)
        computed = time.perf_counter()
        rows: dict[str, int] = {}
        for name in job.outputs:
            rows[name] = outputs.write_part(out, name, partition, _arrow(result.outputs.get(name)))
        rows[outputs.REJECTS] = outputs.write_part(out, outputs.REJECTS, partition,
                                                   rejects_table(result.rejects, customers, holdings, partition))
        record.update(status="ok", customers=customers.num_rows, lots=holdings.num_rows, rows=rows,
                      summary=result.summary,
                      seconds={"context": round(ready - started, 3), "read": round(read - ready, 3),
                               "run": round(computed - read, 3),
                               "write": round(time.perf_counter() - computed, 3)})
    except Exception as err:  # a failed partition is reported and can be re-run; the run goes on
        outputs.remove_partition(out, names, partition)
        record.update(status="failed", error={"type": type(err).__name__, "message": str(err),
                                              "traceback": traceback.format_exc(limit=8)})
    record["peak_rss_mb"] = _peak_rss_mb()
    record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    outputs.write_json(outputs.status_path(out, partition), record)
    return record


def _arrow(table: pa.Table | pd.DataFrame | None) -> pa.Table:
    if table is None:
        return pa.table({})
    if isinstance(table, pd.DataFrame):
        return pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(None)
    return table


def rejects_table(rejects: pd.DataFrame, customers: pa.Table, holdings: pa.Table, partition: int) -> pa.Table:
    """The job's rejects with the partition, and `row` mapped back to the row of the book's source
    (`source_row`) where the book records it — the row a user finds in their own file, counted from 1 as
    every rejects file counts (`advisor.batch_io.rejects_for_people`)."""
    n = len(rejects)
    rows = rejects["row"].to_numpy(dtype=np.int64, na_value=-1) if n else np.zeros(0, dtype=np.int64)
    tables = rejects["table"].astype("str").to_numpy() if n else np.zeros(0, dtype=object)
    mapped = rows.copy()
    for name, source in (("customers", customers), ("holdings", holdings)):
        if SOURCE_ROW in source.column_names and n:
            origin = source[SOURCE_ROW].to_numpy()
            hit = (tables == name) & (rows >= 0) & (rows < len(origin))
            mapped[hit] = origin[rows[hit]]

    def column(name: str) -> pa.Array:
        if not n:
            return pa.array([], pa.string())
        return pa.array(rejects[name].astype("str").where(rejects[name].notna(), None).tolist(), type=pa.string())

    return pa.table({"partition": pa.array(np.full(n, partition, dtype=np.int32)), "table": column("table"),
                     "customer_id": column("customer_id"), "row": pa.array(np.where(mapped >= 0, mapped + 1, mapped)),
                     "field": column("field"),
                     "reason": column("reason")})


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover
        return float("nan")
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


# ---------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------

def partition_signature(book: Book, partition: int) -> str:
    """Changes when a file of the partition changes (names, sizes, modification times) — a cheap stat:
    a partition whose input was repaired or replaced is run again."""
    h = hashlib.sha256()
    for table in book.tables:
        for path in book.files(table, partition):
            stat = path.stat()
            h.update(f"{table}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def run_fingerprint(job: Job, as_of: date, options: dict[str, Any], universe_version: str, book: Book) -> str:
    """What makes two runs the same run: job, date, options, universe, and which book (its location and
    partitioning; each partition's files are checked on their own, see `partition_signature`)."""
    payload = {"job": job.name, "as_of": as_of.isoformat(), "options": options, "universe": universe_version,
               "book": str(book.root), "partitions": list(book.partitions)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_scheduler(scheduler: str) -> str:
    scheduler = (scheduler or "none").strip()
    if scheduler in SCHEDULERS or "://" in scheduler:
        return scheduler
    raise BadInputError(f"--scheduler must be none, local or a Dask scheduler address like tcp://host:8786, "
                        f"got {scheduler!r}", details={"field": "scheduler"})


def default_scheduler(book: Book) -> str:
    """A local cluster for large books (several partitions, many customers), in-process otherwise."""
    customers = book.customers
    if len(book.partitions) > 1 and (customers is None or customers > LOCAL_DEFAULT_CUSTOMERS):
        return "local"
    return "none"


def _check_partitions(book: Book, partitions: Iterable[int] | None) -> list[int]:
    if partitions is None:
        return list(book.partitions)
    wanted = sorted({int(p) for p in partitions})
    unknown = [p for p in wanted if p not in book.partitions]
    if unknown:
        raise BadInputError(f"partition(s) {unknown[:10]} not in the book (0 … {max(book.partitions)})",
                            details={"field": "partitions"})
    return wanted


def run_job(job: str | Job, book: str | os.PathLike[str] | Book, out: str | os.PathLike[str], *,
            data: str | os.PathLike[str] | None = None, as_of: date | None = None,
            options: dict[str, Any] | None = None, scheduler: str | None = None, workers: int | None = None,
            partitions: Sequence[int] | None = None, force: bool = False, universe: Universe | None = None,
            progress: Callable[[int, int, dict[str, Any]], None] | None = None) -> RunOutcome:
    """Run `job` over the partitions of `book` into `out` (see the module docstring).

    Partitions already done for the same job, date, options, universe and book are skipped, so running
    the same command again only runs what failed or is missing; `partitions` limits the run to some;
    `force` discards what `out` holds first. `out` holding a different run is an error unless `force`."""
    started = time.perf_counter()
    job = get_job(job)
    opts = job.options(options)
    book = book if isinstance(book, Book) else Book.open(book)
    out = Path(out).expanduser().resolve()
    as_of = as_of or date.today()
    scheduler = check_scheduler(scheduler or default_scheduler(book))
    data_dir = None if data is None else str(Path(data).expanduser().resolve())
    if universe is None:
        from advisor.context_cache import warm_universe

        # builds the context cache when missing, so every worker loads it instead of rebuilding it
        universe = warm_universe(data_dir, build=True)
    fingerprint = run_fingerprint(job, as_of, opts, universe.version, book)
    previous = outputs.read_json(out / outputs.RUN_FILE)
    if previous is not None and (force or previous.get("fingerprint") != fingerprint):
        if not force:
            raise BadInputError(
                f"{out} holds another run ({previous.get('job')} as of {previous.get('as_of')}, universe "
                f"{previous.get('universe_version')}); choose another --out or pass --force to replace it",
                details={"field": "out", "path": str(out)})
        outputs.clear_run(out, [*previous.get("outputs", []), *job.outputs])
    elif force:
        outputs.clear_run(out, job.outputs)
    wanted = _check_partitions(book, partitions)
    done_before = {p for p, r in outputs.statuses(out).items()
                   if r.get("status") == "ok" and r.get("fingerprint") == fingerprint
                   and p in book.partitions and r.get("inputs") == partition_signature(book, p)}
    todo = [p for p in wanted if p not in done_before]
    threads = (os.cpu_count() or 1) if scheduler == "none" else 1
    spec = RunSpec(job.name, str(book.root), str(out), data_dir, as_of.isoformat(), opts, fingerprint, threads)
    manifest = {"job": job.name, "description": job.description, "as_of": as_of.isoformat(), "options": opts,
                "universe_version": universe.version, "universe_source": universe.source,
                "universe_as_of": str(universe.as_of), "book": str(book.root), "partitions": len(book.partitions),
                "fingerprint": fingerprint, "outputs": list(job.outputs), "scheduler": scheduler,
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "state": "running"}
    out.mkdir(parents=True, exist_ok=True)
    outputs.write_json(out / outputs.RUN_FILE, manifest)

    workers_info: dict[str, Any] = {}
    for k, record in enumerate(_execute(spec, job, todo, scheduler, workers, universe, workers_info), 1):
        if progress is not None:
            progress(k, len(todo), record)
    return finish(job, book, out, manifest, fingerprint, ran=todo, started=started, workers=workers_info)


def _execute(spec: RunSpec, job: Job, todo: list[int], scheduler: str, workers: int | None, universe: Universe,
             info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if not todo:
        return
    if scheduler == "none":
        info.update(kind="in-process", workers=1, pid=os.getpid())
        for p in todo:
            yield run_partition(spec, p, universe, job)
        return
    if job is not _registered(job.name):
        raise BadInputError(f"job {job.name!r} is not registered: a Dask worker finds a job by name (register it "
                            "in its module and list the module in advisor.nightly.jobs.JOB_MODULES)",
                            details={"field": "job"})
    from advisor.nightly.cluster import dask_partitions

    yield from dask_partitions(spec, todo, scheduler, workers, info)


def _registered(name: str) -> Job | None:
    try:
        return get_job(name)
    except BadInputError:
        return None


def finish(job: Job, book: Book, out: Path, manifest: dict[str, Any], fingerprint: str, *, ran: list[int],
           started: float, workers: dict[str, Any]) -> RunOutcome:
    """Merge what the partitions wrote: summary, rejects, run manifest."""
    records = {p: r for p, r in outputs.statuses(out).items()
               if r.get("fingerprint") == fingerprint and p in book.partitions
               and (r.get("status") != "ok" or r.get("inputs") == partition_signature(book, p))}
    done = sorted(p for p, r in records.items() if r.get("status") == "ok")
    failed = {p: r.get("error", {}) for p, r in sorted(records.items()) if r.get("status") == "failed"}
    missing = [p for p in book.partitions if p not in records]
    parts = [records[p]["summary"] for p in done]
    summary = job.merge(parts) if parts else {}
    complete = not failed and not missing
    rejects_path = None
    if complete:
        rejects_path, _ = outputs.merge_rejects(out, book.partitions)
    seconds = round(time.perf_counter() - started, 2)
    totals = {"customers_read": sum(int(records[p].get("customers", 0)) for p in done),
              "lots_read": sum(int(records[p].get("lots", 0)) for p in done),
              "rows": {name: sum(int(records[p]["rows"].get(name, 0)) for p in done)
                       for name in (*job.outputs, outputs.REJECTS)},
              "peak_rss_mb_per_worker": _peak_by_worker(records.values())}
    payload = {**summary, "job": job.name, "as_of": manifest["as_of"], "universe_version": manifest["universe_version"],
               "universe_as_of": manifest["universe_as_of"], "complete": complete,
               "partitions": {"total": len(book.partitions), "done": len(done), "failed": sorted(failed),
                              "missing": missing}, **totals}
    outputs.write_json(out / outputs.SUMMARY_FILE, payload)
    manifest = {**manifest, "state": "complete" if complete else ("failed" if failed else "partial"),
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": seconds,
                "ran": len(ran), "done": len(done), "failed": {str(p): e.get("message", "") for p, e in failed.items()},
                "missing": missing, "workers": workers,
                "rejects": None if rejects_path is None else str(rejects_path)}
    outputs.write_json(out / outputs.RUN_FILE, manifest)
    return RunOutcome(out, job.name, payload, done, failed, missing, ran, seconds, rejects_path, workers)


def _peak_by_worker(records: Iterable[dict[str, Any]]) -> dict[str, float]:
    peaks: dict[str, float] = {}
    for r in records:
        worker = str(r.get("worker", "?"))
        value = r.get("peak_rss_mb")
        if isinstance(value, int | float) and value == value:
            peaks[worker] = max(peaks.get(worker, 0.0), float(value))
    return peaks

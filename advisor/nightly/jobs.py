"""Nightly jobs: one partition function per job, registered by name, run the same way everywhere.

A job turns ONE partition of a book — its customers and their lots, as read from the Parquet files
(Arrow tables, not yet validated) — into output tables, rejected rows and a summary part::

    def run(ctx: JobContext, customers: pa.Table, holdings: pa.Table) -> PartitionResult
    def merge(parts: list[dict]) -> dict            # summary parts of every partition → the run summary

The runner (`advisor.nightly.runner`) calls `run` once per partition — in-process or on Dask workers —
writes each output as a partitioned dataset (`OUT/<output>/part=N/part-0.parquet`), the rejects beside
them, and merges the summary parts with `merge`. A job must be deterministic in its inputs (the same
partition always gives the same rows) and must not depend on other partitions. Bad rows belong in
`rejects` (columns `advisor.batch_io.REJECT_COLUMNS`, `row` = row of the partition's table); an
exception fails the partition, which the runner reports and can re-run alone.

Register a job with `register(Job(...))` at import of its module, and add the module to `JOB_MODULES`
so that any process (a Dask worker included) finds it by name; `"package.module:attribute"` names a job
outside this table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from advisor.nightly.book import Book
from products.errors import BadInputError
from products.universe import Universe

# job name → module that registers it (imported on first use, in every process)
JOB_MODULES: dict[str, str] = {
    "health_check": "advisor.nightly.health_check",
    "rebalance": "advisor.nightly.rebalance",
    "lifecycle": "advisor.lifecycle.job",
}


@dataclass(frozen=True)
class JobContext:
    """What a partition function gets besides its rows: the universe (its research context is loaded
    from the context cache), the business date, the job's options, the partition number, and how many
    threads the job may use (1 on a Dask worker: the workers are the parallelism)."""

    universe: Universe
    as_of: date
    options: Mapping[str, Any] = field(default_factory=dict)
    partition: int = 0
    threads: int = 1
    book: Book | None = None

    def table(self, name: str) -> pa.Table | None:
        """This partition's rows of another per-customer table of the book (`BOOK/<name>/part=N/`: a ledger,
        goals, alert history …), or None when the book has no such table."""
        return None if self.book is None else self.book.read_table(name, self.partition)


@dataclass
class PartitionResult:
    """Output tables by name, rejected rows, and this partition's part of the run summary (JSON-able)."""

    outputs: dict[str, pa.Table | pd.DataFrame]
    rejects: pd.DataFrame
    summary: dict[str, Any]


@dataclass(frozen=True)
class Job:
    """A nightly job: `run` per partition, `merge` of the summary parts; `outputs` names the datasets it
    writes (every partition returns all of them, possibly empty)."""

    name: str
    run: Callable[[JobContext, pa.Table, pa.Table], PartitionResult]
    merge: Callable[[Sequence[dict[str, Any]]], dict[str, Any]]
    outputs: tuple[str, ...]
    description: str = ""
    check_options: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None  # validate / normalize options

    def options(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """The job's options validated (a `BadInputError` names the bad one), JSON-able and complete."""
        given = dict(given or {})
        return self.check_options(given) if self.check_options is not None else given


_REGISTRY: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Make `job` available by name (idempotent for the same job object)."""
    _REGISTRY[job.name] = job
    return job


def get_job(name: str | Job) -> Job:
    """A registered job by name (importing its module if needed), or `package.module:attribute`."""
    if isinstance(name, Job):
        return name
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in JOB_MODULES:
        importlib.import_module(JOB_MODULES[name])
        if name in _REGISTRY:
            return _REGISTRY[name]
    if ":" in name:
        module, _, attribute = name.partition(":")
        try:
            job = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as err:
            raise BadInputError(f"job {name!r} not found: {err}", details={"field": "job"}) from None
        if not isinstance(job, Job):
            raise BadInputError(f"{name!r} is not a nightly Job", details={"field": "job"})
        return job
    raise BadInputError(f"unknown job {name!r}; known jobs: {', '.join(job_names())}", details={"field": "job"})


def job_names() -> list[str]:
    return sorted(set(JOB_MODULES) | set(_REGISTRY))


def sum_counts(parts: Sequence[Mapping[str, Any]], key: str) -> dict[str, int]:
    """Add up the `{name: count}` dicts under `key` of every summary part (a helper for `merge`)."""
    total: dict[str, int] = {}
    for part in parts:
        for name, count in (part.get(key) or {}).items():
            total[name] = total.get(name, 0) + int(count)
    return dict(sorted(total.items(), key=lambda item: (-item[1], item[0])))

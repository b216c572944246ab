"""A small generated book with bad rows, as flat files and as a partitioned book (demo universe)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from advisor.demo_customers import generate_chunks
from advisor.nightly.book import BookWriter

N_CUSTOMERS = 3_000
PARTITIONS = 5


@dataclass(frozen=True)
class FlatBook:
    customers: pa.Table
    holdings: pa.Table
    customers_file: Path
    holdings_file: Path
    book: Path
    as_of: object


def _with_bad_rows(customers: pa.Table, holdings: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Rows a bank's file really has: an unknown level, a duplicate id, a lot of an unknown fund, a negative
    lot, a lot of a customer who is not in the table, lots of a rejected customer."""
    c = customers.to_pandas()
    h = holdings.to_pandas()
    bad_level = c.iloc[[0]].assign(customer_id="BAD-LEVEL", risk_level="C9")
    duplicate = c.iloc[[1]]
    c = pd.concat([c, bad_level, duplicate], ignore_index=True)
    lot = h.iloc[[0]]
    extra = pd.concat([
        lot.assign(customer_id="BAD-LEVEL"),
        lot.assign(code="999999"),
        lot.assign(shares=-5.0, amount=float("nan")),
        lot.assign(customer_id="NOT-A-CUSTOMER"),
    ], ignore_index=True)
    h = pd.concat([h, extra], ignore_index=True)
    return (pa.Table.from_pandas(c, schema=customers.schema, preserve_index=False),
            pa.Table.from_pandas(h, schema=holdings.schema, preserve_index=False))


@pytest.fixture(scope="session")
def nightly_universe():
    from products.loading import load_universe

    return load_universe(None)


@pytest.fixture(scope="session")
def flat_book(nightly_universe, tmp_path_factory: pytest.TempPathFactory) -> FlatBook:
    as_of = nightly_universe.as_of
    chunks = list(generate_chunks(nightly_universe, N_CUSTOMERS, seed=11, as_of=as_of, chunk_size=1_000))
    customers, holdings = _with_bad_rows(pa.concat_tables([c for c, _ in chunks]),
                                         pa.concat_tables([h for _, h in chunks]))
    root = tmp_path_factory.mktemp("nightly-book")
    pq.write_table(customers, root / "customers.parquet")
    pq.write_table(holdings, root / "holdings.parquet")
    book = root / "book"
    # streamed in uneven chunks with small buffers: several flushes, lots arriving apart from customers
    with BookWriter(book, PARTITIONS, flush_rows=4_000) as writer:
        for lo in range(0, customers.num_rows, 1_100):
            writer.write_table("customers", customers.slice(lo, 1_100))
        for lo in range(0, holdings.num_rows, 2_500):
            writer.write_table("holdings", holdings.slice(lo, 2_500))
    return FlatBook(customers, holdings, root / "customers.parquet", root / "holdings.parquet", book, as_of)


@pytest.fixture(scope="session")
def health_run(flat_book, nightly_universe, tmp_path_factory):
    """The health check of the book, partition by partition in this process."""
    from advisor.nightly.runner import run_job

    return run_job("health_check", flat_book.book, tmp_path_factory.mktemp("hc") / "run", as_of=flat_book.as_of,
                   scheduler="none", universe=nightly_universe)


@pytest.fixture(scope="session")
def rebalance_run(flat_book, nightly_universe, tmp_path_factory):
    """Rebalancing of the book, partition by partition in this process."""
    from advisor.nightly.runner import run_job

    return run_job("rebalance", flat_book.book, tmp_path_factory.mktemp("rb") / "run", as_of=flat_book.as_of,
                   scheduler="none", universe=nightly_universe)


def plain(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A frame with categoricals as text and list cells as tuples, sorted by `keys` (for exact comparison)."""
    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("str").where(frame[column].notna())
        elif frame[column].dtype == object or str(frame[column].dtype).startswith("list"):
            frame[column] = frame[column].map(lambda v: v if v is None or isinstance(v, str) else tuple(v))
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)

"""Partitioned books: every customer's lots in the customer's partition, streamed writes, source rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from advisor.demo_customers import generate, generate_chunks
from advisor.nightly.book import Book, partition_flat_book, partition_of, suggested_partitions, write_book
from products.errors import BadInputError, DataError


def test_partition_of_is_stable_and_reads_ids_as_trimmed_text():
    ids = pa.array(["C000000001", " C000000001 ", "C000000002", None])
    first = partition_of(ids, 7)
    assert first[0] == first[1]  # a CSV's padded id is the same customer
    assert first.min() >= 0 and first.max() < 7
    assert first[3] == 0  # an empty id (rejected later) stays with the rows that name it
    again = partition_of(np.array(["C000000001", "C000000002"], dtype=object), 7)
    assert list(again) == [first[0], first[2]]
    many = partition_of(pa.array([f"C{i:09d}" for i in range(20_000)]), 8)
    counts = np.bincount(many, minlength=8)
    assert counts.min() > 2_000  # a hash spreads customers evenly


def test_streamed_book_keeps_every_customer_with_their_lots(flat_book):
    book = Book.open(flat_book.book)
    assert book.partitions == tuple(range(5))
    assert book.manifest["customers"] == flat_book.customers.num_rows
    assert book.manifest["lots"] == flat_book.holdings.num_rows
    seen_customers = seen_lots = 0
    for p in book.partitions:
        customers, holdings = book.read(p)
        seen_customers += customers.num_rows
        seen_lots += holdings.num_rows
        assert set(partition_of(customers["customer_id"], 5)) <= {p}
        assert set(partition_of(holdings["customer_id"], 5)) <= {p}
        # source_row points at the same row of the flat file
        rows = customers["source_row"].to_numpy()
        assert customers["customer_id"].to_pylist() == flat_book.customers["customer_id"].take(rows).to_pylist()
        lots = holdings["source_row"].to_numpy()
        assert holdings["code"].to_pylist() == flat_book.holdings["code"].take(lots).to_pylist()
        assert (np.diff(lots) > 0).all()  # the file's order is kept inside a partition
    assert (seen_customers, seen_lots) == (flat_book.customers.num_rows, flat_book.holdings.num_rows)


def test_flat_files_partition_to_the_same_book(flat_book, tmp_path):
    manifest = partition_flat_book(flat_book.customers_file, flat_book.holdings_file, tmp_path / "p", 5,
                                   batch_rows=700)
    assert (manifest["customers"], manifest["lots"]) == (flat_book.customers.num_rows, flat_book.holdings.num_rows)
    ours, theirs = Book.open(tmp_path / "p"), Book.open(flat_book.book)
    for p in ours.partitions:
        for a, b in zip(ours.read(p), theirs.read(p), strict=True):
            assert a.equals(b)
    # CSV input: ids and codes stay text (leading zeros kept)
    pacsv.write_csv(flat_book.customers, tmp_path / "customers.csv")
    pacsv.write_csv(flat_book.holdings.drop_columns([]), tmp_path / "holdings.csv")
    partition_flat_book(tmp_path / "customers.csv", tmp_path / "holdings.csv", tmp_path / "c", 5)
    _, lots = Book.open(tmp_path / "c").read(0)
    assert lots["code"].type == pa.string() and all(len(code) == 6 for code in lots["code"].to_pylist())
    with pytest.raises(BadInputError, match="already holds a book"):
        partition_flat_book(flat_book.customers_file, flat_book.holdings_file, tmp_path / "p", 5)


def test_generated_chunks_continue_ids_and_start_like_generate(nightly_universe):
    day = nightly_universe.as_of
    single_c, single_h = generate(nightly_universe, 500, seed=4, as_of=day)
    chunks = list(generate_chunks(nightly_universe, 1_200, seed=4, as_of=day, chunk_size=500))
    assert [c.num_rows for c, _ in chunks] == [500, 500, 200]
    assert chunks[0][0].equals(single_c) and chunks[0][1].equals(single_h)
    ids = pa.concat_tables([c for c, _ in chunks])["customer_id"].to_pylist()
    assert ids == [f"C{i:09d}" for i in range(1, 1_201)]
    assert chunks[1][0]["rm_id"][0].as_py() == "RM00001"  # RM assignment continues across chunks


def test_book_errors_are_clear(tmp_path, nightly_universe):
    with pytest.raises(DataError, match="does not exist"):
        Book.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a partitioned book"):
        Book.open(tmp_path / "empty")
    with pytest.raises(BadInputError, match="partitions"):
        write_book([], tmp_path / "zero", 0)
    write_book(generate_chunks(nightly_universe, 10, as_of=nightly_universe.as_of), tmp_path / "b", 20)
    book = Book.open(tmp_path / "b")
    assert len(book.partitions) == 20  # empty partitions are written too, with the columns
    empty = [p for p in book.partitions if book.read(p)[0].num_rows == 0]
    assert empty and book.read(empty[0])[1].column_names[:2] == ["customer_id", "code"]
    with pytest.raises(BadInputError, match="not in the book"):
        book.read(99)
    assert suggested_partitions(10_000_000) == 200 and suggested_partitions(1) == 1


def test_other_per_customer_tables_are_partitioned_with_their_customers(flat_book, tmp_path):
    import pyarrow.parquet as pq

    from advisor.nightly.jobs import JobContext

    ids = flat_book.customers["customer_id"].to_pylist()[:400]
    ledger = pa.table({"customer_id": ids * 2, "amount": np.arange(800, dtype=float)})
    pq.write_table(ledger, tmp_path / "ledger.parquet")
    partition_flat_book(flat_book.customers_file, flat_book.holdings_file, tmp_path / "b", 5,
                        tables={"ledger": tmp_path / "ledger.parquet"})
    book = Book.open(tmp_path / "b")
    assert book.tables == ("customers", "holdings", "ledger")
    total = 0
    for p in book.partitions:
        rows = JobContext(None, flat_book.as_of, partition=p, book=book).table("ledger")
        total += rows.num_rows
        assert set(partition_of(rows["customer_id"], 5)) <= {p}
        assert set(rows["customer_id"].to_pylist()) <= set(book.read(p)[0]["customer_id"].to_pylist())
    assert total == 800
    assert JobContext(None, flat_book.as_of, partition=0, book=book).table("goals") is None
    with pytest.raises(BadInputError, match="table name"):
        partition_flat_book(flat_book.customers_file, flat_book.holdings_file, tmp_path / "c", 5,
                            tables={"Bad Name": tmp_path / "ledger.parquet"})


def test_a_book_written_by_another_tool_is_read(flat_book, tmp_path):
    """Spark-style: zero-padded part=00003 folders, several files per partition, no book.json, _SUCCESS."""
    import pyarrow.parquet as pq

    ours = Book.open(flat_book.book)
    for table in ("customers", "holdings"):
        for p in ours.partitions:
            rows = ours.read_table(table, p)
            folder = tmp_path / table / f"part={p:05d}"
            folder.mkdir(parents=True)
            half = rows.num_rows // 2
            pq.write_table(rows.slice(0, half), folder / "part-00000-a.c000.snappy.parquet")
            pq.write_table(rows.slice(half), folder / "part-00001-b.c000.snappy.parquet")
        (tmp_path / table / "_SUCCESS").write_text("")
    theirs = Book.open(tmp_path)
    assert theirs.partitions == ours.partitions and theirs.manifest == {}
    for p in ours.partitions:
        for a, b in zip(theirs.read(p), ours.read(p), strict=True):
            assert a.equals(b)

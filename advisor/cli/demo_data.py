"""CLI commands: `advisor demo-data ...` — realistic synthetic customers and holdings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from advisor.cli.common import DataOption, JsonFlag, handle_errors, load, print_json

out = Console()
demo_app = typer.Typer(help="Synthetic demo data (customers and holdings) for the health check and rebalancing.",
                       no_args_is_help=True)


@demo_app.command("customers")
@handle_errors
def customers_cmd(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of customers.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for customers.parquet and holdings.parquet "
                                                      "(or the partitioned book).")]
    = Path("demo_customers"),
    mean_holdings: Annotated[float, typer.Option("--mean-holdings", min=1.0, max=15.0,
                                                 help="Average lots per customer (1–15).")] = 6.0,
    partitions: Annotated[int, typer.Option(
        "--partitions", min=0, help="Write a partitioned book with this many partitions (customers and their "
                                    "lots together by a hash of the id) for `advisor nightly run`; 0 = flat files.")
    ] = 0,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1_000,
                                            help="Customers generated at once (memory stays bounded by one chunk).")]
    = 250_000,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Date the data describes (default: the fund data's as-of date).")] = None,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write customers and holdings in the batch formats (advisor.batch_io), streamed chunk by chunk."""
    from advisor.cli.common import as_of_for
    from advisor.demo_customers import generate_chunks

    universe = load(data)
    chunks = generate_chunks(universe, n, seed=seed, as_of=as_of_for(universe, as_of).as_of,
                             mean_holdings=mean_holdings, chunk_size=chunk_size)
    if partitions:
        from advisor.nightly.book import write_book

        manifest = write_book(chunks, out_dir, partitions, source={"generator": "advisor.demo_customers", "seed": seed,
                                                                   "universe": universe.version})
        payload = {"customers": manifest["customers"], "lots": manifest["lots"], "book": str(out_dir),
                   "partitions": partitions, "universe": universe.source, "universe_as_of": str(universe.as_of)}
    else:
        customers_rows, lots_rows = _write_flat(chunks, out_dir)
        payload = {"customers": customers_rows, "lots": lots_rows,
                   "customers_file": str(out_dir / "customers.parquet"),
                   "holdings_file": str(out_dir / "holdings.parquet"),
                   "universe": universe.source, "universe_as_of": str(universe.as_of)}
    if as_json:
        print_json(payload)
        return
    where = f"{partitions} partitions in {out_dir}" if partitions else str(out_dir)
    out.print(f"wrote {payload['customers']:,} customers and {payload['lots']:,} lots to {where}")


def _write_flat(chunks, out_dir: Path) -> tuple[int, int]:
    """Append each chunk to customers.parquet and holdings.parquet; (customers, lots) written."""
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    rows = {"customers": 0, "holdings": 0}
    try:
        for customers, holdings in chunks:
            for name, table in (("customers", customers), ("holdings", holdings)):
                if name not in writers:
                    writers[name] = pq.ParquetWriter(out_dir / f"{name}.parquet", table.schema)
                writers[name].write_table(table.cast(writers[name].schema))
                rows[name] += table.num_rows
    finally:
        for writer in writers.values():
            writer.close()
    return rows["customers"], rows["holdings"]


def register(app: typer.Typer) -> None:
    """Add `advisor demo-data` to the main app."""
    app.add_typer(demo_app, name="demo-data")

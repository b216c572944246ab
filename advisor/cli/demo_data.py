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
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for customers.parquet and holdings.parquet.")]
    = Path("demo_customers"),
    mean_holdings: Annotated[float, typer.Option("--mean-holdings", min=1.0, max=15.0,
                                                 help="Average lots per customer (1–15).")] = 6.0,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date the data describes (default: today).")] = None,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Write customers.parquet and holdings.parquet in the batch formats (advisor.batch_io)."""
    import pyarrow.parquet as pq

    from advisor.cli.common import parse_as_of
    from advisor.demo_customers import generate

    universe = load(data)
    customers, holdings = generate(universe, n, seed=seed, as_of=parse_as_of(as_of), mean_holdings=mean_holdings)
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(customers, out_dir / "customers.parquet")
    pq.write_table(holdings, out_dir / "holdings.parquet")
    payload = {"customers": customers.num_rows, "lots": holdings.num_rows,
               "customers_file": str(out_dir / "customers.parquet"), "holdings_file": str(out_dir / "holdings.parquet"),
               "universe": universe.source, "universe_as_of": str(universe.as_of)}
    if as_json:
        print_json(payload)
        return
    out.print(f"wrote {customers.num_rows:,} customers and {holdings.num_rows:,} lots to {out_dir}")


def register(app: typer.Typer) -> None:
    """Add `advisor demo-data` to the main app."""
    app.add_typer(demo_app, name="demo-data")

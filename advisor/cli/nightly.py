"""CLI commands: `advisor nightly ...` — nightly jobs over a partitioned book, in-process or on Dask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, as_of_for, handle_errors, load, parse_as_of, print_json
from advisor.cli.progress import batch_progress
from products.errors import BadInputError

out = Console()
err_console = Console(stderr=True)
nightly_app = typer.Typer(help="Nightly jobs (health check, rebalancing, …) over a partitioned book of customers, "
                               "one partition at a time, in-process or on a Dask cluster.", no_args_is_help=True)


def parse_partitions(text: str | None) -> list[int] | None:
    """`3,17,40-45` → [3, 17, 40, …, 45]; None stays None."""
    if text is None or not text.strip():
        return None
    found: list[int] = []
    try:
        for piece in text.split(","):
            piece = piece.strip()
            if "-" in piece:
                lo, hi = (int(x) for x in piece.split("-", 1))
                found.extend(range(lo, hi + 1))
            elif piece:
                found.append(int(piece))
    except ValueError:
        raise BadInputError(f"--partitions: expected numbers like 3,17,40-45, got {text!r}",
                            details={"field": "partitions"}) from None
    return found


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """`--option key=value` (repeatable); values are read as JSON when they parse (numbers, true/false)."""
    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"--option: expected key=value, got {item!r}", details={"field": "option"})
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


@nightly_app.command("jobs")
@handle_errors
def jobs_cmd(as_json: JsonFlag = False) -> None:
    """The registered jobs."""
    from advisor.nightly.jobs import get_job, job_names

    rows = [{"name": name, "outputs": list(get_job(name).outputs), "description": get_job(name).description}
            for name in job_names()]
    if as_json:
        print_json(rows)
        return
    table = Table("job", "outputs", "description")
    for row in rows:
        table.add_row(row["name"], ", ".join(row["outputs"]), row["description"])
    out.print(table)


@nightly_app.command("run")
@handle_errors
def run_cmd(
    job: Annotated[str, typer.Argument(help="Job name (see `advisor nightly jobs`), or package.module:attribute.")],
    book: Annotated[Path, typer.Option("--book", help="Partitioned book directory (customers/, holdings/).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory (datasets, rejects, summary, run.json).")],
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="none (in this process), local (a Dask cluster on this machine) or tcp://HOST:8786 "
                            "(a running Dask scheduler). Default: local for books over 200k customers.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1,
                                                help="Workers of the local cluster (default: one per core).")] = None,
    partitions: Annotated[str | None, typer.Option(
        "--partitions", help="Run only these partitions, e.g. 3,17,40-45 (default: every partition not done).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Business date YYYY-MM-DD (default: the data's as-of date).")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", help="Job option key=value, repeatable (rebalance: calendar, turnover_cap, fund_events; "
                         "health_check: chunk_size).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Discard what --out holds and run every partition.")] = False,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a job over every partition of a book; re-running the same command runs only what failed or is missing."""
    from advisor.nightly.book import Book
    from advisor.nightly.jobs import get_job
    from advisor.nightly.runner import check_scheduler, run_job

    # bad input is reported before any work starts
    parse_as_of(as_of)
    options = get_job(job).options(parse_options(option))
    opened = Book.open(book)
    wanted = parse_partitions(partitions)
    if scheduler is not None:
        check_scheduler(scheduler)
    with batch_progress(err_console) as progress:
        task = progress.add_task(f"{job}: preparing", total=None)

        def advance(done: int, total: int, record: dict[str, Any]) -> None:
            progress.update(task, description=f"{job}: partitions", completed=done, total=total)
            if record.get("status") == "failed":
                progress.console.print(f"[red]partition {record['partition']} failed[/]: "
                                       f"{record.get('error', {}).get('message', '')}")

        universe = load(data)
        fresh = as_of_for(universe, as_of)
        outcome = run_job(job, opened, out_dir, data=data, as_of=fresh.as_of, options=options, universe=universe,
                          scheduler=scheduler, workers=workers, partitions=wanted, force=force, progress=advance)
    payload = {"job": outcome.job, "out": str(outcome.out), "complete": outcome.complete,
               "partitions": outcome.summary.get("partitions"), "ran": len(outcome.ran), "seconds": outcome.seconds,
               "failed": {str(p): e.get("message", "") for p, e in outcome.failed.items()},
               "summary": str(outcome.out / "summary.json"),
               "rejects": None if outcome.rejects_path is None else str(outcome.rejects_path),
               "data_freshness": fresh.to_dict()}
    if as_json:
        print_json(payload)
    else:
        parts = outcome.summary.get("partitions", {})
        out.print(f"[bold]{outcome.job}[/]: {parts.get('done', 0)}/{parts.get('total', 0)} partitions done "
                  f"({len(outcome.ran)} run now) in {outcome.seconds:.1f}s → {outcome.out}")
        customers = outcome.summary.get("customers")
        if customers is not None:
            out.print(f"customers: {customers:,}; summary: {outcome.out / 'summary.json'}")
        for p, error in outcome.failed.items():
            out.print(f"[red]partition {p} failed[/]: {error.get('type', '')}: {error.get('message', '')}")
        if outcome.missing:
            out.print(f"not run yet: partitions {outcome.missing[:20]}{' …' if len(outcome.missing) > 20 else ''}")
        if not outcome.complete:
            out.print("run the same command again to run only the failed and missing partitions "
                      "(or --partitions N for one)")
    if outcome.failed:
        raise typer.Exit(code=1)


@nightly_app.command("status")
@handle_errors
def status_cmd(
    out_dir: Annotated[Path, typer.Argument(help="Output directory of a run.")],
    as_json: JsonFlag = False,
) -> None:
    """What a run did: state, partitions done / failed / missing, the errors."""
    from advisor.nightly import outputs

    manifest = outputs.read_json(out_dir / outputs.RUN_FILE)
    if manifest is None:
        raise BadInputError(f"{out_dir} holds no run (no {outputs.RUN_FILE})", details={"field": "out"})
    records = {p: r for p, r in outputs.statuses(out_dir).items()
               if r.get("fingerprint") == manifest.get("fingerprint")}
    failed = {p: r.get("error", {}) for p, r in sorted(records.items()) if r.get("status") == "failed"}
    done = [p for p, r in records.items() if r.get("status") == "ok"]
    payload = {**{k: manifest.get(k) for k in ("job", "as_of", "state", "universe_version", "scheduler", "started_at",
                                               "finished_at", "seconds")},
               "partitions": manifest.get("partitions"), "done": len(done),
               "failed": {str(p): f"{e.get('type', '')}: {e.get('message', '')}" for p, e in failed.items()},
               "missing": [p for p in range(int(manifest.get("partitions") or 0)) if p not in records]}
    if as_json:
        print_json(payload)
        return
    out.print(f"[bold]{payload['job']}[/] as of {payload['as_of']}: {payload['state']}, "
              f"{payload['done']}/{payload['partitions']} partitions done")
    for p, message in payload["failed"].items():
        out.print(f"[red]partition {p} failed[/]: {message}")
    if payload["missing"]:
        out.print(f"missing: {payload['missing'][:20]}")


@nightly_app.command("partition")
@handle_errors
def partition_cmd(
    customers: Annotated[Path, typer.Option("--customers", help="Flat customers table (Parquet or CSV).")],
    holdings: Annotated[Path, typer.Option("--holdings", help="Flat holdings lots table (Parquet or CSV).")],
    book: Annotated[Path, typer.Option("--out", help="Directory of the partitioned book to write.")],
    partitions: Annotated[int | None, typer.Option(
        "--partitions", min=1, help="Number of partitions (default: about 50,000 customers each).")] = None,
    table: Annotated[list[str] | None, typer.Option(
        "--table", help="Another per-customer table to partition with the book, name=FILE (repeatable), e.g. "
                        "ledger=ledger.parquet; jobs read it with JobContext.table(name).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a book already in --out.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Split flat customers / holdings files into a partitioned book (streamed: any size in bounded memory)."""
    import pyarrow.parquet as pq

    from advisor.nightly.book import partition_flat_book, suggested_partitions

    if partitions is None:
        rows = pq.ParquetFile(customers).metadata.num_rows if customers.suffix.lower() in (".parquet", ".pq") else 0
        partitions = suggested_partitions(rows)
    extra: dict[str, Path] = {}
    for item in table or []:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise BadInputError(f"--table: expected name=FILE, got {item!r}", details={"field": "table"})
        extra[name.strip()] = Path(path.strip())
    manifest = partition_flat_book(customers, holdings, book, partitions, overwrite=overwrite, tables=extra)
    if as_json:
        print_json(manifest)
        return
    out.print(f"wrote {manifest['customers']:,} customers and {manifest['lots']:,} lots in "
              f"{manifest['partitions']} partitions to {book}")


def register(app: typer.Typer) -> None:
    """Add `advisor nightly` to the main app."""
    app.add_typer(nightly_app, name="nightly")

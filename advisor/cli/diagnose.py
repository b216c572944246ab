"""CLI command: `advisor diagnose` — the wealth health check (财富体检 / 持仓诊断), batch or one customer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.batch_report import RunClock, print_run
from advisor.cli.common import (
    DataOption,
    JsonFlag,
    as_of_for,
    customer_payload,
    handle_errors,
    load,
    parse_as_of,
    print_json,
)
from advisor.cli.progress import batch_progress, started
from products.errors import BadInputError

out = Console()


def _print_customer(report: dict[str, Any]) -> None:
    out.print(f"[bold]{report['customer_id']}[/] {report['risk_level']}  health score "
              f"[bold]{report['health_score']:.1f}[/] ({report['health_band_zh']} / {report['health_band']})")
    scores = Table("family", "sub-score")
    for family, score in report["sub_scores"].items():
        scores.add_row(f"{report['sub_score_names_zh'][family]} {family}", f"{score:.0f}")
    out.print(scores)
    for finding in report["findings"]:
        out.print(f"[{'red' if finding['severity'] == 'critical' else 'yellow'}]{finding['severity_zh']}[/] "
                  f"[bold]{finding['title_zh']}[/] {finding['explanation_zh']}")
    for k, action in enumerate(report["actions"], 1):
        out.print(f"{k}. [bold]{action['title_zh']}[/] ({action['kind']}) {action['command'] or ''}")


def diagnose_cmd(
    customers: Annotated[Path | None, typer.Option("--customers", help="Customers table (Parquet or CSV).")] = None,
    holdings: Annotated[Path | None, typer.Option("--holdings", help="Holdings lots table (Parquet or CSV).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Report Parquet, one row per customer.")] = None,
    summary: Annotated[Path | None, typer.Option("--summary", help="Write a JSON summary of the run here.")] = None,
    rejects: Annotated[Path | None, typer.Option(
        "--rejects", help="Rejected rows with reasons (.parquet or .csv); default <out stem>.rejects.parquet.")
                       ] = None,
    customer_json: Annotated[Path | None, typer.Option(
        "--customer-json", help="One customer: profile fields and a holdings list.")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Diagnosis date YYYY-MM-DD (default: the data's as-of date).")] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Customers per chunk.")] = 100_000,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Health-check customers' holdings: a batch (--customers/--holdings/--out) or one (--customer-json)."""
    from advisor.diagnosis import diagnose_customer, diagnosis_context

    clock = RunClock()
    parse_as_of(as_of)  # a malformed date is refused before any data is loaded
    if customer_json is not None:
        if customers is not None or holdings is not None:
            raise BadInputError("use either --customer-json or --customers/--holdings, not both")
        universe = load(data)
        fresh = as_of_for(universe, as_of)
        ctx = diagnosis_context(universe)
        report = {**diagnose_customer(ctx, customer_payload(customer_json), as_of=fresh.as_of),
                  "data_freshness": fresh.to_dict()}
        if as_json:
            print_json(report)
        else:
            _print_customer(report)
        return
    if customers is None or holdings is None or out_path is None:
        raise BadInputError("batch mode needs --customers, --holdings and --out (or use --customer-json FILE)")
    from advisor.diagnosis.batch import diagnose_files

    universe = load(data)
    fresh = as_of_for(universe, as_of)
    day = fresh.as_of
    ctx = diagnosis_context(universe)
    with batch_progress() as progress:
        task = progress.add_task("reading and validating", total=None)

        def on_start(total: int, rejected: int) -> None:
            progress.update(task, **started("health check", total, rejected))

        outcome = diagnose_files(ctx, customers, holdings, out_path, summary, as_of=day, chunk_size=chunk_size,
                                 on_start=on_start, on_progress=lambda k: progress.advance(task, k),
                                 rejects_path=rejects)
    result = outcome.summary
    brief = {"customers": result["customers"], "report": str(outcome.report_path),
             "rejects": str(outcome.rejects_path), "rejected": result["rejected"],
             "health_score": result["health_score"], "seconds": {**result["seconds"], "run": clock.seconds()},
             "data_freshness": fresh.to_dict()}
    if as_json:
        print_json(brief)
        return
    mean = result["health_score"]["mean"]  # None when no customer survived validation
    print_run(out, "health check", result["customers"], clock.seconds(), outcome.report_path,
              {"customers": result["rejected"]["customers"], "holdings": result["rejected"]["lots"]},
              outcome.rejects_path, {"mean health score": "—" if mean is None else f"{mean:.1f}"})


def register(app: typer.Typer) -> None:
    """Add `advisor diagnose` to the main app."""
    app.command("diagnose")(handle_errors(diagnose_cmd))

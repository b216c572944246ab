"""CLI commands: `advisor data import` (any supported layout → canonical Parquet) and `advisor data check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, handle_errors, print_json
from products.errors import BadInputError, DataError

data_app = typer.Typer(help="Fund data: import into the canonical format, validate (数据导入与校验).",
                       no_args_is_help=True)
out = Console()
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
FAIL_LEVELS = ("error", "warning", "never")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


def _layout(path: Path) -> str:
    if (path / "manifest.json").exists():
        return "canonical"
    if (path / "cn_funds").is_dir():
        return "shared"
    from products.sources.fixture import is_fixture_layout

    if is_fixture_layout(path):
        return "fixture"
    raise DataError(f"{path} is not a canonical directory (manifest.json), the shared layout (cn_funds/) or the "
                    "fixture layout (funds.csv + fund_nav_daily.csv)", code="data_unrecognized",
                    details={"path": str(path)})


def _load_fresh(path: Path, money_funds: str | None = None):
    """Load without the process cache: `data` commands must see the files as they are now.

    `money_funds` (raw layouts only): None = the default modelled money funds when the data has none;
    "none" = no modelled money funds; a path = the bank's own money funds (`load_money_fund_specs`)."""
    path = path.expanduser().resolve()
    if not path.exists():
        raise DataError(f"data directory {path} does not exist", code="data_missing", details={"path": str(path)})
    layout = _layout(path)
    if layout == "canonical":
        from products.canonical import read_canonical

        return layout, read_canonical(path)
    from products.money_market import DEFAULT_MONEY_FUNDS, load_money_fund_specs

    if money_funds is not None and layout == "canonical":
        raise BadInputError("--money-funds applies to raw layouts; a canonical directory lists its own funds",
                            details={"option": "--money-funds"})
    specs = DEFAULT_MONEY_FUNDS if money_funds is None else () if money_funds.strip().lower() == "none" else \
        load_money_fund_specs(Path(money_funds).expanduser())
    if layout == "shared":
        from products.sources.shared import load_shared_layout

        return layout, load_shared_layout(path, specs)
    from products.sources.fixture import load_fixture_layout

    return layout, load_fixture_layout(path, specs)


def _counts(universe) -> dict[str, int]:
    funds = universe.funds
    return {
        "funds": len(funds),
        "money_market_funds": int((funds["fund_type"] == "money_market").sum()),
        "modelled_funds": int(funds["modelled"].sum()) if "modelled" in funds else 0,
        "nav_rows": int(universe.returns.notna().to_numpy().sum()),
        "trading_days": len(universe.returns.index),
        "holdings_rows": len(universe.holdings),
        "holdings_funds": int(universe.holdings["fund_code"].nunique()) if len(universe.holdings) else 0,
        "stock_industry_rows": len(universe.stock_industry),
        "benchmark_series": int(universe.benchmarks.shape[1]),
        "shelf_rated_funds": int((funds["risk_source"] == "shelf").sum()),
    }


def _print_summary(title: str, summary: pd.DataFrame) -> None:
    table = Table(title=title)
    for header in ("check", "severity", "count", "funds", "meaning"):
        table.add_column(header, overflow="fold")
    for row in summary.itertuples(index=False):
        style = SEVERITY_STYLE.get(row.severity, "")
        table.add_row(row.check, f"[{style}]{row.severity}[/]", str(row.count), str(row.funds), row.description)
    out.print(table if len(summary) else "[green]no findings[/]")


def _print_findings(issues: pd.DataFrame, limit: int) -> None:
    if limit <= 0 or issues.empty:
        return
    order = issues["severity"].map({"error": 0, "warning": 1, "info": 2}).fillna(3)
    shown = issues.assign(_o=order).sort_values(["_o", "check", "code"], kind="stable").head(limit)
    table = Table(title=f"First {len(shown)} of {len(issues)} findings")
    for header in ("severity", "check", "code", "date", "row", "message", "source"):
        table.add_column(header, overflow="fold")
    for r in shown.itertuples(index=False):
        table.add_row(r.severity, r.check, r.code, "" if pd.isna(r.date) else str(r.date)[:10],
                      "" if pd.isna(r.row) else str(r.row), r.message, r.source)
    out.print(table)


def _report_unloadable(target: Path, err: DataError, as_json: bool) -> None:
    """A directory whose data cannot be loaded at all (e.g. no NAV): one error finding naming the file."""
    from products.validation import issues_frame, summarize

    source = str(err.details.get("file", target))
    issues = issues_frame([{"check": err.code, "severity": "error", "message": err.message, "source": source}])
    if as_json:
        print_json({"path": str(target), "layout": None, "as_of": None, "ok": False,
                    "counts": {"error": 1, "warning": 0, "info": 0}, "summary": summarize(issues).to_dict("records"),
                    "findings": issues.to_dict("records")})
        return
    _print_findings(issues, 1)
    out.print(f"[bold red]FAILED[/]: cannot load {target}: {err.message}")


@data_app.command("import")
@handle_errors
def import_data(
    src: Annotated[Path, typer.Argument(help="Source: the shared layout, fixture_small, or a canonical dir.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the canonical Parquet files to.")],
    money_funds: Annotated[str | None, typer.Option(
        "--money-funds", help="Raw layouts without money-market funds: 'none', or a JSON/CSV list of the bank's "
                              "own money funds (code, name, company, spread); default: 3 modelled placeholders."
    )] = None,
    as_json: JsonFlag = False,
) -> None:
    """Convert a data source into the canonical Parquet format and report what validation found."""
    from products.canonical import write_canonical
    from products.validation import summarize

    layout, universe = _load_fresh(src, money_funds)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "manifest.json").exists():
        raise BadInputError(f"{out_dir} exists and is not a canonical directory; choose an empty or new --out",
                            details={"out": str(out_dir)})
    manifest = write_canonical(universe, out_dir)
    summary = summarize(universe.issues)
    if as_json:
        print_json({"source": str(src), "layout": layout, "out": str(out_dir), "as_of": universe.as_of,
                    "data_version": universe.version, "counts": _counts(universe),
                    "row_counts": manifest["row_counts"], "summary": summary.to_dict("records")})
        return
    table = Table(title=f"Imported {layout} layout → {out_dir} · as of {universe.as_of}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in _counts(universe).items():
        table.add_row(key, f"{value:,}")
    out.print(table)
    _print_summary("Validation findings 校验结果", summary)


@data_app.command("check")
@handle_errors
def check_data(
    path: Annotated[Path | None, typer.Argument(help="Directory to validate (default: --data).")] = None,
    data: DataOption = None,
    show: Annotated[int, typer.Option("--show", help="List this many individual findings (errors first).")] = 20,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 on: error (default), warning, never.")] = "error",
    as_json: JsonFlag = False,
) -> None:
    """Validate a canonical directory or a raw layout; exit 1 when findings of --fail-on severity exist.

    Data that cannot be loaded at all (no NAV, an unreadable file) is one error finding and exit 1 whatever
    --fail-on says; an empty or absent optional table (holdings, benchmarks) is an info finding.
    """
    from products.validation import concat_issues, optional_table_findings, summarize, validate_universe

    if fail_on not in FAIL_LEVELS:
        raise BadInputError(f"--fail-on must be one of {', '.join(FAIL_LEVELS)}", details={"fail_on": fail_on})
    target = path or data
    if target is None:
        raise BadInputError("give a directory to check (argument, --data or ADVISOR_DATA_DIR)")
    try:
        layout, universe = _load_fresh(target)
    except DataError as err:
        if err.code in ("data_unrecognized",) or not Path(target).expanduser().exists():
            raise  # not a data directory at all: a usage error (exit 2), not a finding
        _report_unloadable(target, err, as_json)
        raise typer.Exit(code=1) from None
    issues = universe.issues
    if layout == "canonical":  # re-run the checks on the stored data; keep import-time findings too
        fresh = validate_universe(universe)
        issues = concat_issues([issues, fresh]).drop_duplicates(["code", "date", "check", "message"], keep="first")
    issues = concat_issues([issues, optional_table_findings(universe)])
    summary = summarize(issues)
    counts = issues["severity"].value_counts().reindex(["error", "warning", "info"], fill_value=0)
    failing = {"error": ["error"], "warning": ["error", "warning"], "never": []}[fail_on]
    failed = bool(sum(int(counts[s]) for s in failing))
    if as_json:
        print_json({"path": str(target), "layout": layout, "as_of": universe.as_of, "ok": not failed,
                    "counts": {k: int(v) for k, v in counts.items()}, "summary": summary.to_dict("records"),
                    "findings": issues.to_dict("records")})
    else:
        _print_summary(f"{layout} data at {target} · as of {universe.as_of} · {len(universe.funds)} funds",
                       summary)
        _print_findings(issues, show)
        verdict = "[bold red]FAILED[/]" if failed else "[green]OK[/]"
        out.print(f"{verdict}: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")
    if failed:
        raise typer.Exit(code=1)

"""CLI command: rebalance (调仓建议) — a whole book to Parquet, or one customer as JSON."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from advisor.cli.batch_report import RunClock, print_run, rejected_counts
from advisor.cli.common import (
    DataOption,
    JsonFlag,
    as_of_for,
    console,
    handle_errors,
    load,
    parse_as_of,
    print_json,
    read_json_object,
)
from advisor.cli.formats import pct
from advisor.cli.progress import batch_progress
from products.errors import BadInputError

MAX_TURNOVER_CAP = 2.0  # selling and re-buying the whole portfolio twice is never a rebalance
CUSTOMER_FIELDS = ("customer_id", "risk_level", "lowest_category", "assessment_expires_on", "age", "horizon_years",
                   "monthly_expenses", "cash", "deposits", "wealth_products", "insurance", "rm_id",
                   "previous_risk_level", "last_rebalance_date")


def read_customer_json(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """`{"customer": {...}, "holdings": [...], "cash_flow": 0}` (or the customer's fields at top level)."""
    payload = read_json_object(path, "a customer and a holdings list")
    customer = payload.get("customer", {k: v for k, v in payload.items() if k in CUSTOMER_FIELDS})
    if not isinstance(customer, dict) or "customer_id" not in customer or "risk_level" not in customer:
        raise BadInputError(f"{path.name}: the customer needs customer_id and risk_level",
                            details={"field": "customer"})
    holdings = payload.get("holdings", [])
    if not isinstance(holdings, list):
        raise BadInputError(f"{path.name}: holdings must be a list of lots", details={"field": "holdings"})
    lots = pd.DataFrame([{"customer_id": str(customer["customer_id"]), **lot} for lot in holdings],
                        columns=["customer_id", "code", "shares", "amount", "purchase_date"])
    lots["customer_id"] = lots["customer_id"].astype("str")
    lots["code"] = lots["code"].astype("str")
    try:
        cash_flow = float(payload.get("cash_flow", customer.get("cash_flow", 0.0)) or 0.0)
    except (TypeError, ValueError):
        raise BadInputError("cash_flow must be a number (deposit > 0, withdrawal < 0)",
                            details={"field": "cash_flow"}) from None
    frame = pd.DataFrame([{k: v for k, v in customer.items() if k != "cash_flow"}])
    frame["customer_id"] = frame["customer_id"].astype("str")
    frame["risk_level"] = frame["risk_level"].astype("str")
    return frame, lots, cash_flow


def _read_events(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    from advisor.batch_io import read_table

    return read_table(path, string_columns=("code", "event"))


def _settings(calendar: str, turnover_cap: float | None):
    from advisor.rebalancing.settings import DEFAULT_SETTINGS

    changes: dict[str, Any] = {"calendar": calendar}
    if turnover_cap is not None:
        if not math.isfinite(turnover_cap) or not 0.0 <= turnover_cap <= MAX_TURNOVER_CAP:
            raise BadInputError(f"--turnover-cap must be a number between 0 and {MAX_TURNOVER_CAP:g} "
                                f"(one-way turnover as a fraction of the portfolio), got {turnover_cap!r}",
                                details={"field": "turnover_cap", "option": "--turnover-cap"})
        changes["turnover_cap"] = turnover_cap
    return DEFAULT_SETTINGS.with_(**changes)


def _print_single(result: dict[str, Any]) -> None:
    console.print(f"[bold]{result['customer_id']}[/] {result['risk_level']} · {result['reason']['zh']}")
    console.print(f"  {result['reason']['en']}")
    if result["triggers"]:
        console.print("  triggers: " + ", ".join(t["name"] for t in result["triggers"]))
    table = Table(title="调仓交易 / trades")
    for col in ("code", "name", "action", "amount", "fee", "lot dates"):
        table.add_column(col)
    for t in result["trades"]:
        table.add_row(t["code"], t["name"], t["action"], f"{t['amount']:,.2f}", f"{t['fee']:,.2f}",
                      " ".join(t["lot_dates"]))
    if result["trades"]:
        console.print(table)
    console.print(f"  fee ¥{result['cost']['fee']:,.2f} ({result['cost']['cost_bps']:.1f} bp), drift "
                  f"{pct(result['drift']['before'])} → {pct(result['drift']['after'])}, cash left "
                  f"¥{result['cash']['remainder']:,.2f}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("rebalance")
    @handle_errors
    def rebalance(
        customers: Annotated[Path | None, typer.Option("--customers", help="customers table (.parquet/.csv)")] = None,
        holdings: Annotated[Path | None, typer.Option("--holdings", help="holdings lots (.parquet/.csv)")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="trades output (.parquet)")] = None,
        summary: Annotated[Path | None, typer.Option(
            "--summary", help="per-customer summary (.parquet/.csv); default <out>_summary.parquet")] = None,
        rejects: Annotated[Path | None, typer.Option(
            "--rejects", help="rejected rows with reasons (.parquet or .csv); default <out stem>.rejects.parquet")
                                 ] = None,
        positions_out: Annotated[Path | None, typer.Option(
            "--positions-out", help="holdings after the plan, in the holdings input format (.parquet/.csv): "
                                    "sold lots reduced first in first out, purchases as new lots dated the trade date")
                                 ] = None,
        customers_out: Annotated[Path | None, typer.Option(
            "--customers-out", help="customers after the plan (cash updated, cash flow done); default "
                                    "<positions-out>_customers.parquet when --positions-out is given")] = None,
        customer_json: Annotated[Path | None, typer.Option(
            "--customer-json", help="one customer: {customer: {...}, holdings: [...], cash_flow}")] = None,
        fund_events: Annotated[Path | None, typer.Option(
            "--fund-events", help="table of code,event (downgraded / closed / dropped)")] = None,
        as_of: Annotated[str | None, typer.Option(
            "--as-of", help="trade date YYYY-MM-DD (default: the data's as-of date)")] = None,
        calendar: Annotated[str, typer.Option("--calendar", help="review calendar: quarterly or monthly")
                            ] = "quarterly",
        turnover_cap: Annotated[float | None, typer.Option(
            "--turnover-cap", help="one-way turnover cap per rebalance (default 0.5)")] = None,
        data: DataOption = None,
        json_out: JsonFlag = False,
    ) -> None:
        """Rebalancing suggestions: fee-aware, suitability-safe trades for one customer or a whole book."""
        from advisor.rebalancing import rebalance_book, rebalance_customer
        from advisor.rebalancing.report import write_parquet

        clock = RunClock()
        parse_as_of(as_of)  # a malformed date is refused before any data is loaded
        settings = _settings(calendar, turnover_cap)
        events = _read_events(fund_events)
        if customer_json is not None:
            universe = load(data)
            fresh = as_of_for(universe, as_of)
            frame, lots, cash_flow = read_customer_json(customer_json)
            result = rebalance_customer(universe, frame, lots, cash_flow=cash_flow, as_of=fresh.as_of,
                                        fund_events=events, settings=settings)
            result["data_freshness"] = fresh.to_dict()
            print_json(result) if json_out else _print_single(result)
            return
        if customers is None or holdings is None or out is None:
            raise BadInputError("give --customers, --holdings and --out (or --customer-json FILE)",
                                details={"field": "customers"})
        universe = load(data)
        fresh = as_of_for(universe, as_of)
        day = fresh.as_of
        with batch_progress(console) as bar:
            task = bar.add_task("reading and validating", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, description="rebalancing", completed=done, total=total)

            result = rebalance_book(universe, customers, holdings, as_of=day, fund_events=events,
                                    settings=settings, progress=progress)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(result.trades, out)
        summary_path = summary or out.with_name(out.stem + "_summary.parquet")
        from advisor.batch_io import rejects_path_for, write_rejects, write_table

        write_table(result.summary, summary_path)
        rejects_path = write_rejects(result.rejects, rejects or rejects_path_for(out))
        written = _write_after(result, customers, holdings, positions_out, customers_out, day)
        from advisor.rebalancing.metrics import run_summary

        outcome = run_summary(result.summary, result.trades)
        payload = {**outcome, "rejected_rows": len(result.rejects), "out": str(out), "summary": str(summary_path),
                   "rejects": str(rejects_path), **written, "as_of": day.isoformat(),
                   "universe_version": result.universe_version, "data_freshness": fresh.to_dict(),
                   "seconds": clock.seconds()}
        if json_out:
            print_json(payload)
        else:
            print_run(console, "rebalancing", payload["customers"], payload["seconds"], out,
                      rejected_counts(result.rejects), rejects_path,
                      {"trades": f"{payload['trades']:,}", "summary": summary_path})
            console.print("  status: " + ", ".join(f"{k} {pct(v)}" for k, v in payload["by_status"].items()))
            for reason, count in payload["by_reason"].items():
                console.print(f"  {reason}: {count:,}")
            if payload["value_by_trade_reason"]:
                console.print("  value by trade reason: " + ", ".join(
                    f"{k} {pct(v)}" for k, v in payload["value_by_trade_reason"].items()))
            for key, path in written.items():
                console.print(f"  {key}: {path}")


def _write_after(result: Any, customers: Path, holdings: Path, positions_out: Path | None,
                 customers_out: Path | None, day: date) -> dict[str, str]:
    """The holdings and customers after the plan, so plans can be chained (run again on them)."""
    from advisor.batch_io import write_table

    if positions_out is None and customers_out is None:
        return {}
    written: dict[str, str] = {}
    if positions_out is not None and result.lots_after is not None:
        from advisor.batch_io import read_table

        # customers without a plan (rejected rows) keep their lots as given, so the next run rejects them again
        raw = read_table(holdings, string_columns=("customer_id", "code"))
        planned = set(result.summary["customer_id"].astype("str"))
        untouched = raw.loc[~raw["customer_id"].astype("str").isin(planned)]
        untouched = untouched.reindex(columns=list(result.lots_after.columns))
        untouched["purchase_date"] = pd.to_datetime(untouched["purchase_date"], errors="coerce")
        write_table(pd.concat([result.lots_after, untouched], ignore_index=True) if len(untouched)
                     else result.lots_after, positions_out)
        written["positions_out"] = str(positions_out)
        customers_out = customers_out or positions_out.with_name(positions_out.stem + "_customers.parquet")
    if customers_out is not None:
        from advisor.batch_io import read_table

        table = read_table(customers, string_columns=("customer_id", "risk_level", "rm_id"))
        after = result.summary.set_index("customer_id")
        ids = table["customer_id"].astype("str")
        cash = ids.map(after["cash_after"])
        table["cash"] = cash.where(cash.notna(), table["cash"] if "cash" in table.columns else 0.0)
        traded = ids.map(after["status"].astype("str")).eq("trade")
        last = (pd.to_datetime(table["last_rebalance_date"], errors="coerce") if "last_rebalance_date" in table.columns
                else pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]"))
        table["last_rebalance_date"] = last.where(~traded.to_numpy(), pd.Timestamp(day))
        table = table.drop(columns=["cash_flow"], errors="ignore")  # the flow has happened
        write_table(table, customers_out)
        written["customers_out"] = str(customers_out)
    return written

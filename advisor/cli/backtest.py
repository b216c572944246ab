"""CLI command: backtest — the advice policy's walk-forward record (模拟历史业绩), out of sample, with fees."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, console, handle_errors, load, parse_as_of, print_json
from products.errors import BadInputError


def parse_levels(text: str) -> list[int]:
    from advisor.model_portfolios import parse_level

    levels = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            levels.append(parse_level(part.strip()))
        except BadInputError:
            raise BadInputError(f"--levels: {part.strip()!r} is not a level C1–C5",
                                details={"field": "levels"}) from None
    if not levels:
        raise BadInputError("--levels: give at least one level, e.g. C1,C3,C5", details={"field": "levels"})
    return sorted(set(levels))


def parse_horizons(text: str) -> list[float]:
    from advisor import limits

    horizons = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            horizons.append(limits.horizon_years(part.strip(), "horizons"))
        except BadInputError as err:
            raise BadInputError(f"--{err.message}", details=err.details) from None
    if not horizons:
        raise BadInputError("--horizons: give at least one horizon in years, e.g. 0.5,2,5",
                            details={"field": "horizons"})
    return sorted(set(horizons))


def _money(value: float, option: str) -> float:
    from advisor import limits

    try:
        return limits.money(value, option.lstrip("-"), allow_zero=True)
    except BadInputError as err:
        raise BadInputError(f"--{err.message}", details=err.details) from None


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _print_table(payload: dict[str, Any]) -> None:
    comp = payload.get("comparisons", {})
    twins = {(r["level"], r["horizon"]): r for r in comp.get("buy_and_hold", [])}
    passive = {(r["level"], r["horizon"]): r for r in comp.get("passive_etf_mix", [])}
    today = {(r["level"], r["horizon"]): r for r in comp.get("in_sample_shown_today", [])}
    table = Table(title=f"模拟业绩 / walk-forward record {payload['span']['start']} … {payload['span']['end']} "
                        f"(simulated, fees included)")
    for col in ("level", "horizon", "return/yr", "vol", "max DD", "turnover/yr", "fees/yr", "trades/yr",
                "buy&hold", "ETF mix*", "shown today"):
        table.add_column(col, justify="right")
    for r in payload["results"]:
        key = (r["level"], r["horizon"])
        table.add_row(r["level"], f"{r['horizon_years']:g}y", _pct(r["annual_return"]), _pct(r["annual_volatility"]),
                      _pct(r["max_drawdown"]), f"{(r['turnover_per_year'] or 0):.2f}×",
                      f"¥{(r['fees_per_year'] or 0):,.0f} ({_pct(r['fees_pct_per_year'])})",
                      f"{(r['trades_per_year'] or 0):.1f}",
                      _pct(twins.get(key, {}).get("annual_return")), _pct(passive.get(key, {}).get("annual_return")),
                      _pct(today.get(key, {}).get("annual_return")))
    console.print(table)
    console.print("* ETF mix over its own span (from the first day every ETF has a price); see --json for the "
                  "policy over the same span. 模拟业绩，非真实投资业绩。")


def _print_checks(findings: list[dict[str, Any]]) -> None:
    from advisor.simulation.markdown import finding_text

    if not findings:
        console.print("Policy checks: turnover ≤ 1× a year, risk within each level's budget and increasing with "
                      "the level — all passed.")
        return
    console.print(f"[bold]Policy checks: {len(findings)} finding(s)[/bold]")
    for f in findings:
        console.print(f"  ⚑ {finding_text(f)}")


def _print_changes(rows: list[dict[str, Any]]) -> None:
    table = Table(title="相对基线 / versus the baseline (after − before)")
    for col in ("level", "horizon", "return/yr", "vol", "max DD", "turnover/yr", "fees/yr", "trades/yr"):
        table.add_column(col, justify="right")

    def change(row: dict[str, Any], key: str, pct: bool = True) -> str:
        c = row[key]["change"]
        if c is None:
            return "–"
        return f"{c * 100:+.2f}pt" if pct else f"{c:+.2f}"

    for r in rows:
        table.add_row(r["level"], f"{r['horizon_years']:g}y", change(r, "annual_return"),
                      change(r, "annual_volatility"), change(r, "max_drawdown"), change(r, "turnover_per_year", False),
                      change(r, "fees_pct_per_year"), change(r, "trades_per_year", False))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("backtest")
    @handle_errors
    def backtest(
        data: DataOption = None,
        start: Annotated[str | None, typer.Option("--start", help="first start month (default: the first date "
                                                                   "every asset class has an eligible fund)")] = None,
        end: Annotated[str | None, typer.Option("--end", help="last day simulated (default: end of data)")] = None,
        levels: Annotated[str, typer.Option("--levels", help="levels, e.g. C1,C3,C5")] = "C1,C2,C3,C4,C5",
        horizons: Annotated[str, typer.Option("--horizons", help="horizons in years")] = "0.5,2,5",
        amount: Annotated[float, typer.Option("--amount", help="first purchase per customer, yuan")] = 100_000.0,
        monthly: Annotated[float, typer.Option("--monthly", help="monthly contribution (定投), yuan")] = 0.0,
        calendar: Annotated[str, typer.Option("--calendar", help="rebalancing review calendar: quarterly or monthly")
                            ] = "quarterly",
        research: Annotated[str, typer.Option("--research", help="research refresh: quarterly, semiannual, yearly, "
                                                                 "monthly")] = "quarterly",
        workers: Annotated[int | None, typer.Option(
            "--workers", help="processes for the point-in-time research (default: one per CPU, at most 4)")] = None,
        cache: Annotated[Path | None, typer.Option(
            "--cache", help="directory keeping research between runs (default: the service's cache directory, "
                            "ADVISOR_CACHE_DIR/simulation)")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="write the JSON report to this file")] = None,
        baseline: Annotated[Path | None, typer.Option(
            "--baseline", help="a recorded report (e.g. docs/backtest-baseline.json): show before / after")] = None,
        html: Annotated[Path | None, typer.Option("--html", help="write an HTML report with charts")] = None,
        markdown: Annotated[Path | None, typer.Option(
            "--markdown", help="write the grid as Markdown tables (as recorded in docs/backtest-results.md)")] = None,
        json_out: JsonFlag = False,
    ) -> None:
        """Replay the advice policy month by month on the data known at each date (out of sample, fees
        included): every level × horizon × start month, against buy-and-hold, a passive ETF mix and the
        in-sample figure proposals showed."""
        from advisor.rebalancing.settings import DEFAULT_SETTINGS
        from advisor.simulation.backtest import compare_to_baseline, is_standard_grid, run_backtest, save_records
        from advisor.simulation.config import SimulationConfig

        level_list, horizon_list = parse_levels(levels), parse_horizons(horizons)
        start_day, end_day = parse_as_of(start, "--start"), parse_as_of(end, "--end")
        if calendar not in ("quarterly", "monthly"):
            raise BadInputError("--calendar must be quarterly or monthly", details={"field": "calendar"})
        if workers is None:
            import os

            workers = max(1, min(os.cpu_count() or 1, 4))
        if workers < 1 or workers > 64:
            raise BadInputError("--workers must be between 1 and 64", details={"field": "workers"})
        if cache is None:
            from advisor.simulation.record import cache_dir

            cache = cache_dir()
        config = SimulationConfig(rebalance=DEFAULT_SETTINGS.with_(calendar=calendar), research_cadence=research,
                                  workers=workers, cache_dir=cache)
        before = None
        if baseline is not None:  # read first: a bad file fails before minutes of simulation
            from advisor.cli.common import read_json_object

            before = read_json_object(baseline, "a backtest report")
            compare_to_baseline({"results": []}, before)
        universe = load(data)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("simulating days", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(total, 1))

            run = run_backtest(universe, levels=level_list, horizons=horizon_list, start=start_day, end=end_day,
                               amount=_money(amount, "--amount"), monthly=_money(monthly, "--monthly"),
                               config=config, progress=progress)
        payload = run.payload
        if before is not None:
            payload["vs_baseline"] = compare_to_baseline(payload, before)
        default_policy = calendar == "quarterly" and research == "quarterly" and monthly == 0
        if is_standard_grid(level_list, horizon_list) and default_policy and end_day is None:
            path = save_records(universe, payload, config)
            payload["record_saved"] = None if path is None else str(path)
        if out is not None:
            import json

            from advisor.cli.common import to_jsonable

            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=1), encoding="utf-8")
        if markdown is not None:
            from advisor.simulation.markdown import markdown as grid_markdown

            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(grid_markdown(payload), encoding="utf-8")
        if html is not None:
            from advisor.simulation.report import write_html

            write_html(run, html, universe)
        if json_out:
            print_json(payload)
        else:
            _print_table(payload)
            _print_checks(payload.get("policy_checks", []))
            if payload.get("vs_baseline"):
                _print_changes(payload["vs_baseline"])
            timing = payload.get("timing", {})
            console.print(f"{payload['grid']['starts']} start months × {len(level_list)} levels × "
                          f"{len(horizon_list)} horizons in {timing.get('simulation_seconds', 0):.1f} s; "
                          f"engine asked {payload['engine']['asked']:,} times in {payload['engine']['calls']:,} calls")

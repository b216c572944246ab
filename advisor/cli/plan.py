"""CLI group `advisor plan` — after the purchase: goals, SIP plans, returns, statements and 陪伴 alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from advisor.cli.common import (
    DataOption,
    JsonFlag,
    as_of_for,
    handle_errors,
    load,
    parse_as_of,
    print_json,
    read_json_object,
)
from advisor.cli.formats import pct, yuan
from advisor.cli.progress import batch_progress
from products.errors import BadInputError

out = Console(width=120)
plan_app = typer.Typer(help="After the purchase: goals (目标规划), SIP plans (定投), returns (收益), "
                            "statements (账单) and alerts (陪伴提醒).", no_args_is_help=True)


def goal_cmd(
    target: Annotated[float, typer.Option("--target", help="Target amount, yuan.")],
    years: Annotated[float | None, typer.Option("--years", help="Years until the target date.")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Months until the target date (instead of "
                                                                 "--years).")] = None,
    initial: Annotated[float, typer.Option("--initial", help="Amount already put aside, yuan.")] = 0.0,
    monthly: Annotated[float, typer.Option("--monthly", help="Monthly contribution, yuan.")] = 0.0,
    level: Annotated[str, typer.Option("--level", help="Risk level of the goal's model portfolio, C1–C5.")] = "C3",
    reserve: Annotated[bool, typer.Option("--reserve", help="A liquidity reserve (活钱), held in cash.")] = False,
    name: Annotated[str, typer.Option("--name", help="A name for the goal (shown in the text).")] = "",
    probability: Annotated[float, typer.Option("--probability", help="Chance that counts as on track.")] = 0.75,
    paths: Annotated[int, typer.Option("--paths", help="Simulated paths.")] = 2000,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Project a goal by simulation: chance of reaching it, likely range, and what closes the gap."""
    from advisor.lifecycle.goals import Goal, GoalSettings, project_goal

    goal = Goal.build(target=target, years=years, months=months, initial=initial, monthly=monthly, level=level,
                      name=name, kind="reserve" if reserve else "target")
    result = project_goal(load(data), goal, GoalSettings(n_paths=paths, target_probability=probability))
    if as_json:
        print_json(result)
        return
    p = result["percentiles"]
    state = "[green]on track[/]" if result["on_track"] else "[red]off track[/]"
    out.print(f"[bold]{pct(result['probability'])}[/] chance of {yuan(result['target'])} in {result['years']:g} "
              f"years — {state}; p10 {yuan(p['p10'])} · p50 {yuan(p['p50'])} · p90 {yuan(p['p90'])}")
    out.print(result["explanation_zh"])
    out.print(result["explanation_en"])


CustomersOption = Annotated[Path | None, typer.Option("--customers", help="Customers table (Parquet or CSV).")]
HoldingsOption = Annotated[Path | None, typer.Option("--holdings", help="Holdings lots (used where a customer has "
                                                                         "no ledger rows).")]
LedgerOption = Annotated[Path | None, typer.Option("--ledger", help="Transaction ledger (Parquet or CSV).")]
CustomerJsonOption = Annotated[Path | None, typer.Option(
    "--customer-json", help="One customer: profile fields with holdings and/or ledger lists.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Valuation date YYYY-MM-DD (default: the data's "
                                                                 "as-of date; prices are the latest on or before it).")]


def progress_bar() -> Progress:
    return batch_progress()


def one_customer_book(data: Path | None, path: Path, as_of: str | None):
    from advisor.lifecycle.book import customer_tables, load_book

    universe = load(data)
    customers, holdings, ledger = customer_tables(read_json_object(path, "a customer with holdings or a ledger"))
    if holdings is None and ledger is None:
        raise BadInputError("the customer JSON needs a holdings or a ledger list", details={"field": "ledger"})
    book = load_book(universe, customers, holdings=holdings, ledger=ledger, as_of=as_of_for(universe, as_of).as_of)
    bad_customer = book.rejects[book.rejects["table"] == "customers"]
    if len(bad_customer):
        first = bad_customer.iloc[0]
        raise BadInputError(f"{first['field']}: {first['reason']}", details={"field": first["field"]})
    return book


def rejected_rows(book) -> list[dict]:
    rows = book.rejects[book.rejects["table"] != "customers"]
    return [{"table": t, "row": int(r), "field": f, "reason": why}
            for t, r, f, why in zip(rows["table"], rows["row"], rows["field"], rows["reason"], strict=True)]


def returns_cmd(
    customers: CustomersOption = None,
    holdings: HoldingsOption = None,
    ledger: LedgerOption = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Per-customer returns Parquet (per fund beside it: "
                                                                "<stem>.funds.parquet; rejects: "
                                                                "<stem>.rejects.parquet).")] = None,
    customer_json: CustomerJsonOption = None,
    as_of: AsOfOption = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Customers per chunk.")] = 100_000,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Returns (持有收益, TWR, XIRR since inception / YTD / 1 year, fees): a batch or one customer."""
    from advisor.lifecycle.report import customer_returns

    if customer_json is not None:
        book = one_customer_book(data, customer_json, as_of)
        report = customer_returns(book, 0)
        report["rejected_rows"] = rejected_rows(book)
        if as_json:
            print_json(report)
        else:
            _print_returns(report)
        return
    if customers is None or out_path is None or (holdings is None and ledger is None):
        raise BadInputError("batch mode needs --customers, --holdings and/or --ledger, and --out "
                            "(or use --customer-json FILE)")
    from advisor.batch_memory import keep_freed_memory
    from advisor.lifecycle.nightly import write_returns

    keep_freed_memory()  # this process exists for the batch
    universe = load(data)
    with progress_bar() as progress:
        task = progress.add_task("reading and validating", total=None)
        summary = write_returns(universe, customers, out_path, holdings=holdings, ledger=ledger,
                                as_of=as_of_for(universe, as_of).as_of, chunk_size=chunk_size,
                                on_start=lambda n: progress.update(task, description="returns", total=n, completed=0),
                                on_progress=lambda k: progress.advance(task, k))
    if as_json:
        print_json(summary)
    else:
        out.print(f"[bold]{summary['customers']:,}[/] customers → {summary['out']} (funds: {summary['funds_out']}); "
                  f"rejected rows: {summary['rejected']} → {summary['rejects_out']}; {summary['seconds']:.1f}s")


def _print_returns(report: dict) -> None:
    w = report["windows"]

    out.print(f"[bold]{report['customer_id']}[/] as of {report['as_of']}: market value "
              f"{yuan(report['market_value'])}, 持有收益 holding gain {yuan(report['holding_gain'])} "
              f"({pct(report['holding_return'], signed=True)}), 累计收益 total gain {yuan(report['total_gain'])}, "
              f"fees {yuan(report['fees'])}"
              + (" [yellow](成本为估算 cost basis estimated)[/]" if report["cost_basis_estimated"] else ""))
    for name, label in (("inception", "since inception"), ("ytd", "year to date"), ("1y", "1 year")):
        out.print(f"  {label:16} TWR {pct(w[name]['twr'], signed=True):>9}  XIRR {pct(w[name]['xirr'], signed=True):>9}"
                  f"  gain {yuan(w[name]['gain']):>14}")
    for fund in report["funds"]:
        out.print(f"  {fund['code']} {fund['name']}: {yuan(fund['market_value'])}, 持有收益 "
                  f"{yuan(fund['holding_gain'])} ({pct(fund['holding_return'], signed=True)})")


def sip_cmd(
    amount: Annotated[float, typer.Option("--amount", help="Yuan per debit.")],
    level: Annotated[str | None, typer.Option("--level", help="Build the legs from this level's model portfolio "
                                                              "(C1–C5).")] = None,
    fund: Annotated[list[str] | None, typer.Option("--fund", help="A leg as CODE or CODE:WEIGHT (repeat); instead "
                                                                   "of --level.")] = None,
    frequency: Annotated[str, typer.Option("--frequency", help="weekly, fortnightly or monthly.")] = "monthly",
    day: Annotated[int, typer.Option("--day", help="Day of the month (1–28) or weekday (1–5 = Mon–Fri).")] = 1,
    mode: Annotated[str, typer.Option("--mode", help="fixed, or smart (buys the model's underweight classes "
                                                     "first).")] = "fixed",
    target_return: Annotated[float | None, typer.Option("--target-return", help="Target-profit rule: plan return "
                                                                                  "that triggers it, e.g. 0.15.")]
    = None,
    on_target: Annotated[str, typer.Option("--on-target", help="stop (stop debiting) or take_profit (redeem and "
                                                               "start again).")] = "stop",
    horizon: Annotated[float, typer.Option("--horizon-years", help="Horizon of the model used with --level.")] = 5.0,
    start: Annotated[str, typer.Option("--start", help="First date of the simulation, YYYY-MM-DD.")] = "2018-01-01",
    end: Annotated[str | None, typer.Option("--end", help="Last date (default: the data's last date).")] = None,
    customer_level: Annotated[str | None, typer.Option("--customer-level", help="Check every fund against this "
                                                                                 "customer level.")] = None,
    with_ledger: Annotated[bool, typer.Option("--with-ledger", help="Include every simulated transaction.")] = False,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a SIP plan (定投) with the walk-forward simulator: debits, fees, target profit, returns, volatility
    and maximum drawdown (a --level plan follows the model as known at each debit: out of sample)."""
    from advisor.lifecycle.sip import SipPlan, plan_from_model, simulate_plan
    from advisor.model_portfolios import parse_level

    universe = load(data)
    options = {"frequency": frequency, "day": day, "mode": mode, "target_return": target_return,
               "on_target": on_target}
    if (level is None) == (not fund):
        raise BadInputError("give either --level (a model plan) or --fund legs", details={"field": "level"})
    if level is not None:
        plan = plan_from_model(universe, parse_level(level), amount, horizon, **options)
    else:
        legs = []
        for text in fund or []:
            code, _, weight = text.partition(":")
            legs.append({"code": code.strip(), "weight": weight.strip() or 1.0})
        plan = SipPlan.build(amount=amount, legs=legs, **options)
    check_level = parse_level(customer_level) if customer_level else (parse_level(level) if level else None)
    result = simulate_plan(universe, plan, parse_as_of(start, "--start"), parse_as_of(end, "--end"),
                           customer_level=check_level, include_ledger=with_ledger)
    if as_json:
        print_json(result)
        return
    out.print(f"[bold]{result['label_zh']}[/]")
    out.print(f"[bold]{result['label_en']}[/]")
    out.print(f"  {result['start']} → {result['end']} ({result['years']:.1f} years), {result['debits']} debits")
    rows = (("投入 paid in", yuan(result["invested"])), ("期末市值 final value", yuan(result["final_value"])),
            ("止盈到账 paid out", yuan(result["paid_out"])), ("交易费用 fees", yuan(result["fees"])),
            ("累计收益 total gain", yuan(result["total_gain"])),
            ("年化收益 annual return (time-weighted)", pct(result["annual_return"], signed=True)),
            ("资金加权年化 money-weighted (XIRR)", pct(result["xirr"], signed=True)),
            ("年化波动率 volatility", pct(result["volatility"])),
            ("最大回撤 maximum drawdown", pct(result["max_drawdown"])))
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column()
    table.add_column(justify="right")
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)
    if result["basis"] == "model":
        out.print(f"  funds bought over the period (point in time): {', '.join(result['funds_bought'])}")
    else:
        for leg in result["legs"]:
            out.print(f"  {leg['code']} {leg['name']}  {pct(leg['weight'])}  (min SIP {yuan(leg['min_sip'])})")
    out.print(result["explanation_zh"])
    out.print(result["explanation_en"])


def alerts_cmd(
    customers: Annotated[Path, typer.Option("--customers", help="Customers table (Parquet or CSV).")],
    outbox: Annotated[Path, typer.Option("--outbox", help="Outbox folder: one as_of=DATE partition per run; "
                                                           "earlier partitions are the dedupe and cap history.")],
    holdings: HoldingsOption = None,
    ledger: LedgerOption = None,
    goals: Annotated[Path | None, typer.Option("--goals", help="Goals table.")] = None,
    plans: Annotated[Path | None, typer.Option("--plans", help="SIP plans table.")] = None,
    debits: Annotated[Path | None, typer.Option("--debits", help="SIP debits table (status ok / failed).")] = None,
    preferences: Annotated[Path | None, typer.Option("--preferences", help="Opt-outs: customer_id, kind.")] = None,
    history: Annotated[Path | None, typer.Option("--history", help="Alerts pushed before (beyond the outbox "
                                                                    "folder).")] = None,
    fund_events: Annotated[Path | None, typer.Option("--fund-events", help="Fund events: code, event, date, "
                                                                            "note.")] = None,
    as_of: AsOfOption = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Customers per chunk.")] = 100_000,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Processes (default: both cores when "
                                                                          "there are several chunks).")] = None,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The nightly 陪伴 run: returns, goals and alerts for a whole book, written to the outbox (Parquet)."""
    from advisor.batch_memory import keep_freed_memory
    from advisor.lifecycle.nightly import run_files

    if holdings is None and ledger is None:
        raise BadInputError("give --holdings and/or --ledger", details={"field": "holdings"})
    keep_freed_memory()  # this process and its forked workers exist for the batch
    universe = load(data)
    with progress_bar() as progress:
        task = progress.add_task("reading and validating", total=None)
        summary = run_files(universe, customers, outbox, as_of=as_of_for(universe, as_of).as_of, holdings=holdings,
                            ledger=ledger, goals=goals, plans=plans, debits=debits, preferences=preferences,
                            history=history, fund_events=fund_events, chunk_size=chunk_size, workers=workers,
                            on_start=lambda n: progress.update(task, description="陪伴 alerts", total=n, completed=0),
                            on_progress=lambda k: progress.advance(task, k))
    if as_json:
        print_json(summary)
        return
    out.print(f"[bold]{summary['customers']:,}[/] customers → {summary['alerts']:,} alerts to push, "
              f"{summary['rm_tasks']:,} RM tasks in {summary['outbox']} ({summary['seconds']['total']:.1f}s)")
    from advisor.lifecycle.alerts import KIND_NAMES_ZH

    kinds = sorted(summary["alerts_by_kind"].items(), key=lambda kv: -kv[1])
    out.print("  by kind 按类型: " + (" · ".join(f"{KIND_NAMES_ZH.get(k, k)} {k} {v:,}" for k, v in kinds) or "—"))
    held = {k: v for k, v in summary["candidates_by_status"].items() if k != "queued"}
    words = {"capped": "频次上限 capped", "opted_out": "已退订 opted out", "duplicate": "已推送过 duplicate"}
    out.print("  not pushed 未推送: " + (" · ".join(f"{words.get(k, k)} {v:,}" for k, v in held.items()) or "—")
              + f"; SIP holds 定投暂停 {summary.get('sip_holds', 0):,}; rejected rows {summary['rejected']:,}")


def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the tables.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Customers.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    as_of: AsOfOption = None,
    data: DataOption = None,
) -> None:
    """Synthetic customers, lots, ledger, goals, SIP plans and debits, opt-outs and fund events (Parquet)."""
    from advisor.demo_customers import generate
    from advisor.lifecycle.demo import generate_lifecycle

    universe = load(data)
    day = as_of_for(universe, as_of).as_of
    customers, holdings = generate(universe, n, seed=seed, as_of=day)
    out_dir.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    pq.write_table(customers, out_dir / "customers.parquet")
    pq.write_table(holdings, out_dir / "holdings.parquet")
    for name, frame in generate_lifecycle(universe, customers, holdings, seed=seed, as_of=day).items():
        frame.to_parquet(out_dir / f"{name}.parquet", index=False)
    out.print(f"wrote {n:,} customers with lots, ledger, goals, sip_plans, sip_debits, alert_preferences and "
              f"fund_events to {out_dir}")


def statement_cmd(
    customer_json: Annotated[Path, typer.Option("--customer-json", help="One customer: profile fields with a "
                                                                          "ledger and/or holdings list.")],
    period: Annotated[str, typer.Option("--period", help="A month YYYY-MM or a year YYYY.")],
    health: Annotated[bool, typer.Option("--health", help="Include the health score of the holdings at the "
                                                          "period's end.")] = False,
    as_of: AsOfOption = None,
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A monthly or yearly statement (月度账单 / 年度账单) in Chinese and English."""
    from advisor.lifecycle.statements import health_of, parse_period, statement

    chosen = parse_period(period)
    book = one_customer_book(data, customer_json, as_of)
    end = min(chosen.end, book.as_of)
    result = statement(book, chosen, 0, health=health_of(book, 0, end) if health else None)
    result["rejected_rows"] = rejected_rows(book)
    if as_json:
        print_json(result)
        return
    out.print(f"[bold]{result['title_zh']}[/]")
    out.print(result["text_zh"])
    out.print(f"[bold]{result['title_en']}[/]")
    out.print(result["text_en"])
    for fund in result["funds"]:
        gain = fund["gain"] or 0.0
        out.print(f"  {fund['code']} {fund['name']}: {yuan(fund['end_value'] or 0)} "
                  f"({'收益 gain' if gain >= 0 else '亏损 loss'} {yuan(abs(gain))})")


def register(app: typer.Typer) -> None:
    """Add `advisor plan …` to the main app."""
    plan_app.command("goal")(handle_errors(goal_cmd))
    plan_app.command("returns")(handle_errors(returns_cmd))
    plan_app.command("sip")(handle_errors(sip_cmd))
    plan_app.command("alerts")(handle_errors(alerts_cmd))
    plan_app.command("statement")(handle_errors(statement_cmd))
    plan_app.command("demo-data")(handle_errors(demo_cmd))
    app.add_typer(plan_app, name="plan")

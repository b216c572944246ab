"""CLI commands: `advisor funds ...` (list, show; research commands register from funds_research)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, handle_errors, load, print_json
from advisor.cli.formats import class_name, day, fee_rate, num, pct, style_name, weights
from products.errors import BadInputError

funds_app = typer.Typer(help="The fund universe (基金): list, show, benchmarks, rank, lookthrough, overlap, style.",
                        no_args_is_help=True)
out = Console()


def register(app: typer.Typer) -> None:
    from advisor.cli import funds_research

    funds_research.register_funds(funds_app)
    app.add_typer(funds_app, name="funds")


@funds_app.command("list")
@handle_errors
def list_funds(
    data: DataOption = None,
    fund_type: Annotated[str | None, typer.Option("--type", help="Fund type, e.g. bond, equity, 混合型-偏股.")] = None,
    asset_class: Annotated[str | None, typer.Option(
        "--asset-class", help="cash, bond, cn_equity, global_equity or gold.")] = None,
    max_risk: Annotated[str | None, typer.Option("--max-risk", help="Highest product risk level, e.g. R3.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the funds with type, asset class, risk level, fees and minimum purchase (基金列表)."""
    from products.analytics.report import (
        fund_listing,
        parse_asset_class_option,
        parse_risk_option,
        parse_type_option,
    )

    universe = load(data)
    rows = fund_listing(
        universe,
        fund_type=parse_type_option(fund_type) if fund_type else None,
        asset_class=parse_asset_class_option(asset_class) if asset_class else None,
        max_risk=parse_risk_option(max_risk) if max_risk else None,
    )
    if as_json:
        print_json({"as_of": universe.as_of, "data_version": universe.version, "count": len(rows), "funds": rows})
        return
    table = Table(title=f"Funds 基金 ({len(rows)}) · as of {universe.as_of}")
    for header in ("code", "name 名称", "type 类型", "asset class", "risk", "subscription 申购",
                   "redemption 赎回", "running cost/yr", "min ¥"):
        table.add_column(header, overflow="fold")
    for r in rows:
        fees = r["fees"]
        sub = (f"{fee_rate(fees['subscription_rate'])} (→{fee_rate(fees['subscription_rate_discounted'])})"
               if fees["subscription_rate"] is not None else f"¥{fees['subscription_flat_fee']:g}")
        table.add_row(r["code"], r["name"], r["type_zh"] or r["type"], r["asset_class"], r["risk_level"], sub,
                      fees["redemption"], pct(fees["running_cost"]), f"{r['min_purchase']:g}")
    out.print(table)


@funds_app.command("show")
@handle_errors
def show_fund(
    code: Annotated[str, typer.Argument(help="Fund code, e.g. 000001.")],
    data: DataOption = None,
    start: Annotated[str | None, typer.Option("--start", help="Window start date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Window end date (YYYY-MM-DD).")] = None,
    risk_free: Annotated[float, typer.Option("--risk-free", help="Annual risk-free rate, e.g. 0.02.")] = 0.0,
    as_json: JsonFlag = False,
) -> None:
    """One fund: profile, risk level, fees, metrics, rolling 1y/3y/5y and benchmark (基金详情)."""
    from products.analytics.report import fund_report, parse_date_option

    start_ts = parse_date_option(start, "--start")
    end_ts = parse_date_option(end, "--end")
    if start_ts is not None and end_ts is not None and start_ts > end_ts:
        raise BadInputError("--start is after --end", code="bad_option",
                            details={"option": "--start", "start": start, "end": end})
    if not -0.5 < risk_free < 1.0:
        raise BadInputError("--risk-free must be an annual rate such as 0.02", code="bad_option",
                            details={"option": "--risk-free", "value": risk_free})
    universe = load(data)
    code = code.strip()
    report = fund_report(universe, code, start=start_ts, end=end_ts, risk_free=risk_free)
    report.update(_research(universe, code, end_ts))
    if as_json:
        print_json(report)
        return
    _print_report(report)


@funds_app.command("benchmarks")
@handle_errors
def list_benchmarks(
    data: DataOption = None,
    source: Annotated[str | None, typer.Option(
        "--source", help="Only funds whose benchmark was: parsed, approximated or type_default.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """How each fund's 业绩比较基准 was read: style weights, constant, and parse coverage (基准解析)."""
    from products.benchmark import benchmark_specs, parse_coverage

    allowed = ("parsed", "approximated", "type_default")
    if source is not None and source not in allowed:
        raise BadInputError(f"unknown --source {source!r}", code="bad_option",
                            details={"option": "--source", "allowed": ", ".join(allowed)})
    universe = load(data)
    specs = benchmark_specs(universe)
    rows = [{"code": code, "name": universe.funds.at[code, "name"], **spec.to_dict()}
            for code, spec in specs.items() if source is None or spec.source == source]
    coverage = {k: int(v) for k, v in parse_coverage(universe).items()}
    if as_json:
        print_json({"coverage": coverage, "count": len(rows), "funds": rows})
        return
    table = Table(title="Benchmarks 业绩比较基准 · " + ", ".join(f"{k} {v}" for k, v in coverage.items()))
    for header in ("code", "name", "text 原文", "weights", "source", "approximations 近似说明"):
        table.add_column(header, overflow="fold")
    for r in rows:
        legs = weights(r["weights"])
        if r["constant_annual_return"]:
            legs += f" + {pct(r['constant_annual_return'])}/yr"
        notes = "; ".join(a["zh"] for a in r["approximations"])
        table.add_row(r["code"], r["name"], r["text"], legs, r["source"], notes)
    out.print(table)


def _research(universe: Any, code: str, as_of: Any) -> dict[str, Any]:
    """The research card's keys for `funds show`: dimensions, stars, look_through, style (point in time)."""
    from products.research import research_card

    card = research_card(universe, code, as_of=as_of)
    return {k: card.get(k) for k in ("dimensions", "stars", "look_through", "style")}


def _print_report(report: dict[str, Any]) -> None:
    m = report["metrics"]
    window = report["window"]
    out.print(f"[bold]{report['code']} {report['name']}[/]  {report['profile'].get('type_zh', '')} · "
              f"{class_name(report['asset_class'])} · [bold]{report['risk_level']}[/] {report['risk_level_zh']}")
    fees = report["fees"]
    out.print(f"fees 费用: subscription {fee_rate(fees['subscription_rate'])} "
              f"(bank {fee_rate(fees['subscription_rate_discounted'])})"
              f" · redemption {fees['redemption']} · running {pct(fees['running_cost'])}/yr")
    out.print(f"benchmark 业绩比较基准: {report['benchmark']['text'] or '—'} → "
              + weights(report["benchmark"]["weights"])
              + f" ({report['benchmark']['source']})")
    for note in report["benchmark"].get("approximations", []):
        out.print(f"  ≈ {note['zh']} / {note['en']}")
    table = Table(title=f"Metrics 业绩指标 {day(window['start'])} … {day(window['end'])} "
                        f"(rf {pct(window['risk_free'])})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [("total return 区间收益", pct(m.get("total_return"))),
            *([("fund over the benchmark's days 基准覆盖期基金收益", pct(m.get("paired_total_return")))]
              if m.get("n_pair_days", 0) < m.get("n_days", 0) else []),
            ("benchmark total 基准区间收益", pct(m.get("benchmark_total_return"))),
            ("excess over the window 区间超额", pct(m.get("excess_total_return"))),
            ("annual return 年化收益", pct(m["annual_return"])), ("volatility 年化波动", pct(m["annual_volatility"])),
            ("max drawdown 最大回撤", pct(m["max_drawdown"])),
            ("peak → trough → recovery", f"{day(m['peak_date'])} → {day(m['trough_date'])} → "
                                         f"{day(m['recovery_date'])}"),
            ("recovery days 修复天数", num(m["recovery_days"], 0)), ("Sharpe 夏普", num(m["sharpe"])),
            ("Sortino 索提诺", num(m["sortino"])), ("Calmar 卡玛", num(m["calmar"])),
            ("excess return 超额收益", pct(m["excess_return"])),
            ("tracking error 跟踪误差", pct(m["tracking_error"])),
            ("information ratio 信息比率", num(m["information_ratio"])), ("beta", num(m["beta"])),
            ("alpha", pct(m["alpha"])), ("monthly win rate 月胜率", pct(m["monthly_win_rate"])),
            ("up / down capture 上/下行捕获", f"{num(m['up_capture'])} / {num(m['down_capture'])}")]
    for name, value in rows:
        table.add_row(name, value)
    out.print(table)
    rolling = Table(title="Rolling 滚动 (latest / min / median / max annual return, worst drawdown)")
    for header in ("window", "latest return", "min", "median", "max", "share > 0", "worst MDD"):
        rolling.add_column(header, justify="right")
    for label, s in report["rolling"].items():
        rolling.add_row(label, pct(s["latest_annual_return"]), pct(s["min_annual_return"]),
                        pct(s["median_annual_return"]), pct(s["max_annual_return"]), pct(s["share_positive"]),
                        pct(s["worst_max_drawdown"]))
    out.print(rolling)
    quality = report.get("data_quality") or {}
    if quality:
        out.print(f"return data 收益数据 (whole history 全部历史): {quality['missing_returns_repaired']} missing "
                  f"returns taken from unit NAV 缺失收益按单位净值补齐 · {quality['distributions']} distributions 分红"
                  f" · {quality.get('unexplained_falls', 0)} unexplained falls 无法解释的净值下跌")
    for warning in report.get("warnings", []):
        out.print(f"[yellow]warning 提示[/] {warning['message_zh']} / {warning['message']}")
    stars = report.get("stars")
    style = report.get("style") or {}
    style_weights = style.get("weights") or {}
    top_style = weights(style_weights, style_name, top=3)
    if style.get("unavailable"):
        top_style = "unavailable 不可用"
    elif style.get("r_squared") is not None:
        top_style = (top_style or "unexplained 无法解释") + f" (R² {style['r_squared']:.2f})"
    out.print(f"research 研究: stars 星级 {'★' * stars if stars else 'unrated 未评级'} · style 风格 {top_style or '—'}")
    if style.get("bond_style"):
        bond = style["bond_style"]
        out.print(f"bond style 债券风格: {bond['label_zh']} / {bond['label_en']} · duration 久期 ≈ "
                  f"{bond['duration_years']:.1f}y · equity 权益 {pct(bond['equity_share'])}")
    if style.get("warning"):
        out.print(f"[yellow]warning 提示[/] {style['warning']['zh']} / {style['warning']['en']}")
    for note in [*(report.get("look_through") or {}).get("notes", []), style.get("unavailable")]:
        if note:
            out.print(f"[yellow]note 说明[/] {note}")

"""CLI commands added to `advisor funds`: rank (leaderboard), lookthrough, overlap and style."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, as_of_for, handle_errors, load, print_json
from advisor.cli.formats import pct
from products.errors import BadInputError

out = Console()

CsvFlag = Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")]
SHORT_LABELS = {"consistency": "cons", "excess_return": "exc", "drawdown_control": "dd", "volatility_control": "vol",
                "risk_adjusted_return": "radj", "persistence": "pers", "manager_stability": "mgr",
                "cost_and_scale": "cost"}
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Point in time: use only data up to this date.")]


def register_funds(funds_app: typer.Typer) -> None:
    """Add research commands to the `funds` group."""
    funds_app.command("rank")(rank)
    funds_app.command("lookthrough")(lookthrough)
    funds_app.command("overlap")(overlap)
    funds_app.command("style")(style)


def _rank_rows(board: pd.DataFrame) -> list[dict[str, Any]]:
    from products.research import DIMENSIONS

    rows = []
    for code, row in board.iterrows():
        rows.append({
            "code": code, "name": row["name"], "category": row["category"], "fund_type": row["fund_type"],
            "risk_level": None if pd.isna(row["risk_level"]) else f"R{int(row['risk_level'])}",
            "score": None if pd.isna(row["score"]) else round(float(row["score"]), 4),
            "stars": None if pd.isna(row["stars"]) else int(row["stars"]), "rated": bool(row["rated"]),
            "dimensions": {d: None if pd.isna(row[d]) else round(float(row[d]), 4) for d in DIMENSIONS},
        })
    return rows


@handle_errors
def rank(
    category: Annotated[str | None, typer.Option("--category", "-c",
                                                 help="Peer group (e.g. active_equity, bond, index) or fund type.")
                        ] = None,
    top: Annotated[int | None, typer.Option("--top", "-n", min=1, help="Best N per category.")] = None,
    max_risk: Annotated[str | None, typer.Option(
        "--max-risk", help="Highest product risk level, e.g. R3 (peer groups mix levels).")] = None,
    as_of: AsOfOption = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", help="Dimension weights, e.g. 'excess_return=2,drawdown_control=1' (others 0).")] = None,
    json_out: JsonFlag = False,
    csv_out: CsvFlag = False,
    data: DataOption = None,
) -> None:
    """The 8-dimension leaderboard (基金大数据榜单): score and 1–5 stars inside each peer group.

    Stars are earned against the whole peer group; `--max-risk` only hides the funds above a level (so a
    C3 customer's list never shows R4/R5 funds) and `--top` then counts within what is left."""
    from products.analytics.report import parse_risk_option
    from products.research import DIMENSIONS, leaderboard
    from products.research.leaderboard import filter_category

    limit = parse_risk_option(max_risk) if max_risk else None
    universe = load(data)
    as_of_for(universe, as_of)  # a date far beyond the data is refused, one beyond it warned about
    board = leaderboard(universe, as_of, _parse_weights(weights))
    as_of_used = board.attrs.get("as_of")
    board = board.assign(risk_level=universe.funds["risk_level"].reindex(board.index))
    if category:
        board = filter_category(board, category)
    if limit is not None:
        board = board[board["risk_level"] <= int(limit)]
    if top:
        board = board.groupby("category", sort=False, group_keys=False).head(top)
    if json_out:
        print_json({"as_of": as_of_used, "data_as_of": str(universe.as_of), "universe_version": universe.version,
                    "weights": board.attrs.get("weights"), "funds": _rank_rows(board)})
        return
    if csv_out:
        flat = board.reset_index()[["code", "name", "category", "fund_type", "risk_level", "score", "stars",
                                    "rated", *DIMENSIONS]]
        flat.to_csv(sys.stdout, index=False, float_format="%.4f")
        return
    table = Table(title=f"Fund leaderboard 基金大数据榜单 as of {as_of_used}",
                  caption="dimensions are peer-group percentiles (100 = best): " + ", ".join(
                      f"{SHORT_LABELS[d]} = {d}" for d in DIMENSIONS))
    for col in ("code", "name", "category", "risk", "score", "stars", *(SHORT_LABELS[d] for d in DIMENSIONS)):
        table.add_column(col, justify="left" if col in ("code", "name", "category") else "right",
                         no_wrap=col in ("code", "stars"))
    for row in _rank_rows(board):
        stars = "unrated" if row["stars"] is None else f"{row['stars']}★"
        table.add_row(row["code"], row["name"], row["category"], row["risk_level"] or "—",
                      "—" if row["score"] is None else f"{row['score']:.1f}", stars,
                      *("—" if v is None else f"{v:.0f}" for v in row["dimensions"].values()))
    out.print(table)


def _parse_weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    result: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            result[name.strip()] = float(value)
        except ValueError:
            raise BadInputError(f"--weights entry {part!r} is not name=number", details={"weights": text}) from None
    return result


@handle_errors
def lookthrough(
    codes: Annotated[list[str], typer.Argument(help="Fund codes; with --weights, a portfolio.")],
    quarter: Annotated[str | None, typer.Option("--quarter", help="Quarter like 2022-Q4 (default: latest).")
                       ] = None,
    portfolio_weights: Annotated[str | None, typer.Option(
        "--weights", help="Portfolio weights in the order of the codes, e.g. 0.5,0.3,0.2.")] = None,
    as_of: AsOfOption = None,
    json_out: JsonFlag = False,
    data: DataOption = None,
) -> None:
    """Holdings look-through (基金持仓透视): industries, top stocks, concentration; or a whole portfolio."""
    from products.research import look_through, portfolio_look_through

    universe = load(data)
    as_of_for(universe, as_of)
    if portfolio_weights:
        values = [float(v) for v in portfolio_weights.split(",")]
        if len(values) != len(codes):
            raise BadInputError("--weights needs one number per fund code",
                                details={"codes": len(codes), "weights": len(values)})
        result = portfolio_look_through(universe, pd.Series(values, index=codes), as_of)
        payload = {"industries": result["industries"].to_dict(),
                   "stocks": result["stocks"].head(30).to_dict(orient="records"),
                   "shared_stocks": result["shared_stocks"].to_dict(orient="records"),
                   "funds": result["funds"].reset_index().to_dict(orient="records"),
                   "issues": result["issues"].to_dict(orient="records")}
        if json_out:
            print_json(payload)
            return
        _print_weights("Portfolio industries 组合行业分布", result["industries"])
        _print_frame("Stocks held through several funds 多只基金共同持有", result["shared_stocks"].head(20))
        return
    result = look_through(universe, codes, quarter, as_of)
    if json_out:
        print_json({"funds": [
            {"code": code, **result.summary.loc[code].to_dict(),
             "industries": {k: v for k, v in result.industries.loc[code].items() if v > 0},
             "top_stocks": result.top_stocks[result.top_stocks["code"] == code].drop(columns="code")
             .to_dict(orient="records")}
            for code in result.industries.index],
            "issues": result.issues.to_dict(orient="records")})
        return
    for code in result.industries.index:
        s = result.summary.loc[code]
        _print_weights(f"{code} industries 行业分布 ({s['quarter']}, top-10 = {pct(s['top10_share'])} of NAV)"
                       if pd.notna(s["quarter"]) else f"{code}: no disclosed holdings 无持仓披露",
                       result.industries.loc[code])
        _print_frame(f"{code} top stocks 重仓股",
                     result.top_stocks[result.top_stocks["code"] == code]
                     [["rank", "stock_code", "stock_name", "industry", "weight"]])
    if not result.issues.empty:
        _print_frame("Data faults found 数据问题", result.issues)


@handle_errors
def overlap(
    codes: Annotated[list[str], typer.Argument(help="Two or more fund codes.")],
    as_of: AsOfOption = None,
    json_out: JsonFlag = False,
    data: DataOption = None,
) -> None:
    """Weighted overlap (0–1) of the funds' disclosed holdings (持仓重合度)."""
    from products.research import holdings_overlap

    universe = load(data)
    as_of_for(universe, as_of)
    matrix = holdings_overlap(universe, codes, as_of)
    if json_out:
        print_json({"codes": list(matrix.index), "overlap": matrix.to_numpy().tolist()})
        return
    _print_frame("Holdings overlap 持仓重合度", matrix.reset_index())


@handle_errors
def style(
    codes: Annotated[list[str] | None, typer.Argument(help="Fund codes (default: all).")] = None,
    window: Annotated[int, typer.Option("--window", help="Rolling window in trading days.")] = 252,
    holdings: Annotated[bool, typer.Option("--holdings", help="Add holdings-based tilts (boards, industries).")
                        ] = False,
    as_of: AsOfOption = None,
    json_out: JsonFlag = False,
    data: DataOption = None,
) -> None:
    """Returns-based style (Sharpe 1992): style weights, R² and style drift (风格分析)."""
    from products.research import holdings_tilts, style_analysis

    universe = load(data)
    as_of_for(universe, as_of)
    result = style_analysis(universe, codes or None, window=window, as_of=as_of)
    result.insert(0, "name", universe.funds["name"].reindex(result.index))
    result["window_end"] = pd.to_datetime(result["window_end"]).dt.strftime("%Y-%m-%d")
    tilts = holdings_tilts(universe, list(result.index), None, as_of) if holdings else None
    if json_out:
        payload: dict[str, Any] = {"funds": result.reset_index().to_dict(orient="records")}
        if tilts is not None:
            payload["boards"] = tilts["boards"].dropna(how="all").reset_index().to_dict(orient="records")
            payload["industry_tilt"] = {
                code: {k: v for k, v in row.items() if pd.notna(v) and abs(v) >= 0.005}
                for code, row in tilts["industry_tilt"].dropna(how="all").iterrows()}
        print_json(payload)
        return
    _print_frame("Style analysis 风格分析 (R² < 0.3: unexplained, no weights 无法解释)",
                 result.reset_index().drop(columns=["n_windows", "explained"]))
    if tilts is not None:
        _print_frame("Board mix of disclosed stocks 持仓板块分布",
                     tilts["boards"].dropna(how="all").reset_index())
        for code, row in tilts["industry_tilt"].dropna(how="all").iterrows():
            ordered = row.dropna().sort_values()
            over = ", ".join(f"{k} {pct(v, signed=True)}" for k, v in ordered[::-1][:3].items())
            under = ", ".join(f"{k} {pct(v, signed=True)}" for k, v in ordered[:3].items())
            out.print(f"{code} overweight 超配: {over} | underweight 低配: {under}")


def _print_weights(title: str, weights: pd.Series) -> None:
    table = Table(title=title)
    table.add_column("bucket")
    table.add_column("weight", justify="right")
    for name, value in weights[weights > 0].sort_values(ascending=False).items():
        table.add_row(str(name), pct(value))
    out.print(table)


def _print_frame(title: str, frame: pd.DataFrame) -> None:
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col))
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    out.print(table)

"""CLI commands: `advisor models` (the 15 model portfolios) and `advisor propose` (one-click proposal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, handle_errors, load, print_json
from advisor.cli.formats import pct
from products.errors import BadInputError

out = Console(width=140)  # tables are wide; keep them readable when piped


def _read_previous(path: Path | None) -> pd.DataFrame | None:
    if path is None:
        return None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BadInputError(f"--previous: {path} is not JSON ({err.msg})", details={"field": "previous"}) from None
    rows = payload.get("models", payload) if isinstance(payload, dict) else payload
    if not isinstance(rows, list) or not rows:
        raise BadInputError("--previous: expected the JSON of `advisor models --json`", details={"field": "previous"})
    return pd.DataFrame(rows)


AssumptionsOption = Annotated[Path | None, typer.Option(
    "--assumptions", help="JSON of capital-market settings: views [{asset_class, expected_return, confidence, "
    "relative_to}], return_overrides, volatility_overrides, return_shrinkage, lookback_years.")]


def _read_assumptions(path: Path | None):
    if path is None:
        return None
    from advisor.assumptions import AssumptionConfig

    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise BadInputError(f"--assumptions: {path} is not JSON ({err.msg})",
                            details={"field": "assumptions"}) from None
    return AssumptionConfig.from_dict(payload)


def models_cmd(
    data: DataOption = None,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="JSON from an earlier `advisor models --json`: new models pay a turnover penalty "
        "for moving away from it.")] = None,
    assumptions: AssumptionsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Print the model portfolios: asset-class weights for C1–C5 × horizon (under 1y, 1–3y, over 3y)."""
    from advisor.assumptions import estimate_assumptions
    from advisor.model_portfolios import MODEL_VERSION, model_portfolio_table

    universe = load(data)
    config = _read_assumptions(assumptions)
    table = model_portfolio_table(universe, assumptions=config, previous=_read_previous(previous))
    if as_json:
        cma = estimate_assumptions(universe, config)
        print_json({"model_version": MODEL_VERSION, "universe_as_of": universe.as_of,
                    "universe_version": universe.version, "assumptions": cma.to_dict(),
                    "models": table.to_dict(orient="records")})
        return
    title = f"Model portfolios {MODEL_VERSION} (universe {universe.as_of})"
    view = Table("level", "horizon", "cash", "bond", "cn_equity", "global_equity", "gold", "exp. return",
                 "volatility", "CVaR95", "hist. MDD", "solver", title=title)
    for row in table.itertuples(index=False):
        view.add_row(f"{row.level} {row.level_name_zh}", row.horizon,
                     *(pct(getattr(row, c)) for c in ("cash", "bond", "cn_equity", "global_equity", "gold")),
                     pct(row.expected_return), pct(row.expected_volatility), pct(row.cvar_95),
                     pct(row.hist_max_drawdown), row.solver_step)
    out.print(view)


def propose_cmd(
    level: Annotated[str, typer.Option("--level", help="Customer risk level C1–C5 (from a valid assessment).")],
    amount: Annotated[float, typer.Option("--amount", help="Amount to invest, yuan.")],
    horizon_years: Annotated[float, typer.Option("--horizon-years", help="Investment horizon in years.")],
    target_return: Annotated[float | None, typer.Option(
        "--target-return", help="Optional yearly target, a fraction (0.05 = 5%).")] = None,
    lowest_category: Annotated[bool, typer.Option(
        "--lowest-category", help="The customer is in the lowest risk category (R1 products only).")] = False,
    data: DataOption = None,
    assumptions: AssumptionsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Propose a fund portfolio to buy in one click (一键配置) for a level, amount and horizon."""
    from advisor.proposal import ProposalConfig, propose

    config = _read_assumptions(assumptions)
    proposal = propose(load(data), level, amount, horizon_years, target_return=target_return,
                       lowest_category=lowest_category,
                       config=ProposalConfig(assumptions=config) if config is not None else None)
    payload = proposal.to_dict()
    if as_json:
        print_json(payload)
        return
    out.print(f"[bold]{payload['level']} {payload['level_name_zh']}[/]  ¥{payload['amount']:,.2f}  "
              f"horizon {payload['horizon_years']:g}y  strategy risk {payload['strategy_risk_level']}")
    view = Table("code", "name", "class", "risk", "amount", "fee", "weight")
    for line in payload["lines"]:
        view.add_row(line["code"], line["name"], line["asset_class"], line["risk_level"], f"{line['amount']:,.2f}",
                     f"{line['fee']:,.2f}", pct(line['weight']))
    out.print(view)
    out.print(f"cash remainder ¥{payload['cash_remainder']:,.2f}  fees ¥{payload['total_fee']:,.2f}  "
              f"expected return {pct(payload['expected_return'])}  volatility {pct(payload['expected_volatility'])}"
              + (f"  goal probability {pct(payload['goal_probability'])}"
                 if payload["goal_probability"] is not None else ""))
    hist = payload["historical"]
    if hist:
        out.print(f"simulated record {hist['start']}…{hist['end']}: {pct(hist['annual_return'])} a year, volatility "
                  f"{pct(hist['annual_volatility'])}, max drawdown {pct(hist['max_drawdown'])}")
    for note in payload["explanations"]:
        out.print(f"• {note['zh']}")


def register(app: typer.Typer) -> None:
    """Add `models` and `propose` to the main app."""
    app.command("models")(handle_errors(models_cmd))
    app.command("propose")(handle_errors(propose_cmd))

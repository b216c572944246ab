"""CLI group `advisor plan` — after the purchase: goals, SIP plans, returns, statements and 陪伴 alerts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from advisor.cli.common import DataOption, JsonFlag, handle_errors, load, print_json

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
    out.print(f"[bold]{result['probability']:.0%}[/] chance of ¥{result['target']:,.0f} in {result['years']:g} "
              f"years — {state}; p10 ¥{p['p10']:,.0f} · p50 ¥{p['p50']:,.0f} · p90 ¥{p['p90']:,.0f}")
    out.print(result["explanation_zh"])
    out.print(result["explanation_en"])


def register(app: typer.Typer) -> None:
    """Add `advisor plan …` to the main app."""
    plan_app.command("goal")(handle_errors(goal_cmd))
    app.add_typer(plan_app, name="plan")

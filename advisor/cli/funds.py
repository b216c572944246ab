"""CLI commands: `advisor funds ...` (list, show; research commands register from funds_research)."""

from __future__ import annotations

import typer

funds_app = typer.Typer(help="The fund universe: list, show, rank (基金).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    from advisor.cli import funds_research

    funds_research.register_funds(funds_app)
    app.add_typer(funds_app, name="funds")

"""The `advisor` command line. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import importlib

import typer

from advisor.cli import help_format

help_format.install()

app = typer.Typer(
    name="advisor",
    help="Robo-advisory service for Chinese retail banks (智能投顾): data, funds, risk, proposals, "
    "health checks, rebalancing, and the API server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Modules that define `register(app)`; one per concern so that commands evolve independently.
COMMAND_MODULES = ("data", "funds", "risk", "models", "diagnose", "rebalance", "backtest", "plan", "demo_data",
                   "serve", "nightly", "cache")

for _name in COMMAND_MODULES:
    _module = importlib.import_module(f"advisor.cli.{_name}")
    _module.register(app)


def main() -> None:
    app()

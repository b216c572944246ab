"""CLI commands added to `advisor funds`: rank (leaderboard) and research views (not written yet)."""

from __future__ import annotations

import typer


def register_funds(funds_app: typer.Typer) -> None:
    """Add research commands to the `funds` group."""

"""`--help` that reads like a manual: no `<bool>` / `<str>` type tag on every option.

Typer prints each option's Python type beside it. A flag needs none, and for a value option the help
text already says what to give (a level C1–C5, a date YYYY-MM-DD, yuan); an option that wants a
placeholder sets `metavar=` and that is shown instead.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperOption


def _display_type(self: Any, ctx: Any) -> str | None:
    return self.metavar or None


def install() -> None:
    """Replace the type column of Typer's rich help by the explicit metavar (if any)."""
    for cls in (TyperOption, TyperArgument):
        if hasattr(cls, "display_type_rich"):
            cls.display_type_rich = _display_type  # type: ignore[method-assign]

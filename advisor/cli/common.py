"""Shared CLI plumbing: the `--data` option, JSON output, and turning core errors into clean exits."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from products.errors import AdvisorError, BadInputError
from products.freshness import Freshness
from products.serialization import dumps
from products.serialization import jsonable as to_jsonable  # noqa: F401 - the one encoder, old name
from products.universe import Universe

console = Console(stderr=True)

DataOption = Annotated[
    Path | None,
    typer.Option("--data", envvar="ADVISOR_DATA_DIR",
                 help="Data directory (canonical Parquet or the shared layout); default: embedded demo."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

F = TypeVar("F", bound=Callable[..., Any])


def print_json(payload: Any) -> None:
    sys.stdout.write(dumps(payload) + "\n")


def handle_errors(func: F) -> F:
    """Print an `AdvisorError` as one clear line (and its details) and exit 2, never a stack trace."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AdvisorError as err:
            console.print(f"[bold red]error[/] {escape(f'[{err.code}] {err.message}')}")
            for key, val in err.details.items():
                console.print(f"  {escape(str(key))}: {escape(str(val))}")
            raise typer.Exit(code=2) from None
        except (FileNotFoundError, PermissionError, IsADirectoryError) as err:
            console.print(f"[bold red]error[/] {escape(f'[file] {err.strerror}: {err.filename}')}")
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def parse_as_of(value: str | None, option: str = "--as-of") -> date | None:
    """A `YYYY-MM-DD` option as a date (None stays None); anything else is a `BadInputError` naming it."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInputError(f"{option}: not a date (YYYY-MM-DD): {value!r}",
                            details={"field": option.lstrip("-").replace("-", "_")}) from None


def as_of_for(universe: Universe, value: str | None, option: str = "--as-of") -> Freshness:
    """The date a command acts on: `value` (YYYY-MM-DD), or the data's as-of date when omitted (never today:
    on a snapshot months old, today has no prices). A date more than a quarter after the data is refused;
    past `products.freshness.WARN_DAYS` the stale-data warning goes to stderr (zh and en)."""
    from products.freshness import resolve_as_of

    fresh = resolve_as_of(universe, parse_as_of(value, option), field=option.lstrip("-").replace("-", "_"))
    if fresh.warning:
        console.print(f"[yellow]warning 提示[/] {fresh.warning['zh']} / {fresh.warning['en']}")
    return fresh


def load(data: Path | None) -> Universe:
    """The universe of `--data` with its research context: from the context cache when it was built
    (`advisor cache build`), so a one-shot command starts in about a second."""
    from advisor.context_cache import warm_universe
    from advisor.simulation.record import know_data_dir

    universe = warm_universe(data)
    know_data_dir(universe, data)  # a proposal without a simulated record can have it computed from here
    return universe


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """One JSON object from `path`; malformed JSON or another type is a BadInputError naming the file."""
    import json as _json

    from products.errors import BadInputError

    try:
        payload = _json.loads(path.read_text(encoding="utf-8"))
    except _json.JSONDecodeError as err:
        raise BadInputError(f"{path.name} is not valid JSON: {err.msg} (line {err.lineno})",
                            details={"file": str(path)}) from None
    if not isinstance(payload, dict):
        raise BadInputError(f"{path.name} must hold one JSON object ({what})", details={"file": str(path)})
    return payload


def customer_payload(path: Path) -> dict[str, Any]:
    """A single customer's JSON in either accepted shape, flattened to profile fields + `holdings`.

    Shapes: `{"customer": {...}, "holdings": [...], "cash_flow": 0}` (what rebalancing and the health
    check's action commands write) or the profile fields at the top level beside `holdings`. In the
    first shape only the customer and the holdings are taken (`cash_flow` belongs to rebalancing).
    """
    payload = read_json_object(path, "a customer's profile fields and a holdings list")
    customer = payload.get("customer")
    if isinstance(customer, dict):
        return {**customer, "holdings": payload.get("holdings", [])}
    return payload

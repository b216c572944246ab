"""CLI commands: `advisor cache ...` — the per-universe research context cache (fast starts)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from advisor.cli.common import DataOption, JsonFlag, handle_errors, print_json

out = Console()
cache_app = typer.Typer(help="The research context cache: built once per universe and code version, loaded by "
                             "every command, API worker and Dask worker.", no_args_is_help=True)


@cache_app.command("build")
@handle_errors
def build_cmd(data: DataOption = None, as_json: JsonFlag = False) -> None:
    """Load the universe, compute its research context and store it (beside canonical data, or the cache dir)."""
    from advisor.context_cache import build_cache

    meta = build_cache(data)
    if as_json:
        print_json(meta)
        return
    seconds = sum(meta["build_seconds"].values())
    out.print(f"context of universe {meta['universe_version']} (as of {meta['universe_as_of']}, code "
              f"{meta['code_version']}) built in {seconds:.1f}s → {meta['path']} ({meta['bytes'] / 1e6:.1f} MB)")


@cache_app.command("show")
@handle_errors
def show_cmd(
    data: DataOption = None,
    as_json: JsonFlag = False,
    all_keys: Annotated[bool, typer.Option("--all", help="List every cache file of the directory.")] = False,
) -> None:
    """The cache directory the data uses and its files (`current` = the one this code and data would load)."""
    from advisor.context_cache import cache_dir, cache_key, cached_files

    key = cache_key(data)
    files = cached_files(data)
    payload = {"cache_dir": str(cache_dir(data)), "source": key.source, "code_version": key.code,
               "current_file": key.filename, "present": any(f["current"] for f in files),
               "files": files if all_keys else [f for f in files if f["current"]]}
    if as_json:
        print_json(payload)
        return
    out.print(f"cache directory {payload['cache_dir']}; data {key.source}, code {key.code}: "
              f"{'[green]built[/]' if payload['present'] else '[yellow]not built[/] (advisor cache build)'}")
    if payload["files"]:
        table = Table("file", "MB", "modified", "current")
        for f in payload["files"]:
            table.add_row(f["path"], f"{f['bytes'] / 1e6:.1f}", f["modified"], "yes" if f["current"] else "")
        out.print(table)


@cache_app.command("clear")
@handle_errors
def clear_cmd(data: DataOption = None, as_json: JsonFlag = False) -> None:
    """Delete the cache files of the directory the data uses."""
    from advisor.context_cache import cache_dir, clear

    removed = clear(data)
    if as_json:
        print_json({"removed": removed, "cache_dir": str(cache_dir(data))})
        return
    out.print(f"removed {removed} cache file(s) from {cache_dir(data)}")


def register(app: typer.Typer) -> None:
    """Add `advisor cache` to the main app."""
    app.add_typer(cache_app, name="cache")

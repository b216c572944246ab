"""Every command's --help reads at 80 columns without a type tag on every option."""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.testing import CliRunner

from advisor.cli import app

TYPE_TAG = re.compile(r"<(bool|str|int|float|path|datetime)>")


def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            paths += command_paths(command, (*prefix, name))
    return paths


def test_every_help_has_no_type_tags_and_lists_subcommands():
    root = typer.main.get_command(app)
    paths = command_paths(root)
    assert len(paths) > 20
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        assert not TYPE_TAG.search(result.output), (path, TYPE_TAG.findall(result.output))
        assert max(len(line) for line in result.output.splitlines()) <= 80, path
        command = root
        for name in path:
            command = command.commands[name]
        if hasattr(command, "commands"):
            for name in command.commands:
                assert name in result.output, (path, name)

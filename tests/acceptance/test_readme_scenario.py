"""The documented examples for stats, trace, diff and timeline are what the commands print."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
PAGE = "docs/scenario.md"


def examples() -> list[tuple[str, str, str, int | None]]:
    """(folder, command, printed text, exit code or None) for each runnable example."""
    section = ROOT.joinpath(PAGE).read_text()
    found = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        folder = "."
        command, output = None, []
        for line in block.splitlines() + ["$ end"]:
            if not line.startswith("$ "):
                output.append(line)
                continue
            if command is not None:
                code = None
                if command.endswith("; echo $?"):
                    command, code = command[: -len("; echo $?")], int(output.pop())
                found.append((folder, command, "\n".join(output) + "\n", code))
            command, output = line[2:], []
            if command.startswith("cd "):
                folder, command = command[3:], None
            elif "..." in command or "|" in command or command == "end":
                command = None
    return found


EXAMPLES = examples()


def test_the_section_has_examples_of_every_command() -> None:
    commands = {shlex.split(command)[1] for _, command, _, _ in EXAMPLES}
    assert commands == {"stats", "trace", "diff", "timeline"}


@pytest.mark.parametrize(("folder", "command", "printed", "code"), EXAMPLES)
def test_readme_example(folder, command, printed, code, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(ROOT / folder)
    args = shlex.split(command)[1:]
    if "-o" in args:  # write the page elsewhere, and expect the documented name for it
        name = args[args.index("-o") + 1]
        args[args.index("-o") + 1] = str(tmp_path / name)
        printed = printed.replace(name, str(tmp_path / name), 1)

    result = CliRunner().invoke(main, args, prog_name="osreplay")

    assert result.stdout == printed
    assert result.exit_code == (0 if code is None else code)

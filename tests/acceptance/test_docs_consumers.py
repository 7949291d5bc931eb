"""The examples of docs/ceilometer.md and docs/schema.md are what the commands print.

The conventions of test_doc_examples.py (which runs the other commands' examples): a
`$ osreplay …` line is run, and what it prints (stdout and stderr, as a terminal shows
them) must be the lines below it; `; echo $?` means the last line is the exit code (else
it must be 0); an `-o` file is written elsewhere under its documented name; synopses
(`FILE...`, `[…]`) and other programs' lines are not run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
PAGES = ("docs/ceilometer.md", "docs/schema.md")
COMMANDS = {"ceilometer", "schema"}


def examples(page: str) -> list[tuple[str, str, int | None]]:
    """(command, printed text, exit code or None) for each runnable example of ``page``."""
    found = []
    text = ROOT.joinpath(page).read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        command, output = None, []
        for line in block.splitlines() + ["$ end"]:
            if not line.startswith("$ "):
                output.append(line)
                continue
            if command is not None:
                code = None
                if command.endswith("; echo $?"):
                    command, code = command[: -len("; echo $?")], int(output.pop())
                if output and _runnable(command):
                    found.append((command, "\n".join(output) + "\n", code))
            command, output = line[2:], []
    return found


def _runnable(command: str) -> bool:
    if "..." in command or "[" in command or not command.startswith("osreplay "):
        return False
    return shlex.split(command)[1] in COMMANDS


EXAMPLES = [(page, *example) for page in PAGES for example in examples(page)]


def test_the_pages_have_examples_of_both_commands():
    assert {page for page, *_ in EXAMPLES} == set(PAGES)
    assert {" ".join(shlex.split(c)[1:3]) for _, c, _, _ in EXAMPLES} >= {
        "ceilometer fixtures/ceilometer/cloud.ndjson",
        "schema infer",
        "schema diff",
    }


@pytest.mark.parametrize(
    ("page", "command", "printed", "code"), EXAMPLES, ids=[f"{p}:{c}" for p, c, _, _ in EXAMPLES]
)
def test_documented_example(page, command, printed, code, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    if "-o" in args:  # write elsewhere, and expect the documented name for it
        name = args[args.index("-o") + 1]
        args[args.index("-o") + 1] = str(tmp_path / name)
        printed = printed.replace(name, str(tmp_path / name))
    result = CliRunner().invoke(main, args, prog_name="osreplay")
    assert result.output == printed
    assert result.exit_code == (0 if code is None else code)

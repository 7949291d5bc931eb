"""The documented examples are what the commands print.

Every ```console block of README.md and docs/*.md is read: each `$ osreplay …` line of a
command that runs offline (no broker) is run, and what it prints (stdout and stderr, as a
terminal shows them) must be the lines below it, up to the next `$`. `; echo $?` after a
command means the last line is its exit code (else it must be 0); `$ cd DIR` runs the
block's later lines in DIR. Synopses (`FILE...`), lines with no output under them, pipes
and lines of other programs are not run, nor examples that need a broker (record, replay
without --dry-run). A ```text block is an illustration (made-up files), never run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md"))]
# Commands that never touch the bus, and replay when it connects to nothing.
OFFLINE = {"validate", "stats", "trace", "diff", "timeline", "redact", "ceilometer", "schema"}


def runnable(command: str) -> bool:
    if any(mark in command for mark in ("...", "|", "<(", ">", "[")):
        return False
    if not command.startswith("osreplay "):
        return False
    try:
        words = shlex.split(command)
    except ValueError:  # a line continued on the next one
        return False
    return words[1] in OFFLINE or (words[1] == "replay" and "--dry-run" in words)


def examples(page: str) -> list[tuple[str, str, str, int | None]]:
    """(folder, command, printed text, exit code or None) for each runnable example."""
    found = []
    text = ROOT.joinpath(page).read_text(encoding="utf-8")
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
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
                if output and runnable(command):
                    found.append((folder, command, "\n".join(output) + "\n", code))
            command, output = line[2:], []
            if command.startswith("cd "):
                folder, command = command[3:], None
    return found


EXAMPLES = [(page, *example) for page in PAGES for example in examples(page)]


def test_the_pages_have_examples_of_every_offline_command() -> None:
    commands = {shlex.split(command)[1] for _, _, command, _, _ in EXAMPLES}
    assert commands >= OFFLINE | {"replay"}
    readme = {shlex.split(command)[1] for page, _, command, _, _ in EXAMPLES if page == "README.md"}
    assert readme >= OFFLINE | {"replay"}


@pytest.mark.parametrize(
    ("page", "folder", "command", "printed", "code"),
    EXAMPLES,
    ids=[f"{page}:{command}" for page, _, command, _, _ in EXAMPLES],
)
def test_documented_example(page, folder, command, printed, code, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(ROOT / folder)
    args = shlex.split(command)[1:]
    if "-o" in args:  # write the file elsewhere, and expect the documented name for it
        name = args[args.index("-o") + 1]
        if name != "-":
            args[args.index("-o") + 1] = str(tmp_path / name)
            printed = printed.replace(name, str(tmp_path / name))

    result = CliRunner().invoke(main, args, prog_name="osreplay")

    assert result.output == printed
    assert result.exit_code == (0 if code is None else code)


def test_the_readme_stays_a_front_door() -> None:
    """The reference lives in docs/; the README is an overview of at most 250 lines."""
    assert len(ROOT.joinpath("README.md").read_text(encoding="utf-8").splitlines()) <= 250

"""The examples in docs/ceilometer.md and docs/schema.md are what the commands print."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]


def examples(page: str) -> list[tuple[str, str, int | None]]:
    """(command, stdout, exit code or None) for each osreplay example of ``page``."""
    found: list[tuple[str, str, int | None]] = []
    text = ROOT.joinpath("docs", page).read_text()
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        lines = block.replace("\\\n", " ").splitlines()
        command: str | None = None
        output: list[str] = []
        for line in [*lines, "$ end"]:
            if not line.startswith("$ "):
                output.append(line)
                continue
            if line == "$ echo $?" and found and command is None:
                continue  # the code follows as the next output line
            if command is not None:
                found.append((command, "\n".join(output) + "\n", None))
            elif output and found and output[0].isdigit() and len(output) == 1:
                found[-1] = (found[-1][0], found[-1][1], int(output[0]))
            command, output = line[2:], []
            if not command.startswith("osreplay ") or "..." in command or "[" in command:
                command = None
    return found


def cases() -> list[tuple[str, str, str, int | None]]:
    return [
        (page, *example) for page in ("ceilometer.md", "schema.md") for example in examples(page)
    ]


def test_the_pages_have_examples():
    pages = {page for page, *_ in cases()}
    assert pages == {"ceilometer.md", "schema.md"} and len(cases()) == 4


@pytest.mark.parametrize(("page", "command", "printed", "code"), cases())
def test_documented_output(page, command, printed, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    result = CliRunner().invoke(main, shlex.split(command)[1:], prog_name="osreplay")
    assert result.stdout == printed, page
    if code is not None:
        assert result.exit_code == code

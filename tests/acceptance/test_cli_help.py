"""Every command and option explains itself; `python -m osreplay` is the same program."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from osreplay.cli import main

COMMANDS = sorted(main.commands)


def test_the_three_commands_exist():
    assert {"record", "validate", "replay"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_and_option_has_help_text(name):
    command = main.commands[name]
    assert command.help and command.short_help != ""
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"osreplay {name} {param.opts[0]} has no help text"
    result = CliRunner().invoke(main, [name, "--help"], prog_name="osreplay")
    assert result.exit_code == 0 and "Usage: osreplay " + name in result.output


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "osreplay", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("osreplay, version ")

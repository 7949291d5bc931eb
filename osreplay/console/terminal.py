"""Where a live line (record's counter, replay's progress bar) may be drawn: terminals only,
and only where nothing else can write to the same terminal meanwhile."""

from __future__ import annotations

import os
import stat
from typing import Any

# --- live output of the long-running commands (stderr, terminals only) ----------------
#
# A live line (record's counter, replay's progress bar) is redrawn in place with a carriage
# return, so anything else written to that terminal meanwhile lands on it. It is drawn only
# where nothing else can write to the terminal while it runs:
#
# - ``record`` draws its counter only when the records go to a file: not to the terminal
#   (they would land on the counter) and not into a pipe, whose reader (``jq``, ``osreplay
#   replay``) may print to the same terminal;
# - ``replay`` draws its progress bar only when it reads files (or a file redirected to
#   standard input), not a pipe, whose writer (``osreplay record``) may print to the same
#   terminal. In the ``record | replay`` mirror neither draws: both print whole lines only.


def _kind(stream: Any) -> str:
    """``tty``, ``pipe`` (FIFO or socket), ``file`` (regular file or /dev/null) or ``other``."""
    try:
        fd = stream.fileno()
        if os.isatty(fd):
            return "tty"
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # not a real file (tests, closed)
        return "other"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return "pipe"
    if stat.S_ISREG(mode) or stat.S_ISCHR(mode):
        return "file"
    return "other"


def stderr_is_terminal(stderr: Any) -> bool:
    return _kind(stderr) == "tty"


def record_draws_counter(*, stderr: Any, stdout: Any, output: str) -> bool:
    """True when record's live counter can be drawn on ``stderr`` (see above)."""
    if not stderr_is_terminal(stderr):
        return False
    return output != "-" or _kind(stdout) == "file"


def replay_draws_progress(*, stderr: Any, stdin: Any, streaming: bool) -> bool:
    """True when replay's progress bar can be drawn on ``stderr`` (see above)."""
    if not stderr_is_terminal(stderr):
        return False
    return not streaming or _kind(stdin) == "file"


def reads_a_terminal(stdin: Any) -> bool:
    """True when standard input is a terminal (a person would type the records)."""
    return _kind(stdin) == "tty"


__all__ = [
    "reads_a_terminal",
    "record_draws_counter",
    "replay_draws_progress",
    "stderr_is_terminal",
]

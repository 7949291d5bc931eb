"""Imported first by the fork server of ``replay --workers`` (its preload, see
:mod:`osreplay.replay.pool`): the fork server dies with the replay's main process, and the
workers, its children, die with it (``PR_SET_PDEATHSIG``), whatever ended the replay."""

from __future__ import annotations

import sys


def in_fork_server() -> bool:
    """True while multiprocessing's fork server imports its preload modules."""
    frame = sys._getframe()
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith("forkserver.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


if in_fork_server():
    from osreplay.replay.pool import die_with_parent

    die_with_parent()

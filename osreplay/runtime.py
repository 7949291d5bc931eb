"""Stop signals: SIGTERM (``timeout``, ``systemd``, ``kill``) stops a command as Ctrl-C does.

Python turns SIGINT into :class:`KeyboardInterrupt` and leaves SIGTERM to kill the process
at once, with no summary and no resume hint. :func:`terminate_like_interrupt` makes the
first SIGTERM raise :class:`Terminated` (a ``KeyboardInterrupt``), so code that already
stops cleanly on Ctrl-C stops the same way on SIGTERM; a second SIGTERM kills as usual.
The exit status tells the two apart, as shells do: 130 after Ctrl-C, 143 after SIGTERM.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop as after Ctrl-C."""


def exit_code_for(exc: BaseException | None) -> int:
    """130 after Ctrl-C, 143 after SIGTERM."""
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


@contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """Within the block, the first SIGTERM raises :class:`Terminated` in the main thread."""

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_unless_stopped(
    call: Callable[[], None],
    stop: threading.Event,
    *,
    timeout: float | None = None,
    poll: float = 0.05,
) -> str:
    """Run ``call`` in a daemon thread; wait until it returns, ``stop`` is set or ``timeout``.

    Returns ``done``, ``stopped`` or ``timeout`` (``call`` may still be running then: a
    connection oslo retries forever cannot be cancelled, so the caller reports and exits).
    An exception raised by ``call`` is raised here. Waits in short steps so that a signal
    handler setting ``stop`` is seen at once.
    """
    failure: list[BaseException] = []
    done = threading.Event()

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="osreplay-start", daemon=True).start()
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done.wait(poll):
        if stop.is_set():
            return "stopped"
        if deadline is not None and time.monotonic() >= deadline:
            return "timeout"
    if failure:
        raise failure[0]
    return "done"


__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "Terminated",
    "exit_code_for",
    "run_unless_stopped",
    "terminate_like_interrupt",
]


# --- the cyclic garbage collector ------------------------------------------------------
#
# Records read ahead (replay's checked files) hold no reference cycles; while they pile up
# the cyclic collector would only scan them again and again (a third of the time), and
# once read they stay live for the whole run: frozen, they are never scanned.


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off within the block (as it was after it)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextmanager
def gc_frozen() -> Iterator[None]:
    """Every object alive on entry is left out of the collector's scans within the block."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


__all__ += ["gc_frozen", "gc_paused"]

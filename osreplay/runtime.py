"""Stop signals: SIGTERM (``timeout``, ``systemd``, ``kill``) stops a command as Ctrl-C does.

Python turns SIGINT into :class:`KeyboardInterrupt` and leaves SIGTERM to kill the process
at once, with no summary and no resume hint. :func:`terminate_like_interrupt` makes the
first SIGTERM raise :class:`Terminated` (a ``KeyboardInterrupt``), so code that already
stops cleanly on Ctrl-C stops the same way on SIGTERM; a second SIGTERM kills as usual.
The exit status tells the two apart, as shells do: 130 after Ctrl-C, 143 after SIGTERM.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

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


# --- record's stop signals and process exits ----------------------------------------------


class StopSignals:
    """What the stop signals did: ``received`` collects them; ``listening`` is set by the
    caller once something is in hand (before that, a signal only stops)."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.listening = threading.Event()

    @property
    def exit_code(self) -> int:
        """143 when a SIGTERM came, else 130."""
        return EXIT_TERMINATED if signal.SIGTERM in self.received else EXIT_INTERRUPTED


@contextmanager
def stop_signals(stop: threading.Event, *, on_stop: Callable[[], None]) -> Iterator[StopSignals]:
    """First SIGINT/SIGTERM: set ``stop`` (and, once listening, call ``on_stop``). A second
    SIGINT: exit now (130) without cleaning up. Outside the main thread: no signal handling."""
    signals = StopSignals()

    def handler(signum: int, frame: FrameType | None) -> None:
        signals.received.append(signum)
        if stop.is_set():
            if signum == signal.SIGINT:
                os.write(2, b"\nInterrupted again: exiting now without cleaning up\n")
                os._exit(EXIT_INTERRUPTED)
            return
        stop.set()
        if signals.listening.is_set():
            on_stop()

    saved: dict[signal.Signals, Any] = {}
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        try:
            saved[stop_signal] = signal.signal(stop_signal, handler)
        except ValueError:  # not the main thread (embedded use): no signal handling
            pass
    try:
        yield signals
    finally:
        for stop_signal, previous in saved.items():
            signal.signal(stop_signal, previous)


def exit_now(code: int) -> NoReturn:
    """Leave at once (a connection attempt oslo retries cannot be cancelled nor waited for)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def silence_stdout() -> None:
    """The reader of stdout left: keep the interpreter's final flush from complaining."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests)
        pass


__all__ += ["StopSignals", "exit_now", "silence_stdout", "stop_signals"]


def setup_logging(verbose: int) -> None:
    """Log to stderr, passwords masked; -v for info, -vv for debug (oslo and kombu too)."""
    from osreplay.bus.url import MaskingFilter

    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if verbose < 2:
        # oslo and kombu log every reconnect attempt and swallowed error at WARNING or
        # ERROR; osreplay reports those itself, in one line each.
        for noisy in ("oslo_messaging", "oslo.messaging", "kombu", "amqp"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL if verbose == 0 else logging.INFO)


__all__ += ["setup_logging"]

"""osreplay's pytest plugin: replay a recording into the consumer under test.

Installed with osreplay (entry point ``pytest11``), so every test suite in the same
environment can use its fixtures:

``osreplay_replay``
    A callable ``osreplay_replay(path, *, url=None, exchange=None, topics=None, rate=0,
    fresh_ids=False, retime=False) -> ReplaySummary``. It replays the recording at
    ``path`` through an oslo.messaging Notifier, by default into the in-process
    ``kombu+memory:////`` transport (a notification listener built in the same test on
    that URL receives it), or into the broker at ``url``. Each record goes to its recorded
    exchange and topic unless ``exchange`` / ``topics`` (a list: every record goes to each)
    say otherwise. ``rate=0`` sends as fast as possible, ``rate=N`` N per second,
    ``rate=None`` keeps the recorded gaps. ``fresh_ids`` and ``retime`` are
    ``replay --fresh-ids`` and ``--retime``. It returns once every record was confirmed
    by the transport (or one was not: the replay stops there); the summary has ``sent``,
    ``failed``, ``ok`` and ``stop``. An unreadable recording raises
    :class:`osreplay.errors.RecordingRefused` before anything is sent.

``osreplay_vhost``
    The transport URL of a fresh RabbitMQ virtual host, deleted after the test, on the
    broker at ``$OSREPLAY_TEST_URL`` (default ``rabbit://guest:guest@127.0.0.1:5672/``).
    The test is skipped when no broker answers there or ``rabbitmqctl`` cannot create
    the virtual host (it must run on the broker's machine, with rights to it).

The memory transport is shared by the whole test process: messages left in a queue by
one test are delivered to the next listener on it, so give each test its own topic or
exchange. oslo.messaging is imported only when a replay runs, so a suite that does not
use these fixtures pays nothing for the plugin.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    from osreplay.model.notification import Notification
    from osreplay.replay.replayer import ReplaySummary
    from osreplay.replay.sender import Sender

MEMORY_URL = "kombu+memory:////"
DEFAULT_BROKER_URL = "rabbit://guest:guest@127.0.0.1:5672/"

ReplayFunction = Callable[..., "ReplaySummary"]


def replay_file(
    path: str | os.PathLike[str],
    *,
    url: str | None = None,
    exchange: str | None = None,
    topics: Sequence[str] | None = None,
    rate: float | None = 0,
    fresh_ids: bool = False,
    retime: bool = False,
) -> ReplaySummary:
    """Replay one recording and return its summary (what the fixture calls)."""
    with warnings.catch_warnings():
        # oslo.messaging's imports warn once that eventlet and oslo's eventlet helpers are
        # deprecated: a consumer's suite run with warnings as errors must not fail on the
        # plugin's imports (the same noise the project's own suite ignores).
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        from osreplay.replay.sender import OsloSender
    from osreplay.bus.transport import check_connection, resolve
    from osreplay.replay.pacing import make_schedule
    from osreplay.replay.replayer import Replayer
    from osreplay.replay.rewrite import Rewriter
    from osreplay.replay.sources import FileSource

    settings = resolve(url=url or MEMORY_URL, environ={})
    check_connection(settings)
    schedule = make_schedule(rate=rate)
    source = FileSource([os.fspath(path)], needs_timestamps=schedule.needs_timestamps)
    source.check()
    sender: Sender = OsloSender(settings)
    if topics:
        sender = _EveryTopic(sender, list(topics))
    rewriter = Rewriter(fresh_ids=fresh_ids, retime=retime)
    replayer = Replayer(
        sender,
        schedule,
        exchange=exchange,
        default_exchange=settings.conf.control_exchange,
        default_topic=settings.topics[0],
        rewrite=rewriter if rewriter.active else None,
    )
    try:
        return replayer.run(source)
    finally:
        sender.close()


class _EveryTopic:
    """Sends each record on every one of ``topics`` (the fixture's ``topics=``)."""

    def __init__(self, sender: Sender, topics: list[str]) -> None:
        self.sender = sender
        self.topics = topics

    def send(self, note: Notification, exchange: str, topic: str) -> None:
        for name in self.topics:
            self.sender.send(note, exchange, name)

    def close(self) -> None:
        self.sender.close()


@pytest.fixture
def osreplay_replay() -> ReplayFunction:
    """Replay a recording into ``kombu+memory:////`` (or ``url=``); returns the summary."""
    return replay_file


# --- a fresh virtual host --------------------------------------------------------------


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 3):
            return True
    except OSError:
        return False


def rabbitmqctl(*args: str) -> bool:
    """``rabbitmqctl -q ARGS`` on this machine: True when it ran and succeeded."""
    if not shutil.which("rabbitmqctl"):
        return False
    try:
        done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture
def osreplay_vhost() -> Iterator[str]:
    """The transport URL of a new RabbitMQ virtual host, deleted afterwards (else skip)."""
    base = os.environ.get("OSREPLAY_TEST_URL") or DEFAULT_BROKER_URL
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if not _answers(host, port):
        pytest.skip(f"no RabbitMQ answers at {host}:{port} (set OSREPLAY_TEST_URL)")
    vhost = f"osreplay-test-{uuid.uuid4().hex[:12]}"
    user = parts.username or "guest"
    if not rabbitmqctl("add_vhost", vhost):
        pytest.skip(f"rabbitmqctl cannot create a virtual host on {host}:{port}")
    try:
        if not rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*"):
            pytest.skip(f"rabbitmqctl cannot give {user} rights on a new virtual host")
        yield urlunsplit((parts.scheme, parts.netloc, "/" + vhost, parts.query, ""))
    finally:
        rabbitmqctl("delete_vhost", vhost)


__all__ = ["MEMORY_URL", "osreplay_replay", "osreplay_vhost", "replay_file"]

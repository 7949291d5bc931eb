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

``osreplay_collect``
    ``osreplay_collect(exchange="openstack", topics=["notifications"], url=None)`` starts
    listening on a pool queue of its own (a copy of every message; the consumers under
    test lose nothing) and returns a :class:`Collected`: ``.records`` (the record model's
    dicts), ``.wait_for(count=None, event_type=None, timeout=10)`` (fails the test on
    timeout, saying what it did receive) and ``.assert_matches_recording(path,
    ignore=[...])`` (a snapshot test against a golden recording, as ``osreplay diff``
    compares; ``pytest --osreplay-update`` rewrites the file). The queue is deleted after
    the test.

``osreplay_vhost``
    The transport URL of a fresh RabbitMQ virtual host, deleted after the test, on the
    broker at ``$OSREPLAY_TEST_URL`` (default ``rabbit://guest:guest@127.0.0.1:5672/``),
    created through RabbitMQ's management HTTP API on that host (port 15672, or
    ``$OSREPLAY_TEST_MANAGEMENT_URL``) with the URL's credentials; only where no API
    answers, with the local ``rabbitmqctl``. The test is skipped, saying why, when no
    broker answers or neither can create the virtual host.

With ``url=None``, ``osreplay_replay`` and ``osreplay_collect`` use the test's
``osreplay_vhost`` when the test asks for it, else the in-process memory transport. That
transport is shared by the whole test process, and oslo names a notification queue
``<topic>.<priority>`` whatever the exchange: isolate tests by topic or by virtual host,
not by exchange. oslo.messaging is imported only when a fixture runs, so a suite that
does not use them pays nothing for the plugin.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from osreplay.bus.vhosts import rabbitmqctl  # noqa: F401 (the project's broker tests use it)

if TYPE_CHECKING:
    from osreplay.bus.collector import Collector
    from osreplay.bus.vhosts import ManagementAPI
    from osreplay.model.notification import Notification
    from osreplay.replay.replayer import ReplaySummary
    from osreplay.replay.sender import Sender

MEMORY_URL = "kombu+memory:////"
DEFAULT_BROKER_URL = "rabbit://guest:guest@127.0.0.1:5672/"

ReplayFunction = Callable[..., "ReplaySummary"]


def _quiet_oslo_imports() -> None:
    """Inside ``warnings.catch_warnings()``: oslo.messaging's imports warn once that eventlet
    and oslo's eventlet helpers are deprecated; a consumer's suite run with warnings as
    errors must not fail on the plugin's imports (the noise the project's suite ignores)."""
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


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
        _quiet_oslo_imports()
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
def osreplay_replay(request: pytest.FixtureRequest) -> ReplayFunction:
    """Replay a recording into ``kombu+memory:////``, the test's ``osreplay_vhost`` when it
    uses one, or ``url=``; returns the summary."""

    def replay(path: str | os.PathLike[str], **options: Any) -> ReplaySummary:
        if options.get("url") is None:
            options["url"] = _default_url(request)
        return replay_file(path, **options)

    return replay


# --- a fresh virtual host --------------------------------------------------------------


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 3):
            return True
    except OSError:
        return False


def management_api(base_url: str) -> ManagementAPI:
    """The management API of the broker at ``base_url``: its host, port 15672 (or
    ``$OSREPLAY_TEST_MANAGEMENT_URL``), the URL's user and password."""
    from osreplay.bus.vhosts import MANAGEMENT_PORT, ManagementAPI

    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    address = f"[{host}]" if ":" in host else host
    base = os.environ.get("OSREPLAY_TEST_MANAGEMENT_URL") or f"http://{address}:{MANAGEMENT_PORT}"
    return ManagementAPI(
        base.rstrip("/"), unquote(parts.username or "guest"), unquote(parts.password or "guest")
    )


@pytest.fixture
def osreplay_vhost() -> Iterator[str]:
    """The transport URL of a new RabbitMQ virtual host, deleted afterwards (else skip)."""
    from osreplay.bus.vhosts import VhostError, Vhosts

    base = os.environ.get("OSREPLAY_TEST_URL") or DEFAULT_BROKER_URL
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    if not _answers(host, port):
        pytest.skip(f"no RabbitMQ answers at {host}:{port} (set OSREPLAY_TEST_URL)")
    vhost = f"osreplay-test-{uuid.uuid4().hex[:12]}"
    vhosts = Vhosts(management_api(base))
    try:
        vhosts.add(vhost, user=unquote(parts.username or "guest"))
    except VhostError as exc:
        pytest.skip(f"cannot create a virtual host on {host}:{port}: {exc}")
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + vhost, parts.query, ""))
    finally:
        vhosts.delete(vhost)


def _default_url(request: pytest.FixtureRequest) -> str:
    """The test's own virtual host when it uses ``osreplay_vhost``, else the memory bus."""
    if "osreplay_vhost" in request.fixturenames:
        return str(request.getfixturevalue("osreplay_vhost"))
    return MEMORY_URL


# --- collecting what arrives ------------------------------------------------------------

#: Fields compared by nobody: ids, times and request ids (diff's volatile values) are
#: ignored by the comparison itself; these are the ones diff does not look at either way.
VOLATILE = ("$.message_id", "$.timestamp", "$.recorded_at", "$.ctxt")


class Collected:
    """What ``osreplay_collect`` returns: ``records`` so far, ``wait_for``, a snapshot check."""

    def __init__(self, collector: Collector, *, update: bool) -> None:
        self._collector = collector
        self._update = update

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records received so far, as the record model's dicts, in arrival order."""
        return self._collector.matching()

    def wait_for(
        self, count: int | None = None, event_type: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` records (default 1) whose event type matches the glob
        ``event_type`` arrived; return them. Fails the test on timeout, saying what came."""
        wanted = 1 if count is None else count
        if not self._collector.wait(wanted, event_type, timeout):
            what = f"{wanted} record{'s' if wanted != 1 else ''}"
            if event_type is not None:
                what += f" of {event_type}"
            pytest.fail(
                f"osreplay_collect: waited {timeout:g} s for {what} on exchange "
                f"{self._collector.exchange}, topics {', '.join(self._collector.topics)}; "
                f"received {self._collector.received()}",
                pytrace=False,
            )
        return self._collector.matching(event_type)

    def assert_matches_recording(
        self,
        path: str | os.PathLike[str],
        ignore: Sequence[str] = (),
        *,
        timeout: float = 10.0,
    ) -> None:
        """Compare what arrived with the golden recording at ``path``, as ``osreplay diff``
        does: ids, UUIDs, times, request ids and host numbers never count, nor anything
        under the ``ignore`` paths. ``pytest --osreplay-update`` (re)writes the file."""
        from osreplay.console.diff import diff_lines
        from osreplay.model.notification import Notification
        from osreplay.model.output import write_whole
        from osreplay.scenario.diff import DiffOptions
        from osreplay.scenario.diff import run as diff

        golden = Path(path)
        if self._update:
            lines = [Notification.from_dict(r).to_line() for r in self.records]
            golden.parent.mkdir(parents=True, exist_ok=True)
            # The output-path rule: a link's target is rewritten whole, the link stays.
            write_whole(str(golden), "".join(lines).encode("utf-8"))
            return
        if not golden.exists():
            pytest.fail(
                f"no golden recording at {golden}: run pytest --osreplay-update to write it",
                pytrace=False,
            )
        expected = sum(1 for line in golden.read_text(encoding="utf-8").splitlines() if line)
        self._collector.wait(expected, None, timeout)
        with tempfile.TemporaryDirectory() as folder:
            received = Path(folder) / "received.ndjson"
            received.write_text(
                "".join(Notification.from_dict(r).to_line() for r in self.records),
                encoding="utf-8",
            )
            summary = diff(DiffOptions(str(golden), str(received), ignore=tuple(ignore)), _Quiet())
            if summary.differs:
                report = "\n".join(diff_lines(summary))
                pytest.fail(
                    f"what arrived differs from {golden} (A) beyond volatile fields "
                    f"(received: B; pytest --osreplay-update rewrites it):\n{report}",
                    pytrace=False,
                )


class _Quiet:
    """diff's console for a golden file: unreadable lines are the comparison's to report."""

    def unreadable(self, line: Any) -> None:
        pass


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("osreplay")
    group.addoption(
        "--osreplay-update",
        action="store_true",
        default=False,
        help="osreplay_collect: rewrite the golden recordings that assert_matches_recording "
        "compares with, from what the tests received.",
    )


CollectFunction = Callable[..., Collected]


@pytest.fixture
def osreplay_collect(request: pytest.FixtureRequest) -> Iterator[CollectFunction]:
    """``osreplay_collect(exchange=…, topics=[…], url=None)``: start listening (on a pool
    queue of its own, deleted afterwards) and return the :class:`Collected` records."""
    from osreplay.bus.transport import resolve

    collectors: list[Collector] = []
    update = bool(request.config.getoption("osreplay_update", default=False))
    # Set up the test's vhost before this fixture, so that it is torn down after the
    # collectors stopped and deleted their queues in it.
    _default_url(request)

    def collect(
        exchange: str = "openstack",
        topics: Sequence[str] = ("notifications",),
        url: str | None = None,
    ) -> Collected:
        with warnings.catch_warnings():
            _quiet_oslo_imports()
            from osreplay.bus.collector import Collector

        settings = resolve(url=url or _default_url(request), environ={})
        collector = Collector(settings, exchange=exchange, topics=list(topics))
        collector.start()
        collectors.append(collector)
        return Collected(collector, update=update)

    yield collect
    for collector in collectors:
        collector.stop()


__all__ = [
    "MEMORY_URL",
    "Collected",
    "osreplay_collect",
    "osreplay_replay",
    "osreplay_vhost",
    "replay_file",
]

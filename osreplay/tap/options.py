"""What ``osreplay record`` is asked (:class:`RecordOptions`) and what it tells its caller:
the facts its console hears while it runs (:class:`RecordEvents`) and its
:class:`RecordSummary`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from osreplay.bus.reconnect import ConnectionLost, Gap, Reconnected
from osreplay.errors import OsreplayError
from osreplay.model.filters import Filters
from osreplay.tap.rotate import RotateLimits

DEFAULT_EXCHANGES = (
    "openstack",
    # The exchanges Ceilometer listens on.
    "nova",
    "glance",
    "neutron",
    "cinder",
    "heat",
    "keystone",
    "trove",
    "zaqar",
    "swift",
    "ceilometer",
    "magnum",
    "dns",
    "ironic",
    "aodh",
)
DEFAULT_BATCH_SIZE = 500
#: ``--queue-type``: RabbitMQ's classic queues, or quorum queues (durable, replicated).
QUEUE_TYPES = ("classic", "quorum")
DEFAULT_BATCH_TIMEOUT = 0.2


@dataclass(frozen=True)
class RecordOptions:
    """What ``osreplay record`` was asked to do (one field per option)."""

    url: str | None = None
    config_files: Sequence[str] = ()
    topics: Sequence[str] = ()
    #: Empty: :data:`DEFAULT_EXCHANGES` and each ``--config-file``'s ``control_exchange``.
    exchanges: Sequence[str] = ()
    pool: str | None = None
    keep_queue: bool = False
    output: str = "-"
    append: bool = False
    fsync: bool = False
    count: int | None = None
    duration: float | None = None
    filters: Filters = field(default_factory=Filters)
    redact: bool = True
    redact_keys: Sequence[str] = ()
    connect_timeout: float = 15.0
    batch_size: int = DEFAULT_BATCH_SIZE
    batch_timeout: float = DEFAULT_BATCH_TIMEOUT
    #: Messages in flight per listener; default twice the batch.
    prefetch: int | None = None
    workers: int = 4
    durable: bool = False
    #: None: quorum when ``[oslo_messaging_rabbit] rabbit_quorum_queue`` says so, else classic.
    queue_type: str | None = None
    #: ``--rotate``: a size (``256MB``) and/or a duration (``1h``); ``output`` is then a
    #: folder or a pattern with ``{n}`` (see :mod:`osreplay.tap.rotate`).
    rotate: Sequence[str] = ()
    quiet: bool = False
    #: ``--workers N``: recorder processes on one pool (:mod:`osreplay.tap.workers`).
    processes: int = 1
    #: ``--from-tap NAME``: read a window of stream tap NAME (:mod:`osreplay.tap.flight`)
    #: instead of listening; ``since``/``until`` as given (see :mod:`osreplay.tap.window`).
    from_tap: str | None = None
    since: str | None = None
    until: str | None = None
    #: Stop once no message has come for this many seconds.
    until_idle: float | None = None


@dataclass(frozen=True)
class RecordedFile:
    """One file of a rotated recording: the records acked into it, its size on disk."""

    path: str
    records: int
    size: int


@dataclass(frozen=True)
class FileStarted:
    """A rotated recording opened its next file; ``previous`` is the one closed before."""

    path: str
    previous: RecordedFile | None


@dataclass
class RecordSummary:
    """What a recording did, for the caller to render."""

    written: int
    filtered: int
    duplicates: int
    requeued: int
    unencodable: int
    elapsed: float
    output: str
    pool: str
    stopped_by: str
    top_event_types: list[tuple[str, int]]
    exchanges: dict[str, int]
    deleted_queues: list[str]
    kept_queues: list[str]
    error: OsreplayError | None = None
    not_notifications: int = 0
    #: Bodies oslo could not decode, by reason, most frequent first.
    undecodable: list[tuple[str, int]] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    durable: bool = False
    #: Durable tap queues on durable exchanges: what a broker restart keeps.
    bindings_survive: bool = False
    #: With ``--rotate``: every file written, in order (``output`` is then the pattern),
    #: and what closed them.
    files: list[RecordedFile] = field(default_factory=list)
    rotate: RotateLimits | None = None
    #: Seconds from the first batch received to the last one written (None: nothing was).
    receiving: float | None = None

    @property
    def rate(self) -> float:
        """Records a second while receiving (the time waiting for traffic or a stop
        excluded); over the whole run when that is unknown."""
        span = self.elapsed if self.receiving is None else self.receiving
        return self.written / span if span > 0 else 0.0


@dataclass(frozen=True)
class Skipped:
    """A message that is not written: ``why`` is ``not a notification``, ``unencodable``
    (NaN or Infinity), ``undecodable`` (a body oslo cannot decode) or ``unexpected``
    (``error_type`` names the exception)."""

    message_id: object
    why: str
    detail: str
    error_type: str | None = None


@dataclass(frozen=True)
class CleanupFailed:
    """The tap queues ``left`` could not be deleted; ``reason`` is masked."""

    left: list[str]
    reason: str


class RecordEvents(Protocol):
    """What the recorder tells its console while it runs (facts; the console words them)."""

    def skipped(self, skipped: Skipped) -> None: ...

    def connection_lost(self, lost: ConnectionLost) -> None: ...

    def reconnected(self, back: Reconnected, *, durable: bool) -> None: ...

    def cleanup_failed(self, failure: CleanupFailed) -> None: ...


class SilentEvents:
    """A console that hears nothing (embedded use, tests)."""

    def skipped(self, skipped: Skipped) -> None:
        pass

    def connection_lost(self, lost: ConnectionLost) -> None:
        pass

    def reconnected(self, back: Reconnected, *, durable: bool) -> None:
        pass

    def cleanup_failed(self, failure: CleanupFailed) -> None:
        pass


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BATCH_TIMEOUT",
    "DEFAULT_EXCHANGES",
    "QUEUE_TYPES",
    "CleanupFailed",
    "FileStarted",
    "RecordEvents",
    "RecordOptions",
    "RecordSummary",
    "RecordedFile",
    "SilentEvents",
    "Skipped",
]

"""``osreplay tap create|list|delete``: stream taps, the broker-kept flight recorder.

A tap (:mod:`osreplay.bus.streams`) keeps a copy of every notification on its exchanges
for as long as its retention says, with no osreplay process running; ``record --from-tap``
(:mod:`osreplay.tap.flight`) reads a window of it back. These functions are the commands
without their words: each returns facts for its console.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from osreplay.bus.exchanges import ExchangeFlags, services_flags
from osreplay.bus.stream_reader import StreamMessage, first_message, last_chunk
from osreplay.bus.streams import QueueCounts, StreamAdmin, TapSpec, broker_errors, queue_name
from osreplay.bus.transport import BusSettings, resolve
from osreplay.errors import UsageError
from osreplay.model.notification import parse_timestamp, utcnow_iso
from osreplay.tap.lines import decode
from osreplay.tap.options import DEFAULT_EXCHANGES
from osreplay.tap.rotate import SIZE_UNITS

DEFAULT_MAX_AGE = "7D"
DEFAULT_MAX_BYTES = "20GB"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
_AGE = re.compile(r"[1-9][0-9]*[YMDhms]")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)", re.IGNORECASE)
#: The broker refreshes a stream's message count every few seconds.
COUNT_LAG = 10.0


@dataclass(frozen=True)
class TapOptions:
    """The bus of a tap command, and for ``create`` what the tap records and keeps."""

    name: str | None = None
    url: str | None = None
    config_files: Sequence[str] = ()
    exchanges: Sequence[str] = DEFAULT_EXCHANGES
    topics: Sequence[str] = ()
    max_age: str | None = DEFAULT_MAX_AGE
    max_bytes: str | None = DEFAULT_MAX_BYTES
    connect_timeout: float = 15.0


@dataclass(frozen=True)
class Created:
    spec: TapSpec
    url: str
    #: Per exchange: True when it existed (used as it is), False when declared.
    existed: dict[str, bool]
    flags: ExchangeFlags
    #: Where the URL came from (a --config-file), for the user.
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class Deleted:
    name: str
    queue: str
    url: str
    existed: bool
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class TapInfo:
    """One tap as ``tap list`` shows it.

    ``messages`` is exact when read (the span of offsets from the first message kept to
    the last); ``broker_messages`` is the broker's own count, which lags. ``bytes`` is an
    estimate: the mean size of the last chunk's messages times ``messages`` (AMQP tells no
    stream's size). ``spec`` is None for a stream named like a tap but not registered;
    ``missing`` for a registered tap whose stream is gone.
    """

    name: str
    queue: str
    spec: TapSpec | None
    messages: int = 0
    broker_messages: int | None = None
    bytes: int | None = None
    first_time: datetime | None = None
    last_time: datetime | None = None
    missing: bool = False
    read_at: datetime | None = None

    @property
    def stale(self) -> bool:
        """True when the figures may be behind the stream (still being written, or the
        broker's count disagrees with what was read)."""
        if self.missing:
            return False
        if self.broker_messages is not None and self.broker_messages != self.messages:
            return True
        if self.last_time is None or self.read_at is None:
            return False
        return (self.read_at - self.last_time).total_seconds() < COUNT_LAG


@dataclass(frozen=True)
class Listed:
    url: str
    taps: list[TapInfo]
    notes: Sequence[str] = ()


def parse_size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if match and match.group(2).lower() in SIZE_UNITS:
        size = int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])
        if size > 0:
            return size
    raise UsageError(
        f"--max-bytes {text}: give a size with its unit (500MB, 20GB, 1TiB), more than zero"
    )


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"tap name {name!r}: use letters, digits, '.', '_' and '-' (starting with a "
            "letter or digit)"
        )
    return name


def check_age(age: str) -> str:
    if not _AGE.fullmatch(age):
        raise UsageError(
            f"--max-age {age}: give a number and one of RabbitMQ's units Y M D h m s (7D, 12h, 30m)"
        )
    return age


def _settings(options: TapOptions) -> BusSettings:
    return resolve(url=options.url, config_files=options.config_files, topics=options.topics)


def create(options: TapOptions) -> Created:
    """Declare the stream, bind it to every exchange × topic, register it."""
    name = check_name(options.name or "")
    max_age = check_age(options.max_age) if options.max_age else None
    max_bytes = parse_size(options.max_bytes) if options.max_bytes else None
    settings = _settings(options)
    spec = TapSpec(
        name=name,
        exchanges=tuple(dict.fromkeys(options.exchanges)),
        topics=tuple(dict.fromkeys(options.topics or settings.topics)),
        max_age=max_age,
        max_bytes=max_bytes,
        created_at=utcnow_iso(),
    )
    flags = services_flags(settings)
    with (
        broker_errors(settings, f"create tap {name}"),
        StreamAdmin(settings, connect_timeout=options.connect_timeout) as admin,
    ):
        if admin.counts(spec.queue) is not None:
            raise UsageError(
                f"tap {name} exists on {settings.masked_url} (queue {spec.queue}); "
                f"osreplay tap delete {name} first, or choose another name"
            )
        existed = admin.create(spec, flags)
    return Created(spec, settings.masked_url, existed, flags, settings.notes)


def delete(options: TapOptions) -> Deleted:
    name = check_name(options.name or "")
    settings = _settings(options)
    with (
        broker_errors(settings, f"delete tap {name}"),
        StreamAdmin(settings, connect_timeout=options.connect_timeout) as admin,
    ):
        existed = admin.delete(name)
    return Deleted(name, queue_name(name), settings.masked_url, existed, settings.notes)


def list_taps(options: TapOptions) -> Listed:
    """Every registered tap, with what its stream holds now."""
    settings = _settings(options)
    timeout = options.connect_timeout
    infos: list[TapInfo] = []
    with (
        broker_errors(settings, "list the taps"),
        StreamAdmin(settings, connect_timeout=timeout) as admin,
    ):
        specs = admin.taps()
        for name, spec in sorted(specs.items()):
            counts = admin.counts(spec.queue)
            infos.append(_describe(settings, name, spec, counts, timeout=timeout))
    return Listed(settings.masked_url, infos, settings.notes)


def _describe(
    settings: BusSettings,
    name: str,
    spec: TapSpec,
    counts: QueueCounts | None,
    *,
    timeout: float,
) -> TapInfo:
    queue = spec.queue
    if counts is None:
        return TapInfo(name, queue, spec, missing=True)
    wait = timeout if counts.messages else 1.0
    tail = last_chunk(settings, queue, wait=wait, connect_timeout=timeout)
    read_at = datetime.now(timezone.utc)
    if not tail:
        return TapInfo(name, queue, spec, broker_messages=counts.messages, read_at=read_at)
    first = first_message(settings, queue, wait=wait, connect_timeout=timeout)
    first_offset = first.offset if first is not None else tail[0].offset
    messages = tail[-1].offset - first_offset + 1
    mean = sum(_size(m) for m in tail) / len(tail)
    return TapInfo(
        name,
        queue,
        spec,
        messages=messages,
        broker_messages=counts.messages,
        bytes=int(mean * messages),
        first_time=_time(first) if first is not None else None,
        last_time=max((t for t in map(_time, tail) if t is not None), default=None),
        read_at=read_at,
    )


def _size(message: StreamMessage) -> int:
    body = message.body
    return len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)


def _time(message: StreamMessage) -> datetime | None:
    """The notification's own timestamp (the publisher's clock)."""
    note, _ = decode(message)
    return parse_timestamp(note["metadata"].get("timestamp"))


__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_MAX_BYTES",
    "Created",
    "Deleted",
    "Listed",
    "TapInfo",
    "TapOptions",
    "check_age",
    "check_name",
    "create",
    "delete",
    "list_taps",
    "parse_size",
]

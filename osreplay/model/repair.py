"""Resuming a recording: repair a file cut short, then read back what it already holds.

A recorder killed in the middle of a write leaves a partial last line (its message was
never acknowledged, so it will come again): :func:`prepare_append` cuts it off, so the next
line starts clean, and a ``.gz`` file cut short is rewritten with its complete lines.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections import OrderedDict
from typing import BinaryIO

from osreplay.errors import WriteError
from osreplay.model.ndjson import read_lines
from osreplay.model.output import output_path, write_whole

#: What identifies one delivery: oslo publishes a message once per topic with one
#: message_id, so the same id heard on two tap queues is two records, and only the same
#: id again on the same exchange and topic is a redelivery.
DeliveryKey = tuple[str, "str | None", "str | None"]

# Redelivered messages are the unacknowledged ones, at most the prefetch of each listener:
# remembering this many recent message_ids catches every duplicate with room to spare.
DEDUP_WINDOW = 100_000


def prepare_append(path: str, *, window: int = DEDUP_WINDOW) -> list[DeliveryKey]:
    """Make ``path`` safe to append to and return its last ``window`` deliveries.

    A delivery is ``(message_id, exchange, topic)`` as the records say (see
    :data:`DeliveryKey`): the copy of a message on another topic is not a duplicate.
    """
    if path == "-" or not os.path.exists(path):
        return []
    if output_path(path).in_place:
        return []  # a device, FIFO or socket holds nothing to repair or read back
    if path.endswith(".gz"):
        _repair_gzip(path)
    else:
        _repair_plain(path)
    ids: OrderedDict[DeliveryKey, None] = OrderedDict()
    for line in read_lines(path):
        key = _delivery_key(line.obj)
        if key is not None:
            ids[key] = None
            if len(ids) > window:
                ids.popitem(last=False)
    return list(ids)


def _delivery_key(obj: dict[str, object] | None) -> DeliveryKey | None:
    message_id = obj.get("message_id") if obj is not None else None
    if obj is None or not isinstance(message_id, str):
        return None
    exchange, topic = obj.get("exchange"), obj.get("topic")
    return (
        message_id,
        exchange if isinstance(exchange, str) else None,
        topic if isinstance(topic, str) else None,
    )


def _repair_plain(path: str) -> None:
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            handle.truncate(_after_last_newline(handle, size))
    except OSError as exc:
        raise WriteError(f"cannot append to {path}: {exc.strerror or exc}") from None


def _after_last_newline(handle: BinaryIO, size: int) -> int:
    """The offset just past the last newline before ``size`` (0 if none), read backwards."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        handle.seek(start)
        block = handle.read(end - start)
        found = block.rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def _repair_gzip(path: str) -> None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise WriteError(f"cannot append to {path}: {exc.strerror or exc}") from None
    text, intact = _decompress_members(data)
    if intact and (not text or text.endswith(b"\n")):
        return
    keep = bytes(text[: text.rfind(b"\n") + 1])
    # Rewritten whole through the output-path rule: a link stays a link, the file keeps
    # its permissions and owner.
    write_whole(path, gzip.compress(keep))


def _decompress_members(data: bytes) -> tuple[bytearray, bool]:
    """Every gzip member's text, and whether the last one ended properly."""
    text = bytearray()
    rest = data
    while rest:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text += decompressor.decompress(rest)
        except zlib.error:
            return text, False
        if not decompressor.eof:
            return text, False
        rest = decompressor.unused_data
    return text, True


__all__ = ["DEDUP_WINDOW", "DeliveryKey", "prepare_append"]

"""One message as oslo's batch listener hands it, turned into one redacted NDJSON line."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from osreplay.bus.codec import (
    BODY_BYTES,
    UNDECODABLE,
    describe_decode_error,
    undecodable_reason,
)
from osreplay.bus.stream_reader import StreamMessage
from osreplay.bus.transport import sent_context
from osreplay.model.filters import Filters
from osreplay.model.notification import PRIORITIES, Notification, unreadable_reason
from osreplay.secrets.rules import Redactor
from osreplay.tap.options import RecordEvents, Skipped
from osreplay.tap.sink import MessageLine, printable

LOG = logging.getLogger(__name__)


def build_line(
    message: dict[str, Any],
    *,
    priority: str,
    exchange: str,
    topic: str | None,
    recorded_at: str,
    redactor: Redactor,
) -> MessageLine:
    """One message as oslo's batch listener hands it, as a complete, redacted NDJSON line.

    The caller has checked it is a notification (:func:`unreadable_reason`). Raises
    TypeError or ValueError when the payload cannot be JSON (NaN, Infinity).
    """
    metadata = message.get("metadata") or {}
    ctxt = message.get("ctxt")
    if isinstance(ctxt, dict):
        ctxt = sent_context(ctxt)
        ctxt = redactor.ctxt(ctxt) if ctxt else None
    else:
        ctxt = None
    # Walking the payload costs less than searching its JSON text for the words a secret
    # needs (sixteen passes over every character), and the line is then written once.
    payload = redactor.payload(message.get("payload"))
    # The record's other fields as redact_record masks them too (one rule set: a
    # "password=…" is masked wherever it stands); these short ids pass a few searches.
    string = redactor.string if redactor.enabled else _same
    publisher_id = message.get("publisher_id")
    message_id = metadata.get("message_id")
    timestamp = metadata.get("timestamp")
    note = Notification(
        event_type=string(message["event_type"]),
        publisher_id=string(publisher_id) if publisher_id.__class__ is str else publisher_id,
        priority=priority,
        payload=payload,
        message_id=string(message_id) if message_id.__class__ is str else message_id,
        timestamp=string(timestamp) if timestamp.__class__ is str else timestamp,
        ctxt=ctxt,
        exchange=exchange,
        topic=topic,
        recorded_at=recorded_at,
    )
    line = note.to_line()
    return MessageLine(note.message_id, line, note.event_type, exchange, topic)


def _same(text: str) -> str:
    return text


def _skip_reason(message: dict[str, Any], priority: str) -> str | None:
    """Why ``message`` is not a notification replay would accept (event_type null, …)."""
    event_type = message.get("event_type")
    publisher_id = message.get("publisher_id")
    if (
        event_type.__class__ is str
        and (publisher_id is None or publisher_id.__class__ is str)
        and priority in PRIORITIES
    ):
        return None  # the common case, without building the record unreadable_reason reads
    return unreadable_reason(
        {
            "event_type": message.get("event_type"),
            "publisher_id": message.get("publisher_id"),
            "priority": priority,
            "payload": message.get("payload"),
        }
    )


def _message_id(message: dict[str, Any]) -> Any:
    return (message.get("metadata") or {}).get("message_id")


@dataclass
class BatchCounts:
    """What a batch did not write, by reason."""

    filtered: int = 0
    unencodable: int = 0
    not_notifications: int = 0
    #: Bodies oslo could not decode, by reason.
    undecodable: Counter[str] = field(default_factory=Counter)


class LineBuilder:
    """Filters, checks and builds the lines of one recorder; tells ``events`` what it skips."""

    def __init__(self, filters: Filters, redactor: Redactor, events: RecordEvents) -> None:
        self.filters = filters
        self.redactor = redactor
        self.events = events

    def entry(
        self,
        message: dict[str, Any],
        exchange: str,
        topic: str | None,
        priority: str,
        recorded_at: str,
        counts: BatchCounts,
    ) -> MessageLine | None:
        """``message`` as a line, or None (filtered out or skipped, and counted)."""
        if message.get("event_type") is None:  # maybe a body oslo could not decode
            undecodable = undecodable_reason(message)
            if undecodable is not None:
                counts.undecodable[undecodable] += 1
                size = message["payload"].get(BODY_BYTES)
                detail = undecodable if size is None else f"{undecodable}, {size} bytes"
                self.events.skipped(Skipped(_message_id(message), "undecodable", detail))
                return None
        if self.filters.active and not self.filters.match(
            message.get("event_type"), message.get("publisher_id"), priority
        ):
            counts.filtered += 1
            return None
        reason = _skip_reason(message, priority)
        if reason is not None:
            # Never a record that replay would refuse (event_type null, …).
            counts.not_notifications += 1
            self.events.skipped(Skipped(_message_id(message), "not a notification", reason))
            return None
        try:
            return build_line(
                message,
                priority=priority,
                exchange=exchange,
                topic=topic,
                recorded_at=recorded_at,
                redactor=self.redactor,
            )
        except (TypeError, ValueError) as exc:
            # NaN or Infinity in a payload: not JSON, so it cannot be written as a record.
            counts.unencodable += 1
            self.events.skipped(Skipped(_message_id(message), "unencodable", printable(exc)))
        except Exception as exc:  # noqa: BLE001 - one message never stops a recording
            LOG.debug("cannot build a record", exc_info=True)
            counts.unencodable += 1
            self.events.skipped(
                Skipped(_message_id(message), "unexpected", printable(exc), type(exc).__name__)
            )
        return None


def topic_of(routing_key: str) -> str:
    """``notifications.info`` -> ``notifications``: the topic oslo published on."""
    topic, dot, _ = routing_key.rpartition(".")
    return topic if dot else routing_key


def decode(message: StreamMessage) -> tuple[dict[str, Any], str]:
    """The message as oslo's batch listener hands it to an endpoint, and its priority.

    A body that is not an oslo message comes back as the stand-in the live recorder gets
    for one (:func:`osreplay.bus.codec.undecodable_reason` says why), so that it is named
    and counted, never dropped unseen.
    """
    from oslo_messaging._drivers import amqp as rpc_amqp  # type: ignore[import-untyped]
    from oslo_messaging._drivers import common

    body = message.body
    try:
        obj = json.loads(body) if isinstance(body, (str, bytes)) else body
        raw = common.deserialize_msg(obj)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        return _undecodable(message, describe_decode_error(exc))
    if not isinstance(raw, dict):
        return _undecodable(message, "not an oslo message (a JSON object)")
    raw = dict(raw)
    ctxt = rpc_amqp.unpack_context(raw).to_dict()
    raw.pop(rpc_amqp.UNIQUE_ID, None)
    priority = raw.get("priority")
    note = {
        "ctxt": ctxt,
        "publisher_id": raw.get("publisher_id"),
        "event_type": raw.get("event_type"),
        "payload": raw.get("payload"),
        "metadata": {"message_id": raw.get("message_id"), "timestamp": raw.get("timestamp")},
    }
    return note, priority.upper() if isinstance(priority, str) else str(priority)


def _undecodable(message: StreamMessage, reason: str) -> tuple[dict[str, Any], str]:
    body = message.body
    size = len(body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body)
    note = {
        "ctxt": {},
        "publisher_id": None,
        "event_type": None,
        "payload": {UNDECODABLE: reason, BODY_BYTES: size},
        "metadata": {"message_id": None, "timestamp": None},
    }
    return note, "INFO"


__all__ = ["BatchCounts", "LineBuilder", "build_line", "decode", "topic_of"]

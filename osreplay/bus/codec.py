"""Message bodies decoded by orjson in the recording process.

kombu decodes every ``application/json`` body (oslo's ``{"oslo.version": …,
"oslo.message": "<JSON text>"}`` envelope) with the standard library and an object hook
for its own tagged types: 15 µs a message, where orjson takes 2 µs.
:func:`decode_json_with_orjson` registers, in this process, a decoder that gives the same
objects or the same error. orjson's result is kept only where it is exactly the
standard library's: not with kombu's ``__type__`` tags, not with more than
:data:`MAX_BRACKETS` brackets (orjson reads nesting far deeper than Python's recursion
limit lets the standard library), not when it holds a float and the body a run of 19
digits or more (orjson reads an integer beyond 64 bits as a float; oslo's envelope holds
no number at all, its message is a string). Those bodies, and any orjson refuses
(``NaN``, a number too large for a float, a lone surrogate, invalid UTF-8), go to
kombu's own decoder, which accepts or rejects them as before.

The decoder also reads oslo's envelope: the JSON text in ``oslo.message`` is parsed here
as oslo's ``deserialize_msg`` parses it (with orjson where that is exact), nesting deeper
than :data:`~osreplay.model.notification.MAX_NESTING` refused, and the message is handed
on unwrapped (a second parse saved).

Bodies nothing can decode
    oslo decodes a body before any endpoint sees it, and a body it cannot decode (not JSON,
    bad JSON inside ``oslo.message``, a 5000-digit integer, nesting of 990, bytes that are
    not UTF-8, a content type kombu refuses) is logged and rejected: gone without a word.
    :func:`catch_undecodable` turns each such delivery into a stand-in message whose
    payload says why (:func:`undecodable_reason` reads it), with the priority of its
    routing key, so the recorder's endpoint sees it, counts it and names it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast

from osreplay.model.notification import TOO_DEEP, may_nest_too_deep, nests_too_deep

_CONTENT_TYPE = "application/json"
#: Bodies with more ``[`` and ``{`` than this go to kombu (nesting is at most this deep).
MAX_BRACKETS = 200
# Searched only when orjson's result holds a float (never for oslo's envelope).
_LONG_RUN = re.compile("[0-9]{19}")
_LONG_RUN_BYTES = re.compile(b"[0-9]{19}")


def _orjson_may_read(data: str | bytes) -> bool:
    if isinstance(data, str):
        return data.count("{") + data.count("[") <= MAX_BRACKETS and "__type__" not in data
    return data.count(b"{") + data.count(b"[") <= MAX_BRACKETS and b"__type__" not in data


def _exact(obj: Any, data: str | bytes) -> bool:
    """False when orjson may have read an integer beyond 64 bits as a float."""
    if not _holds_float(obj):
        return True
    run = _LONG_RUN.search(data) if isinstance(data, str) else _LONG_RUN_BYTES.search(data)
    return run is None


def _holds_float(obj: Any) -> bool:
    cls = obj.__class__
    if cls is float:
        return True
    if cls is dict:
        return any(_holds_float(value) for value in obj.values())
    if cls is list:
        return any(_holds_float(value) for value in obj)
    return False


#: The stand-in payload's one key: why the body could not be decoded.
UNDECODABLE = "osreplay.undecodable"
#: ... and the size of the body, in bytes (None when unknown).
BODY_BYTES = "osreplay.body_bytes"
_PRIORITIES = frozenset({"audit", "debug", "info", "warn", "error", "critical", "sample"})


def undecodable_reason(message: dict[str, Any]) -> str | None:
    """Why the message handed to an endpoint is a stand-in for an undecodable body, or None.

    ``message`` is one of oslo's batch listener messages (its ``event_type`` is None).
    """
    payload = message.get("payload")
    if payload.__class__ is dict and message.get("event_type") is None:
        reason = payload.get(UNDECODABLE)
        if reason.__class__ is str:
            return str(reason)
    return None


def describe_decode_error(exc: BaseException) -> str:
    """What was wrong with a body, in a few words (never the body itself: it may hold
    secrets)."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(chain) < 8:  # kombu re-raises as DecodeError
        chain.append(link)
        link = link.__cause__ or link.__context__
    for cause in chain:  # the outermost error that says what was wrong
        text = str(cause)
        if isinstance(cause, _EnvelopeError):
            return text
        if isinstance(cause, RecursionError):
            return TOO_DEEP
        if isinstance(cause, UnicodeDecodeError):
            return "not UTF-8 text"
        if isinstance(cause, ValueError) and "Exceeds the limit" in text:
            return "not JSON that Python reads: an integer of more than 4300 digits"
        if type(cause).__name__ == "ContentDisallowed":
            return "a content type oslo refuses (" + text.rsplit("type ", 1)[-1] + ")"
        if isinstance(cause, ValueError) and type(cause).__name__ != "DecodeError":
            return f"not JSON ({_first_words(cause)})"
    return f"cannot be decoded ({type(chain[-1]).__name__}: {_first_words(chain[-1])})"


class _EnvelopeError(ValueError):
    """oslo's envelope holds no readable message (the text says what is wrong)."""


def _unwrap(obj: Any, orjson_loads: Callable[[Any], Any], refused: type[Exception]) -> Any:
    """oslo's v2 envelope unwrapped, its message parsed strictly; anything else as it is."""
    if obj.__class__ is not dict or "oslo.message" not in obj or "oslo.version" not in obj:
        return obj
    inner = obj["oslo.message"]
    if obj["oslo.version"] != "2.0" or inner.__class__ is not str:
        return obj  # oslo decides (it refuses other versions)
    parsed = _parse_inner(inner, orjson_loads, refused)
    if parsed.__class__ is not dict:
        raise _EnvelopeError("oslo.message does not hold a JSON object")
    if may_nest_too_deep(inner) and nests_too_deep(parsed):
        raise _EnvelopeError(f"oslo.message: {TOO_DEEP}")
    if "oslo.message" in parsed and "oslo.version" in parsed:
        return obj  # an envelope inside: oslo unwraps one level only
    return parsed


def _parse_inner(inner: str, orjson_loads: Callable[[Any], Any], refused: type[Exception]) -> Any:
    """The JSON text of ``oslo.message``: orjson where that is exact, else the strict parser."""
    if _orjson_may_read(inner):
        try:
            parsed = orjson_loads(inner)
        except refused:
            pass
        else:
            if _exact(parsed, inner):
                return parsed
    try:
        # As oslo's jsonutils reads it: NaN or 1e400 reach the recorder, which names the
        # message (its message_id) as unencodable.
        return json.loads(inner)
    except RecursionError:
        raise _EnvelopeError(f"oslo.message: {TOO_DEEP}") from None
    except ValueError as exc:
        raise _EnvelopeError(f"oslo.message is not JSON ({_first_words(exc)})") from None


def _first_words(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 80 else text[:79] + "…"


def catch_undecodable() -> bool:
    """Make oslo's rabbit driver hand undecodable bodies on as stand-ins (see the module
    docstring); False when the driver is not there. Idempotent."""
    try:
        from oslo_messaging._drivers import impl_rabbit  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - oslo.messaging is a dependency
        return False
    base = impl_rabbit.RabbitMessage
    if getattr(base, "_osreplay_catches", False):
        return True

    class TapMessage(base):  # type: ignore[misc, valid-type]
        _osreplay_catches = True

        def __init__(self, raw_message: Any) -> None:
            try:
                super().__init__(raw_message)
            except Exception as exc:  # noqa: BLE001 - any body oslo cannot read
                dict.__init__(self, _stand_in(raw_message, describe_decode_error(exc)))
                self._raw_message = raw_message
                return
            priority = self.get("priority")
            if priority.__class__ is not str or priority.lower() not in _PRIORITIES:
                # oslo's dispatcher drops an unknown priority with a log line (a missing
                # or non-text one breaks the whole batch): a stand-in says why instead.
                reason = f"priority {_shown(priority)} is not one of oslo's priorities"
                message_id = self.get("message_id")
                dict.clear(self)
                dict.update(self, _stand_in(raw_message, reason, message_id))

    impl_rabbit.RabbitMessage = TapMessage
    return True


def _shown(value: Any) -> str:
    if value is None:
        return "missing"
    text = json.dumps(value, ensure_ascii=True) if not isinstance(value, (dict, list)) else ""
    return text if text and len(text) <= 40 else "of the wrong kind"


def _stand_in(raw_message: Any, reason: str, message_id: Any = None) -> dict[str, Any]:
    """A notification-shaped message saying why the body could not be decoded."""
    info = getattr(raw_message, "delivery_info", None) or {}
    routing_key = str(info.get("routing_key") or "")
    priority = routing_key.rsplit(".", 1)[-1].lower()
    body = getattr(raw_message, "body", None)
    size = len(body) if isinstance(body, (bytes, str)) else None
    return {
        "event_type": None,
        "publisher_id": None,
        "priority": priority if priority in _PRIORITIES else "info",
        "payload": {UNDECODABLE: reason, BODY_BYTES: size},
        "message_id": message_id if isinstance(message_id, str) else None,
    }


def decode_json_with_orjson() -> bool:
    """Register the decoder for ``application/json``; False when orjson or kombu is missing."""
    try:
        import orjson
        from kombu.serialization import register
        from kombu.utils import json as kombu_json
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    orjson_loads = orjson.loads
    refused = orjson.JSONDecodeError
    # kombu is untyped here: its decoder takes a body and returns what it holds.
    kombu_loads = cast(Callable[[Any], Any], kombu_json.loads)
    kombu_dumps = cast(Callable[[Any], Any], kombu_json.dumps)

    def loads(data: Any) -> Any:
        # py-amqp hands over text when the message names its encoding (oslo's: utf-8).
        if isinstance(data, (str, bytes)) and _orjson_may_read(data):
            try:
                obj = orjson_loads(data)
            except refused:
                pass
            else:
                if _exact(obj, data):
                    return _unwrap(obj, orjson_loads, refused)
        obj = kombu_loads(data)
        if isinstance(data, (str, bytes)) and may_nest_too_deep(data) and nests_too_deep(obj):
            raise _EnvelopeError(TOO_DEEP)
        return _unwrap(obj, orjson_loads, refused)

    cast(Callable[..., None], register)(
        "json", kombu_dumps, loads, content_type=_CONTENT_TYPE, content_encoding="utf-8"
    )
    return True


__all__ = [
    "MAX_BRACKETS",
    "BODY_BYTES",
    "UNDECODABLE",
    "catch_undecodable",
    "decode_json_with_orjson",
    "describe_decode_error",
    "undecodable_reason",
]

"""The record model: one notification, to and from one NDJSON line.

Every command shares this model. A record is a JSON object with the keys below; other
top-level keys are kept as they are so that a file round-trips unchanged.

=================  ========  =====================================================
key                required  meaning
=================  ========  =====================================================
``event_type``     yes       ``identity.authenticate``, ``instance.create.end``
``publisher_id``   yes       ``identity.host1``, ``nova-compute:compute-1``
``priority``       yes       AUDIT DEBUG INFO WARN ERROR CRITICAL SAMPLE (any case in)
``payload``        yes       any JSON value
``message_id``     no        as sent by oslo.messaging
``timestamp``      no        ``2023-07-07 15:52:00.496156`` or ISO 8601
``ctxt``           no        the request context (already redacted when recorded)
``exchange``       no        where it was heard (``nova``)
``topic``          no        where it was heard (``notifications``)
``recorded_at``    no        when osreplay received it, ISO 8601 UTC
=================  ========  =====================================================

:func:`normalise` also accepts the two shapes found on disk: an oslo v1 wire body (the
keys flat plus ``_unique_id`` and ``_context_<key>``) and an oslo v2 wire body
(``{"oslo.version": "2.0", "oslo.message": "<JSON string>"}``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

PRIORITIES = ("AUDIT", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SAMPLE")
REQUIRED = ("event_type", "publisher_id", "priority", "payload")
OPTIONAL = ("message_id", "timestamp", "ctxt", "exchange", "topic", "recorded_at")
CADF_EVENT_TYPEURI = "http://schemas.dmtf.org/cloud/audit/1.0/event"

_KNOWN = frozenset(REQUIRED + OPTIONAL)
_CONTEXT_PREFIX = "_context_"
_UTC = timezone.utc
_ABSENT = object()
# oslo's Notifier.warning() sends WARN; people write WARNING by hand.
_PRIORITY_ALIASES = {"WARNING": "WARN"}


class RecordError(ValueError):
    """A JSON object that cannot be read as a notification."""


def normalise(obj: dict[str, Any]) -> dict[str, Any]:
    """Return ``obj`` in the recording format, unwrapping oslo wire bodies.

    The common case (already a record) costs one scan of the keys and returns a dict with
    the same content; a string priority is uppercased.
    """
    if obj.keys() <= _KNOWN:
        # A record with only the format's keys (nearly every line): no wire body, no v1
        # keys to unflatten.
        priority = obj.get("priority")
        if priority.__class__ is str and priority not in PRIORITIES:
            obj = {**obj, "priority": canonical_priority(priority)}
        return obj
    if "oslo.message" in obj and "oslo.version" in obj:
        inner = obj["oslo.message"]
        if not isinstance(inner, str):
            raise RecordError("oslo.message is not a string holding a JSON object")
        try:
            obj = loads(inner)
        except RecursionError:
            raise RecordError(f"oslo.message: {TOO_DEEP}") from None
        except ValueError as exc:
            raise RecordError(f"oslo.message is not valid JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise RecordError("oslo.message does not hold a JSON object")
        if may_nest_too_deep(inner) and nests_too_deep(obj):
            raise RecordError(f"oslo.message: {TOO_DEEP}")
    if any(key[:1] == "_" for key in obj):
        obj = _unflatten_v1(obj)
    priority = obj.get("priority")
    if isinstance(priority, str) and priority not in PRIORITIES:
        obj = {**obj, "priority": canonical_priority(priority)}
    return obj


def canonical_priority(name: str) -> str:
    """``warning`` -> ``WARN``, ``info`` -> ``INFO``: the name oslo sends (maybe not a priority)."""
    upper = name.upper()
    return _PRIORITY_ALIASES.get(upper, upper)


def _unflatten_v1(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ctxt: dict[str, Any] = {}
    for key, value in obj.items():
        if key.startswith(_CONTEXT_PREFIX):
            ctxt[key[len(_CONTEXT_PREFIX) :]] = value
        elif key != "_unique_id":
            out[key] = value
    if ctxt:
        existing = out.get("ctxt")
        out["ctxt"] = {**ctxt, **existing} if isinstance(existing, dict) else ctxt
    return out


def unreadable_reason(obj: dict[str, Any]) -> str | None:
    """Why a normalised object is not a notification at all, or None when it is one.

    The one rule ``validate``, ``replay`` and ``record`` share. *Unreadable* means a
    notifier could not have sent it and a replay cannot send it: a required key missing,
    an ``event_type`` that is not a string, a ``publisher_id`` that is neither a string
    nor null, a priority that is not one of :data:`PRIORITIES`, a ``ctxt`` that is not an
    object, an ``exchange`` or ``topic`` that is not a string. Anything else is a
    notification, maybe *invalid* against a schema (``validate`` says which), and is
    recorded and replayed as it is: oslo sends ``publisher_id: null`` and string payloads.
    """
    get = obj.get
    publisher_id = get("publisher_id", _ABSENT)
    if (
        get("event_type").__class__ is str
        and (publisher_id is None or publisher_id.__class__ is str)
        and get("priority") in PRIORITIES
        and "payload" in obj
        and (get("ctxt") is None or get("ctxt").__class__ is dict)
        and (get("exchange") is None or get("exchange").__class__ is str)
        and (get("topic") is None or get("topic").__class__ is str)
    ):
        return None  # the common case, checked at once; the rules and messages follow
    missing = [key for key in REQUIRED if key not in obj]
    if missing:
        if is_bare_cadf(obj):  # validate checks it as a CADF event; nothing can send it
            return "a bare CADF event, not a notification (no event_type, publisher_id, …)"
        return f"missing required key(s): {', '.join(missing)}"
    event_type = obj["event_type"]
    if not isinstance(event_type, str):
        return f"event_type must be a string, not {_json_text(event_type)}"
    publisher_id = obj["publisher_id"]
    if publisher_id is not None and not isinstance(publisher_id, str):
        return f"publisher_id must be a string or null, not {_json_text(publisher_id)}"
    priority = obj["priority"]
    if priority not in PRIORITIES:
        return f"priority {_json_text(priority)} is not one of {', '.join(PRIORITIES)}"
    ctxt = obj.get("ctxt")
    if ctxt is not None and not isinstance(ctxt, dict):
        return "ctxt must be a JSON object"
    for key in ("exchange", "topic"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str):
            return f"{key} must be a string, not {_json_text(value)}"
    return None


def _json_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "an array"
    text = json.dumps(value)  # escaped: safe to print whatever it holds
    return text if len(text) <= 40 else text[:39] + "…"


def is_bare_cadf(obj: dict[str, Any]) -> bool:
    """True when ``obj`` is a CADF event itself, with no notification around it."""
    return obj.get("typeURI") == CADF_EVENT_TYPEURI and "event_type" not in obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    """A JSON number as a float; one beyond a double (``1e400``) is refused, not infinity.

    Python reads ``1e400`` as ``inf``, which ``json.dumps`` writes back as ``Infinity``:
    not JSON, and not what the file said. Refused here, the line is unreadable for every
    command alike (orjson, the fast parser, refuses it too).
    """
    value = float(text)
    if value in (_INF, -_INF):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise ValueError(f"number {shown} is too large for a double")
    return value


_INF = float("inf")

#: How deep a record may nest (objects and arrays, the record itself is level 1). One
#: limit for every command: deeper lines are unreadable with the same words everywhere,
#: so no command walks one into Python's recursion limit (a RecursionError traceback).
#: Real notifications nest a dozen levels.
MAX_NESTING = 200
TOO_DEEP = f"nesting deeper than {MAX_NESTING} levels"


def may_nest_too_deep(text: str | bytes) -> bool:
    """False when ``text`` has too few brackets to nest beyond :data:`MAX_NESTING` (two
    C-level counts: the common line is done with these)."""
    if isinstance(text, str):
        return text.count("{") + text.count("[") > MAX_NESTING
    return text.count(b"{") + text.count(b"[") > MAX_NESTING


def nests_too_deep(obj: Any, limit: int = MAX_NESTING) -> bool:
    """True when ``obj`` nests objects and arrays deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        cls = value.__class__
        if cls is dict:
            children: Any = value.values()
        elif cls is list:
            children = value
        else:
            continue
        if depth > limit:
            return True
        for child in children:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, depth + 1))
    return False


def dumps_line(obj: dict[str, Any]) -> str:
    """One NDJSON line for a record dict: UTF-8 text, no NaN, newline included.

    JSON text may hold an escaped lone surrogate (``"\\udcff"``), which Python decodes
    to a string UTF-8 cannot encode: such a line is written with every non-ASCII
    character escaped, so the escape survives and the line is still the same JSON.
    """
    text = _ENCODE(obj)
    if not text.isascii():  # O(1) for the common ASCII line
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = json.dumps(obj, ensure_ascii=True, allow_nan=False)
        else:
            text = _TERMINAL_CONTROLS.sub(_escape_control, text)
    return text + "\n"


# JSON escapes C0 controls itself; C1 controls (U+009B is a terminal's CSI) and the bidi
# controls that reorder what a terminal shows are written escaped too. Outside ASCII they
# can only stand inside a JSON string, where "\u202e" is the same character.
_TERMINAL_CONTROLS = re.compile("[\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


# json.dumps with any option builds a new encoder on every call; record writes one per line.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def loads(text: str | bytes) -> Any:
    """Parse one JSON document strictly: NaN, Infinity and numbers beyond a double refused."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)


@dataclass(slots=True)
class Notification:
    """One notification, normalised. ``extra`` keeps unknown top-level keys."""

    event_type: str
    publisher_id: str | None
    priority: str
    payload: Any
    message_id: str | None = None
    timestamp: str | None = None
    ctxt: dict[str, Any] | None = None
    exchange: str | None = None
    topic: str | None = None
    recorded_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> Notification:
        """Build from a record or an oslo wire body; raise RecordError when it is not one.

        What is refused is decided by :func:`unreadable_reason`, the rule ``validate``
        and ``replay`` share: a record that breaks a schema is still built.
        """
        obj = normalise(obj)
        reason = unreadable_reason(obj)
        if reason is not None:
            raise RecordError(reason)
        return cls(
            event_type=obj["event_type"],
            publisher_id=obj["publisher_id"],
            priority=obj["priority"],
            payload=obj["payload"],
            message_id=obj.get("message_id"),
            timestamp=obj.get("timestamp"),
            ctxt=obj.get("ctxt"),
            exchange=obj.get("exchange"),
            topic=obj.get("topic"),
            recorded_at=obj.get("recorded_at"),
            extra=(
                {} if obj.keys() <= _KNOWN else {k: v for k, v in obj.items() if k not in _KNOWN}
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "event_type": self.event_type,
            "publisher_id": self.publisher_id,
            "priority": self.priority,
            "payload": self.payload,
        }
        for key in OPTIONAL:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(self.extra)
        return out

    def to_line(self) -> str:
        """One NDJSON line, newline included (UTF-8 text, no NaN)."""
        return dumps_line(self.to_dict())

    @property
    def sent_at(self) -> datetime | None:
        """When it was sent (``timestamp``, else ``recorded_at``), as aware UTC."""
        return parse_timestamp(self.timestamp) or parse_timestamp(self.recorded_at)


def parse_timestamp(value: Any) -> datetime | None:
    """Read oslo's ``2023-07-07 15:52:00.496156`` or ISO 8601; naive means UTC.

    Returns None for a missing or unreadable value.
    """
    if value.__class__ is not str or not value:
        return None
    parsed: datetime | None
    try:
        # Python 3.11 reads oslo's format, Z and +0000 as they are: one call, nearly always.
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        parsed = _parse_loose(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        # Three times cheaper than parsed.replace(tzinfo=...) (fold is 0 when parsed).
        p = parsed
        return datetime(p.year, p.month, p.day, p.hour, p.minute, p.second, p.microsecond, _UTC)
    try:
        return parsed.astimezone(_UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        return None


def _parse_loose(value: str) -> datetime | None:
    """What :func:`parse_timestamp` reads that ``fromisoformat`` refuses: spaces around,
    and on Python 3.10 ``Z`` and ``+0000``."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00 for Python 3.10
    try:
        return datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None


def utcnow_iso() -> str:
    """Now, as ISO 8601 UTC with microseconds (the ``recorded_at`` format)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")

"""How a jsonschema error becomes a problem: its JSON path and a short message.

Messages are worded for people who read JSON: ``null`` and ``true``, not Python's ``None``
and ``True``; long values shortened; a schema's own ``errorMessage`` preferred.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema  # type: ignore[import-untyped]

_MAX_VALUE_REPR = 60
_MAX_MESSAGE = 240


# The keys of an oslo.versionedobjects primitive (``nova_object.data``), written as they
# read: ``$.payload.nova_object.data.flavor``.
_OBJECT_KEY = re.compile(r"[a-z]+_object\.(?:name|namespace|version|data|changes)")


def json_path(parts: Iterable[str | int], prefix: str = "$") -> str:
    """``["reason", "reasonCode"]`` -> ``$.reason.reasonCode``; odd keys as ``['a.b']``,
    but a versioned object's own keys as they read (``.nova_object.data``)."""
    out = [prefix]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier() or _OBJECT_KEY.fullmatch(part):
            out.append(f".{part}")
        else:
            out.append("['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)


def short_repr(value: Any) -> str:
    text = repr(value)
    if len(text) <= _MAX_VALUE_REPR:
        return text
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return text[: _MAX_VALUE_REPR - 1] + "…"


def short_json(value: Any) -> str:
    """``value`` as JSON text, or a word for it when that would be long."""
    if isinstance(value, dict):
        return "an object" if value else "{}"
    if isinstance(value, list):
        return "an array" if value else "[]"
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= _MAX_VALUE_REPR:
        return text
    if isinstance(value, str):
        return text[: _MAX_VALUE_REPR - 2] + '…"'
    return text[: _MAX_VALUE_REPR - 1] + "…"


def error_message(error: jsonschema.ValidationError) -> str:
    """A short message: the schema's own ``errorMessage`` if any, else jsonschema's, shortened.

    A message never echoes a secret: the value of a secret key (``$.payload.password``) is
    shown as ``"***"``, and secrets inside a quoted string are masked as ``redact`` masks
    them.
    """
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if isinstance(custom, str):
        return custom
    from osreplay.secrets.rules import mask_text

    return mask_text(_message(error))


def _message(error: jsonschema.ValidationError) -> str:
    from osreplay.secrets.rules import MASK, is_secret_key

    path = error.absolute_path
    last = path[-1] if path else None
    if isinstance(last, str) and error.instance is not None and is_secret_key(last):
        shown = MASK
        if error.validator not in ("type", "enum", "const"):
            return str(error.message).replace(repr(error.instance), repr(MASK))[:_MAX_MESSAGE]
    else:
        shown = error.instance
    # jsonschema words these with Python reprs (None, True); users read JSON (null, true).
    if error.validator == "type":
        expected = error.validator_value
        types = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join(f"'{name}'" for name in types)
        return f"{short_json(shown)} is not of type {wanted}"
    if error.validator == "enum":
        choices = ", ".join(json.dumps(choice) for choice in error.validator_value)
        return f"{short_json(shown)} is not one of {choices}"
    if error.validator == "const":
        return f"{short_json(shown)} should be {json.dumps(error.validator_value)}"
    message: str = error.message
    instance_repr = repr(error.instance)
    if len(instance_repr) > _MAX_VALUE_REPR and instance_repr in message:
        message = message.replace(instance_repr, short_repr(error.instance), 1)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return message


__all__ = ["error_message", "json_path", "short_json", "short_repr"]

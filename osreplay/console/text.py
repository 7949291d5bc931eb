"""Text helpers every console module shares: escaping, one-line JSON, plurals.

Every line a person reads goes through :func:`escape_control` (control characters, lone
surrogates): data from a recording cannot forge lines or colour a terminal, and printing
never fails. :func:`json_line` is the same for JSON text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# Carriage return, then erase to the end of the line: redraws a terminal status line.
CLEAR_LINE = "\r\033[K"

# What must never reach a terminal or a log raw: C0 and C1 controls (ESC, CR, LF, CSI
# U+009B, …), DEL, the Unicode line and paragraph separators, the bidirectional controls
# (U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LEFT-TO-RIGHT ISOLATE, …: they reorder what a
# reader sees), and lone surrogates (not encodable as UTF-8).
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_CONTROL_BUT_LF = re.compile(
    f"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]"
)
# The same in JSON text, where json.dumps already escapes C0 controls.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str, *, multiline: bool = False) -> str:
    """``text`` with control characters and lone surrogates shown as ``\\x1b``, ``\\ud800``.

    For every line a person reads (reports, progress, messages on stderr): data from a
    recording can neither forge a line nor colour the terminal, and printing never fails.
    ``multiline`` keeps line feeds, for a message written as several lines on purpose
    (the data inside it must then be escaped already, as the core does with ``repr``).
    """
    pattern = _CONTROL_BUT_LF if multiline else _CONTROL
    return pattern.sub(_escape_char, text) if pattern.search(text) else text


def text_lines(lines: Iterable[str]) -> str:
    """``lines`` as text to print, each escaped (data cannot forge a line), ending in ``\\n``."""
    return "".join(escape_control(line) + "\n" for line in lines)


def json_line(value: Any, *, compact: bool = False) -> str:
    """``value`` as one line of JSON (non-ASCII kept) that is safe to print, whatever it holds;
    ``compact`` leaves out the spaces after separators."""
    separators = (",", ":") if compact else None
    text = json.dumps(value, ensure_ascii=False, separators=separators)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def records(count: int) -> str:
    """``record`` or ``records``, to follow ``count``."""
    return "record" if count == 1 else "records"


__all__ = ["CLEAR_LINE", "escape_control", "json_line", "records"]

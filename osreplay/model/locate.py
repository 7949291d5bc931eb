"""Where a value sits in a pretty-printed JSON document: line numbers for JSON paths.

A ``.json`` file (a nova documentation sample) holds one record over many lines; a problem
found at ``$.payload.nova_object.data.uuid`` should name the line of that value, not line 1.
:func:`value_lines` walks the text once and gives the line of every value, keyed by its
path as a tuple of keys and indexes (``("payload", "nova_object.data", "uuid")``).
:func:`syntax_error_line` gives the line of the first syntax error.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from json.decoder import scanstring  # type: ignore[attr-defined]

Path = tuple[str | int, ...]

_SPACE = " \t\r\n"
_END_OF_SCALAR = ",]}" + _SPACE


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [i for i, char in enumerate(text) if char == "\n"]
        self.lines: dict[Path, int] = {}

    def line(self, pos: int) -> int:
        return bisect_right(self.newlines, pos - 1) + 1

    def skip(self) -> str:
        text, pos = self.text, self.pos
        while text[pos] in _SPACE:
            pos += 1
        self.pos = pos
        return text[pos]

    def expect(self, char: str) -> None:
        if self.skip() != char:
            raise ValueError(f"expected {char!r} at {self.pos}")
        self.pos += 1

    def string(self) -> str:
        value, self.pos = scanstring(self.text, self.pos + 1)
        return str(value)

    def value(self, path: Path) -> None:
        char = self.skip()
        self.lines[path] = self.line(self.pos)
        if char == "{":
            self.pos += 1
            if self.skip() == "}":
                self.pos += 1
                return
            while True:
                if self.skip() != '"':
                    raise ValueError(f"expected a key at {self.pos}")
                key = self.string()
                self.expect(":")
                self.value((*path, key))
                if self.skip() == ",":
                    self.pos += 1
                    continue
                self.expect("}")
                return
        if char == "[":
            self.pos += 1
            if self.skip() == "]":
                self.pos += 1
                return
            index = 0
            while True:
                self.value((*path, index))
                index += 1
                if self.skip() == ",":
                    self.pos += 1
                    continue
                self.expect("]")
                return
        if char == '"':
            self.string()
            return
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] not in _END_OF_SCALAR:
            pos += 1
        self.pos = pos


def value_lines(text: str) -> dict[Path, int]:
    """The line (from 1) where each value of the JSON document ``text`` starts.

    Empty when ``text`` is not one well-formed JSON document.
    """
    walker = _Walker(text)
    try:
        walker.value(())
    except (ValueError, IndexError):
        return {}
    return walker.lines


# The last step of a JSON path as osreplay prints it: .key, [3] or ['odd.key'].
_LAST_STEP = re.compile(r"(\.[^.\[]+|\[\d+\]|\['(?:[^'\\]|\\.)*'\])$")


def line_of(lines: dict[str, int], json_path: str) -> int:
    """The line of ``json_path`` (``$.a.b[0]``), else of the nearest enclosing value that
    has one (a path into a normalised record may not exist in the file), else 1."""
    path = json_path
    while True:
        if path in lines:
            return lines[path]
        shorter = _LAST_STEP.sub("", path)
        if shorter == path:
            return lines.get("$", 1)
        path = shorter


def syntax_error_line(text: str) -> int | None:
    """The line of the first JSON syntax error in ``text`` (None when it parses)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno
    except (ValueError, RecursionError):
        return None
    return None


__all__ = ["line_of", "syntax_error_line", "value_lines"]

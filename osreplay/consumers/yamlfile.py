"""Definition files: YAML read as Ceilometer reads it (``yaml.safe_load``), plus the line of
each definition so that a report can say which one won (``events.yaml:12``).

Errors are one line naming the file (and the line and column of a syntax error).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

from osreplay.errors import ConfigError


class DefinitionFileError(ConfigError):
    """A definition file that cannot be read, or whose shape Ceilometer cannot load."""


@dataclass(frozen=True, slots=True)
class Located:
    """One definition (a mapping from the file) and where it starts."""

    path: str
    line: int
    cfg: Any

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def load(path: str) -> tuple[Any, yaml.Node | None]:
    """The file's data and its node tree (for lines); DefinitionFileError when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise DefinitionFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DefinitionFileError(f"{path}: is a folder, not a definition file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionFileError(f"{path}: cannot read: {_reason(exc)}") from None
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is not None:
            raise DefinitionFileError(
                f"{path}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {problem}"
            ) from None
        raise DefinitionFileError(f"{path}: invalid YAML: {problem}") from None


def sequence(path: str, data: Any, node: yaml.Node | None, *, key: str | None) -> list[Located]:
    """The items of the file's top-level list (or of the list under ``key``), located."""
    items = data.get(key) if key is not None and isinstance(data, dict) else data
    if key is not None and node is not None:
        node = next(
            (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key),
            None,
        )
    if not isinstance(items, list):
        where = f"a '{key}' list" if key else "a list of definitions"
        raise DefinitionFileError(f"{path}: {where} is expected at the top level")
    lines = [item.start_mark.line + 1 for item in node.value] if node is not None else []
    if len(lines) != len(items):  # cannot happen with safe_load; keep the report honest
        lines = [1] * len(items)
    return [Located(path, line, item) for line, item in zip(lines, items, strict=True)]


def yaml_files(path: str) -> list[str]:
    """``path`` itself, or a folder's ``*.yaml`` in sorted order (as Ceilometer globs)."""
    if os.path.isdir(path):
        return sorted(
            os.path.join(path, name)
            for name in os.listdir(path)
            if name.endswith(".yaml") and not name.startswith(".")
        )
    return [path]


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)

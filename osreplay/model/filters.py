"""Which notifications a command keeps: ``--event-type``, ``--publisher``, ``--priority``.

Shared by ``record`` (applied to messages as they arrive, before a record is built) and
``replay`` (applied to records read from a file).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from osreplay.errors import UsageError
from osreplay.model.notification import PRIORITIES, canonical_priority

# The names a user may type for --priority: oslo's method names, plus `warning`.
PRIORITY_CHOICES = ("audit", "debug", "info", "warn", "warning", "error", "critical", "sample")


@dataclass(frozen=True)
class Filters:
    """Event type and publisher globs (shell style), priority names; empty means all."""

    event_types: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        priorities = tuple(canonical_priority(p) for p in self.priorities)
        unknown = [p for p in priorities if p not in PRIORITIES]
        if unknown:
            raise UsageError(
                f"unknown priority {unknown[0]!r}: choose from {', '.join(PRIORITIES).lower()}"
            )
        object.__setattr__(self, "priorities", priorities)

    @property
    def active(self) -> bool:
        return bool(self.event_types or self.publishers or self.priorities)

    def match(self, event_type: Any, publisher_id: Any, priority: str) -> bool:
        """True when a notification with these fields is kept."""
        if self.priorities and priority not in self.priorities:
            return False
        if self.event_types and not _any_glob(event_type, self.event_types):
            return False
        if self.publishers and not _any_glob(publisher_id, self.publishers):
            return False
        return True


def _any_glob(value: Any, globs: tuple[str, ...]) -> bool:
    text = value if isinstance(value, str) else ""
    return any(fnmatchcase(text, glob) for glob in globs)

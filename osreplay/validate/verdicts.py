"""What validate finds: a Verdict per line (its Problems), and the Summary counting them.

Facts only: osreplay.console.validate words them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

VALID = "valid"
INVALID = "invalid"
NO_SCHEMA = "no_schema"
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one line; ``json_path`` is None when the line is unreadable."""

    path: str
    lineno: int
    event_type: str | None
    json_path: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome for one non-blank line: its status, the schemas used, the problems."""

    path: str
    lineno: int
    event_type: str | None
    status: str
    schemas: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


NEWER = "newer"  # above every shipped version of its major: checked against the newest
BETWEEN = "between"  # between shipped versions: checked against the one below it
OLDER = "older"  # below every shipped version: the oldest, without its required fields
MAJOR = "major"  # no shipped version of its major: not checked
UNKNOWN = "unknown"  # no schema of that name: not checked

#: Notes kept per run; more are only counted (hostile input could make one per record).
MAX_NOTES = 100


@dataclass(frozen=True, slots=True)
class Note:
    """How one object version was checked, when not against its own schema (once a run)."""

    family: str  # nova, ironic
    name: str
    version: str  # as sent
    kind: str  # NEWER, BETWEEN, OLDER, MAJOR or UNKNOWN
    used: str | None  # the version checked against; None for MAJOR and UNKNOWN
    shipped: tuple[str, ...]  # the shipped versions of that name (of its major, if any)


class Notes:
    """The notes of a run, each once, in the order met; at most MAX_NOTES kept."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str, str], Note] = {}
        self.more = 0  # notes past MAX_NOTES

    def add(self, note: Note) -> None:
        key = (note.family, note.name, note.version)
        if key in self.kept:
            return
        if len(self.kept) >= MAX_NOTES:
            self.more += 1
        else:
            self.kept[key] = note

    def __iter__(self) -> Iterator[Note]:
        return iter(self.kept.values())

    def __len__(self) -> int:
        return len(self.kept)


@dataclass(slots=True)
class Summary:
    """Counts over every verdict added; ``records`` is the number of non-blank lines.

    ``by_schema``: for each payload schema a record was checked against (its name:
    ``cadf-event``, ``keystone-basic``, ``nova:InstanceCreatePayload@1.13``, a user
    schema's path), how many of those records were valid and invalid. ``notes``: how
    object versions were checked when not against their own schema (the Validator's).
    """

    records: int = 0
    valid: int = 0
    invalid: int = 0
    no_schema: int = 0
    unreadable: int = 0
    by_schema: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: Notes = field(default_factory=Notes, compare=False)

    def add(self, verdict: Verdict) -> None:
        self.records += 1
        status = verdict.status
        if status == VALID:
            self.valid += 1
            self.count_schemas(verdict.schemas, VALID)
        elif status == INVALID:
            self.invalid += 1
            self.count_schemas(verdict.schemas, INVALID)
        elif status == NO_SCHEMA:
            self.no_schema += 1
        else:
            self.unreadable += 1

    def count_schemas(self, schemas: tuple[str, ...], status: str, count: int = 1) -> None:
        """``count`` records of ``status`` checked against ``schemas`` (the envelope aside)."""
        for name in schemas:
            if name != "envelope":
                counts = self.by_schema.setdefault(name, {VALID: 0, INVALID: 0})
                counts[status] += count

    def ok(self, strict: bool = False) -> bool:
        """No invalid or unreadable line (and, when strict, none without a payload schema)."""
        return not (self.invalid or self.unreadable or (strict and self.no_schema))

    def as_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "no_schema": self.no_schema,
            "unreadable": self.unreadable,
        }


def unreadable(path: str, lineno: int, error: str | None) -> Verdict:
    """The verdict for a line that is not a JSON object (``error`` says why)."""
    problem = Problem(path, lineno, None, None, error or "unreadable")
    return Verdict(path, lineno, None, UNREADABLE, (), (problem,))


__all__ = [
    "BETWEEN",
    "INVALID",
    "MAJOR",
    "MAX_NOTES",
    "NEWER",
    "NO_SCHEMA",
    "Note",
    "Notes",
    "OLDER",
    "Problem",
    "Summary",
    "UNKNOWN",
    "UNREADABLE",
    "VALID",
    "Verdict",
    "unreadable",
]

"""What validate finds: a Verdict per line (its Problems), and the Summary counting them.

Facts only: osreplay.console.validate words them.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(slots=True)
class Summary:
    """Counts over every verdict added; ``records`` is the number of non-blank lines."""

    records: int = 0
    valid: int = 0
    invalid: int = 0
    no_schema: int = 0
    unreadable: int = 0

    def add(self, verdict: Verdict) -> None:
        self.records += 1
        status = verdict.status
        if status == VALID:
            self.valid += 1
        elif status == INVALID:
            self.invalid += 1
        elif status == NO_SCHEMA:
            self.no_schema += 1
        else:
            self.unreadable += 1

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
    "INVALID",
    "NO_SCHEMA",
    "Problem",
    "Summary",
    "UNREADABLE",
    "VALID",
    "Verdict",
    "unreadable",
]

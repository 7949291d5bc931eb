"""The exceptions a user can cause; their message is ready to print after ``Error: ``."""

from __future__ import annotations


class OsreplayError(Exception):
    """Base class: the message names the file, line or option and how to fix it."""

    exit_code = 2


class UsageError(OsreplayError):
    """Options that contradict each other or cannot be satisfied."""


class InputError(OsreplayError):
    """A file that cannot be opened, read or written."""


class ConnectError(OsreplayError):
    """The message broker cannot be reached; the URL in the message is already masked."""


class ConfigError(OsreplayError):
    """A configuration file that cannot be read or is incomplete."""


class RecordingRefused(OsreplayError):
    """A recording with unreadable lines, refused before anything was sent."""

    exit_code = 1


class ConflictingOptions(UsageError, ValueError):
    """Options that exclude each other (a ValueError too, for callers of the library)."""


class WriteError(InputError):
    """A file that cannot be written (an InputError, so existing handlers still catch it)."""

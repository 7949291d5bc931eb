"""osreplay: record, validate and replay OpenStack notifications."""

from __future__ import annotations

from osreplay.errors import InputError, OsreplayError, UsageError
from osreplay.notification import Notification, RecordError

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Notification",
    "OsreplayError",
    "RecordError",
    "UsageError",
    "__version__",
]

"""osreplay: record, validate and replay OpenStack notifications."""

from __future__ import annotations

import warnings

from osreplay.errors import InputError, OsreplayError, UsageError
from osreplay.model.notification import Notification, RecordError

# oslo.messaging imports eventlet, which warns on import that it is deprecated. osreplay
# does not use eventlet (threading executor); the warning would only confuse operators.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Notification",
    "OsreplayError",
    "RecordError",
    "UsageError",
    "__version__",
]

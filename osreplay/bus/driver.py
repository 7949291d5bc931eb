"""The confirming notifier driver: know whether the broker took each notification.

oslo's ``Notifier`` logs and swallows every publish error, so a caller cannot tell a sent
notification from a dropped one. :class:`ConfirmingDriver` (registered as
``osreplay-messagingv2`` and ``osreplay-messaging`` on the ``oslo.messaging.notify.drivers``
entry point, see ``pyproject.toml``) does what oslo's messaging drivers do but records, per
thread, in :data:`OUTCOME` whether the transport's send returned or raised. The rabbit
driver publishes with publisher confirms (``confirm_publish``), so a send that returns was
confirmed by the broker. With a finite ``retry`` a lost broker makes the send raise after
the retries instead of blocking forever.
"""

from __future__ import annotations

import threading
from typing import Any

import oslo_messaging  # type: ignore[import-untyped]
from oslo_messaging.notify.messaging import MessagingDriver  # type: ignore[import-untyped]

from osreplay.errors import ConfigError

DRIVER_ENTRY_POINT_GROUP = "oslo.messaging.notify.drivers"
#: ``--driver`` value -> osreplay's confirming driver registered for it.
DRIVERS = {"messagingv2": "osreplay-messagingv2", "messaging": "osreplay-messaging"}


class Outcome(threading.local):
    """What the confirming driver saw for the last notification sent on this thread."""

    def __init__(self) -> None:
        self.confirmed = False
        self.error: BaseException | None = None


OUTCOME = Outcome()


class ConfirmingDriver(MessagingDriver):  # type: ignore[misc]
    """oslo's messaging driver (1.0 format) that records each send's outcome in OUTCOME.

    oslo's own driver catches and logs the transport's exception; this one keeps it for
    the sender, which reads it right after the Notifier call on the same thread.
    """

    def notify(self, ctxt: Any, message: dict[str, Any], priority: str, retry: Any) -> None:
        outcome = OUTCOME
        priority = priority.lower()
        try:
            for topic in self.topics:
                target = oslo_messaging.Target(topic=f"{topic}.{priority}")
                self.transport._send_notification(
                    target, ctxt, message, version=self.version, retry=retry
                )
        except Exception as exc:  # every failure is kept and reported by the replayer
            outcome.error = exc
        else:
            outcome.confirmed = True


class ConfirmingV2Driver(ConfirmingDriver):
    """The same in the 2.0 (enveloped) format services use."""

    def __init__(self, conf: Any, **kwargs: Any) -> None:
        super().__init__(conf, version=2.0, **kwargs)


def check_driver_registered(name: str) -> None:
    """ConfigError unless the driver ``name`` is registered on the notifier entry point."""
    from importlib.metadata import entry_points

    if not entry_points(group=DRIVER_ENTRY_POINT_GROUP, name=name):
        raise ConfigError(
            f"osreplay's notifier driver {name!r} is not registered on the "
            f"{DRIVER_ENTRY_POINT_GROUP} entry point: install osreplay (pip install .)"
        )


__all__ = [
    "DRIVERS",
    "DRIVER_ENTRY_POINT_GROUP",
    "OUTCOME",
    "ConfirmingDriver",
    "ConfirmingV2Driver",
    "Outcome",
    "check_driver_registered",
]

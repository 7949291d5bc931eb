"""The request context a replayed notification carries: the recorded one, rebuilt.

The Notifier drops a plain dict and sends ``ctxt.redacted_copy().to_dict()`` of an object,
so the recorded context is rebuilt as a :class:`ReplayContext` (a ``RequestContext``).
"""

from __future__ import annotations

from typing import Any

from oslo_context.context import RequestContext

from osreplay.bus.transport import sent_context
from osreplay.secrets.rules import Redactor

_REDACTOR = Redactor()


class ReplayContext(RequestContext):
    """A recorded context, rebuilt as a RequestContext so the Notifier keeps it.

    ``to_dict`` returns the recorded keys as they were (minus the keys oslo's listener
    adds), so request ids, user, project and any service-specific key reach the consumer
    unchanged; redacted values stay redacted, a secret left in the recording is masked as
    ``osreplay record`` would (:mod:`osreplay.secrets.rules`), and no token or request id
    is invented (RequestContext makes a request id up when one is missing; it is never
    sent).
    """

    _recorded: dict[str, Any]

    @classmethod
    def from_recorded(cls, ctxt: dict[str, Any]) -> ReplayContext:
        values = _sanitise_context(ctxt)
        context: ReplayContext = cls.from_dict(values, overwrite=False)
        context._recorded = values
        return context

    def to_dict(self) -> dict[str, Any]:
        return dict(self._recorded)

    def redacted_copy(self, **kwargs: Any) -> ReplayContext:
        return self  # sanitised when built, and never modified


def _sanitise_context(ctxt: dict[str, Any]) -> dict[str, Any]:
    # A live secret in a --no-redact recording goes out as ***; the keys oslo's listener
    # added when it was recorded do not go out at all.
    return sent_context(_REDACTOR.ctxt(ctxt))


def replay_context(ctxt: dict[str, Any] | None) -> ReplayContext | dict[str, Any]:
    """The context to pass to the Notifier for a recorded ``ctxt``; ``{}`` when there is none."""
    if not ctxt:
        return {}
    return ReplayContext.from_recorded(ctxt)


__all__ = ["ReplayContext", "replay_context"]

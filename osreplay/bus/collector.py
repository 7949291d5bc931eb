"""Collect the notifications sent to an exchange, as records, on a pool queue of one's own.

What the pytest plugin's ``osreplay_collect`` runs: an oslo notification listener with a
pool, so it gets a copy of every message and takes none from the consumers under test,
turning each notification into the record model's dict (as ``osreplay record`` writes it,
not redacted: a test sees what was sent). ``wait_for`` blocks until enough records matching
an event type arrived, or the timeout passed.
"""

from __future__ import annotations

import fnmatch
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from osreplay.bus.queues import QueueAdmin
from osreplay.bus.transport import BusSettings, get_transport, sent_context
from osreplay.model.notification import Notification, utcnow_iso

PRIORITIES = ("audit", "debug", "info", "warn", "error", "critical", "sample")


class _Endpoint:
    """One method per priority (oslo binds only the priorities that have one)."""

    def __init__(self, collector: Collector) -> None:
        for priority in PRIORITIES:
            setattr(self, priority, self._method(collector, priority.upper()))

    @staticmethod
    def _method(collector: Collector, priority: str) -> Callable[..., None]:
        def handle(
            ctxt: Any, publisher_id: Any, event_type: Any, payload: Any, metadata: Any
        ) -> None:
            collector.add(priority, ctxt, publisher_id, event_type, payload, metadata)

        return handle


class Collector:
    """Listens on ``exchange`` for ``topics`` from :meth:`start` to :meth:`stop`."""

    def __init__(
        self,
        settings: BusSettings,
        *,
        exchange: str,
        topics: Sequence[str] = ("notifications",),
        pool: str | None = None,
    ) -> None:
        self.settings = settings
        self.exchange = exchange
        self.topics = list(topics)
        self.pool = pool or f"osreplay-collect-{uuid.uuid4().hex[:12]}"
        self.records: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        self._listener: Any = None
        self._transport: Any = None

    def add(
        self,
        priority: str,
        ctxt: Any,
        publisher_id: Any,
        event_type: Any,
        payload: Any,
        metadata: Any,
    ) -> None:
        metadata = metadata if isinstance(metadata, dict) else {}
        context = sent_context(dict(ctxt)) if isinstance(ctxt, dict) else None
        context = {k: v for k, v in (context or {}).items() if k != "client_timeout"}
        record = Notification(
            event_type=event_type,
            publisher_id=publisher_id,
            priority=priority,
            payload=payload,
            message_id=metadata.get("message_id"),
            timestamp=metadata.get("timestamp"),
            ctxt=context or None,
            exchange=self.exchange,
            topic=self.topics[0] if len(self.topics) == 1 else None,
            recorded_at=utcnow_iso(),
        ).to_dict()
        with self._arrived:
            self.records.append(record)
            self._arrived.notify_all()

    def start(self) -> None:
        """Declare the pool queue and start listening (returns once the queue exists)."""
        import oslo_messaging  # type: ignore[import-untyped]

        self._transport = get_transport(self.settings)
        targets = [oslo_messaging.Target(exchange=self.exchange, topic=t) for t in self.topics]
        self._listener = oslo_messaging.get_notification_listener(
            self._transport, targets, [_Endpoint(self)], executor="threading", pool=self.pool
        )
        self._listener.start()

    def stop(self) -> None:
        """Stop listening and delete the pool queue (oslo never deletes one)."""
        try:
            if self._listener is not None:
                self._listener.stop()
                self._listener.wait()
        finally:
            if self._transport is not None:
                self._transport.cleanup()
            if not self.settings.is_memory:
                admin = QueueAdmin.for_settings(self.settings)
                try:
                    admin.delete(self.pool)
                finally:
                    admin.close()

    def matching(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self._arrived:
            records = list(self.records)
        if event_type is None:
            return records
        return [r for r in records if fnmatch.fnmatchcase(r["event_type"], event_type)]

    def wait(self, count: int, event_type: str | None, timeout: float) -> bool:
        """True once ``count`` records (matching ``event_type``, a glob) arrived."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.matching(event_type)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def received(self) -> str:
        """What arrived, for a failure message: ``3 records: a.start x2, a.end``."""
        counts = Counter(r["event_type"] for r in self.matching())
        if not counts:
            return "nothing"
        total = sum(counts.values())
        kinds = ", ".join(f"{e} x{n}" if n > 1 else e for e, n in sorted(counts.items()))
        return f"{total} record{'s' if total != 1 else ''} ({kinds})"


__all__ = ["Collector"]

"""oslo batch listeners on the tap queues: started one per queue, stopped together.

oslo runs each listener's endpoint in a futurist thread pool. An idle pool thread waits
for work in steps of ``ThreadWorker.MAX_IDLE_FOR`` (one second) and only then notices
that its pool is shutting down, so stopping a listener (``wait()``) took a whole second
after the last batch was written and acked. The recorder shortens that step for its
pool threads (:data:`IDLE_STEP`): an idle thread wakes ten times a second, and a stop
takes a tenth of a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import oslo_messaging  # type: ignore[import-untyped]

from osreplay.bus.codec import catch_undecodable, decode_json_with_orjson

LOG = logging.getLogger(__name__)

#: How long an idle pool thread waits for work before it looks whether to stop (seconds).
IDLE_STEP = 0.1


def start_listener(
    transport: Any,
    exchange: str,
    topic: str,
    queue: str,
    endpoint: object,
    *,
    batch_size: int,
    batch_timeout: float,
    workers: int,
) -> Any:
    """A started batch listener on the pool queue ``queue`` for (exchange, topic)."""
    _shorten_idle_step()
    decode_json_with_orjson()
    catch_undecodable()  # a body oslo cannot decode reaches the endpoint, never lost
    listener = oslo_messaging.get_batch_notification_listener(
        transport,
        [oslo_messaging.Target(exchange=exchange, topic=topic)],
        [endpoint],
        executor="threading",
        allow_requeue=True,
        pool=queue,
        batch_size=batch_size,
        batch_timeout=batch_timeout,
    )
    listener.start(override_pool_size=workers)
    return listener


def stop_listeners(listeners: list[Any]) -> None:
    """Stop ``listeners`` and wait for them: their last batches are written and acked."""
    if not listeners:
        return
    # Each stop() waits for its poll loop to notice (a fraction of a second): in parallel.
    with ThreadPoolExecutor(max_workers=len(listeners)) as pool:
        list(pool.map(_call_quietly("stop"), listeners))
    with ThreadPoolExecutor(max_workers=len(listeners)) as pool:
        list(pool.map(_call_quietly("wait"), listeners))


def _shorten_idle_step() -> None:
    try:
        from futurist import _thread
    except ImportError:  # pragma: no cover - another futurist: stops take a second
        return
    worker = getattr(_thread, "ThreadWorker", None)
    if worker is not None and getattr(worker, "MAX_IDLE_FOR", 0) > IDLE_STEP:
        worker.MAX_IDLE_FOR = IDLE_STEP


def _call_quietly(method: str) -> Callable[[Any], None]:
    def call(listener: Any) -> None:
        try:
            getattr(listener, method)()
        except Exception:  # noqa: BLE001 - stopping the others matters more
            LOG.exception("listener %s failed", method)

    return call


__all__ = ["IDLE_STEP", "start_listener", "stop_listeners"]

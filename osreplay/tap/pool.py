"""Pool planning: which tap queues a recorder listens on, and what an earlier one left.

Every (exchange, topic) gets its own queue in osreplay's *pool*, so the broker gives
osreplay a copy of each message and the real consumers still get every one. The queue is
``<pool>.<exchange>`` for a single topic and ``<pool>.<exchange>.<topic>`` when several
are recorded. A default pool whose queues have no consumer was left by a dead recorder and
is reused (purged unless resuming with ``--append``); one held by a live recorder makes
osreplay pick the next free name.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

from osreplay.bus.queues import QueueAdmin, QueueState
from osreplay.errors import UsageError

_MAX_POOL_CANDIDATES = 10


def default_pool() -> str:
    """``osreplay-<host>``: stable per host, so the next run finds what a dead one left."""
    return f"osreplay-{socket.gethostname()}"


def queue_names(
    pool: str, exchanges: Sequence[str], topics: Sequence[str]
) -> dict[tuple[str, str], str]:
    """The tap queue of each (exchange, topic)."""
    several = len(topics) > 1
    return {
        (exchange, topic): f"{pool}.{exchange}.{topic}" if several else f"{pool}.{exchange}"
        for exchange in exchanges
        for topic in topics
    }


@dataclass
class PoolPlan:
    pool: str
    queues: dict[tuple[str, str], str]
    resumed: list[str]
    purged: list[str]


def plan_pool(
    admin: QueueAdmin,
    exchanges: Sequence[str],
    topics: Sequence[str],
    *,
    pool: str | None,
    append: bool,
) -> PoolPlan:
    """Choose the pool and deal with what a previous recorder left in it.

    A named pool (``--pool``) is resumed as it is; if a live recorder consumes from it the
    two would split the messages, so that is an error. The default pool is reused when no
    recorder consumes from it (its leftovers purged, unless ``append`` resumes them);
    otherwise the next name (``-2``, ``-3``, …) is tried.
    """
    if pool is not None:
        return _named_pool(admin, pool, queue_names(pool, exchanges, topics))
    base = default_pool()
    for index in range(1, _MAX_POOL_CANDIDATES + 1):
        candidate = base if index == 1 else f"{base}-{index}"
        queues = queue_names(candidate, exchanges, topics)
        states = {name: admin.inspect(name) for name in queues.values()}
        if any(state and state.consumers for state in states.values()):
            continue
        leftovers = [name for name, state in states.items() if state]
        if append:
            return PoolPlan(candidate, queues, leftovers, [])
        for name in leftovers:
            admin.purge(name)
        return PoolPlan(candidate, queues, leftovers, leftovers)
    raise UsageError(
        f"{_MAX_POOL_CANDIDATES} recorders already run on this host ({base} … "
        f"{base}-{_MAX_POOL_CANDIDATES}); choose a --pool"
    )


def _named_pool(admin: QueueAdmin, pool: str, queues: dict[tuple[str, str], str]) -> PoolPlan:
    states: dict[str, QueueState | None] = {name: admin.inspect(name) for name in queues.values()}
    for name, state in states.items():
        if state and state.consumers:
            raise UsageError(
                f"pool {pool} is in use: queue {name} has {state.consumers} consumer(s) "
                "(another osreplay record?); choose another --pool"
            )
    return PoolPlan(pool, queues, [n for n, s in states.items() if s], [])


__all__ = ["PoolPlan", "default_pool", "plan_pool", "queue_names"]

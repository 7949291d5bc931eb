"""Pool planning: which tap queues a recorder listens on, and what an earlier one left.

Every (exchange, topic) gets its own queue in osreplay's *pool*, so the broker gives
osreplay a copy of each message and the real consumers still get every one. The queue is
``<pool>.<exchange>`` for a single topic and ``<pool>.<exchange>.<topic>`` when several
are recorded. A default pool whose queues have no consumer was left by a dead recorder and
is reused (purged unless resuming with ``--append``); one held by a live recorder makes
osreplay pick the next free name.

A recorder holds its pool's lock (:data:`LOCK_SUFFIX`: an exclusive queue, see
:meth:`QueueAdmin.lock`) from before it looks at the pool until it ends, so two recorders
started in the same instant cannot both take one pool: the refusal does not wait for the
first one's consumers to appear.

The exchanges are looked at first (:mod:`osreplay.bus.exchanges`): an existing one is used
as it is, a missing one declared as the services are configured, whatever the tap queues.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from osreplay.bus.exchanges import ExchangeState, services_flags
from osreplay.bus.queues import QueueAdmin, QueueState
from osreplay.bus.transport import BusSettings
from osreplay.bus.url import error_text
from osreplay.errors import ConnectError, OsreplayError, UsageError

_MAX_POOL_CANDIDATES = 10
#: The pool's lock is the exclusive queue ``<pool>.osreplay-lock``.
LOCK_SUFFIX = ".osreplay-lock"


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
    #: Each exchange as the broker has it (empty on the in-memory transport).
    exchanges: dict[str, ExchangeState] = field(default_factory=dict)


def plan_pool(
    admin: QueueAdmin,
    exchanges: Sequence[str],
    topics: Sequence[str],
    *,
    pool: str | None,
    append: bool,
    lock: Callable[[str], bool] = lambda pool: True,
    shared: bool = False,
) -> PoolPlan:
    """Choose the pool and deal with what a previous recorder left in it.

    ``lock(pool)`` takes the pool's lock, False when another recorder holds it. A named pool
    (``--pool``) is resumed as it is; if another recorder holds it or consumes from it the
    two would split the messages, so that is an error. The default pool is reused when no
    recorder holds it or consumes from it (its leftovers purged, unless ``append`` resumes
    them); otherwise the next name (``-2``, ``-3``, …) is tried.
    """
    if pool is not None:
        if not shared and not lock(pool):
            raise UsageError(
                f"pool {pool} is in use by another osreplay record; choose another --pool"
            )
        return _named_pool(admin, pool, queue_names(pool, exchanges, topics), shared=shared)
    base = default_pool()
    for index in range(1, _MAX_POOL_CANDIDATES + 1):
        candidate = base if index == 1 else f"{base}-{index}"
        if not lock(candidate):
            continue
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


def _named_pool(
    admin: QueueAdmin, pool: str, queues: dict[tuple[str, str], str], *, shared: bool = False
) -> PoolPlan:
    """``shared``: the pool of ``record --workers``, whose workers consume side by side."""
    states: dict[str, QueueState | None] = {name: admin.inspect(name) for name in queues.values()}
    for name, state in states.items():
        if state and state.consumers and not shared:
            raise UsageError(
                f"pool {pool} is in use: queue {name} has {state.consumers} consumer(s) "
                "(another osreplay record?); choose another --pool"
            )
    return PoolPlan(pool, queues, [n for n, s in states.items() if s], [])


class TapQueues:
    """One recorder's queues on the broker: planned before it listens, deleted after.

    The admin connection is opened for each step and closed after it: an idle connection
    may be gone by the end of a long recording. ``on_cleanup_failed(left, reason)`` hears
    the queues a delete could not remove (reason masked).
    """

    def __init__(
        self,
        settings: BusSettings,
        *,
        connect_timeout: float,
        on_cleanup_failed: Callable[[list[str], str], None],
    ) -> None:
        self.settings = settings
        self.connect_timeout = connect_timeout
        self.plan: PoolPlan | None = None
        self._on_cleanup_failed = on_cleanup_failed
        self._lock_admin: QueueAdmin | None = None

    def _admin(self) -> QueueAdmin:
        return QueueAdmin.for_settings(self.settings, connect_timeout=self.connect_timeout)

    def prepare(
        self,
        exchanges: Sequence[str],
        topics: Sequence[str],
        *,
        pool: str | None,
        append: bool,
        shared: bool = False,
    ) -> PoolPlan:
        """Look at the exchanges (the exchange rule), take the pool's lock and choose the
        pool (:func:`plan_pool`). The lock is held, on the connection that took it, until
        :meth:`release`. ``shared``: a worker of ``record --workers``, on the pool its parent
        planned and holds the lock of."""
        admin = self._admin()
        self._lock_admin = None if self.settings.is_memory or shared else admin
        try:
            states = {} if self.settings.is_memory else self._exchanges(admin, exchanges)
            plan = plan_pool(
                admin, exchanges, topics, pool=pool, append=append, lock=self._lock, shared=shared
            )
            plan.exchanges = states
            self.plan = plan
            return plan
        except OsreplayError:
            self.release()
            raise
        except Exception as exc:
            self.release()
            raise ConnectError(
                f"cannot prepare the tap queues on {self.settings.masked_url}: {error_text(exc)}"
            ) from None
        finally:
            if self._lock_admin is not admin:
                _close_quietly(admin)

    def _exchanges(self, admin: QueueAdmin, exchanges: Sequence[str]) -> dict[str, ExchangeState]:
        wanted = services_flags(self.settings)
        states = {name: admin.exchange(name, wanted) for name in exchanges}
        other = [state for state in states.values() if state.kind is not None]
        if other:
            listed = ", ".join(f"{state.name} ({state.kind})" for state in other)
            raise UsageError(
                f"exchange {listed} is not a topic exchange: oslo publishes notifications "
                "to topic exchanges only; choose another --exchange"
            )
        return states

    def _lock(self, pool: str) -> bool:
        """Take ``pool``'s lock (held until :meth:`release`); always granted in memory."""
        if self._lock_admin is None:
            return True
        return self._lock_admin.lock(pool + LOCK_SUFFIX)

    def release(self) -> None:
        """Let go of the pool's lock (the broker deletes it with the connection)."""
        admin, self._lock_admin = self._lock_admin, None
        if admin is not None:
            _close_quietly(admin)

    def delete(self, *, only_new: bool = False) -> list[str]:
        """Delete the planned queues (``only_new``: not those resumed); return the deleted."""
        if self.plan is None:
            return []
        names = list(self.plan.queues.values())
        if only_new:
            names = [name for name in names if name not in self.plan.resumed]
        admin = self._admin()
        deleted: list[str] = []
        try:
            for index, name in enumerate(names):
                try:
                    admin.delete(name)
                    deleted.append(name)
                except Exception as exc:  # noqa: BLE001 - report what is left, then give up
                    reason = error_text(exc)
                    self._on_cleanup_failed(names[index:], reason)
                    break
        finally:
            _close_quietly(admin)
        return deleted


def _close_quietly(admin: QueueAdmin) -> None:
    try:
        admin.close()
    except Exception:  # noqa: BLE001 - closing never fails a run
        pass


__all__ = ["LOCK_SUFFIX", "PoolPlan", "TapQueues", "default_pool", "plan_pool", "queue_names"]

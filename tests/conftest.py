"""Shared fixtures.

Tests marked ``broker`` talk to the real RabbitMQ at ``OSREPLAY_TEST_URL`` (default
``rabbit://guest:guest@127.0.0.1:5672/``). Where the broker does not answer they are
skipped on a developer's machine but fail under CI (``CI`` set), so a green CI run
always includes them.

The suite cleans up after itself and shares the machine with other runs of it. Every
process a test starts carries, in its environment, the run's, this session's and the
test's tags (:mod:`leftovers`); whatever of a test is still running when it ends (also
when it failed or was interrupted) is ended by the fixture ``_ends_what_it_started``, and
whatever of the session by :func:`pytest_sessionfinish` and, last, an atexit handler.
RabbitMQ nodes of the tests' own are named after the session (``osr-<session>-…``, see
tests/broker/rabbitnode.py) on ports chosen free at run time.
"""

from __future__ import annotations

import atexit
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import leftovers
import pytest

# The run: kept when given (CI names it, to check what is left after the suite; a pytest
# started by a test inherits it); the session: this pytest process alone.
RUN = os.environ.setdefault("OSREPLAY_TEST_RUN", uuid.uuid4().hex[:8])
SESSION = os.environ["OSREPLAY_TEST_SESSION"] = f"{RUN}-{uuid.uuid4().hex[:4]}"

# The plugin's own tests run a consumer's test file in a pytest of its own.
pytest_plugins = ["pytester"]

BROKER_URL = os.environ.get("OSREPLAY_TEST_URL", "rabbit://guest:guest@127.0.0.1:5672/")


def _broker_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 3):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def broker_url() -> str:
    """The real broker's transport URL; fail under CI, skip elsewhere, when it is down."""
    if not _broker_answers(BROKER_URL):
        message = f"RabbitMQ does not answer at {BROKER_URL}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the broker tests)")
        pytest.skip(message)
    return BROKER_URL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test marked `broker` gets the broker check, even if it forgets the fixture.
    for item in items:
        if item.get_closest_marker("broker") and "broker_url" not in item.fixturenames:
            item.fixturenames.insert(0, "broker_url")


@pytest.fixture(autouse=True)
def _ends_what_it_started() -> Iterator[None]:
    """End every process the test started that is still running when it ends, passed,
    failed or interrupted: its own fixtures' finalizers ran first (they end theirs in
    order), this one ends what they and the test left, orphans of a killed parent too."""
    item = uuid.uuid4().hex[:12]
    os.environ["OSREPLAY_TEST_ITEM"] = item
    try:
        yield
    finally:
        os.environ.pop("OSREPLAY_TEST_ITEM", None)
        leftovers.end(leftovers.tagged("OSREPLAY_TEST_ITEM", item))


def _end_the_session() -> None:
    """What the session started and did not end: its RabbitMQ nodes (stopped properly,
    their folders removed), then any process tagged with it."""
    import sys

    rabbitnode = sys.modules.get("rabbitnode")
    if rabbitnode is not None:
        rabbitnode.stop_all()
    leftovers.end(leftovers.tagged("OSREPLAY_TEST_SESSION", SESSION))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # After the fixtures' teardown, also after a Ctrl-C (pytest tears down before this).
    _end_the_session()


atexit.register(_end_the_session)  # a run that never reached sessionfinish

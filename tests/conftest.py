"""Shared fixtures.

Tests marked ``broker`` talk to the real RabbitMQ at ``OSREPLAY_TEST_URL`` (default
``rabbit://guest:guest@127.0.0.1:5672/``). Where the broker does not answer they are
skipped on a developer's machine but fail under CI (``CI`` set), so a green CI run
always includes them.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

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

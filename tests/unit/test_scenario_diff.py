"""The diff core: what is volatile, how --ignore paths read."""

from __future__ import annotations

import pytest

from osreplay.errors import UsageError
from osreplay.scenario.diff import format_path, parse_path, volatile


@pytest.mark.parametrize(
    ("a", "b", "key"),
    [
        ("5c1f0e2d-7a3b-5c4d-8e9f-000000000001", "9A8B7C6D-5E4F-4A3B-8C2D-1E0F9A8B7C6D", "id"),
        ("3f1e6a0c9b5d4e7f8a2b1c0d9e8f7a6b", "d7bec06f41254509987354d0c0581cdc", "user_id"),
        (
            "req-5bef6a23-2e14-4b3f-9eb1-1be293b75fb7",
            "req-00000000-0000-4000-8000-000000000000",
            "x",
        ),
        ("openstack:1c2fc591-facb-4479-a327-520dade1ea15", "openstack:" + "0" * 32, "id"),
        ("2024-03-05 10:00:00.100000", "2026-12-01T11:00:00Z", "created_at"),
        ("2024-03-05T09:14:07.120331+0000", "2024-03-06T09:14:07+00:00", "eventTime"),
        ("2012-10-29", "2013-01-01", "launched_on_day"),
        ("compute-3", "compute-12", "host"),
        ("nova-compute:compute-1", "nova-compute:compute-9", "publisher_id"),
        ("cell1-compute-1", "cell1-compute-2", "source_host"),
    ],
)
def test_volatile_values_compare_equal(a: str, b: str, key: str) -> None:
    assert volatile(a, key) == volatile(b, key)


@pytest.mark.parametrize(
    ("a", "b", "key"),
    [
        ("compute-3", "compute-12", "display_name"),  # a name, not a host
        ("m1.small", "m1.large", "name"),
        ("1.12", "1.13", "nova_object.version"),
        ("deadbeef", "cafebabe", "id"),  # too short to be a UUID
        ("compute-a", "compute-b", "host"),
    ],
)
def test_other_values_still_differ(a: str, b: str, key: str) -> None:
    assert volatile(a, key) != volatile(b, key)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("$.payload.reason", ("payload", "reason")),
        ("payload.reason", ("payload", "reason")),
        ("$.payload['nova_object.data'].flavor[0]", ("payload", "nova_object.data", "flavor", 0)),
        ('$.payload["a b"][*]', ("payload", "a b", "*")),
        ("$..display_name", ("..", "display_name")),
        ("$.payload.*.id", ("payload", "*", "id")),
    ],
)
def test_ignore_paths_read_as_segments(text: str, path: tuple) -> None:
    assert parse_path(text) == path


def test_paths_print_as_validate_prints_them() -> None:
    path = ("payload", "nova_object.data", "flavor", 0, "memory_mb")
    assert format_path(path) == "$.payload['nova_object.data'].flavor[0].memory_mb"


@pytest.mark.parametrize("text", ["", "$", "$.payload[", "$..", "$.a b"])
def test_a_bad_path_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--ignore"):
        parse_path(text)

"""``osreplay record -o`` on the real RabbitMQ never replaces what is at the path (issue
18 §2): a device node (mknod 1,3), a FIFO and a socket are written in place, a link's
target is written and the link stays, ``--rotate`` into a linked folder leaves the link.

Each test uses its own topic, exchange and pool (uuid) and removes what it created.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from special_files import FifoReader, SocketReader, assert_still_null_device, make_null_device
from test_record_broker import Recording, bus, unique  # noqa: F401 (bus: a fixture)

pytestmark = pytest.mark.broker

COUNT = 3


def record_into(broker, output: Path, *more: str) -> bytes:
    """Record COUNT published notifications into ``output``; what record wrote on stdout."""
    topic, exchange, pool = unique("topic"), unique("exchange"), unique("pool")
    rec = Recording(
        ["--url", broker.url, "--topic", topic, "--exchange", exchange, "--pool", pool,
         "--count", str(COUNT), "-o", str(output), *more]
    )  # fmt: skip
    rec.wait_ready()
    notifier = broker.notifier(exchange, topic)
    for i in range(COUNT):
        notifier.info({}, "test.output", {"n": i})
    code, stdout = rec.finish()
    assert code == 0, rec.stderr
    return stdout


def numbers(data: bytes) -> list[int]:
    return [json.loads(line)["payload"]["n"] for line in data.decode().splitlines()]


def test_record_writes_a_device_in_place(bus, tmp_path):  # noqa: F811
    device = make_null_device(tmp_path / "null")
    record_into(bus, device, "--fsync")  # a device cannot be synced: not asked to
    assert_still_null_device(device)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_record_writes_a_fifo_in_place(bus, tmp_path):  # noqa: F811
    fifo = FifoReader(tmp_path / "pipe")
    try:
        record_into(bus, fifo.path, "--fsync")  # nor can a FIFO
        assert numbers(fifo.result()) == list(range(COUNT))
    finally:
        fifo.unblock()
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_record_writes_a_socket_in_place(bus, tmp_path):  # noqa: F811
    listener = SocketReader(tmp_path / "sock")
    try:
        record_into(bus, listener.path)
        assert numbers(listener.result()) == list(range(COUNT))
    finally:
        listener.close()


def test_record_writes_a_links_target_and_the_link_stays(bus, tmp_path):  # noqa: F811
    target = tmp_path / "there" / "rec.ndjson"
    target.parent.mkdir()
    target.write_text("an earlier recording\n")
    target.chmod(0o640)
    link = tmp_path / "rec.ndjson"
    link.symlink_to(target)
    record_into(bus, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert numbers(target.read_bytes()) == list(range(COUNT))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_record_rotate_into_a_linked_folder_writes_the_folder_and_keeps_the_link(bus, tmp_path):  # noqa: F811
    folder = tmp_path / "real"
    folder.mkdir()
    link = tmp_path / "captures"
    link.symlink_to(folder, target_is_directory=True)
    record_into(bus, link, "--rotate", "1h")
    assert link.is_symlink()
    assert [p.name for p in folder.iterdir()] == ["osreplay-00001.ndjson"]
    assert numbers((folder / "osreplay-00001.ndjson").read_bytes()) == list(range(COUNT))

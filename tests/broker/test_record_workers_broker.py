"""`record --workers N` against the real RabbitMQ: N processes on one pool."""

from __future__ import annotations

import signal

import pytest
from test_record_broker import PRIORITIES, Recording, bus, read_records, unique, wait_for  # noqa: F401 (bus: a fixture)

pytestmark = pytest.mark.broker


def test_two_workers_share_one_pool_and_count_the_total(bus, tmp_path):  # noqa: F811
    exchange, topic, pool = unique("wx"), unique("wt"), unique("wpool")
    total = 1000
    rec = Recording(["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", pool,
                     "--workers", "2", "--batch-size", "20", "--count", str(total),
                     "-o", str(tmp_path / "part-{n}.ndjson")])  # fmt: skip
    rec.wait_ready(60)
    notifier = bus.notifier(exchange, topic)
    for n in range(total + 50):  # more than --count: the total stops both workers
        notifier.info({}, "test.workers", {"n": n})
    code, _ = rec.finish(120)
    assert code == 0, rec.stderr
    parts = [read_records(tmp_path / f"part-{n}.ndjson") for n in (1, 2)]
    assert all(parts), rec.stderr  # both workers took messages
    written = [r["payload"]["n"] for part in parts for r in part]
    assert len(written) == total == len(set(written)), rec.stderr  # exactly --count, once
    assert set(written) <= set(range(total + 50))
    assert f"Recorded {total} records" in "\n".join(rec.stderr)
    assert f"deleted 1 tap queue (pool {pool})" in "\n".join(rec.stderr)
    assert bus.inspect(f"{pool}.{exchange}") is None


def test_workers_stop_on_sigint_with_every_acked_message_on_file(bus, tmp_path):  # noqa: F811
    exchange, topic, pool = unique("wx"), unique("wt"), unique("wpool")
    out = str(tmp_path / "p{n}.ndjson")
    rec = Recording(["--url", bus.url, "--exchange", exchange, "--topic", topic, "--pool", pool,
                     "--workers", "2", "--keep-queue", "-o", out])  # fmt: skip
    rec.wait_ready(60)
    notifier = bus.notifier(exchange, topic)
    for n in range(600):
        notifier.info({}, "test.workers", {"n": n})
    count = lambda: sum(  # noqa: E731
        len(read_records(tmp_path / f"p{n}.ndjson")) for n in (1, 2)
        if (tmp_path / f"p{n}.ndjson").exists()
    )  # fmt: skip
    wait_for(lambda: count() >= 600, 60)
    rec.proc.send_signal(signal.SIGINT)
    code, _ = rec.finish(120)
    bus.forget(f"{pool}.{exchange}", *(f"{topic}.{p}" for p in PRIORITIES))
    assert code == 0, rec.stderr
    written = sorted(
        r["payload"]["n"] for n in (1, 2) for r in read_records(tmp_path / f"p{n}.ndjson")
    )
    assert written == list(range(600)), rec.stderr
    state = bus.inspect(f"{pool}.{exchange}")
    assert state is not None and state.messages == 0 and state.consumers == 0  # kept, all acked

"""`osreplay replay --fresh-ids --loop 3` and `--retime` against the real RabbitMQ.

A private virtual host per module and a raw AMQP tap, as in test_replay_broker.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest
from test_replay_broker import bus, inner, replay, tap, unique, write  # noqa: F401

pytestmark = pytest.mark.broker

UUID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<![0-9a-z])[0-9a-f]{32}(?![0-9a-z])"
)
INSTANCE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
PROJECT = "6f5e4d3c2b1a40f9e8d7c6b5a4f3e2d1"
REQUEST = "req-14a1f71e-78a4-484f-94c5-5d6233533772"


def scenario(exchange: str, topic: str) -> list[dict]:
    """An instance's life: the same instance, project and request in every record."""
    return [
        {
            "event_type": f"compute.instance.{step}",
            "publisher_id": "compute.host1",
            "priority": "INFO",
            "payload": {
                "step": i,
                "instance_id": INSTANCE,
                "tenant_id": PROJECT,
                "image_ref_url": f"http://glance/images/{INSTANCE.replace('-', '')}",
                "created_at": "2024-03-05 10:00:00",
                "launched_at": f"2024-03-05T10:00:0{i * 2}.500000Z",
            },
            "timestamp": f"2024-03-05 10:00:0{i * 2}.000000",
            "ctxt": {"request_id": REQUEST, "project_id": PROJECT},
            "exchange": exchange,
            "topic": topic,
        }
        for i, step in enumerate(["create.start", "update", "create.end"])
    ]


def test_fresh_ids_loop_three_looks_like_three_independent_runs(bus, tap, tmp_path):  # noqa: F811
    exchange = unique("nova")
    raw = tap([exchange])
    path = write(tmp_path / "r.ndjson", scenario(exchange, bus.topic))
    result = replay(path, "--url", bus.transport_url(), "--rate", "0", "--fresh-ids", "--loop", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Replayed 9 of 9 records")
    bodies = [inner(message) for message in raw.drain(9)]
    assert len(bodies) == 9
    originals = {INSTANCE, PROJECT, REQUEST[4:], INSTANCE.replace("-", "")}
    instances_per_pass: list[set[str]] = [set(), set(), set()]
    requests_per_pass: list[set[str]] = [set(), set(), set()]
    projects_per_pass: list[set[str]] = [set(), set(), set()]
    for n, body in enumerate(bodies):  # one publisher, one queue: in order
        text = json.dumps(body)
        assert not originals & set(UUID_RE.findall(text)), text
        payload = body["payload"]
        assert payload["step"] == n % 3
        instance = payload["instance_id"]
        assert payload["image_ref_url"] == "http://glance/images/" + instance.replace("-", "")
        assert body["_context_request_id"].startswith("req-")
        assert body["_context_project_id"] == payload["tenant_id"]
        instances_per_pass[n // 3].add(instance)
        requests_per_pass[n // 3].add(body["_context_request_id"])
        projects_per_pass[n // 3].add(payload["tenant_id"])
    for per_pass in (instances_per_pass, requests_per_pass, projects_per_pass):
        assert all(len(ids) == 1 for ids in per_pass)  # a chain stays linked within a pass
        assert len(set.union(*per_pass)) == 3  # and each pass has its own


def test_retime_puts_the_first_record_at_now_and_keeps_the_gaps(bus, tap, tmp_path):  # noqa: F811
    exchange = unique("nova")
    raw = tap([exchange])
    path = write(tmp_path / "r.ndjson", scenario(exchange, bus.topic))
    before = datetime.now(timezone.utc)
    result = replay(path, "--url", bus.transport_url(), "--speed", "4", "--retime")
    after = datetime.now(timezone.utc)
    assert result.exit_code == 0, result.stderr
    bodies = [inner(message) for message in raw.drain(3)]
    launched = [
        datetime.fromisoformat(body["payload"]["launched_at"].replace("Z", "+00:00"))
        for body in bodies
    ]
    created = [body["payload"]["created_at"] for body in bodies]
    # created_at was the first record's timestamp (10:00:00): it is now (to the second,
    # its format has no fraction); launched_at was 0.5 s after it
    assert len(set(created)) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", created[0])
    sent = datetime.fromisoformat(created[0]).replace(tzinfo=timezone.utc)
    assert before.replace(microsecond=0) <= sent <= after
    assert 0.0 <= (launched[0] - before).total_seconds() < 1.5
    assert 0.5 <= (launched[0] - sent).total_seconds() < 1.5
    # gaps kept (2 s recorded, whatever the --speed), formats kept
    gaps = [(b - a).total_seconds() for a, b in zip(launched, launched[1:], strict=False)]
    assert gaps == [2.0, 2.0]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", b["payload"]["launched_at"])
        for b in bodies
    )

"""How fast does ``osreplay record`` drain a backlog, against the blog's listener pattern?

    python benchmarks/record.py [--url rabbit://guest:guest@127.0.0.1:5672/]
                                [--messages 20000] [--runs 3] [--workload cadf|nova]

Needs the real RabbitMQ. For each run it fills a kept pool queue (``<pool>.<exchange>``,
unique names) with ``--messages`` notifications in oslo's v2 wire format, each with an
old-oslo context (``_context_request_id``, ``_context_auth_token``, ``_unique_id``): by
default keystone's CADF ``identity.authenticate`` event (``--workload nova``: a nova
``instance.create.end``), then times, as subprocesses from spawn to exit (interpreter
start-up and imports included):

- ``osreplay record --pool POOL --keep-queue --count N -q -o FILE`` from this checkout;
- the same with ``--no-redact``, to measure what default redaction costs;
- the same with ``--workers 2`` (two recorder processes on the pool, one file each);
- the plain pattern from the usual blog posts: ``get_notification_listener`` on the same
  pool queue, default executor threads, an endpoint that ``print``s one ``json.dumps``
  line per call to a shared file, and stops after N calls.

Best of ``--runs`` each. Then it counts, in each output file, lines that are not valid
JSON (corrupt) and messages missing (lost: acknowledged, so gone from the queue, but not in
the file), prints everything, and exits 1 when osreplay is under 1.25x the plain pattern,
default redaction costs more than 10 % of its throughput, or it lost or corrupted
anything, or ``--workers 2`` is under 1.3x one process. The queues and the exchange are
deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.25
TARGET_WORKERS = 1.3
REDACTION_COST = 0.10

PLAIN = r"""
import json, sys, threading
import warnings
warnings.filterwarnings("ignore")
import oslo_messaging
from oslo_config import cfg

url, exchange, topic, queue, out, n = sys.argv[1:7]
n = int(n)
transport = oslo_messaging.get_notification_transport(cfg.ConfigOpts(), url=url)
handle = open(out, "w")
done = threading.Event()
lock = threading.Lock()
seen = [0]


class Endpoint:
    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        print(json.dumps({"event_type": event_type, "publisher_id": publisher_id,
                          "payload": payload, "ctxt": ctxt, **metadata}), file=handle)
        with lock:
            seen[0] += 1
            if seen[0] >= n:
                done.set()


listener = oslo_messaging.get_notification_listener(
    transport, [oslo_messaging.Target(exchange=exchange, topic=topic)], [Endpoint()],
    executor="threading", pool=queue)
listener.start()
done.wait()
listener.stop()
listener.wait()
handle.close()
transport.cleanup()
"""


def cadf_payload(i: int) -> dict:
    """keystone's identity.authenticate, as pycadf builds it."""
    user = uuid.UUID(int=i).hex
    event = {
        "typeURI": "http://schemas.dmtf.org/cloud/audit/1.0/event",
        "id": str(uuid.uuid4()),
        "eventType": "activity",
        "eventTime": "2024-05-01T12:00:00.000001+0000",
        "action": "authenticate",
        "outcome": "success" if i % 10 else "failure",
        "initiator": {
            "typeURI": "service/security/account/user",
            "id": user,
            "user_id": user,
            "project_id": "6f70656e737461636b20342065766572",
            "request_id": f"req-{uuid.UUID(int=i)}",
            "host": {"address": f"192.0.2.{i % 250}", "agent": "python-openstackclient/6.2.0"},
        },
        "target": {"typeURI": "service/security/account/user", "id": str(uuid.uuid4())},
        "observer": {"typeURI": "service/security", "id": "d41d8cd98f00b204e9800998ecf8427e"},
    }
    if i % 10 == 0:
        event["reason"] = {"reasonType": "HTTP", "reasonCode": "401"}
    return event


def nova_payload(i: int) -> dict:
    instance = str(uuid.UUID(int=i))
    return {
        "nova_object.name": "InstanceActionPayload",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.8",
        "nova_object.data": {
            "uuid": instance,
            "host": "compute-1",
            "display_name": f"vm-{i}",
            "state": "active",
            "power_state": "running",
            "task_state": None,
            "tenant_id": "6f70656e737461636b20342065766572",
            "user_id": "fake",
            "flavor": {
                "nova_object.name": "FlavorPayload",
                "nova_object.data": {"flavorid": "a22d5517", "memory_mb": 512, "vcpus": 1,
                                     "root_gb": 1, "ephemeral_gb": 0, "name": "test_flavor"},
            },
            "ip_addresses": [{"nova_object.name": "IpPayload", "nova_object.data": {
                "address": "192.168.1.3", "port_uuid": "ce531f90", "version": 4,
                "mac": "fa:16:3e:4c:2c:30", "device_name": "tapce531f90-19"}}],
            "metadata": {}, "tags": [], "locked": False, "auto_disk_config": "MANUAL",
            "launched_at": "2012-10-29T13:42:11Z", "created_at": "2012-10-29T13:42:11Z",
        },
    }  # fmt: skip


WORKLOADS = {
    "cadf": ("identity.authenticate", "identity.keystone-1", cadf_payload),
    "nova": ("instance.create.end", "nova-compute:compute-1", nova_payload),
}


def fill(url: str, exchange: str, topic: str, queue: str, n: int, workload: str) -> None:
    """Publish n notifications in oslo's v2 envelope, as a Notifier would, quickly."""
    import kombu

    with kombu.Connection(amqp_url(url)) as conn:
        channel = conn.channel()
        ex = kombu.Exchange(exchange, type="topic", durable=False)
        bound = kombu.Queue(queue, ex, routing_key=f"{topic}.info", durable=False)
        bound(channel).declare()
        producer = kombu.Producer(channel, exchange=ex)
        event_type, publisher_id, payload = WORKLOADS[workload]
        for i in range(n):
            inner = {
                "message_id": str(uuid.uuid4()),
                "publisher_id": publisher_id,
                "event_type": event_type,
                "priority": "INFO",
                "payload": payload(i),
                "timestamp": "2024-05-01 12:00:00.000001",
                "_unique_id": uuid.uuid4().hex,
                "_context_request_id": f"req-{i}",
                "_context_user": "fake",
                "_context_auth_token": f"gAAAAABm{uuid.uuid4().hex}{uuid.uuid4().hex}",
            }
            body = json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)})
            producer.publish(
                body, routing_key=f"{topic}.info", content_type="application/json",
                content_encoding="utf-8", delivery_mode=2,
            )  # fmt: skip
        channel.close()


def amqp_url(url: str) -> str:
    return "amqp://" + url.split("://", 1)[1]


def queue_depth(url: str, queue: str) -> int:
    import kombu

    with kombu.Connection(amqp_url(url)) as conn:
        channel = conn.channel()
        _, messages, _ = channel.queue_declare(queue=queue, passive=True)
        channel.close()
        return messages


def timed(cmd: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, capture_output=False,
                          stderr=subprocess.PIPE)  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"{cmd[2]} exited with {done.returncode}")
    return elapsed


def check(paths: list[Path], n: int) -> tuple[int, int]:
    """(lost, corrupt) in the output files of n expected records."""
    ids = set()
    corrupt = 0
    lines = [line for path in paths for line in path.read_bytes().split(b"\n")]
    for line in lines:
        if not line.strip():
            continue
        try:
            ids.add(json.loads(line)["message_id"])
        except (ValueError, KeyError, TypeError):
            corrupt += 1
    return n - len(ids), corrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="cadf")
    args = parser.parse_args()
    n = args.messages
    tag = uuid.uuid4().hex[:8]
    exchange, topic, pool = f"bench-{tag}", f"bench-{tag}", f"osreplay-bench-{tag}"
    queue = f"{pool}.{exchange}"
    names = ("osreplay", "no-redact", "plain", "workers-2")
    results: dict[str, list[float]] = {name: [] for name in names}
    damage: dict[str, list[tuple[int, int]]] = {name: [] for name in names}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                for name in names:
                    fill(args.url, exchange, topic, queue, n, args.workload)
                    out = Path(tmp) / f"{name}-{run}.ndjson"
                    outs = [out]
                    if name != "plain":
                        cmd = [sys.executable, "-m", "osreplay", "record", "--url", args.url,
                               "--exchange", exchange, "--topic", topic, "--pool", pool,
                               "--keep-queue", "--count", str(n), "-q", "-o", str(out)]  # fmt: skip
                        if name == "no-redact":
                            cmd.append("--no-redact")
                        if name == "workers-2":
                            pattern = str(Path(tmp) / f"{name}-{run}-{{n}}.ndjson")
                            cmd[-1] = pattern
                            cmd += ["--workers", "2"]
                            outs = [Path(pattern.format(n=k)) for k in (1, 2)]
                    else:
                        cmd = [sys.executable, "-c", PLAIN, args.url, exchange, topic, queue,
                               str(out), str(n)]  # fmt: skip
                    elapsed = timed(cmd)
                    left = queue_depth(args.url, queue)
                    lost, corrupt = check(outs, n)
                    results[name].append(elapsed)
                    damage[name].append((lost, corrupt))
                    print(
                        f"run {run + 1} {name:8s} {elapsed:6.2f} s  {n / elapsed:8.0f} msg/s  "
                        f"lost {lost}  corrupt lines {corrupt}  left in queue {left}",
                        flush=True,
                    )
                    if left:  # do not let one run's leftovers feed the next
                        purge(args.url, queue)
    finally:
        cleanup(args.url, queue, exchange)
    best = {name: min(times) for name, times in results.items()}
    ratio = best["plain"] / best["osreplay"]
    lost_o = sum(d[0] for d in damage["osreplay"])
    corrupt_o = sum(d[1] for d in damage["osreplay"])
    lost_p = sum(d[0] for d in damage["plain"])
    corrupt_p = sum(d[1] for d in damage["plain"])
    event_type = WORKLOADS[args.workload][0]
    print(f"{n} {event_type} messages, best of {args.runs} (spawn to exit, start-up included):")
    print(f"  osreplay record : {best['osreplay']:6.2f} s  {n / best['osreplay']:8.0f} msg/s  "
          f"lost {lost_o}  corrupt {corrupt_o} (all runs)")  # fmt: skip
    print(f"  plain listener  : {best['plain']:6.2f} s  {n / best['plain']:8.0f} msg/s  "
          f"lost {lost_p}  corrupt {corrupt_p} (all runs)")  # fmt: skip
    print(f"  --no-redact     : {best['no-redact']:6.2f} s  {n / best['no-redact']:8.0f} msg/s")
    lost_w = sum(d[0] for d in damage["workers-2"])
    corrupt_w = sum(d[1] for d in damage["workers-2"])
    workers = best["osreplay"] / best["workers-2"]
    print(f"  --workers 2     : {best['workers-2']:6.2f} s  {n / best['workers-2']:8.0f} msg/s  "
          f"lost {lost_w}  corrupt {corrupt_w} (all runs); {workers:.2f}x one process "
          f"(target >= {TARGET_WORKERS:.2f}x)")  # fmt: skip
    print(f"  ratio           : {ratio:.2f}x (target >= {TARGET_RATIO:.2f}x)")
    # What default redaction costs: the same command with and without it, same run.
    cost = 1 - best["no-redact"] / best["osreplay"]
    print(f"  redaction cost  : {cost:.1%} of throughput (target <= {REDACTION_COST:.0%})")
    ok = ratio >= TARGET_RATIO and cost <= REDACTION_COST and workers >= TARGET_WORKERS
    intact = lost_o == corrupt_o == lost_w == corrupt_w == 0
    return 0 if ok and intact else 1


def purge(url: str, queue: str) -> None:
    import kombu

    with kombu.Connection(amqp_url(url)) as conn:
        channel = conn.channel()
        channel.queue_purge(queue)
        channel.close()


def cleanup(url: str, queue: str, exchange: str) -> None:
    import kombu

    with kombu.Connection(amqp_url(url)) as conn:
        channel = conn.channel()
        channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        channel.close()


if __name__ == "__main__":
    sys.exit(main())

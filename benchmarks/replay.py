"""What do reading, pacing and accounting cost ``osreplay replay``, and does it keep a rate?

    python benchmarks/replay.py [--url rabbit://guest:guest@127.0.0.1:5672/]
                                [--records 5000] [--runs 3] [--rate 200] [--rate-records 2000]

Needs the real RabbitMQ. In one process, on one exchange and topic of its own:

1. Unpaced, the same ``--records`` nova-like records (all priorities, a request context,
   ~1 KB payloads) from one NDJSON file, best of ``--runs`` each, runs interleaved:

   - the bare loop: records already parsed in memory (not timed); timed: the settings,
     a transport and one oslo ``Notifier`` (stock ``messagingv2`` driver), then per record
     ``notifier.prepare(publisher_id=…).<priority>(RequestContext.from_dict(ctxt), …)``;
   - ``osreplay replay FILE --rate 0 -q`` run through the click command in this process
     (option parsing, URL resolution, the connection check, reading and checking the
     file, transport set-up, pacing, per-record confirmation and the summary included;
     only the interpreter start-up is left out).

   The ratio is the bare loop's time over osreplay's (target >= 0.95).
   The queues oslo declares for the topic are purged before every run, and the order
   alternates, so that neither side meets a longer backlog.
2. ``--workers 1, 2, 4`` (``--rate 0``) against the bare loop, interleaved the same way
   (target: 4 workers >= 1.2x); the machine's ceiling for parallel publishing, one and two
   bare loops each in a process of its own, side by side (printed, no target); then
   ``--rate 1000 --workers 4`` on ``--rate-records`` records (target: within 2 % of the
   rate).
3. Paced: ``--rate-records`` records at ``--rate`` msg/s through the same Replayer,
   OsloSender and Pacer the command uses, with an observer collecting each record's
   lateness. Targets: achieved rate within 1 % of the asked rate, median lateness < 2 ms.

Prints everything and exits 1 when a target is missed. The exchange and the queues oslo
declared for the topic are deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import osreplay  # noqa: E402  # first: silences eventlet's import-time warning
from osreplay.console.replay import summary_line  # noqa: E402

PRIORITIES = osreplay.model.notification.PRIORITIES
METHODS = {p: ("warn" if p == "WARN" else p.lower()) for p in PRIORITIES}


def make_records(count: int, exchange: str, topic: str) -> list[dict]:
    rows = []
    for i in range(count):
        rows.append(
            {
                "event_type": "compute.instance.update",
                "publisher_id": f"nova-compute:compute-{i % 20}",
                "priority": PRIORITIES[i % len(PRIORITIES)],
                "payload": {
                    "instance_id": str(uuid.UUID(int=i)),
                    "display_name": f"web-{i}",
                    "state": "active",
                    "old_state": "building",
                    "host": f"compute-{i % 20}",
                    "tenant_id": "3f2a8e5b9c1d4e7fa0b6c3d9e8f7a6b5",
                    "user_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                    "flavor": {"name": "m1.small", "vcpus": 1, "memory_mb": 2048, "root_gb": 20},
                    "image_meta": {"os_distro": "ubuntu", "architecture": "x86_64"},
                    "metadata": {f"key{k}": f"value{k}" * 4 for k in range(8)},
                    "bandwidth": {"net0": {"bw_in": i * 10, "bw_out": i * 7}},
                },
                "timestamp": f"2024-03-05 10:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:06d}",
                "ctxt": {
                    "request_id": f"req-{uuid.UUID(int=i + 10**6)}",
                    "global_request_id": None,
                    "user": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
                    "project_id": "3f2a8e5b9c1d4e7fa0b6c3d9e8f7a6b5",
                    "roles": ["member", "reader"],
                    "is_admin": False,
                    "auth_token": "***",
                },
                "exchange": exchange,
                "topic": topic,
            }
        )
    return rows


def bare_loop(url: str, exchange: str, topic: str, rows: list[dict]) -> float:
    """The plain script: settings, transport and Notifier, then one call per record."""
    import oslo_messaging
    from oslo_context.context import RequestContext

    from osreplay.bus.transport import get_transport, resolve

    started = time.perf_counter()
    transport = get_transport(resolve(url=url, environ={}), exchange=exchange)
    notifier = oslo_messaging.Notifier(transport, driver="messagingv2", topics=[topic], retry=3)
    try:
        for row in rows:
            prepared = notifier.prepare(publisher_id=row["publisher_id"])
            method = getattr(prepared, METHODS[row["priority"]])
            method(RequestContext.from_dict(row["ctxt"]), row["event_type"], row["payload"])
        return time.perf_counter() - started
    finally:
        transport.cleanup()


def osreplay_command(url: str, path: str, *extra: str) -> float:
    started = time.perf_counter()
    _command(url, path, "--rate", "0", "-q", *extra)
    return time.perf_counter() - started


def _command(url: str, path: str, *extra: str) -> str:
    from osreplay.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main.main(["replay", path, "--url", url, *extra], standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(f"osreplay replay exited {exc.code}") from None
    return out.getvalue()


def paced(url: str, path: str, rate: float) -> tuple[object, list[float]]:
    from osreplay.bus.transport import check_connection, resolve
    from osreplay.replay.pacing import RateSchedule
    from osreplay.replay.replayer import Replayer
    from osreplay.replay.sender import OsloSender
    from osreplay.replay.sources import FileSource

    settings = resolve(url=url, environ={})
    check_connection(settings)
    lateness: list[float] = []
    sender = OsloSender(settings, retry=3)
    source = FileSource([path])
    source.check()
    replayer = Replayer(
        sender,
        RateSchedule(rate),
        observer=lambda entry, exchange, topic, offset, late: lateness.append(late),
    )
    try:
        return replayer.run(source), lateness
    finally:
        sender.close()


def _bare_child(
    url: str, exchange: str, topic: str, rows: list[dict], barrier: Any, ends: Any
) -> None:
    barrier.wait()  # imports done: every loop starts together
    bare_loop(url, exchange, topic, rows)
    ends.put(time.perf_counter())


def parallel_bare(url: str, exchange: str, topic: str, rows: list[dict], loops: int) -> float:
    """Messages per second of ``loops`` bare loops side by side, each in a process of its
    own sending all ``rows``: with 1 and 2, the machine's ceiling for parallel publishing."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, ends = context.Barrier(loops + 1), context.Queue()
    children = [
        context.Process(target=_bare_child, args=(url, exchange, topic, rows, barrier, ends))
        for _ in range(loops)
    ]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    last = max(ends.get() for _ in children)
    for child in children:
        child.join()
    return loops * len(rows) / (last - started)


def workers_curve(
    args: argparse.Namespace,
    exchange: str,
    topic: str,
    rows: list[dict],
    path: str,
    paced_path: str,
) -> bool:
    """``--workers 1, 2, 4`` against the bare loop (best of ``--runs``, interleaved), then
    ``--rate 1000 --workers 4``. Targets: 4 workers >= 1.2x the bare loop; the rate within
    2 %. The fork server that imports oslo.messaging for the workers (once per process) is
    started by a warm-up run, timed and printed apart, and not in the runs."""
    started = time.perf_counter()
    osreplay_command(args.url, path, "--workers", "2", "--limit", "10")
    print(f"  workers: fork server and first pool start-up {time.perf_counter() - started:.3f} s")
    counts = (1, 2, 4)
    times: dict[int, list[float]] = {0: [], **{n: [] for n in counts}}
    for run in range(args.runs):
        order = [0, *counts] if run % 2 == 0 else [*reversed(counts), 0]
        for n in order:
            _queues(args.url, topic, "purge")
            if n == 0:
                times[0].append(bare_loop(args.url, exchange, topic, rows))
            else:
                times[n].append(osreplay_command(args.url, path, "--workers", str(n)))
    bare = min(times[0])
    print(f"  bare Notifier loop          {bare:7.3f} s  {args.records / bare:7.0f} msg/s  1.000x")
    ok = True
    for n in counts:
        best = min(times[n])
        ratio = bare / best
        target = "  (target >= 1.2x) " + ("ok" if ratio >= 1.2 else "MISSED") if n == 4 else ""
        ok &= n != 4 or ratio >= 1.2
        print(
            f"  osreplay --workers {n} --rate 0 {best:6.3f} s  {args.records / best:7.0f} msg/s  "
            f"{ratio:.3f}x  (runs: {', '.join(f'{t:.3f}' for t in times[n])}){target}"
        )
    # The ceiling: two bare loops side by side against one, each in a process of its own.
    ceiling: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.runs):
        for loops in (1, 2):
            _queues(args.url, topic, "purge")
            ceiling[loops].append(parallel_bare(args.url, exchange, topic, rows, loops))
    one, two = max(ceiling[1]), max(ceiling[2])
    four = args.records / min(times[4])
    print(
        f"  ceiling: one bare loop in a process {one:7.0f} msg/s, two side by side "
        f"{two:7.0f} msg/s ({two / one:.2f}x); --workers 4 moved {four / two:.0%} of the two"
    )
    _queues(args.url, topic, "purge")
    line = _command(args.url, paced_path, "--rate", "1000", "--workers", "4").strip()
    achieved = float(line.split("(")[1].split()[0])
    rate_ok = abs(achieved - 1000) <= 1000 * 0.02 and line.startswith("Replayed")
    print(f"  osreplay replay --rate 1000 --workers 4: {line}")
    print(f"  achieved {achieved:.1f} msg/s (target 1000 +/- 2 %) {'ok' if rate_ok else 'MISSED'}")
    return ok and rate_ok


def _queues(url: str, topic: str, action: str, exchange: str | None = None) -> None:
    """Purge (between runs) or delete (at the end) the queues oslo declared for ``topic``."""
    import kombu
    from amqp.exceptions import NotFound

    from osreplay.bus.transport import amqp_urls, resolve

    with kombu.Connection(amqp_urls(resolve(url=url, environ={}))[0]) as connection:
        channel = connection.channel()
        for priority in PRIORITIES:
            name = f"{topic}.{priority.lower()}"
            try:
                if action == "purge":
                    channel.queue_purge(name)
                else:
                    channel.queue_delete(name)
            except NotFound:
                # Already gone (deleted by someone else, or never declared): nothing to
                # purge. The broker closed the channel with the 404: take a new one.
                channel = connection.channel()
        if exchange is not None:
            channel.exchange_delete(exchange)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="rabbit://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rate-records", type=int, default=2000)
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.CRITICAL)
    from osreplay.bus.transport import mask_url

    tag = uuid.uuid4().hex[:8]
    exchange, topic = f"bench-replay-{tag}", f"bench-replay-{tag}"
    rows = make_records(args.records, exchange, topic)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.ndjson")
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
        paced_path = str(Path(tmp) / "paced.ndjson")
        with open(paced_path, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows[: args.rate_records])
        try:
            print(
                f"osreplay replay benchmark: {mask_url(args.url)}, {args.records} records "
                f"({Path(path).stat().st_size / args.records:.0f} bytes each), messagingv2, "
                f"best of {args.runs}"
            )
            bare_loop(args.url, exchange, topic, rows[:50])  # warm-up: exchange, queues
            bare, ours = [], []
            for run in range(args.runs):
                # Empty queues for every run (a growing backlog slows the broker), and the
                # order alternates so neither side always runs second.
                pair = [
                    (bare, lambda: bare_loop(args.url, exchange, topic, rows)),
                    (ours, lambda: osreplay_command(args.url, path)),
                ]
                for times, measure in pair if run % 2 == 0 else reversed(pair):
                    _queues(args.url, topic, "purge")
                    times.append(measure())
            best_bare, best_ours = min(bare), min(ours)
            ratio = best_bare / best_ours
            runs = lambda times: ", ".join(f"{t:.3f}" for t in times)  # noqa: E731
            print(
                f"  bare Notifier loop      {best_bare:7.3f} s  {args.records / best_bare:7.0f} "
                f"msg/s  (runs: {runs(bare)})"
            )
            print(
                f"  osreplay replay --rate 0 {best_ours:6.3f} s  {args.records / best_ours:7.0f} "
                f"msg/s  (runs: {runs(ours)})"
            )
            verdict = "ok" if ratio >= 0.95 else "MISSED"
            ok &= ratio >= 0.95
            print(f"  ratio osreplay/bare throughput: {ratio:.3f}x (target >= 0.95x) {verdict}")

            ok &= workers_curve(args, exchange, topic, rows, path, paced_path)

            _queues(args.url, topic, "purge")
            summary, lateness = paced(args.url, paced_path, args.rate)
            achieved = summary.rate  # type: ignore[attr-defined]
            median = statistics.median(lateness) * 1000
            worst = max(lateness) * 1000
            rate_ok = abs(achieved - args.rate) <= args.rate * 0.01 and median < 2.0
            ok &= rate_ok and summary.ok  # type: ignore[attr-defined]
            print(
                f"  osreplay replay --rate {args.rate:g}, {args.rate_records} records: "
                f"{summary_line(summary)}"  # type: ignore[arg-type]
            )
            print(
                f"  achieved {achieved:.2f} msg/s (target {args.rate:g} +/- 1 %), lateness "
                f"median {median:.3f} ms, p99 "
                f"{sorted(lateness)[int(len(lateness) * 0.99)] * 1000:.3f} ms, max {worst:.3f} "
                f"ms (target median < 2 ms) {'ok' if rate_ok else 'MISSED'}"
            )
        finally:
            _queues(args.url, topic, "delete", exchange)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Replay a recording into a real Ceilometer notification agent and compare what it
publishes with ``osreplay ceilometer``'s prediction. Run by hand, not in CI:

    python tests/fidelity/ceilometer_agent.py RECORDING --events FILE --meters DIR \\
        [--ceilometer /work/venvs/ceilometer] [--url rabbit://guest:guest@127.0.0.1:5672]

It needs Ceilometer installed in a venv of its own (``pip install ceilometer==27.0.0``)
and ``rabbitmqctl`` on a RabbitMQ it may add a vhost to. It creates a vhost of its own
(the agent consumes the shared ``notifications.*`` queues), starts
``ceilometer-agent-notification`` there with the given definitions and pipelines whose
``file://…?json`` publishers write events and samples, replays the recording with
``osreplay replay``, waits until the output stops growing, stops the agent and deletes
the vhost. Then it compares, as multisets (a replay gives each notification a new
message id, so nothing links an output to its record but its content):

- events: event_type, and the traits as a set of (name, type, value);
- samples: name, type, unit, volume, resource_id, user_id, project_id.

Exit 0 when agent and prediction agree, 1 when they differ (each difference printed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

DTYPES = {0: "none", 1: "text", 2: "int", 3: "float", 4: "datetime"}
SAMPLE_KEYS = ("name", "type", "unit", "volume", "resource_id", "user_id", "project_id")


def main() -> int:
    args = _arguments()
    vhost = f"osreplay-fidelity-{uuid.uuid4().hex[:12]}"
    work = Path(tempfile.mkdtemp(prefix="osreplay-fidelity-"))
    url = f"{args.url.rstrip('/')}/{vhost}"
    _run(["rabbitmqctl", "add_vhost", vhost])
    agent = None
    try:
        _run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"])
        config = _write_config(work, url, args)
        log = open(work / "agent.log", "w")
        agent = subprocess.Popen(
            [f"{args.ceilometer}/bin/ceilometer-agent-notification", "--config-file", config],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for_consumer(vhost, agent, timeout=args.timeout)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "osreplay",
                "replay",
                args.recording,
                "--url",
                url,
                "--rate",
                "0",
                "--quiet",
            ],
            check=True,
        )
        _wait_until_quiet(work, timeout=args.timeout, quiet=args.quiet_seconds)
    finally:
        if agent is not None:
            os.killpg(agent.pid, signal.SIGTERM)
            try:
                agent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(agent.pid, signal.SIGKILL)
                agent.wait()
        _run(["rabbitmqctl", "delete_vhost", vhost])
    agent_events = _read_lines(work / "events.json")
    agent_samples = _read_lines(work / "samples.json")
    predicted = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "osreplay",
                "ceilometer",
                args.recording,
                "--events",
                args.events,
                *sum((["--meters", m] for m in args.meters), []),
                "--format",
                "json",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    print(f"agent output and log in {work}")
    return _compare(predicted, agent_events, agent_samples)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording")
    parser.add_argument("--events", required=True)
    parser.add_argument("--meters", action="append", required=True)
    parser.add_argument("--ceilometer", default="/work/venvs/ceilometer")
    parser.add_argument("--url", default="rabbit://guest:guest@127.0.0.1:5672")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--quiet-seconds", type=float, default=15.0)
    return parser.parse_args()


def _run(command: list[str]) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _write_config(work: Path, url: str, args: argparse.Namespace) -> str:
    (work / "pipeline.yaml").write_text(
        "---\nsources:\n  - name: meter_source\n    meters: ['*']\n    sinks: [meter_sink]\n"
        f"sinks:\n  - name: meter_sink\n    publishers: ['file://{work}/samples.json?json']\n"
    )
    (work / "event_pipeline.yaml").write_text(
        "---\nsources:\n  - name: event_source\n    events: ['*']\n    sinks: [event_sink]\n"
        f"sinks:\n  - name: event_sink\n    publishers: ['file://{work}/events.json?json']\n"
    )
    folders = []
    for number, given in enumerate(args.meters):
        if os.path.isdir(given):
            folders.append(os.path.abspath(given))
        else:  # Ceilometer reads folders only: a file goes into one of its own
            folder = work / f"meters-{number}"
            folder.mkdir()
            (folder / "meters.yaml").symlink_to(os.path.abspath(given))
            folders.append(str(folder))
    meters = "\n".join(f"meter_definitions_dirs = {folder}" for folder in folders)
    config = work / "ceilometer.conf"
    config.write_text(
        f"[DEFAULT]\ntransport_url = {url}\n"
        f"pipeline_cfg_file = {work}/pipeline.yaml\n"
        f"event_pipeline_cfg_file = {work}/event_pipeline.yaml\n"
        f"[notification]\nmessaging_urls = {url}\npipelines = meter\npipelines = event\n"
        "workers = 1\n"
        f"[event]\ndefinitions_cfg_file = {os.path.abspath(args.events)}\n"
        f"[meter]\n{meters}\n"
    )
    return str(config)


def _wait_for_consumer(vhost: str, agent: subprocess.Popen[bytes], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise SystemExit(f"the agent exited with {agent.returncode}; see its log")
        listing = _run(["rabbitmqctl", "list_queues", "-p", vhost, "-q", "name", "consumers"])
        consumers = dict(line.split()[:2] for line in listing.splitlines() if line.strip())
        if (
            consumers.get("notifications.info", "0") != "0"
            and consumers.get("notifications.sample", "0") != "0"
        ):
            return
        time.sleep(1)
    raise SystemExit("the agent did not start consuming in time")


def _wait_until_quiet(work: Path, *, timeout: float, quiet: float) -> None:
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        sizes = tuple(
            (work / name).stat().st_size if (work / name).exists() else -1
            for name in ("events.json", "samples.json")
        )
        if sizes != last:
            last, since = sizes, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(1)


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _event_key(event_type: str, traits: list[tuple[str, str, Any]]) -> Any:
    return (event_type, tuple(sorted((n, t, json.dumps(v)) for n, t, v in traits)))


def _compare(
    predicted: dict[str, Any], events: list[dict[str, Any]], samples: list[dict[str, Any]]
) -> int:
    want_events = Counter(
        _event_key(e["event_type"], [(t["name"], t["type"], t["value"]) for t in e["traits"]])
        for e in predicted["events"]
    )
    got_events = Counter(
        _event_key(
            e["event_type"], [(t["name"], DTYPES[t["dtype"]], t["value"]) for t in e["traits"]]
        )
        for e in events
    )
    want_samples = Counter(
        tuple(json.dumps(s[k]) for k in SAMPLE_KEYS) for s in predicted["samples"]
    )
    got_samples = Counter(tuple(json.dumps(s[k]) for k in SAMPLE_KEYS) for s in samples)
    differences = 0
    for label, want, got in (
        ("event", want_events, got_events),
        ("sample", want_samples, got_samples),
    ):
        for item in sorted(set(want) | set(got), key=repr):
            if want[item] != got[item]:
                differences += 1
                print(f"{label} differs: predicted {want[item]}, agent {got[item]}: {item}")
    print(
        f"events: {sum(want_events.values())} predicted, {sum(got_events.values())} from the "
        f"agent; samples: {sum(want_samples.values())} predicted, {sum(got_samples.values())} "
        f"from the agent; {differences} differences"
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast is ``osreplay validate`` against the obvious jsonschema loops?

    python benchmarks/validate.py [--records 100000] [--runs 3]

Writes a mixed recording (60 % keystone CADF audit events, 40 % nova versioned payloads,
about one record in a hundred made invalid) to a temporary folder, then times, best of
``--runs``:

- ``osreplay validate -q FILE`` as a subprocess (``python -m osreplay`` from this checkout,
  interpreter startup and imports included);
- ``iter_errors`` baseline, what a user writes to get error messages: ``json.loads`` per
  line and ``list(validator.iter_errors(...))`` with jsonschema validators compiled once,
  for the envelope (required keys, priority enum), a minimal CADF event schema (the
  spec's required keys, its enums, and the initiator/target/observer resources with
  ``typeURI`` and ``id`` through one ``$ref``'d definition) and a minimal versioned-payload
  schema (the four ``nova_object.*`` keys), i.e. far less than osreplay checks; shown
  again with the CADF resources left out (keys and enums only), for reference;
- ``is_valid`` baseline: that lean loop with ``validator.is_valid(...)``, a yes/no answer
  without messages (shown for reference).

It prints the times, records/s, both ratios and the peak RSS of the osreplay process,
checks (with one more, untimed ``--format json`` run) that all three found the same
invalid lines, and exits 1 when osreplay is not at least 5x faster than the
``iter_errors`` baseline or uses 150 MB or more.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jsonschema

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 5.0
TARGET_RSS_MB = 150
CADF = "http://schemas.dmtf.org/cloud/audit/1.0/event"
PRIORITIES = ["AUDIT", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SAMPLE"]

MIN_ENVELOPE = {
    "type": "object",
    "required": ["event_type", "publisher_id", "priority", "payload"],
    "properties": {"priority": {"enum": PRIORITIES}},
}
MIN_CADF = {
    "type": "object",
    "required": ["typeURI", "id", "eventType", "eventTime", "action", "outcome"],
    "properties": {
        "eventType": {"enum": ["activity", "monitor", "control"]},
        "outcome": {"enum": ["success", "failure", "pending", "unknown"]},
    },
}
# The iter_errors baseline's CADF schema: the minimum a CADF event has by the DMTF spec,
# the keys and enums above plus the three resources (typeURI and id), one definition
# referenced three times, as a user writes it.
MIN_CADF_EVENT = {
    "type": "object",
    "required": [*MIN_CADF["required"], "initiator", "target", "observer"],
    "properties": {
        **MIN_CADF["properties"],
        "initiator": {"$ref": "#/definitions/resource"},
        "target": {"$ref": "#/definitions/resource"},
        "observer": {"$ref": "#/definitions/resource"},
    },
    "definitions": {
        "resource": {
            "type": "object",
            "required": ["typeURI", "id"],
            "properties": {"typeURI": {"type": "string"}, "id": {"type": "string"}},
        }
    },
}
MIN_VERSIONED = {
    "type": "object",
    "required": [
        "nova_object.name",
        "nova_object.namespace",
        "nova_object.version",
        "nova_object.data",
    ],
}


def cadf_record(rng: random.Random, n: int) -> dict:
    return {
        "event_type": "identity.authenticate",
        "publisher_id": "identity.keystone-1",
        "priority": "INFO",
        "message_id": f"00000000-0000-4000-8000-{n:012d}",
        "timestamp": "2024-03-05 09:14:07.121004",
        "recorded_at": "2024-03-05T09:14:07.130012+00:00",
        "ctxt": {"request_id": f"req-{n:08d}", "user_id": "3f1e6a0c9b5d4e7f8a2b1c0d9e8f7a6b"},
        "payload": {
            "typeURI": CADF,
            "id": f"5c1f0e2d-7a3b-5c4d-8e9f-{n:012d}",
            "eventType": "activity",
            "eventTime": "2024-03-05T09:14:07.120331+0000",
            "action": "authenticate",
            "outcome": rng.choice(["success", "failure"]),
            "initiator": {
                "typeURI": "service/security/account/user",
                "id": "3f1e6a0c9b5d4e7f8a2b1c0d9e8f7a6b",
                "host": {"address": "192.0.2.44", "agent": "python-openstackclient"},
            },
            "target": {"typeURI": "service/security/account/user", "id": "b7c2d1e0"},
            "observer": {"typeURI": "service/security", "id": "d41d8cd98f00b204e9800998ecf8427e"},
            "reason": {"reasonType": "HTTP", "reasonCode": "401"},
        },
    }


def nova_object(name: str, data: dict, version: str = "1.0") -> dict:
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version,
        "nova_object.data": data,
    }


def nova_record(rng: random.Random, n: int) -> dict:
    flavor = nova_object(
        "FlavorPayload",
        {"flavorid": "c1", "name": "m1.small", "memory_mb": 2048, "vcpus": 1, "root_gb": 20},
        "1.4",
    )
    ip = nova_object("IpPayload", {"address": "198.51.100.17", "version": 4, "mac": "fa:16:3e"})
    return {
        "event_type": rng.choice(["instance.create.end", "instance.update"]),
        "publisher_id": "nova-compute:compute-2",
        "priority": "INFO",
        "recorded_at": "2024-03-05T10:02:11.000000+00:00",
        "payload": nova_object(
            "InstanceCreatePayload",
            {
                "uuid": f"9a8b7c6d-5e4f-4a3b-8c2d-{n:012d}",
                "display_name": f"web-{n}",
                "state": "active",
                "flavor": flavor,
                "ip_addresses": [ip],
                "metadata": {},
                "tags": ["web"],
            },
            "1.12",
        ),
    }


def spoil(record: dict, rng: random.Random) -> dict:
    """A defect both osreplay and the minimal schemas catch."""
    payload = record["payload"]
    choice = rng.randrange(3)
    if choice == 0:
        record["priority"] = "NOTICE"
    elif "typeURI" in payload:
        payload["outcome" if choice == 1 else "eventType"] = "bogus"
    else:
        del payload["nova_object.version"]
    return record


def generate(path: Path, records: int) -> set[int]:
    rng = random.Random(42)
    invalid: set[int] = set()
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, records + 1):
            record = cadf_record(rng, n) if n % 5 < 3 else nova_record(rng, n)
            if rng.random() < 0.01:
                record = spoil(record, rng)
                invalid.add(n)
            out.write(json.dumps(record) + "\n")
    return invalid


def baseline_errors(path: Path, cadf_schema: dict = MIN_CADF_EVENT) -> set[int]:
    """What a user writes to get the messages: every error of every record, listed."""
    envelope = jsonschema.Draft7Validator(MIN_ENVELOPE)
    cadf = jsonschema.Draft7Validator(cadf_schema)
    versioned = jsonschema.Draft7Validator(MIN_VERSIONED)
    invalid: set[int] = set()
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            obj = json.loads(raw)
            errors = list(envelope.iter_errors(obj))
            payload = obj.get("payload")
            if isinstance(payload, dict):
                if payload.get("typeURI") == CADF:
                    errors += list(cadf.iter_errors(payload))
                elif "nova_object.name" in payload:
                    errors += list(versioned.iter_errors(payload))
            if errors:
                invalid.add(lineno)
    return invalid


def baseline(path: Path) -> set[int]:
    envelope = jsonschema.Draft7Validator(MIN_ENVELOPE)
    cadf = jsonschema.Draft7Validator(MIN_CADF)
    versioned = jsonschema.Draft7Validator(MIN_VERSIONED)
    invalid: set[int] = set()
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, 1):
            obj = json.loads(raw)
            ok = envelope.is_valid(obj)
            payload = obj.get("payload")
            if isinstance(payload, dict):
                if payload.get("typeURI") == CADF:
                    ok = cadf.is_valid(payload) and ok
                elif "nova_object.name" in payload:
                    ok = versioned.is_valid(payload) and ok
            if not ok:
                invalid.add(lineno)
    return invalid


def run_osreplay(path: Path, *extra: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "osreplay", "validate", *extra, str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,  # python -m osreplay: the checkout's osreplay
    )
    if proc.returncode not in (0, 1):
        sys.exit(f"osreplay validate failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def osreplay_invalid_lines(path: Path) -> set[int]:
    report = json.loads(run_osreplay(path, "--format", "json"))
    return {problem["line"] for problem in report["problems"]}


def best_of(runs: int, func, *args):
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.ndjson"
        expected = generate(path, args.records)
        size_mb = path.stat().st_size / 1e6
        invalid = len(expected)
        print(f"{args.records} records ({size_mb:.1f} MB), {invalid} invalid, best of {args.runs}")

        ours, summary = best_of(args.runs, run_osreplay, path, "-q")
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        ours_invalid = osreplay_invalid_lines(path)  # untimed: the same run, with a report
        errors_time, errors_invalid = best_of(args.runs, baseline_errors, path)
        lean_time, lean_invalid = best_of(args.runs, baseline_errors, path, MIN_CADF)
        valid_time, valid_invalid = best_of(args.runs, baseline, path)

    ratio = errors_time / ours
    print(f"osreplay says: {summary.strip()}")
    print(f"osreplay validate -q:         {ours:7.2f} s  {args.records / ours:9,.0f} records/s")
    print(
        f"json + jsonschema iter_errors: {errors_time:7.2f} s  "
        f"{args.records / errors_time:9,.0f} records/s"
    )
    print(
        f"  same, CADF keys+enums only:  {lean_time:7.2f} s  "
        f"{args.records / lean_time:9,.0f} records/s"
    )
    print(
        f"json + jsonschema is_valid:    {valid_time:7.2f} s  "
        f"{args.records / valid_time:9,.0f} records/s"
    )
    print(f"ratio to iter_errors: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x)")
    print(f"ratio to iter_errors, CADF keys+enums only: {lean_time / ours:.1f}x (for reference)")
    print(f"ratio to is_valid:    {valid_time / ours:.1f}x (for reference)")
    print(f"peak RSS of osreplay: {rss_mb:.0f} MB (target < {TARGET_RSS_MB} MB)")
    same = ours_invalid == errors_invalid == lean_invalid == valid_invalid == expected
    print(f"same verdicts: {'yes' if same else 'NO'} ({len(ours_invalid)} invalid lines found)")
    if not same:
        print(f"  only osreplay: {sorted(ours_invalid - errors_invalid)[:10]}")
        print(f"  only baseline: {sorted(errors_invalid - ours_invalid)[:10]}")
    return 0 if same and ratio >= TARGET_RATIO and rss_mb < TARGET_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())

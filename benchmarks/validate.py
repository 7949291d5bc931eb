"""How fast is ``osreplay validate`` against the obvious jsonschema loops?

    python benchmarks/validate.py [--records 100000] [--runs 3]

Writes a mixed recording (60 % keystone CADF audit events, 40 % nova versioned payloads
shaped as nova 2025.x sends them: instance.create.end and instance.update with their
flavor, IP, keypair and volume objects; about one record in a hundred made invalid) to a
temporary folder, then times, best of ``--runs``:

- ``osreplay validate -q FILE`` as a subprocess (``python -m osreplay`` from this checkout,
  interpreter startup and imports included);
- ``iter_errors`` baseline, what a user writes to get error messages: ``json.loads`` per
  line and ``list(validator.iter_errors(...))`` with jsonschema validators compiled once,
  for the envelope (required keys, priority enum), a minimal CADF event schema (the
  spec's required keys, its enums, and the initiator/target/observer resources with
  ``typeURI`` and ``id`` through one ``$ref``'d definition) and, for nova, the very
  schemas osreplay ships (``schemas/nova/<Name>/<version>.json``, one validator per object
  version, each nested object checked against the schema of its own version); shown again
  with the CADF resources left out (keys and enums only), for reference;
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


def instance_data(rng: random.Random, n: int) -> dict:
    """InstancePayload's fields as nova fills them, with its nested objects."""
    flavor = nova_object(
        "FlavorPayload",
        {
            "flavorid": "7b1e6f2a-94c3-4d0e-b5a8-3c2f1e0d9b8a",
            "name": "m1.small",
            "memory_mb": 2048,
            "vcpus": 1,
            "root_gb": 20,
            "ephemeral_gb": 0,
            "swap": 0,
            "rxtx_factor": 1.0,
            "vcpu_weight": 0,
            "disabled": False,
            "is_public": True,
            "extra_specs": {"hw:cpu_policy": "shared"},
            "description": None,
            "projects": None,
        },
        "1.4",
    )
    ip = nova_object(
        "IpPayload",
        {
            "address": f"198.51.{n % 250}.{n % 200 + 10}",
            "device_name": f"tap{n:08x}-3e",
            "label": "private",
            "mac": "fa:16:3e:5d:1c:0b",
            "meta": {},
            "port_uuid": f"5d1c0b2a-3e4f-4a5b-8c6d-{n:012d}",
            "version": 4,
        },
    )
    keypair = nova_object(
        "KeypairPayload",
        {
            "fingerprint": None,
            "name": "ops-key",
            "public_key": None,
            "type": "ssh",
            "user_id": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        },
    )
    volume = nova_object(
        "BlockDevicePayload",
        {
            "boot_index": None,
            "delete_on_termination": False,
            "device_name": "/dev/vdb",
            "tag": None,
            "volume_id": f"8e7d6c5b-4a39-4281-9f0e-{n:012d}",
        },
    )
    return {
        "uuid": f"9a8b7c6d-5e4f-4a3b-8c2d-{n:012d}",
        "display_name": f"web-{n}",
        "display_description": f"web-{n}",
        "host": "compute-2",
        "host_name": f"web-{n}",
        "node": "compute-2.example.org",
        "instance_name": f"instance-{n:08x}",
        "state": "active",
        "task_state": None,
        "power_state": "running",
        "progress": 0,
        "tenant_id": "6f5e4d3c2b1a40f9e8d7c6b5a4f3e2d1",
        "user_id": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        "image_uuid": "4c3b2a19-0f8e-4d7c-b6a5-948372615a0b",
        "kernel_id": "",
        "ramdisk_id": "",
        "architecture": "x86_64",
        "os_type": None,
        "availability_zone": "nova",
        "auto_disk_config": "MANUAL",
        "locked": False,
        "locked_reason": None,
        "key_name": "ops-key",
        "reservation_id": f"r-{n:08x}",
        "request_id": f"req-5b6c7d8e-9f0a-4b1c-8d2e-{n:012d}",
        "action_initiator_user": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        "action_initiator_project": "6f5e4d3c2b1a40f9e8d7c6b5a4f3e2d1",
        "created_at": "2024-03-05T10:01:44Z",
        "launched_at": "2024-03-05T10:02:11Z",
        "updated_at": None,
        "deleted_at": None,
        "terminated_at": None,
        "metadata": {"role": "web"},
        "tags": ["web"],
        "trusted_image_certificates": None,
        "flavor": flavor,
        "ip_addresses": [ip],
        "block_devices": [volume],
        "shares": [],
        "fault": None,
        "keypairs": [keypair],
    }


def nova_record(rng: random.Random, n: int) -> dict:
    """instance.create.end (InstanceCreatePayload 1.13) or instance.update (2.1)."""
    data = instance_data(rng, n)
    if rng.random() < 0.5:
        event_type, payload = (
            "instance.create.end",
            nova_object("InstanceCreatePayload", data, "1.13"),
        )
    else:
        data.pop("keypairs")
        data["audit_period"] = nova_object(
            "AuditPeriodPayload",
            {
                "audit_period_beginning": "2024-03-01T00:00:00Z",
                "audit_period_ending": "2024-03-05T10:02:11Z",
            },
        )
        data["state_update"] = nova_object(
            "InstanceStateUpdatePayload",
            {
                "old_state": "building",
                "state": "active",
                "old_task_state": "spawning",
                "new_task_state": None,
            },
        )
        data["old_display_name"] = None
        event_type, payload = "instance.update", nova_object("InstanceUpdatePayload", data, "2.1")
    return {
        "event_type": event_type,
        "publisher_id": "nova-compute:compute-2",
        "priority": "INFO",
        "message_id": f"3c4d5e6f-7a8b-4c9d-8e0f-{n:012d}",
        "timestamp": "2024-03-05 10:02:11.481516",
        "recorded_at": "2024-03-05T10:02:11.500000+00:00",
        "payload": payload,
    }


def spoil(record: dict, rng: random.Random) -> dict:
    """A defect both osreplay and the baseline's schemas catch."""
    payload = record["payload"]
    choice = rng.randrange(3)
    if choice == 0:
        record["priority"] = "NOTICE"
    elif "typeURI" in payload:
        payload["outcome" if choice == 1 else "eventType"] = "bogus"
    elif choice == 1:
        del payload["nova_object.version"]
    else:
        payload["nova_object.data"]["flavor"]["nova_object.data"]["memory_mb"] = "big"
    return record


class VersionedSchemas:
    """What a user writes to check nova payloads against the shipped schemas: one jsonschema
    validator per object version, built once, and each nested object checked against the
    schema of its own name and version (the four wrapper keys when none is shipped)."""

    def __init__(self) -> None:
        self.validators: dict[tuple, jsonschema.Draft7Validator] = {}

    def validator(self, obj: dict) -> jsonschema.Draft7Validator:
        key = (obj.get("nova_object.name"), obj.get("nova_object.version"))
        if key not in self.validators:
            path = REPO / "schemas" / "nova" / str(key[0]) / f"{key[1]}.json"
            schema = json.loads(path.read_text()) if path.is_file() else MIN_VERSIONED
            self.validators[key] = jsonschema.Draft7Validator(schema)
        return self.validators[key]

    def nested(self, obj: dict) -> list[dict]:
        data = obj.get("nova_object.data")
        found = []
        for value in data.values() if isinstance(data, dict) else ():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and "nova_object.name" in item:
                    found.append(item)
        return found

    def errors(self, obj: dict) -> list:
        errors = list(self.validator(obj).iter_errors(obj))
        for child in self.nested(obj):
            errors += self.errors(child)
        return errors

    def is_valid(self, obj: dict) -> bool:
        return self.validator(obj).is_valid(obj) and all(
            self.is_valid(child) for child in self.nested(obj)
        )


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
    versioned = VersionedSchemas()
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
                    errors += versioned.errors(payload)
            if errors:
                invalid.add(lineno)
    return invalid


def baseline(path: Path) -> set[int]:
    envelope = jsonschema.Draft7Validator(MIN_ENVELOPE)
    cadf = jsonschema.Draft7Validator(MIN_CADF)
    versioned = VersionedSchemas()
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

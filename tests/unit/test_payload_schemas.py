"""nova and ironic payloads checked field by field, against the schema of their version.

The records here are the project's own, shaped as nova and ironic send them; the corpus
part (``../shared/corpus``) is skipped where that folder is absent.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from osreplay.validate.compiler import compile_check
from osreplay.validate.schemas import schema_files
from osreplay.validate.validator import INVALID, NO_SCHEMA, VALID, Validator
from osreplay.validate.verdicts import BETWEEN, MAJOR, NEWER, OLDER, UNKNOWN, Note

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "schemas"
CORPUS = ROOT.parent / "shared" / "corpus"
# The corpus README's known defects: none is a nova or ironic sample.
KNOWN_INVALID: set[str] = set()
CADF_URI = "http://schemas.dmtf.org/cloud/audit/1.0/event"


def nova(name: str, version: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "nova_object.name": name,
        "nova_object.namespace": "nova",
        "nova_object.version": version,
        "nova_object.data": data,
    }


def instance_create_end() -> dict[str, Any]:
    """An instance.create.end as nova 2025.x sends it (InstanceCreatePayload 1.13)."""
    flavor = nova(
        "FlavorPayload",
        "1.4",
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
    )
    ip = nova(
        "IpPayload",
        "1.0",
        {
            "address": "203.0.113.24",
            "device_name": "tap5d1c0b2a-3e",
            "label": "private",
            "mac": "fa:16:3e:5d:1c:0b",
            "meta": {},
            "port_uuid": "5d1c0b2a-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
            "version": 4,
        },
    )
    keypair = nova(
        "KeypairPayload",
        "1.0",
        {
            "fingerprint": "3f:2e:1d:0c:9b:8a:79:68:57:46:35:24:13:02:f1:e0",
            "name": "ops-key",
            "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleOnlyKeyForTests ops",
            "type": "ssh",
            "user_id": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        },
    )
    volume = nova(
        "BlockDevicePayload",
        "1.0",
        {
            "boot_index": None,
            "delete_on_termination": False,
            "device_name": "/dev/vdb",
            "tag": None,
            "volume_id": "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5f6e",
        },
    )
    data = {
        "uuid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "display_name": "web-1",
        "display_description": "web-1",
        "host": "compute-2",
        "host_name": "web-1",
        "node": "compute-2.example.org",
        "instance_name": "instance-0000002a",
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
        "reservation_id": "r-3k9d2m1x",
        "request_id": "req-5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
        "action_initiator_user": "0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5",
        "action_initiator_project": "6f5e4d3c2b1a40f9e8d7c6b5a4f3e2d1",
        "created_at": "2026-11-30T09:12:44Z",
        "launched_at": "2026-11-30T09:13:02Z",
        "updated_at": None,
        "deleted_at": None,
        "terminated_at": None,
        "metadata": {"role": "web"},
        "tags": ["web"],
        "trusted_image_certificates": None,
        "flavor": flavor,
        "ip_addresses": [ip],
        "keypairs": [keypair],
        "block_devices": [volume],
        "shares": [],
        "fault": None,
    }
    return {
        "event_type": "instance.create.end",
        "publisher_id": "nova-compute:compute-2",
        "priority": "INFO",
        "message_id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
        "timestamp": "2026-11-30 09:13:02.481516",
        "payload": nova("InstanceCreatePayload", "1.13", data),
    }


def node_update_end() -> dict[str, Any]:
    """A baremetal.node.update.end as ironic sends it (NodeCRUDPayload 1.15)."""
    data = {
        "uuid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        "name": "rack3-node07",
        "chassis_uuid": None,
        "clean_step": {},
        "deploy_step": {},
        "conductor_group": "",
        "console_enabled": False,
        "created_at": "2026-11-02T08:00:00+00:00",
        "updated_at": "2026-11-30T09:00:00+00:00",
        "description": None,
        "driver": "ipmi",
        "driver_info": {"ipmi_address": "198.51.100.7", "ipmi_username": "admin"},
        "extra": {},
        "instance_info": {},
        "instance_uuid": None,
        "last_error": None,
        "lessee": None,
        "owner": None,
        "maintenance": False,
        "maintenance_reason": None,
        "fault": None,
        "power_state": "power off",
        "target_power_state": None,
        "properties": {"cpus": 16, "memory_mb": 65536, "local_gb": 400, "cpu_arch": "x86_64"},
        "protected": False,
        "protected_reason": None,
        "provision_state": "available",
        "target_provision_state": None,
        "provision_updated_at": None,
        "resource_class": "baremetal.large",
        "retired": False,
        "retired_reason": None,
        "traits": ["CUSTOM_GPU"],
        "inspection_started_at": None,
        "inspection_finished_at": None,
    }
    for interface in (
        "bios",
        "boot",
        "console",
        "deploy",
        "firmware",
        "inspect",
        "management",
        "network",
        "power",
        "raid",
        "rescue",
        "storage",
        "vendor",
    ):
        data[f"{interface}_interface"] = "fake"
    return {
        "event_type": "baremetal.node.update.end",
        "publisher_id": "ironic-api.host1",
        "priority": "INFO",
        "payload": {
            "ironic_object.name": "NodeCRUDPayload",
            "ironic_object.namespace": "ironic",
            "ironic_object.version": "1.15",
            "ironic_object.data": data,
        },
    }


@pytest.fixture()
def validator() -> Validator:
    return Validator()


def problems(validator: Validator, record: dict[str, Any]) -> list[tuple[str | None, str]]:
    verdict = validator.validate_object(record)
    return [(p.json_path, p.message) for p in verdict.problems]


def at(record: dict[str, Any], path: str) -> tuple[Any, str]:
    """The parent of the node at a ``/``-separated path and the node's key."""
    parts = path.split("/")
    node: Any = record
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def changed(record: dict[str, Any], path: str, value: Any = ...) -> dict[str, Any]:
    """A copy of ``record`` with the node at ``path`` set to ``value`` (``...``: deleted)."""
    record = copy.deepcopy(record)
    parent, key = at(record, path)
    if value is ...:
        del parent[key]
    else:
        parent[key] = value
    return record


DATA = "payload/nova_object.data"
FLAVOR = f"{DATA}/flavor/nova_object.data"
IP = f"{DATA}/ip_addresses/0/nova_object.data"


# -- real-shaped payloads pass, and each mutation is one problem at its path ------------------


def test_real_shaped_payloads_are_valid_against_the_schema_of_their_version(
    validator: Validator,
) -> None:
    for record, schema in [
        (instance_create_end(), "nova:InstanceCreatePayload@1.13"),
        (node_update_end(), "ironic:NodeCRUDPayload@1.15"),
    ]:
        verdict = validator.validate_object(record)
        assert (verdict.status, verdict.problems) == (VALID, ())
        assert verdict.schemas == ("envelope", schema)
        assert validator.fast_schema(record) == ("envelope", schema)
    assert list(validator.notes) == []


@pytest.mark.parametrize(
    ("path", "value", "json_path", "message"),
    [
        (  # a wrong type in a nested object
            f"{FLAVOR}/memory_mb",
            "big",
            "$.payload.nova_object.data.flavor.nova_object.data.memory_mb",
            "\"big\" is not of type 'integer' or 'null'",
        ),
        (
            f"{IP}/version",
            "4",
            "$.payload.nova_object.data.ip_addresses[0].nova_object.data.version",
            "\"4\" is not of type 'integer'",
        ),
        (  # a value outside an enum
            f"{DATA}/state",
            "running",
            "$.payload.nova_object.data.state",
            '"running" is not one of "active", "building", "deleted", "error", "paused", '
            '"rescued", "resized", "shelved", "shelved_offloaded", "soft-delete", "stopped", '
            '"suspended", null',
        ),
        (
            f"{DATA}/state",
            ["x"],
            "$.payload.nova_object.data.state",
            'an array is not one of "active", "building", "deleted", "error", "paused", '
            '"rescued", "resized", "shelved", "shelved_offloaded", "soft-delete", "stopped", '
            '"suspended", null',
        ),
        (  # a missing non-nullable field
            f"{DATA}/locked",
            ...,
            "$.payload.nova_object.data",
            "'locked' is a required property",
        ),
        (
            f"{FLAVOR}/is_public",
            ...,
            "$.payload.nova_object.data.flavor.nova_object.data",
            "'is_public' is a required property",
        ),
        (  # a UUID field that is not a UUID
            f"{DATA}/uuid",
            "web-1",
            "$.payload.nova_object.data.uuid",
            "must be a UUID",
        ),
        (f"{DATA}/uuid", 12345, "$.payload.nova_object.data.uuid", "must be a UUID"),
        (
            f"{DATA}/block_devices/0/nova_object.data/volume_id",
            "vol-1",
            "$.payload.nova_object.data.block_devices[0].nova_object.data.volume_id",
            "must be a UUID",
        ),
        (  # a nested object's wrapper
            f"{DATA}/flavor/nova_object.name",
            "ImagePayload",
            "$.payload.nova_object.data.flavor.nova_object.name",
            '"ImagePayload" is not one of "FlavorPayload"',
        ),
        (
            f"{DATA}/keypairs/0/nova_object.version",
            "one",
            "$.payload.nova_object.data.keypairs[0].nova_object.version",
            "must be a version 'MAJOR.MINOR', e.g. '1.0'",
        ),
        (
            f"{IP}/address",
            "localhost",
            f"$.{IP.replace('/0/', '[0].').replace('/', '.')}.address",
            "must be an IP address",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and "/" in v else None,
)
def test_one_mutation_is_one_problem_at_its_path(
    validator: Validator, path: str, value: Any, json_path: str, message: str
) -> None:
    record = changed(instance_create_end(), path, value)

    assert problems(validator, record) == [(json_path, message)]
    assert validator.fast_schema(record) is None


@pytest.mark.parametrize(
    ("path", "value", "json_path", "message"),
    [
        (
            "payload/ironic_object.data/power_state",
            ["on"],
            "$.payload.ironic_object.data.power_state",
            "an array is not of type 'string' or 'null'",
        ),
        (
            "payload/ironic_object.data/uuid",
            "node-7",
            "$.payload.ironic_object.data.uuid",
            "must be a UUID",
        ),
        (
            "payload/ironic_object.data/maintenance",
            "no",
            "$.payload.ironic_object.data.maintenance",
            "\"no\" is not of type 'boolean' or 'null'",
        ),
        (
            "payload/ironic_object.data/uuid",
            ...,
            "$.payload.ironic_object.data",
            "'uuid' is a required property",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and "/" in v else None,
)
def test_ironic_mutation_is_one_problem_at_its_path(
    validator: Validator, path: str, value: Any, json_path: str, message: str
) -> None:
    assert problems(validator, changed(node_update_end(), path, value)) == [(json_path, message)]


@pytest.mark.parametrize(
    "path",
    [
        f"{DATA}/task_state",
        f"{DATA}/power_state",
        f"{DATA}/display_name",
        f"{DATA}/fault",
        f"{DATA}/block_devices",
        f"{DATA}/progress",
        f"{FLAVOR}/memory_mb",
        f"{FLAVOR}/extra_specs",
        f"{IP}/port_uuid",
    ],
)
def test_nullable_fields_set_to_null_stay_valid(validator: Validator, path: str) -> None:
    record = changed(instance_create_end(), path, None)

    assert problems(validator, record) == []
    assert validator.fast_schema(record) == ("envelope", "nova:InstanceCreatePayload@1.13")


@pytest.mark.parametrize(
    "path",
    [f"{DATA}/new_field", f"{FLAVOR}/new_field", f"{IP}/new_field", "payload/new_field"],
)
def test_extra_fields_stay_valid(validator: Validator, path: str) -> None:
    for value in ("x", 7, None, {"nested": [1]}):
        assert problems(validator, changed(instance_create_end(), path, value)) == []


def test_a_nullable_enum_field_really_sent_as_null_is_valid(validator: Validator) -> None:
    # to_json_schema() puts null in the type of a nullable enum, not in its enum
    record = changed(instance_create_end(), f"{DATA}/task_state", None)
    schema = json.loads((SCHEMAS / "nova/InstanceCreatePayload/1.13.json").read_text())
    task_state = schema["properties"]["nova_object.data"]["properties"]["task_state"]

    assert None in task_state["enum"]
    assert problems(validator, record) == []


# -- versions ----------------------------------------------------------------------------------


def test_a_newer_minor_is_checked_against_the_newest_with_one_note(validator: Validator) -> None:
    newer = changed(instance_create_end(), "payload/nova_object.version", "1.99")
    broken = changed(newer, f"{FLAVOR}/memory_mb", "big")

    verdicts = [validator.validate_object(r) for r in (newer, newer, broken)]

    assert [v.status for v in verdicts] == [VALID, VALID, INVALID]
    assert {v.schemas for v in verdicts} == {("envelope", "nova:InstanceCreatePayload@1.13")}
    assert [p.json_path for p in verdicts[2].problems] == [
        "$.payload.nova_object.data.flavor.nova_object.data.memory_mb"
    ]
    assert list(validator.notes) == [
        Note("nova", "InstanceCreatePayload", "1.99", NEWER, "1.13", ("1.13",))
    ]


def test_another_major_is_without_payload_schema_with_a_note(validator: Validator) -> None:
    record = changed(instance_create_end(), "payload/nova_object.version", "2.0")
    broken = changed(record, "payload/nova_object.namespace", 7)

    verdict = validator.validate_object(record)

    assert (verdict.status, verdict.schemas, verdict.problems) == (NO_SCHEMA, ("envelope",), ())
    assert validator.fast_schema(record) == ("envelope",)
    assert list(validator.notes) == [
        Note("nova", "InstanceCreatePayload", "2.0", MAJOR, None, ("1.13",))
    ]
    # its wrapper is still checked
    assert problems(validator, broken) == [
        ("$.payload.nova_object.namespace", "7 is not of type 'string'")
    ]


def test_an_unknown_object_is_without_payload_schema_with_a_note(validator: Validator) -> None:
    record = changed(instance_create_end(), "payload/nova_object.name", "InstanceFuturePayload")

    assert validator.validate_object(record).status == NO_SCHEMA
    assert [n.kind for n in validator.notes] == [UNKNOWN]


def test_versions_between_and_below_the_shipped_ones(validator: Validator) -> None:
    shipped = sorted(p.stem for p in (SCHEMAS / "nova" / "ImageMetaPropsPayload").glob("*.json"))
    assert shipped == ["1.15", "1.18", "1.20"]  # nova 2024.1, 2024.2/2025.1, 2025.2
    older = changed(instance_create_end(), "payload/nova_object.version", "1.0")
    older = changed(older, f"{DATA}/locked", ...)  # a field a 1.0 may not have had
    image = {
        "event_type": "image.test",
        "publisher_id": "nova-api:api-1",
        "priority": "INFO",
        "payload": nova("ImageMetaPropsPayload", "1.19", {"hw_architecture": "x86_64"}),
    }

    assert validator.validate_object(image).status == VALID
    assert validator.validate_object(older).status == VALID
    assert problems(validator, changed(older, f"{DATA}/locked", "yes")) == [
        ("$.payload.nova_object.data.locked", "\"yes\" is not of type 'boolean'")
    ]
    assert list(validator.notes) == [
        Note("nova", "ImageMetaPropsPayload", "1.19", BETWEEN, "1.18", ("1.15", "1.18", "1.20")),
        Note("nova", "InstanceCreatePayload", "1.0", OLDER, "1.13", ("1.13",)),
    ]


def test_a_hostile_name_is_never_a_path(validator: Validator) -> None:
    for name in ("../envelope", "../../pyproject.toml", "nova/FlavorPayload", "", "."):
        record = changed(instance_create_end(), "payload/nova_object.name", name)
        assert validator.validate_object(record).status in (NO_SCHEMA, INVALID)


# -- CADF wherever it appears ------------------------------------------------------------------


def cadf_project_created() -> dict[str, Any]:
    return {
        "event_type": "identity.project.created",
        "publisher_id": "identity.keystone-1",
        "priority": "INFO",
        "payload": {
            "typeURI": CADF_URI,
            "id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
            "eventType": "activity",
            "eventTime": "2026-11-30T09:00:00.000000+0000",
            "action": "created.project",
            "outcome": "success",
            "initiator": {"typeURI": "service/security/account/user", "id": "u-1"},
            "target": {"typeURI": "data/security/project", "id": "p-1"},
            "observer": {"typeURI": "service/security", "id": "openstack:keystone"},
            "resource_info": "p-1",
        },
    }


def test_cadf_with_resource_info_is_checked_as_cadf_and_keystone_basic(
    validator: Validator,
) -> None:
    record = cadf_project_created()
    used = ("envelope", "cadf-event", "keystone-basic")

    assert validator.validate_object(record).schemas == used
    assert validator.fast_schema(record) == used
    assert problems(validator, changed(record, "payload/outcome", "bogus")) == [
        (
            "$.payload.outcome",
            '"bogus" is not one of "success", "failure", "pending", "unknown"',
        )
    ]
    assert problems(validator, changed(record, "payload/resource_info", 7)) == [
        ("$.payload.resource_info", "7 is not of type 'string'")
    ]


def test_a_misspelt_cadf_type_uri_is_a_problem_not_a_payload_without_schema(
    validator: Validator,
) -> None:
    record = changed(cadf_project_created(), "payload/typeURI", CADF_URI.replace("event", "evnt"))
    record = changed(record, "payload/outcome", "bogus")

    verdict = validator.validate_object(record)

    assert verdict.status == INVALID
    assert verdict.schemas == ("envelope", "cadf-event", "keystone-basic")
    assert [p.json_path for p in verdict.problems] == ["$.payload.typeURI", "$.payload.outcome"]
    assert verdict.problems[0].message == (
        f'"{CADF_URI.replace("event", "evnt")}" should be "{CADF_URI}"'
    )


def test_a_bare_cadf_event_with_a_misspelt_type_uri_is_checked_as_cadf(
    validator: Validator,
) -> None:
    event = cadf_project_created()["payload"]
    event["typeURI"] = "http://schemas.dmtf.org/cloud/audit/1.0/events"

    verdict = validator.validate_object(event)

    assert (verdict.status, verdict.schemas) == (INVALID, ("cadf-event",))
    assert [p.json_path for p in verdict.problems] == ["$.typeURI"]


def test_by_schema_counts_valid_and_invalid_records(validator: Validator) -> None:
    from osreplay.validate.verdicts import Summary

    summary = Summary()
    good, bad = instance_create_end(), changed(instance_create_end(), f"{DATA}/uuid", "x")
    for record in (good, good, bad, cadf_project_created()):
        summary.add(validator.validate_object(record))

    assert summary.by_schema == {
        "nova:InstanceCreatePayload@1.13": {"valid": 2, "invalid": 1},
        "cadf-event": {"valid": 1, "invalid": 0},
        "keystone-basic": {"valid": 1, "invalid": 0},
    }


# -- the shipped files ----------------------------------------------------------------------


def shipped_files() -> list[Path]:
    return sorted(p for family in ("nova", "ironic") for p in (SCHEMAS / family).glob("*/*.json"))


def test_every_generated_schema_is_draft7_compiles_and_names_itself() -> None:
    files = shipped_files()
    assert len(files) >= 50
    for path in files:
        schema = json.loads(path.read_text("utf-8"))
        jsonschema.Draft7Validator.check_schema(schema)
        compile_check(schema)  # raises Unsupported for keywords outside the fast subset
        family, name, version = path.parts[-3], path.parent.name, path.stem
        assert schema["$id"] == f"urn:osreplay:schema:{family}:{name}@{version}"
        assert schema["properties"][f"{family}_object.name"] == {"const": name}


def test_the_schemas_are_read_from_the_package() -> None:
    files = schema_files()
    assert files.joinpath("nova", "InstanceCreatePayload", "1.13.json").is_file()


# -- the corpus -------------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("family", ["nova", "ironic"])
def test_every_corpus_sample_is_valid_against_the_generated_schemas(
    validator: Validator, family: str
) -> None:
    checked = 0
    for path in sorted((CORPUS / family).glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        payload = record.get("payload")
        if not (isinstance(payload, dict) and f"{family}_object.name" in payload):
            continue  # ironic's audit.http.request is a CADF event
        record.setdefault("publisher_id", f"{family}-api:host")
        verdict = validator.validate_object(record, path=path.name)
        name = f"{family}/{path.name}"
        if name in KNOWN_INVALID:
            assert verdict.status == INVALID
            continue
        assert verdict.problems == (), name
        assert verdict.status == VALID, name
        assert verdict.schemas[1].startswith(f"{family}:"), name
        checked += 1
    assert checked >= (100 if family == "nova" else 9)


# -- the compiled fast path agrees with jsonschema on the generated schemas --------------------

WRONG_VALUES = [None, 7, 1.5, 2.0, True, "", "x", "1.4", [], {}, ["x"], {"a": 1}]


def objects_in(value: Any, family: str) -> list[dict[str, Any]]:
    """Every versioned object inside ``value`` (itself included), with the file of its schema."""
    found = []
    if isinstance(value, dict):
        if f"{family}_object.name" in value:
            found.append(value)
        for item in value.values():
            found += objects_in(item, family)
    elif isinstance(value, list):
        for item in value:
            found += objects_in(item, family)
    return found


def test_the_compiled_checks_agree_with_jsonschema_on_mutated_objects() -> None:
    import random

    rng = random.Random(20261207)
    samples = [
        ("nova", instance_create_end()["payload"]),
        ("ironic", node_update_end()["payload"]),
    ]
    if CORPUS.is_dir():
        for family in ("nova", "ironic"):
            for path in sorted((CORPUS / family).glob("*.json")):
                samples.append((family, json.loads(path.read_text("utf-8")).get("payload")))
    checks: dict[Path, tuple[Any, Any]] = {}
    compared = disagreements = 0
    for family, payload in samples:
        for obj in objects_in(payload, family):
            file = SCHEMAS / family / obj[f"{family}_object.name"]
            file = file / f"{obj[f'{family}_object.version']}.json"
            if not file.is_file():
                continue
            if file not in checks:
                schema = json.loads(file.read_text("utf-8"))
                checks[file] = (compile_check(schema), jsonschema.Draft7Validator(schema))
            check, reference = checks[file]
            data = obj[f"{family}_object.data"]
            for _ in range(8):
                mutated = copy.deepcopy(obj)
                key = rng.choice([*data, "new_field"])
                mutated[f"{family}_object.data"][key] = copy.deepcopy(rng.choice(WRONG_VALUES))
                for candidate in (mutated, obj):
                    compared += 1
                    disagreements += check(candidate) != reference.is_valid(candidate)
    assert compared > 500
    assert disagreements == 0


def test_notes_are_worded_once_each_and_capped(validator: Validator) -> None:
    from osreplay.console.validate import note_lines
    from osreplay.validate.verdicts import MAX_NOTES, Summary

    summary = Summary(notes=validator.notes)
    for minor in range(14, 14 + MAX_NOTES + 50):
        version = f"1.{minor}"
        for _ in range(2):  # the same object and version twice: one note
            record = changed(instance_create_end(), "payload/nova_object.version", version)
            summary.add(validator.validate_object(record))

    lines = note_lines(summary)
    assert summary.valid == 2 * (MAX_NOTES + 50)
    assert len(lines) == MAX_NOTES + 1
    assert lines[0] == (
        "note: InstanceCreatePayload 1.14 is newer than the schemas (up to 1.13): "
        "checked against 1.13"
    )
    assert lines[-1] == "note: and 50 more object versions not checked against their own schema"


def test_a_hostile_object_name_is_shortened_and_escaped_in_its_note(validator: Validator) -> None:
    from osreplay.console.validate import note_lines
    from osreplay.validate.verdicts import Summary

    name = "Evil\x1b[31m\r\nFAKE" + "x" * 500
    validator.validate_object(changed(instance_create_end(), "payload/nova_object.name", name))

    [line] = note_lines(Summary(notes=validator.notes))
    assert "\x1b" not in line and "\n" not in line and "\r" not in line
    assert len(line) < 200
    assert line.endswith(": no nova object of that name in the schemas: its fields are not checked")


def test_an_object_in_an_identity_event_with_resource_info_gets_both_schemas(
    validator: Validator,
) -> None:
    record = changed(instance_create_end(), "event_type", "identity.odd")
    good = changed(record, "payload/resource_info", "p-1")
    bad = changed(record, "payload/resource_info", 7)

    for candidate, status in ((good, VALID), (bad, INVALID)):
        verdict = validator.validate_object(candidate)
        assert verdict.status == status
        assert verdict.schemas == ("envelope", "nova:InstanceCreatePayload@1.13", "keystone-basic")
    assert validator.fast_schema(bad) is None

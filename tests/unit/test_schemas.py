"""The shipped schemas: every corpus file gets its documented verdict, every CADF rule bites.

The corpus (real notifications from upstream docs and tests) lives beside the checkout in
``../shared/corpus`` and is not part of the repository; the corpus part is skipped where
that folder is absent. The CADF examples below are the project's own.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest

from osreplay.model.notification import Notification, RecordError
from osreplay.validate.validator import (
    BUILTIN_SCHEMAS,
    INVALID,
    NO_SCHEMA,
    UNREADABLE,
    VALID,
    Validator,
    load_builtin_schema,
)

CORPUS = Path(__file__).parents[2].parent / "shared" / "corpus"
CORPUS_FILES = (
    sorted(p for p in CORPUS.rglob("*.json") if p.name != "MANIFEST.json")
    if CORPUS.is_dir()
    else []
)
# The corpus README's "known defects": (file, JSON path, message).
KNOWN_INVALID = {
    "keystone/identity.authenticate.failure.password_expired.cadf.json": (
        "$.payload.reason.reasonCode",
        "401 is not of type 'string'",
    ),
    "cadf/keystone-identity.authenticate.failure.password_expired.json": (
        "$.reason.reasonCode",
        "401 is not of type 'string'",
    ),
    "cadf/envelopes/keystone-identity.authenticate.failure.password_expired.json": (
        "$.payload.reason.reasonCode",
        "401 is not of type 'string'",
    ),
    "cadf/pycadf-event-concept-monitor-cpu.json": ("$", "a monitor event needs 'measurements'"),
    "octavia/octavia.loadbalancer.create.end.json": (
        "$.publisher_id",
        "null is not of type 'string'",
    ),
}
CADF_URI = "http://schemas.dmtf.org/cloud/audit/1.0/event"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.mark.parametrize("name", BUILTIN_SCHEMAS)
def test_every_shipped_schema_is_a_valid_draft7_schema(name: str) -> None:
    jsonschema.Draft7Validator.check_schema(load_builtin_schema(name))


# -- the corpus ------------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_gets_its_documented_verdict(validator: Validator, path: Path) -> None:
    name = str(path.relative_to(CORPUS))
    verdict = validator.validate_object(json.loads(path.read_text("utf-8")), path=name)

    if name in KNOWN_INVALID:
        assert verdict.status == INVALID
        assert [(p.json_path, p.message) for p in verdict.problems] == [KNOWN_INVALID[name]]
    else:
        assert verdict.status in (VALID, NO_SCHEMA), verdict.problems
        assert verdict.problems == ()


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
def test_corpus_payloads_get_the_schema_of_their_kind(validator: Validator) -> None:
    expected = {
        "designate": ("envelope",),  # legacy unversioned payloads: no payload schema
        "octavia": ("envelope",),
    }
    for path in CORPUS_FILES:
        folder = path.relative_to(CORPUS).parts[0]
        record = json.loads(path.read_text("utf-8"))
        verdict = validator.validate_object(record)
        payload = record.get("payload", {})
        if folder in expected:
            assert verdict.schemas == expected[folder], path
        elif folder in ("nova", "ironic") and path.name != "audit.http.request.json":
            name, version = (payload[f"{folder}_object.{key}"] for key in ("name", "version"))
            # the schema of its name, its own version or the one it is checked against
            assert verdict.schemas[0] == "envelope", path
            assert verdict.schemas[1].startswith(f"{folder}:{name}@{version[0]}."), path
        elif folder == "keystone" and path.name.endswith(".basic.json"):
            assert verdict.schemas == ("envelope", "keystone-basic"), path
        elif "resource_info" in payload and record["event_type"].startswith("identity."):
            # keystone's CADF events carry resource_info: keystone-basic applies too
            assert verdict.schemas == ("envelope", "cadf-event", "keystone-basic"), path
        elif folder == "cadf" and path.parent == CORPUS / "cadf":
            assert verdict.schemas == ("cadf-event",), path
        else:
            assert verdict.schemas == ("envelope", "cadf-event"), path


# -- CADF rules, with the project's own examples ----------------------------------------------

GOOD_EVENT = {
    "typeURI": CADF_URI,
    "id": "4a1c2b3d-0e9f-5a8b-9c7d-6e5f4a3b2c1d",
    "eventType": "activity",
    "eventTime": "2024-05-01T12:00:00.000000+0000",
    "action": "authenticate",
    "outcome": "failure",
    "initiator": {
        "typeURI": "service/security/account/user",
        "id": "9f8e7d6c5b4a",
        "credential": {"token": "***", "identity_status": "Confirmed"},
        "host": {"address": "192.0.2.1", "agent": "curl"},
        "geolocation": {"city": "Lyon", "regionICANN": "fr"},
        "project_id": "extra properties are allowed",
    },
    "target": {"typeURI": "service/security/account/user", "id": "1a2b3c"},
    "observer": {"id": "target"},
    "reason": {"reasonType": "HTTP", "reasonCode": "401"},
    "tags": ["correlation_id?value=1"],
    "attachments": [{"typeURI": "mime:text/plain", "name": "note", "content": "x"}],
    "reporterchain": [
        {
            "role": "modifier",
            "reporter": {"id": "initiator"},
            "reporterTime": "2024-05-01T12:00:01Z",
        }
    ],
    "requestPath": "/v3/auth/tokens",
}
MONITOR_EVENT = {
    **GOOD_EVENT,
    "eventType": "monitor",
    "action": "monitor",
    "outcome": "success",
    "measurements": [{"result": "80", "metric": {"metricId": "cpu.util", "unit": "%"}}],
}
CONTROL_EVENT = {**GOOD_EVENT, "eventType": "control", "action": "update"}


def mutate(event: dict, *changes: tuple[str, object]) -> dict:
    """Apply ``("a/b/0/c", value)`` changes to a copy; value ``...`` deletes the key."""
    out = copy.deepcopy(event)
    for pointer, value in changes:
        *parents, last = pointer.split("/")
        node = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return out


VALID_EXAMPLES = {
    "activity event, all optional parts": GOOD_EVENT,
    "monitor event with measurements": MONITOR_EVENT,
    "control event with a reason": CONTROL_EVENT,
    "ids instead of resources": mutate(
        GOOD_EVENT,
        ("initiator", ...),
        ("initiatorId", "u1"),
        ("target", ...),
        ("targetId", "t1"),
        ("observer", ...),
        ("observerId", "o1"),
    ),
    "eventTime with +00:00": mutate(GOOD_EVENT, ("eventTime", "2024-05-01T12:00:00+00:00")),
    "eventTime with Z": mutate(GOOD_EVENT, ("eventTime", "2024-05-01T12:00:00.5Z")),
    "resource id 'initiator' needs no typeURI": mutate(
        GOOD_EVENT, ("observer", {"id": "initiator"})
    ),
    "resource id 'observer' needs no typeURI": mutate(GOOD_EVENT, ("target", {"id": "observer"})),
    "reason as a policy": mutate(GOOD_EVENT, ("reason", {"policyType": "rbac", "policyId": "p1"})),
    "measurement with a metricId": mutate(
        MONITOR_EVENT, ("measurements", [{"result": 80, "metricId": "cpu.util"}])
    ),
    "reporter by id": mutate(
        GOOD_EVENT, ("reporterchain/0/reporter", ...), ("reporterchain/0/reporterId", "r1")
    ),
    "reporter role relay": mutate(GOOD_EVENT, ("reporterchain/0/role", "relay")),
    "outcome pending": mutate(GOOD_EVENT, ("outcome", "pending")),
}

# (example, JSON path, message): at least one per rule of the CADF schema.
INVALID_EXAMPLES = {
    "wrong typeURI": (
        mutate(GOOD_EVENT, ("typeURI", "http://schemas.dmtf.org/cloud/audit/1.0/resource")),
        "$.typeURI",
        '"http://schemas.dmtf.org/cloud/audit/1.0/resource" should be '
        '"http://schemas.dmtf.org/cloud/audit/1.0/event"',
    ),
    "missing id": (mutate(GOOD_EVENT, ("id", ...)), "$", "'id' is a required property"),
    "empty id": (mutate(GOOD_EVENT, ("id", "")), "$.id", "'' should be non-empty"),
    "missing action": (mutate(GOOD_EVENT, ("action", ...)), "$", "'action' is a required property"),
    "unknown eventType": (
        mutate(GOOD_EVENT, ("eventType", "audit")),
        "$.eventType",
        '"audit" is not one of "activity", "monitor", "control"',
    ),
    "unknown outcome": (
        mutate(GOOD_EVENT, ("outcome", "denied")),
        "$.outcome",
        '"denied" is not one of "success", "failure", "pending", "unknown"',
    ),
    "eventTime without offset": (
        mutate(GOOD_EVENT, ("eventTime", "2024-05-01T12:00:00.000000")),
        "$.eventTime",
        "must be an ISO 8601 time with a UTC offset, e.g. 2024-05-01T12:00:00.000000+0000",
    ),
    "eventTime oslo style": (
        mutate(GOOD_EVENT, ("eventTime", "2024-05-01 12:00:00.000000")),
        "$.eventTime",
        "must be an ISO 8601 time with a UTC offset, e.g. 2024-05-01T12:00:00.000000+0000",
    ),
    "no initiator": (
        mutate(GOOD_EVENT, ("initiator", ...)),
        "$",
        "needs one of 'initiator' or 'initiatorId'",
    ),
    "initiator and initiatorId": (
        mutate(GOOD_EVENT, ("initiatorId", "u1")),
        "$.initiatorId",
        "not allowed together with 'initiator'",
    ),
    "no target": (mutate(GOOD_EVENT, ("target", ...)), "$", "needs one of 'target' or 'targetId'"),
    "target and targetId": (
        mutate(GOOD_EVENT, ("targetId", "t1")),
        "$.targetId",
        "not allowed together with 'target'",
    ),
    "no observer": (
        mutate(GOOD_EVENT, ("observer", ...)),
        "$",
        "needs one of 'observer' or 'observerId'",
    ),
    "observer and observerId": (
        mutate(GOOD_EVENT, ("observerId", "o1")),
        "$.observerId",
        "not allowed together with 'observer'",
    ),
    "control event without reason": (
        mutate(CONTROL_EVENT, ("reason", ...)),
        "$",
        "a control event needs a 'reason'",
    ),
    "monitor event with 'measurement'": (
        mutate(
            MONITOR_EVENT, ("measurement", MONITOR_EVENT["measurements"]), ("measurements", ...)
        ),
        "$",
        "a monitor event needs 'measurements'",
    ),
    "monitor event with no measurements": (
        mutate(MONITOR_EVENT, ("measurements", [])),
        "$.measurements",
        "[] should be non-empty",
    ),
    "resource without id": (
        mutate(GOOD_EVENT, ("target/id", ...)),
        "$.target",
        "'id' is a required property",
    ),
    "resource without typeURI": (
        mutate(GOOD_EVENT, ("target/typeURI", ...)),
        "$.target",
        "a resource needs a 'typeURI' unless its id refers to 'target', 'initiator' or 'observer'",
    ),
    "reasonCode as a number": (
        mutate(GOOD_EVENT, ("reason/reasonCode", 401)),
        "$.reason.reasonCode",
        "401 is not of type 'string'",
    ),
    "reasonType without reasonCode": (
        mutate(GOOD_EVENT, ("reason/reasonCode", ...)),
        "$.reason",
        "needs 'reasonType' and 'reasonCode', or 'policyType' and 'policyId'",
    ),
    "policyType without policyId": (
        mutate(GOOD_EVENT, ("reason", {"policyType": "rbac"})),
        "$.reason",
        "needs 'reasonType' and 'reasonCode', or 'policyType' and 'policyId'",
    ),
    "measurement without result": (
        mutate(MONITOR_EVENT, ("measurements/0/result", ...)),
        "$.measurements[0]",
        "'result' is a required property",
    ),
    "measurement with metric and metricId": (
        mutate(MONITOR_EVENT, ("measurements/0/metricId", "cpu.util")),
        "$.measurements[0].metricId",
        "not allowed together with 'metric'",
    ),
    "measurement with neither metric nor metricId": (
        mutate(MONITOR_EVENT, ("measurements/0/metric", ...)),
        "$.measurements[0]",
        "needs one of 'metric' or 'metricId'",
    ),
    "metric without unit": (
        mutate(MONITOR_EVENT, ("measurements/0/metric/unit", ...)),
        "$.measurements[0].metric",
        "'unit' is a required property",
    ),
    "credential without token": (
        mutate(GOOD_EVENT, ("initiator/credential/token", ...)),
        "$.initiator.credential",
        "'token' is a required property",
    ),
    "host address not a string": (
        mutate(GOOD_EVENT, ("initiator/host/address", 17)),
        "$.initiator.host.address",
        "17 is not of type 'string'",
    ),
    "geolocation latitude as a number": (
        mutate(GOOD_EVENT, ("initiator/geolocation/latitude", 45.76)),
        "$.initiator.geolocation.latitude",
        "45.76 is not of type 'string'",
    ),
    "attachment without content": (
        mutate(GOOD_EVENT, ("attachments/0/content", ...)),
        "$.attachments[0]",
        "'content' is a required property",
    ),
    "attachment without name": (
        mutate(GOOD_EVENT, ("attachments/0/name", ...)),
        "$.attachments[0]",
        "'name' is a required property",
    ),
    "reporterstep with an unknown role": (
        mutate(GOOD_EVENT, ("reporterchain/0/role", "forwarder")),
        "$.reporterchain[0].role",
        '"forwarder" is not one of "observer", "modifier", "relay"',
    ),
    "reporterstep without reporter": (
        mutate(GOOD_EVENT, ("reporterchain/0/reporter", ...)),
        "$.reporterchain[0]",
        "needs one of 'reporter' or 'reporterId'",
    ),
    "reporterstep with reporter and reporterId": (
        mutate(GOOD_EVENT, ("reporterchain/0/reporterId", "r1")),
        "$.reporterchain[0].reporterId",
        "not allowed together with 'reporter'",
    ),
    "tag not a string": (
        mutate(GOOD_EVENT, ("tags", [7])),
        "$.tags[0]",
        "7 is not of type 'string'",
    ),
}


@pytest.mark.parametrize("event", VALID_EXAMPLES.values(), ids=list(VALID_EXAMPLES))
def test_valid_cadf_event(validator: Validator, event: dict) -> None:
    verdict = validator.validate_object(event)

    assert verdict.problems == ()
    assert verdict.status == VALID
    assert validator.validate_against("cadf-event", event) == []


@pytest.mark.parametrize(
    ("event", "json_path", "message"), INVALID_EXAMPLES.values(), ids=list(INVALID_EXAMPLES)
)
def test_invalid_cadf_event(
    validator: Validator, event: dict, json_path: str, message: str
) -> None:
    assert (json_path, message) in validator.validate_against("cadf-event", event)


def test_cadf_payload_problems_are_under_payload(validator: Validator) -> None:
    record = {
        "event_type": "identity.authenticate",
        "publisher_id": "identity.host1",
        "priority": "INFO",
        "payload": mutate(GOOD_EVENT, ("reason/reasonCode", 401)),
    }

    verdict = validator.validate_object(record)

    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload.reason.reasonCode", "401 is not of type 'string'")
    ]


# -- envelope, versioned and keystone payloads ---------------------------------------------------

RECORD = {
    "event_type": "instance.create.end",
    "publisher_id": "nova-compute:compute-1",
    "priority": "INFO",
    "message_id": "m1",
    "timestamp": "2024-05-01 12:00:00.123456",
    "recorded_at": "2024-05-01T12:00:00.200000+00:00",
    "ctxt": {},
    "exchange": "nova",
    "topic": "versioned_notifications",
    "payload": {
        "nova_object.name": "InstanceCreatePayload",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.12",
        "nova_object.data": {
            "flavor": {
                "nova_object.name": "FlavorPayload",
                "nova_object.namespace": "nova",
                "nova_object.version": "1.4",
                "nova_object.data": {
                    "memory_mb": 512,
                    "name": "m1.tiny",
                    "swap": 0,
                    "disabled": False,
                    "is_public": True,
                },
            },
            "block_devices": [
                {
                    "nova_object.name": "BlockDevicePayload",
                    "nova_object.namespace": "nova",
                    "nova_object.version": "1.0",
                    "nova_object.data": {
                        "boot_index": None,
                        "delete_on_termination": True,
                        "volume_id": "7b6a5f4e-3d2c-4b1a-9f8e-7d6c5b4a3f2e",
                    },
                }
            ],
            "metadata": {"role": "web"},
        },
    },
}


@pytest.mark.parametrize(
    "change",
    [
        ("timestamp", "2024-05-01T12:00:00Z"),
        ("timestamp", "2024-05-01T12:00:00.932842"),
        ("timestamp", "2024-05-01T12:00:00+02:00"),
        ("recorded_at", "2024-05-01T12:00:00Z"),
        ("priority", "sample"),  # normalised to SAMPLE
        ("publisher_id", ""),
        ("anything_else", [1, 2]),
    ],
    ids=repr,
)
def test_valid_envelope_variants(validator: Validator, change: tuple[str, object]) -> None:
    assert validator.validate_object(mutate(RECORD, change)).status == VALID


@pytest.mark.parametrize(
    ("change", "json_path", "message"),
    [
        (("event_type", ""), "$.event_type", "'' should be non-empty"),
        (("publisher_id", None), "$.publisher_id", "null is not of type 'string'"),
        (
            ("timestamp", "yesterday"),
            "$.timestamp",
            "must be 'YYYY-MM-DD HH:MM:SS[.ffffff]' or ISO 8601 like '2024-05-01T12:00:00Z'",
        ),
        (
            ("recorded_at", "2024-05-01T12:00:00+02:00"),
            "$.recorded_at",
            "must be ISO 8601 in UTC, e.g. '2024-05-01T12:00:00.000000+00:00'",
        ),
        (("message_id", 7), "$.message_id", "7 is not of type 'string'"),
    ],
    ids=repr,
)
def test_invalid_envelope(
    validator: Validator, change: tuple[str, object], json_path: str, message: str
) -> None:
    verdict = validator.validate_object(mutate(RECORD, change))

    assert verdict.status == INVALID
    assert (json_path, message) in [(p.json_path, p.message) for p in verdict.problems]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("event_type", ...), "missing required key(s): event_type"),
        (("payload", ...), "missing required key(s): payload"),
        (("event_type", None), "event_type must be a string, not null"),
        (
            ("priority", "NOTICE"),
            'priority "NOTICE" is not one of AUDIT, DEBUG, INFO, WARN, ERROR, CRITICAL, SAMPLE',
        ),
        (("ctxt", "admin"), "ctxt must be a JSON object"),
    ],
    ids=repr,
)
def test_not_a_notification_is_unreadable_as_replay_says(
    validator: Validator, change: tuple[str, object], message: str
) -> None:
    # The envelope schema still says why, but validate, replay and record share one rule
    # (osreplay.model.notification.unreadable_reason) for what is not a notification at all.
    record = mutate(RECORD, change)
    verdict = validator.validate_object(record)

    assert verdict.status == UNREADABLE
    assert [(p.json_path, p.message) for p in verdict.problems] == [(None, message)]
    with pytest.raises(RecordError, match=re.escape(message)):
        Notification.from_dict(record)


@pytest.mark.parametrize(
    ("change", "json_path", "message"),
    [
        (
            ("payload/nova_object.version", "1"),
            "$.payload.nova_object.version",
            "must be a version 'MAJOR.MINOR', e.g. '1.0'",
        ),
        (
            ("payload/nova_object.namespace", ...),
            "$.payload",
            "'nova_object.namespace' is a required property",
        ),
        (
            ("payload/nova_object.data", []),
            "$.payload.nova_object.data",
            "[] is not of type 'object'",
        ),
        (
            ("payload/nova_object.data/flavor/nova_object.version", "one"),
            "$.payload.nova_object.data.flavor.nova_object.version",
            "must be a version 'MAJOR.MINOR', e.g. '1.0'",
        ),
        (
            ("payload/nova_object.data/block_devices/0/nova_object.data", ...),
            "$.payload.nova_object.data.block_devices[0]",
            "'nova_object.data' is a required property",
        ),
        (
            ("payload/nova_object.data/metadata", {"inner": {"nova_object.name": "X"}}),
            "$.payload.nova_object.data.metadata.inner",
            "an object is not of type 'string'",
        ),
    ],
    ids=repr,
)
def test_invalid_nova_payload(
    validator: Validator, change: tuple[str, object], json_path: str, message: str
) -> None:
    verdict = validator.validate_object(mutate(RECORD, change))

    # the wrapper alone when the version is unreadable, else InstanceCreatePayload's schema
    assert verdict.schemas[1] in ("nova-versioned", "nova:InstanceCreatePayload@1.13")
    assert verdict.status == INVALID
    assert (json_path, message) in [(p.json_path, p.message) for p in verdict.problems]


def test_ironic_payload_is_checked_like_nova(validator: Validator) -> None:
    record = {
        "event_type": "baremetal.node.update.end",
        "publisher_id": "ironic-api.host1",
        "priority": "info",
        "payload": {
            "ironic_object.name": "NodePayload",
            "ironic_object.namespace": "ironic",
            "ironic_object.version": "1.x",
            "ironic_object.data": {},
        },
    }

    verdict = validator.validate_object(record)

    assert verdict.schemas == ("envelope", "ironic-versioned")
    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload.ironic_object.version", "must be a version 'MAJOR.MINOR', e.g. '1.0'")
    ]


@pytest.mark.parametrize(
    ("payload", "problems"),
    [
        ({"resource_info": "p1"}, []),
        ({"resource_info": "p1", "request_id": "req-1", "actor_id": "u1"}, []),
        ({"resource_info": 7}, [("$.payload.resource_info", "7 is not of type 'string'")]),
        ({"resource_info": ""}, [("$.payload.resource_info", "'' should be non-empty")]),
    ],
    ids=repr,
)
def test_keystone_basic_payload(validator: Validator, payload: dict, problems: list) -> None:
    record = {
        "event_type": "identity.project.created",
        "publisher_id": "identity.host1",
        "priority": "INFO",
        "payload": payload,
    }

    verdict = validator.validate_object(record)

    assert verdict.schemas == ("envelope", "keystone-basic")
    assert [(p.json_path, p.message) for p in verdict.problems] == problems

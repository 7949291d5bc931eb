"""Schema flattening and comparison behind ``osreplay schema diff``."""

from __future__ import annotations

from osreplay.scenario.schema import (
    ADDED,
    ADDED_TYPE,
    NULLABLE,
    REMOVED,
    REMOVED_TYPE,
    TYPE,
    FieldInfo,
    SchemaDiffSummary,
    compare,
    flatten,
    payload_version,
    schema_filename,
)


def schema(**properties):
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def test_flatten_objects_arrays_alternatives_and_uuid_keys():
    s = schema(
        a={"type": ["integer", "null"]},
        b={"type": "array", "items": schema(c={"type": "string"})},
        d={
            "anyOf": [schema(e={"type": "number"}), {"type": "array", "items": {"type": "integer"}}]
        },
        **{"nova_object.data": schema(x={"type": ["integer", "number"]})},
        m=schema(**{"0b7e1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b": {"type": "string"}}),
    )
    assert flatten(s) == {
        "$.payload": FieldInfo(frozenset({"object"}), False),
        "$.payload.a": FieldInfo(frozenset({"integer"}), True),
        "$.payload.b": FieldInfo(frozenset({"array"}), False),
        "$.payload.b[*]": FieldInfo(frozenset({"object"}), False),
        "$.payload.b[*].c": FieldInfo(frozenset({"string"}), False),
        "$.payload.d": FieldInfo(frozenset({"object", "array"}), False),
        "$.payload.d.e": FieldInfo(frozenset({"number"}), False),
        "$.payload.d[*]": FieldInfo(frozenset({"integer"}), False),
        "$.payload['nova_object.data']": FieldInfo(frozenset({"object"}), False),
        "$.payload['nova_object.data'].x": FieldInfo(frozenset({"number"}), False),
        "$.payload.m": FieldInfo(frozenset({"object"}), False),
        "$.payload.m.<uuid>": FieldInfo(frozenset({"string"}), False),
    }


def drifts(a, b):
    summary = SchemaDiffSummary("A", "B")
    compare(a, b, summary)
    return [(d.event_type, d.kind, d.path, d.breaking) for d in summary.drifts], summary


def test_what_changes_and_what_breaks():
    a = {
        "x.gone": [schema()],
        "x.kept": [
            schema(
                removed=schema(inner={"type": "string"}),
                retyped={"type": "integer"},
                narrowed={"type": ["integer", "string"]},
                nullable={"type": "string"},
            )
        ],
    }
    b = {
        "x.kept": [
            schema(
                added=schema(inner={"type": "string"}),
                retyped={"type": "string"},
                narrowed={"type": "integer"},
                nullable={"type": ["null", "string"]},
            )
        ],
        "x.new": [schema()],
    }
    found, summary = drifts(a, b)
    assert found == [
        ("x.gone", REMOVED_TYPE, None, True),
        ("x.new", ADDED_TYPE, None, False),
        ("x.kept", ADDED, "$.payload.added", False),  # its inner field is not repeated
        ("x.kept", TYPE, "$.payload.narrowed", False),  # fewer types: nothing new to read
        ("x.kept", NULLABLE, "$.payload.nullable", False),
        ("x.kept", REMOVED, "$.payload.removed", True),
        ("x.kept", TYPE, "$.payload.retyped", True),
    ]
    assert len(summary.breaking) == 3


def test_versions_of_one_event_type_are_merged_and_reported():
    def versioned(version, **props):
        return {**schema(**props), "x-osreplay": {"event_type": "i.u", "version": version}}

    a = {"i.u": [versioned("1.9", a={"type": "string"})]}
    b = {"i.u": [versioned("1.9", a={"type": "string"}), versioned("1.10", a={"type": "string"})]}
    found, summary = drifts(a, b)
    assert found == [] and summary.versions == {"i.u": (["1.9"], ["1.10", "1.9"])}


def test_payload_version_and_file_names():
    payload = {"nova_object.name": "InstancePayload", "nova_object.version": "1.2"}
    assert payload_version(payload) == ("InstancePayload", "1.2")
    assert payload_version({"ironic_object.version": "1.0"}) == (None, "1.0")
    assert payload_version("text") == (None, None)
    assert schema_filename("a.b/c d", "1.2") == "a.b_c_d@1.2.schema.json"
    assert schema_filename("a.b", None) == "a.b.schema.json"

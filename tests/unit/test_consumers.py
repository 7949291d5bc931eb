"""Ceilometer's event and meter semantics, as osreplay.consumers reproduces them."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta, timezone

import pytest

from osreplay.consumers import isotime
from osreplay.consumers.events import EventConverter
from osreplay.consumers.fields import DefinitionError, Field
from osreplay.consumers.meters import (
    LOOKUP_COUNT,
    LOOKUP_EMPTY,
    NO_VOLUME,
    NOT_A_NUMBER,
    MeterDefinition,
    Raised,
    load_meters,
)
from osreplay.consumers.plugins import Bitfield, Map, Split, Timedelta
from osreplay.consumers.run import CeilometerOptions, run
from osreplay.consumers.yamlfile import DefinitionFileError, Located


def body(payload, *, event_type="compute.instance.create.end", ctxt=None, publisher="nova"):
    return {
        "ctxt": ctxt or {},
        "publisher_id": publisher,
        "event_type": event_type,
        "payload": payload,
        "metadata": {"message_id": "m-1", "timestamp": "2026-03-05 10:00:00.000001"},
    }


# --- dates: oslo's parse_isotime (iso8601) then normalize_time ---------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-05T10:00:00Z", datetime(2026, 3, 5, 10)),
        ("2026-03-05 10:00:00", datetime(2026, 3, 5, 10)),  # no zone: UTC
        ("2026-03-05T11:30:00+01:30", datetime(2026, 3, 5, 10)),
        ("2026-03-05T05:00:00-0500", datetime(2026, 3, 5, 10)),
        ("2026-03-05T12:00:00+02", datetime(2026, 3, 5, 10)),
        ("2026-03-05T10:00:00.1234567", datetime(2026, 3, 5, 10, 0, 0, 123456)),  # truncated
        ("2026-03-05T10:00:00,5", datetime(2026, 3, 5, 10, 0, 0, 500000)),
        ("20260305T100000", datetime(2026, 3, 5, 10)),
        ("2026-03-05", datetime(2026, 3, 5)),
        ("2026-3-5", datetime(2026, 3, 5)),
        ("2026", datetime(2026, 1, 1)),
        ("2026-03-05T10:00\n", datetime(2026, 3, 5, 10)),  # the pattern's $ takes a newline
    ],
)
def test_dates_read_as_oslo_reads_them(text, expected):
    assert isotime.normalize_time(isotime.parse_isotime(text)) == expected


@pytest.mark.parametrize(
    "value", ["202603", "2026-03-05T10:00:00 UTC", "yesterday", "", "2026-02-30", 1700000000, None]
)
def test_dates_oslo_refuses_are_value_errors(value):
    with pytest.raises(ValueError):
        isotime.parse_isotime(value)


def test_a_zone_is_kept_until_normalised():
    moment = isotime.parse_isotime("2026-03-05T10:00:00+05:30")
    assert moment.utcoffset() == timedelta(hours=5, minutes=30)
    assert isotime.parse_isotime("2026-03-05").tzinfo == timezone.utc


# --- fields: jsonpath-rw-ext, lists, constants --------------------------------------------


def test_a_list_of_paths_gives_the_first_that_has_a_value():
    field = Field("flavor", ["payload.instance_type", "payload.flavor.name"])
    assert field.parse(body({"flavor": {"name": "m1.large"}})) == "m1.large"
    assert field.parse(body({"instance_type": "m1.small", "flavor": {"name": "x"}})) == "m1.small"
    assert field.parse(body({"instance_type": None, "flavor": {"name": "x"}})) == "x"
    assert field.parse(body({})) is None


def test_a_whole_number_is_a_constant_and_a_float_is_a_parse_error():
    assert Field("volume", 1).parse(body({})) == 1
    with pytest.raises(DefinitionError, match="parse error in JSONPath"):
        Field("volume", 1.5)


def test_an_expression_jsonpath_rw_refuses_is_refused():
    with pytest.raises(DefinitionError, match="parse error in JSONPath specification 'payload\\['"):
        Field("x", "payload[")


def test_jsonpath_rw_ext_extensions_and_quoted_keys():
    payload = {"host": "compute-1.example.org", "meta": {"org.openstack__1__arch": "x86_64"}}
    assert Field("d", "payload.host.`split(., 1, 1)`").parse(body(payload)) == "example.org"
    assert Field("a", "payload.meta.'org.openstack__1__arch'").parse(body(payload)) == "x86_64"


def _structure(node):
    """A parsed expression as text, whatever its classes' reprs say."""
    if isinstance(node, (str, int, float, bool, type(None))):
        return repr(node)
    if isinstance(node, (list, tuple)):
        return "[" + ",".join(_structure(item) for item in node) + "]"
    if isinstance(node, re.Pattern):
        return f"re({node.pattern!r})"
    fields = sorted(vars(node).items()) if hasattr(node, "__dict__") else []
    return type(node).__name__ + "{" + ",".join(f"{k}={_structure(v)}" for k, v in fields) + "}"


@pytest.mark.parametrize(
    "expression",
    [
        "payload.a",
        "$.payload.metrics[*].value",
        "(payload.a)|(payload.b)|(ctxt.c)",
        "ctxt.user_id|ctxt.user",
        "payload.list[0].x",
        "payload.metrics[?(@.name='cpu.frequency')].value",
        "payload.host.`split(., 1, -1)`",
        "payload.name.`sub(/^m1\\./, x)`",
        "payload.tags.`len`",
        "$.payload.a * 1024",
        "payload.image_meta.'org.openstack__1__architecture'",
        "payload..id",
        "memory",
        "payload[",
        "a b",
        "%",
    ],
)
def test_the_parser_with_tables_built_once_parses_as_jsonpath_rw_ext(expression, capsys):
    from jsonpath_rw_ext import parser as upstream

    from osreplay.consumers.fields import _PARSER

    def outcome(parser):
        try:
            return _structure(parser.parse(expression))
        except Exception as exc:  # the same failure, whatever it is
            return f"{type(exc).__name__}: {exc}"

    assert outcome(_PARSER) == outcome(upstream.ExtentedJsonPathParser())


def test_compiling_a_sub_prints_nothing(capsys):
    field = Field("flavor", "payload.name.`sub(/^m1\\./, )`")
    assert field.parse(body({"name": "m1.small"})) == "small"
    assert capsys.readouterr().out == ""


def test_the_meters_default_user_path_matches_nothing():
    """``ctxt.user_id|ctxt.user`` parses as ``ctxt.(user_id|ctxt).user`` in jsonpath-rw."""
    ctxt = {"user_id": "u-1", "user": "u-1", "project_id": "p-1", "tenant_id": "p-1"}
    assert Field("user_id", "ctxt.user_id|ctxt.user").parse(body({}, ctxt=ctxt)) is None
    assert Field("project_id", "ctxt.project_id|ctxt.tenant_id").parse(body({}, ctxt=ctxt)) is None


def test_a_field_mapping_needs_fields_and_a_known_plugin():
    with pytest.raises(DefinitionError, match="'fields' is required for size"):
        Field("size", {"type": "int"})
    with pytest.raises(DefinitionError, match="no plugin named nope available for size"):
        Field("size", {"fields": "payload.size", "plugin": "nope"})
    with pytest.raises(DefinitionError, match="no plugin name supplied"):
        Field("size", {"fields": "payload.size", "plugin": {"parameters": {}}})
    with pytest.raises(DefinitionError, match="'values' parameter is required"):
        Field("size", {"fields": "payload.size", "plugin": {"name": "map"}})


# --- trait plugins ----------------------------------------------------------------------


def test_split():
    assert Split(separator=".", segment=0).trait_values([("p", "a.b.c")]) == ["a"]
    assert Split(separator=".", segment=-1, max_split=1).trait_values([("p", "a.b.c")]) == ["b.c"]
    assert Split(segment=5).trait_values([("p", "a.b")]) == [None]
    assert Split().trait_values([("p", 12.5)]) == ["12"]  # str() first


def test_bitfield_sets_bits_by_path_and_value_and_always_gives_a_value():
    plugin = Bitfield(
        initial_bitfield=8,
        flags=[{"path": "payload.a", "bit": 0}, {"path": "payload.b", "bit": 1, "value": "yes"}],
    )
    assert plugin.trait_values([("payload.a", 0), ("payload.b", "yes")]) == [11]
    assert plugin.trait_values([("payload.b", "no")]) == [8]
    assert plugin.trait_values([]) == [8]


def test_bitfield_sees_the_paths_of_matches():
    field = Field(
        "flags",
        {
            "fields": ["payload.a", "payload.b.c"],
            "plugin": {
                "name": "bitfield",
                "parameters": {"flags": [{"path": "payload.b.c", "bit": 2}]},
            },
        },
    )
    assert field.parse(body({"b": {"c": 1}})) == 4


def test_timedelta_needs_exactly_two_dates():
    pairs = [("a", "2026-03-05T10:00:00Z"), ("b", "2026-03-05T11:00:01+01:00")]
    assert Timedelta().trait_values(pairs) == [1.0]
    assert Timedelta().trait_values(list(reversed(pairs))) == [1.0]  # absolute
    assert Timedelta().trait_values(pairs[:1]) == [None]
    assert Timedelta().trait_values([("a", "x"), ("b", "2026-03-05")]) == [None]


def test_map_with_default_and_case_folding():
    plugin = Map(values={"active": 1, "Error": 2}, default=0, case_sensitive=False)
    assert plugin.trait_values([("p", "ACTIVE"), ("p", "error"), ("p", "other")]) == [1, 2, 0]
    assert Map(values={"active": 1}).trait_values([("p", "ACTIVE")]) == [None]
    with pytest.raises(TypeError):  # an unhashable value raises in Ceilometer too
        Map(values={"a": 1}).trait_values([("p", ["a"])])


# --- events -------------------------------------------------------------------------------


def converter(tmp_path, text, **kwargs):
    path = tmp_path / "events.yaml"
    path.write_text(textwrap.dedent(text))
    return EventConverter(str(path), **kwargs)


EVENTS = """\
- event_type: '!image.*'
  traits: {}
- event_type: ['compute.instance.*', '!compute.instance.exists']
  traits:
    host:
      fields: payload.host
- event_type: compute.instance.create.*
  traits:
    memory_mb:
      type: int
      fields: payload.memory_mb
    launched_at:
      type: DateTime
      fields: payload.launched_at
    share:
      type: float
      fields: payload.share
    note:
      fields: payload.note
    odd:
      type: none
      fields: payload.odd
    service:
      fields: payload.service_name
"""


def test_globs_exclusions_and_the_last_matching_definition_wins(tmp_path):
    conv = converter(tmp_path, EVENTS)
    assert conv.definition_for("compute.instance.create.end").where.endswith(":7")
    assert conv.definition_for("compute.instance.delete.end").where.endswith(":3")
    assert conv.definition_for("image.upload").where == "catch-all"
    assert conv.definition_for("compute.instance.exists").where.endswith(":1")


def test_a_definition_of_exclusions_only_matches_everything_else(tmp_path):
    conv = converter(tmp_path, "- event_type: '!image.*'\n  traits: {}\n")
    definition = conv.definitions[0]
    assert definition.match_type("compute.x") and not definition.match_type("image.upload")
    assert not definition.is_catchall and conv.definitions[-1].where == "catch-all"


def test_no_catch_all_is_added_when_the_file_has_one_or_unmatched_are_dropped(tmp_path):
    conv = converter(tmp_path, "- event_type: '*'\n  traits: {}\n")
    assert [d.where for d in conv.definitions] == [f"{tmp_path}/events.yaml:1"]
    dropped = converter(tmp_path, "- event_type: 'a.*'\n  traits: {}\n", drop_unmatched=True)
    assert dropped.definition_for("b.c") is None


def traits_of(outcome):
    return {t.name: (t.type, t.value) for t in outcome.traits}


def test_trait_types_conversions_and_defaults(tmp_path):
    conv = converter(tmp_path, EVENTS)
    payload = {
        "host": "c-1",
        "memory_mb": "2048",
        "launched_at": "2026-03-05T11:00:00.5+01:00",
        "share": "0.25",
        "note": {"a": 1},
        "odd": 7,
        "tenant_id": "p-payload",
        "service_name": "compute",
    }
    event_type = "compute.instance.create.end"
    outcome = conv.definition_for(event_type).to_event(
        body(payload, ctxt={"request_id": "req-1", "user_id": "u-ctx", "project_id": "p-ctx"})
    )
    assert traits_of(outcome) == {
        "service": ("text", "compute"),  # replaced by the file's definition
        "request_id": ("text", "req-1"),
        "project_id": ("text", "p-payload"),  # payload.tenant_id before ctxt.project_id
        "user_id": ("text", "u-ctx"),
        "tenant_id": ("text", "p-payload"),
        "memory_mb": ("int", 2048),
        "launched_at": ("datetime", "2026-03-05 10:00:00.500000"),
        "share": ("float", 0.25),
        "note": ("text", "{'a': 1}"),  # str() of the value, as Ceilometer writes it
        "odd": ("none", "7"),
    }
    assert [t.name for t in outcome.traits][:2] == ["service", "request_id"]


def test_empty_values_text_limit_and_missing_traits(tmp_path):
    conv = converter(tmp_path, EVENTS)
    payload = {"memory_mb": "", "launched_at": "", "note": "x" * 300, "host": ""}
    outcome = conv.definition_for("compute.instance.create.end").to_event(body(payload))
    traits = traits_of(outcome)
    assert "memory_mb" not in traits and "launched_at" not in traits  # '' on non-text
    assert traits["note"] == ("text", "x" * 255)
    assert "share" in outcome.empty and "memory_mb" in outcome.empty


def test_a_value_int_refuses_raises_so_the_event_is_dropped(tmp_path):
    conv = converter(tmp_path, EVENTS)
    with pytest.raises(ValueError, match="12.5"):
        conv.definition_for("compute.instance.create.end").to_event(body({"memory_mb": "12.5"}))
    with pytest.raises(ValueError):
        conv.definition_for("compute.instance.create.end").to_event(body({"launched_at": "soon"}))
    outcome = conv.definition_for("compute.instance.create.end").to_event(body({"memory_mb": 7.9}))
    assert traits_of(outcome)["memory_mb"] == ("int", 7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- traits: {}\n", ":1: event definition: required field event_type not specified"),
        (
            "- event_type: a\n  traits: {x: {type: number, fields: payload.x}}\n",
            ":1: event definition: invalid trait type 'number' for trait x",
        ),
        ("- event_type: a\n  traits:\n    x: 'payload['\n", ":1: event definition: parse error"),
        ("- event_type: a\n  traits: {}\n- 3\n", ":3: event definition: an event definition must"),
        ("event_type: a\n", ": a list of definitions is expected at the top level"),
        ("", ": holds no event definitions"),
        (
            "- event_type: [a\n  traits: {}\n",
            ":2:9: invalid YAML: expected ',' or ']', but got ':'",
        ),
    ],
)
def test_a_broken_event_file_is_one_line_naming_file_and_line(tmp_path, text, message):
    with pytest.raises(DefinitionFileError) as caught:
        converter(tmp_path, text)
    assert str(caught.value).startswith(f"{tmp_path}/events.yaml{message}")
    assert "\n" not in str(caught.value)


def test_a_missing_definition_file(tmp_path):
    with pytest.raises(DefinitionFileError, match=r"nope.yaml: no such file$"):
        EventConverter(str(tmp_path / "nope.yaml"))


# --- meters -------------------------------------------------------------------------------


def meter(**cfg):
    base = {
        "name": "memory",
        "event_type": "compute.instance.create.end",
        "type": "gauge",
        "unit": "MB",
        "volume": "$.payload.memory_mb",
        "resource_id": "$.payload.id",
    }
    base.update(cfg)
    base = {k: v for k, v in base.items() if v is not None}
    return MeterDefinition(Located("m.yaml", 1, base))


def test_event_type_is_a_regular_expression_matched_from_the_start():
    definition = meter(event_type=["compute.instance.(create|resize)", "image"])
    assert definition.match_type("compute.instance.create.end")
    assert definition.match_type("compute.instance.resize.start")
    assert definition.match_type("imageXYZ")
    assert not definition.match_type("x.compute.instance.create.end")


def test_a_sample_from_jsonpath_with_null_user_and_project_by_default():
    ctxt = {"user_id": "u-ctx", "project_id": "p-ctx"}
    produced = meter().to_samples(body({"memory_mb": 512, "id": "r-1"}, ctxt=ctxt))
    [sample] = produced.samples
    assert (sample.name, sample.type, sample.unit, sample.volume, sample.resource_id) == (
        "memory",
        "gauge",
        "MB",
        512,
        "r-1",
    )
    assert sample.user_id is None and sample.project_id is None


def test_user_project_metadata_and_a_string_volume_kept_as_it_is():
    definition = meter(
        user_id="$.payload.user",
        project_id="$.payload.project",
        metadata={"host": "$.payload.host", "zero": "$.payload.zero"},
    )
    payload = {"memory_mb": "512", "id": "r", "user": "u", "project": "p", "host": "h", "zero": 0}
    [sample] = definition.to_samples(body(payload)).samples
    assert (sample.volume, sample.user_id, sample.project_id) == ("512", "u", "p")
    assert sample.metadata == {"host": "h"}  # falsy values are left out


@pytest.mark.parametrize(
    ("volume", "reason"),
    [(None, NO_VOLUME), ("big", f"{NOT_A_NUMBER} ('big')")],
)
def test_what_the_sample_pipeline_refuses(volume, reason):
    produced = meter().to_samples(body({"memory_mb": volume, "id": "r"}))
    assert produced.samples == [] and produced.refused == [reason]


def test_a_volume_float_cannot_take_raises():
    with pytest.raises(Raised, match="volume: TypeError"):
        meter().to_samples(body({"memory_mb": {"value": 1}, "id": "r"}))


def test_a_timestamp_that_does_not_parse_raises():
    with pytest.raises(Raised, match="timestamp"):
        meter(timestamp="$.payload.when").to_samples(body({"memory_mb": 1, "when": "later"}))


def test_a_constant_volume_and_the_name_as_a_jsonpath():
    definition = meter(name="payload.kind", volume=1)
    [sample] = definition.to_samples(body({"kind": "from-payload"})).samples
    assert (sample.name, sample.volume) == ("from-payload", 1)


LOOKUP = {
    "name": "$.payload.metrics[*].name",
    "unit": "$.payload.metrics[*].unit",
    "volume": "$.payload.metrics[*].value",
    "resource_id": "$.payload.pool",
    "lookup": ["name", "unit", "volume"],
    "event_type": "pool.metrics",
}


def test_lookup_gives_one_sample_per_entry():
    payload = {
        "pool": "p-1",
        "metrics": [
            {"name": "used", "value": 1, "unit": "GB"},
            {"name": "free", "value": 2, "unit": "GB"},
        ],
    }
    produced = meter(**LOOKUP).to_samples(body(payload, event_type="pool.metrics"))
    assert [(s.name, s.volume, s.unit, s.resource_id) for s in produced.samples] == [
        ("used", 1, "GB", "p-1"),
        ("free", 2, "GB", "p-1"),
    ]


def test_lookup_with_a_missing_field_or_no_entries_gives_nothing():
    payload = {
        "pool": "p",
        "metrics": [{"name": "used", "value": 1, "unit": "GB"}, {"name": "free", "value": 2}],
    }
    produced = meter(**LOOKUP).to_samples(body(payload))
    assert produced.samples == [] and produced.refused == [f"{LOOKUP_COUNT} (unit: 1 of 2)"]
    empty = meter(**LOOKUP).to_samples(body({"pool": "p", "metrics": []}))
    assert empty.samples == [] and empty.refused == [LOOKUP_EMPTY]


def test_meter_files_order_duplicates_and_skipped_definitions(tmp_path):
    folder = tmp_path / "meters.d"
    folder.mkdir()
    (folder / "b.yaml").write_text(
        "metric:\n"
        "  - {name: memory, event_type: b, type: gauge, unit: MB, volume: 1, resource_id: x}\n"
    )
    (folder / "a.yaml").write_text(
        "metric:\n"
        "  - {name: memory, event_type: first, type: gauge, unit: MB, volume: 1, resource_id: x}\n"
        "  - {name: memory, event_type: last, type: gauge, unit: MB, volume: 1, resource_id: x}\n"
        "  - {name: bad, event_type: x, type: counter, unit: x, volume: 1, resource_id: x}\n"
        "  - {name: zero, event_type: x, type: gauge, unit: x, volume: 0, resource_id: x}\n"
    )
    (folder / ".hidden.yaml").write_text("nonsense: [")
    loaded = load_meters((str(folder),))
    assert [m.name for m in loaded.meters] == ["memory"]
    assert loaded.meters[0].match_type("last") and not loaded.meters[0].match_type("first")
    assert loaded.skipped == [
        (f"{folder}/a.yaml:5", "required fields ['volume'] not specified"),
        (f"{folder}/a.yaml:4", "invalid type counter specified"),
        (f"{folder}/a.yaml:2", "duplicate meter memory: skipped"),
        (f"{folder}/b.yaml:2", "duplicate meter memory: skipped"),
    ]


def test_a_meter_file_without_a_metric_list_is_an_error(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("- name: x\n")
    with pytest.raises(DefinitionFileError, match="m.yaml: a 'metric' list is expected"):
        load_meters((str(path),))


# --- the whole run --------------------------------------------------------------------------


class Quiet:
    def unreadable(self, line):
        raise AssertionError(line)


def record(event_type, payload, priority="INFO", **extra):
    import json

    return json.dumps(
        {
            "event_type": event_type,
            "publisher_id": "svc.host",
            "priority": priority,
            "payload": payload,
            "timestamp": "2026-03-05 10:00:00",
            **extra,
        }
    )


def test_priorities_topics_and_a_raising_meter_that_takes_every_sample_with_it(tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text("- event_type: '*'\n  traits: {size: {type: int, fields: payload.size}}\n")
    meters = tmp_path / "meters.yaml"
    meters.write_text(
        "metric:\n"
        "  - {name: ok, event_type: x, type: gauge, unit: B, volume: $.payload.size,"
        " resource_id: $.payload.id}\n"
        "  - {name: late, event_type: x, type: gauge, unit: B, volume: 1,"
        " resource_id: $.payload.id, timestamp: $.payload.when}\n"
    )
    recording = tmp_path / "r.ndjson"
    recording.write_text(
        "\n".join(
            [
                record("x.a", {"size": 1, "id": "a"}),
                record("x.b", {"size": 2, "id": "b"}, "ERROR"),
                record("x.c", {"size": 3, "id": "c"}, "SAMPLE"),
                record("x.d", {"size": 4, "id": "d"}, "WARN"),
                record("x.e", {"size": 5, "id": "e"}, topic="versioned_notifications"),
                record("x.f", {"size": 6, "id": "f", "when": "never"}),
            ]
        )
        + "\n"
    )
    prediction = run(
        CeilometerOptions((str(recording),), events=str(events), meters=(str(meters),)), Quiet()
    )
    assert [e["event_type"] for e in prediction.events] == ["x.a", "x.b", "x.f"]
    assert [(s["name"], s["resource_id"]) for s in prediction.samples] == [
        ("late", "a"),
        ("ok", "a"),
        ("late", "c"),
        ("ok", "c"),
    ]
    assert dict(prediction.not_heard) == {"priority WARN": 1, "topic versioned_notifications": 1}
    assert len(prediction.requeued) == 1 and prediction.requeued[0].startswith(f"{recording}:6: ")
    assert prediction.meters["ok"].no_sample  # taken down by the other meter
    assert prediction.failed(("unmatched", "no-sample", "dropped")) == ["no-sample", "dropped"]

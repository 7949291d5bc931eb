"""The validation engine: schema selection, results, and the fast path agreeing with jsonschema."""

from __future__ import annotations

import copy
import gzip
import json
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from osreplay.errors import InputError, UsageError
from osreplay.validate.validator import (
    BUILTIN_SCHEMAS,
    INVALID,
    NO_SCHEMA,
    UNREADABLE,
    VALID,
    Summary,
    Validator,
    Verdict,
    compile_check,
    error_message,
    inline_refs,
    json_path,
    load_builtin_schema,
    parse_schema_option,
)

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"
CADF_URI = "http://schemas.dmtf.org/cloud/audit/1.0/event"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


def record(payload: Any, event_type: str = "orchestration.stack.create.end", **extra: Any) -> dict:
    return {
        "event_type": event_type,
        "publisher_id": "orchestration.host1",
        "priority": "INFO",
        "payload": payload,
        **extra,
    }


def write_lines(path: Path, *lines: bytes) -> str:
    path.write_bytes(b"".join(lines))
    return str(path)


# -- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "statuses"),
    [
        ("keystone-login-failure.ndjson", [VALID] * 3),
        ("nova-server-boot.ndjson", [VALID] * 4),
        ("legacy.ndjson", [NO_SCHEMA, NO_SCHEMA, VALID, VALID, VALID]),
        (
            "invalid/every-error.ndjson",
            [UNREADABLE] * 6 + [INVALID] * 7 + [UNREADABLE],
        ),
    ],
)
def test_fixture_verdicts(validator: Validator, fixture: str, statuses: list[str]) -> None:
    verdicts = list(validator.validate_file(str(FIXTURES / fixture)))

    assert [v.status for v in verdicts] == statuses


def test_blank_lines_are_skipped_but_counted(validator: Validator) -> None:
    linenos = [
        v.lineno for v in validator.validate_file(str(FIXTURES / "invalid" / "every-error.ndjson"))
    ]

    assert linenos == [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]


def test_each_unreadable_class_is_reported_and_the_run_continues(
    validator: Validator, tmp_path: Path
) -> None:
    good = json.dumps(record({})).encode() + b"\n"
    path = write_lines(
        tmp_path / "bad.ndjson",
        b"{not json\n",
        good,
        b"[1, 2]\n",
        b'{"event_type": "a\xff"}\n',
        b'{"x": Infinity}\n',
        b"[" * 100_000 + b"\n",
        b'{"event_type": "big", "payload": "' + b"x" * 5_000_000 + b'"}\n',
        good,
        b'{"truncated": ',
    )

    verdicts = list(validator.validate_file(path))

    assert [(v.lineno, v.status) for v in verdicts] == [
        (1, UNREADABLE),
        (2, NO_SCHEMA),
        (3, UNREADABLE),
        (4, UNREADABLE),
        (5, UNREADABLE),
        (6, UNREADABLE),
        (7, UNREADABLE),  # read fine (several MB is no problem), but not a notification
        (8, NO_SCHEMA),
        (9, UNREADABLE),
    ]
    messages = [v.problems[0].message for v in verdicts if v.status == UNREADABLE]
    assert messages[0].startswith("not valid JSON: ")
    assert messages[1] == "not a JSON object (a JSON array)"
    assert messages[2].startswith("invalid UTF-8")
    assert "Infinity" in messages[3]
    assert "nesting deeper than 200 levels" in messages[4]
    assert messages[5] == "missing required key(s): publisher_id, priority"
    assert messages[6].startswith("truncated last line")
    assert all(v.problems[0].json_path is None for v in verdicts if v.status == UNREADABLE)


def test_gzip_and_json_documents_are_read(validator: Validator, tmp_path: Path) -> None:
    line = json.dumps(record({})) + "\n"
    gz = tmp_path / "rec.ndjson.gz"
    gz.write_bytes(gzip.compress((line * 3).encode()))
    doc = tmp_path / "sample.json"
    doc.write_text(json.dumps(record({}), indent=4))

    assert [v.lineno for v in validator.validate_file(str(gz))] == [1, 2, 3]
    assert [(v.lineno, v.status) for v in validator.validate_file(str(doc))] == [(1, NO_SCHEMA)]


def test_missing_file_raises_input_error(validator: Validator, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^cannot open .*nope\.ndjson: no such file$"):
        list(validator.validate_file(str(tmp_path / "nope.ndjson")))


def test_payload_nested_too_deep_to_validate_is_a_problem_not_a_crash(
    validator: Validator,
) -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    payload = {
        "nova_object.name": "P",
        "nova_object.namespace": "nova",
        "nova_object.version": "1.0",
        "nova_object.data": {"deep": deep},
    }

    verdict = validator.validate_object(record(payload))

    assert verdict.status == INVALID
    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload", "nesting too deep to validate")
    ]


# -- selection -------------------------------------------------------------------------------


def test_a_bare_cadf_event_is_named_by_its_action(validator: Validator) -> None:
    verdict = validator.validate_object({"typeURI": CADF_URI, "id": "e1", "action": "authenticate"})

    assert verdict.event_type == "authenticate"
    assert verdict.problems and {p.event_type for p in verdict.problems} == {"authenticate"}


def test_bare_cadf_event_is_checked_as_cadf(validator: Validator) -> None:
    verdict = validator.validate_object({"typeURI": CADF_URI, "id": "e1"})

    assert verdict.schemas == ("cadf-event",)
    assert verdict.event_type == CADF_URI  # no action: named by its typeURI, not "-"
    assert ("$", "'eventType' is a required property") in [
        (p.json_path, p.message) for p in verdict.problems
    ]


def test_oslo_v2_body_is_unwrapped_before_the_envelope(validator: Validator) -> None:
    inner = record({"resource_info": "p1"}, event_type="identity.project.created")
    body = {"oslo.version": "2.0", "oslo.message": json.dumps(inner)}

    verdict = validator.validate_object(body)

    assert (verdict.status, verdict.schemas) == (VALID, ("envelope", "keystone-basic"))


def test_oslo_message_that_is_not_json_is_unreadable(validator: Validator) -> None:
    verdict = validator.validate_object({"oslo.version": "2.0", "oslo.message": "{oops"})

    assert verdict.status == UNREADABLE  # as replay says: not a notification at all
    assert verdict.problems[0].json_path is None
    assert verdict.problems[0].message.startswith("oslo.message is not valid JSON")


def test_resource_info_outside_identity_has_no_schema(validator: Validator) -> None:
    verdict = validator.validate_object(record({"resource_info": 7}, event_type="image.update"))

    assert verdict.status == NO_SCHEMA


def test_strict_marks_records_without_payload_schema(tmp_path: Path) -> None:
    verdict = Validator(strict=True).validate_object(record({"stack": 1}))

    assert verdict.status == NO_SCHEMA
    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload", "no payload schema for this event type")
    ]


def test_user_schema_applies_to_matching_event_types(tmp_path: Path) -> None:
    schema = tmp_path / "stack.json"
    schema.write_text(json.dumps({"type": "object", "required": ["stack_name"]}))
    validator = Validator(extra_schemas=[parse_schema_option(f"orchestration.stack.*={schema}")])

    bad = validator.validate_object(record({"stack": 1}))
    good = validator.validate_object(record({"stack_name": "web"}))
    other = validator.validate_object(record({}, event_type="image.update"))

    assert bad.status == INVALID
    assert [(p.json_path, p.message) for p in bad.problems] == [
        ("$.payload", "'stack_name' is a required property")
    ]
    assert bad.schemas == ("envelope", str(schema))
    assert good.status == VALID
    assert other.status == NO_SCHEMA


def test_user_schema_is_added_to_the_builtin_one(tmp_path: Path, validator: Validator) -> None:
    schema = tmp_path / "login.json"
    schema.write_text(json.dumps({"properties": {"outcome": {"const": "success"}}}))
    strict_login = Validator(extra_schemas={"identity.authenticate": str(schema)})
    event = json.loads((FIXTURES / "keystone-login-failure.ndjson").read_text().splitlines()[0])

    verdict = strict_login.validate_object(event)

    assert verdict.schemas == ("envelope", "cadf-event", str(schema))
    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload.outcome", '"failure" should be "success"')
    ]


def test_user_schema_in_draft_2020_12(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"sizes": {"prefixItems": [{"type": "integer"}]}},
            }
        )
    )
    validator = Validator(extra_schemas=[("*", str(schema))])

    verdict = validator.validate_object(record({"sizes": ["big"]}))

    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload.sizes[0]", "\"big\" is not of type 'integer'")
    ]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, InputError, r"^cannot open schema .*missing\.json: no such file$"),
        ("{oops", UsageError, r"^schema .*missing\.json is not valid JSON: "),
        ('"a string"', UsageError, r"is not a JSON Schema \(not an object\)$"),
        ('{"type": 5}', UsageError, r"missing\.json is not a valid JSON Schema: "),
    ],
)
def test_bad_user_schema(tmp_path: Path, content: str | None, error: type, message: str) -> None:
    path = tmp_path / "missing.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(error, match=message):
        Validator(extra_schemas=[("*", str(path))])


@pytest.mark.parametrize("text", ["identity.*", "=x.json", "identity.*="])
def test_schema_option_needs_glob_and_path(text: str) -> None:
    with pytest.raises(UsageError, match=r"expected EVENT_TYPE_GLOB=PATH"):
        parse_schema_option(text)


# -- results ---------------------------------------------------------------------------------


def test_json_path() -> None:
    assert json_path([]) == "$"
    assert json_path(["reason", "reasonCode"], "$.payload") == "$.payload.reason.reasonCode"
    # a versioned object's own keys read as they are written; other dotted keys bracketed
    assert json_path(["nova_object.data", "ips", 0]) == "$.nova_object.data.ips[0]"
    assert json_path(["ironic_object.version"]) == "$.ironic_object.version"
    assert json_path(["hw:cpu.policy", "nova_object.other"]) == (
        "$['hw:cpu.policy']['nova_object.other']"
    )
    assert json_path(["it's"]) == "$['it\\'s']"


def test_long_values_are_shortened_in_messages(validator: Validator) -> None:
    verdict = validator.validate_object(record({}, publisher_id=["x" * 1000]))

    assert [(p.json_path, p.message) for p in verdict.problems] == [
        (None, "publisher_id must be a string or null, not an array")
    ]
    long_string = validator.validate_object(record({}, priority="x" * 1000)).problems[0]
    assert len(long_string.message) < 200


def test_summary_counts_and_ok() -> None:
    summary = Summary()
    for status in [VALID, VALID, INVALID, NO_SCHEMA, UNREADABLE]:
        summary.add(Verdict("f", 1, None, status))

    assert summary.as_dict() == {
        "records": 5,
        "valid": 2,
        "invalid": 1,
        "no_schema": 1,
        "unreadable": 1,
    }
    assert not summary.ok()
    only_no_schema = Summary(records=1, no_schema=1)
    assert only_no_schema.ok()
    assert not only_no_schema.ok(strict=True)


# -- the fast path agrees with jsonschema ------------------------------------------------------

SCHEMAS = {name: load_builtin_schema(name) for name in BUILTIN_SCHEMAS}
CHECKS = {name: compile_check(schema) for name, schema in SCHEMAS.items()}
REFERENCES = {name: jsonschema.Draft7Validator(schema) for name, schema in SCHEMAS.items()}
WRONG_VALUES = [None, 7, 1.5, True, "", "x", [], {}, ["x"], {"id": "target"}]


def sample_instances() -> list[Any]:
    """Corpus files, fixture lines and the payloads inside them."""
    found: list[Any] = []
    if CORPUS.is_dir():
        found += [json.loads(p.read_text()) for p in sorted(CORPUS.rglob("*.json"))]
    for fixture in sorted(FIXTURES.rglob("*.ndjson")):
        for raw in fixture.read_bytes().splitlines():
            try:
                found.append(json.loads(raw))
            except ValueError:
                pass
    found = [item for item in found if isinstance(item, dict)]
    return found + [item["payload"] for item in found if isinstance(item.get("payload"), dict)]


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, (*prefix, index))
    return out


def mutations(instance: Any, rng: random.Random, count: int) -> list[Any]:
    """``count`` copies of ``instance``, each with one node deleted or replaced."""
    candidates = [p for p in paths(instance) if p]
    out = []
    for _ in range(min(count, len(candidates) * 2)):
        where = rng.choice(candidates)
        mutated = copy.deepcopy(instance)
        parent = mutated
        for part in where[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and rng.random() < 0.3:
            del parent[where[-1]]
        else:
            parent[where[-1]] = copy.deepcopy(rng.choice(WRONG_VALUES))
        out.append(mutated)
    return out


def test_fast_check_agrees_with_jsonschema_on_samples_and_mutations() -> None:
    rng = random.Random(20240501)
    instances = sample_instances()
    assert len(instances) > 20
    checked = disagreements = 0
    for instance in instances:
        for candidate in [instance, *mutations(instance, rng, 25)]:
            for name in BUILTIN_SCHEMAS:
                checked += 1
                if CHECKS[name](candidate) != REFERENCES[name].is_valid(candidate):
                    disagreements += 1
                    print(name, json.dumps(candidate)[:300])
    # The corpus beside the checkout adds some 200 real samples; the fixtures alone, fewer.
    assert checked > (10_000 if CORPUS.is_dir() else 2_000)
    assert disagreements == 0


GENERIC_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": ["object", "array"],
    "properties": {
        "n": {"type": "integer"},
        "f": {"type": "number"},
        "b": {"type": "boolean"},
        "z": {"type": "null"},
        "s": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
        "one": {"oneOf": [{"type": "string"}, {"minLength": 3}]},
        "no": {"not": {"type": "string"}},
        "cond": {"if": {"type": "string"}, "then": {"const": "yes"}, "else": {"type": "integer"}},
        "deny": False,
    },
    "required": ["n"],
    "dependencies": {"a": ["b"], "c": {"required": ["f"]}},
    "patternProperties": {"^x-": {"type": "string"}},
    "additionalProperties": {"type": ["string", "integer"]},
    "items": {"$ref": "#/definitions/short"},
    "minItems": 1,
    "maxItems": 3,
    "allOf": [{"anyOf": [{"required": ["n"]}, {"type": "array"}]}],
    "definitions": {"short": {"type": "string", "maxLength": 1}},
}
GENERIC_VALUES = [
    {"n": 1},
    {"n": 1.0},
    {"n": True},
    {"n": 1.5},
    {"f": 1},
    {"n": 1, "f": False},
    {"n": 1, "b": 0},
    {"n": 1, "z": None},
    {"n": 1, "z": 0},
    {"n": 1, "s": "ab"},
    {"n": 1, "s": "a"},
    {"n": 1, "s": "abcde"},
    {"n": 1, "s": "AB"},
    {"n": 1, "one": "ab"},
    {"n": 1, "one": "abcd"},
    {"n": 1, "one": 5},
    {"n": 1, "no": 5},
    {"n": 1, "no": "x"},
    {"n": 1, "cond": "yes"},
    {"n": 1, "cond": "no"},
    {"n": 1, "cond": 3},
    {"n": 1, "cond": 3.5},
    {"n": 1, "deny": 1},
    {"n": 1, "a": 1},
    {"n": 1, "a": 1, "b": True},
    {"n": 1, "c": 1},
    {"n": 1, "c": 1, "f": 2.5},
    {"n": 1, "x-y": "s"},
    {"n": 1, "x-y": 1},
    {"n": 1, "other": 1},
    {"n": 1, "other": 1.5},
    [],
    ["a"],
    ["ab"],
    ["a", "b", "c", "d"],
    "string",
    7,
    None,
]


@pytest.mark.parametrize("value", GENERIC_VALUES, ids=repr)
def test_fast_check_keywords_agree_with_jsonschema(value: Any) -> None:
    check = compile_check(GENERIC_SCHEMA)

    assert check(value) == jsonschema.Draft7Validator(GENERIC_SCHEMA).is_valid(value)


def test_unsupported_keywords_fall_back(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"properties": {"size": {"minimum": 1}}}))
    validator = Validator(extra_schemas=[("*", str(schema))])

    verdict = validator.validate_object(record({"size": 0}))

    assert [(p.json_path, p.message) for p in verdict.problems] == [
        ("$.payload.size", "0 is less than the minimum of 1")
    ]


def test_shipped_reference_schemas_with_refs_inlined_give_the_same_messages() -> None:
    rng = random.Random(20261201)
    inlined = {name: jsonschema.Draft7Validator(inline_refs(s)) for name, s in SCHEMAS.items()}
    compared = 0
    for instance in sample_instances():
        for candidate in [instance, *mutations(instance, rng, 10)]:
            for name in BUILTIN_SCHEMAS:
                expected = [
                    (json_path(e.absolute_path), error_message(e))
                    for e in REFERENCES[name].iter_errors(candidate)
                ]
                found = [
                    (json_path(e.absolute_path), error_message(e))
                    for e in inlined[name].iter_errors(candidate)
                ]
                assert found == expected, name
                compared += bool(expected)
    assert compared > 500


def test_shipped_schemas_checked_in_parts_give_jsonschemas_messages_in_order(
    validator: Validator,
) -> None:
    rng = random.Random(20261202)
    compared = 0
    for instance in sample_instances():
        for candidate in [instance, *mutations(instance, rng, 10)]:
            for name in BUILTIN_SCHEMAS:
                whole: list[tuple[str, str]] = []
                for error in REFERENCES[name].iter_errors(candidate):
                    item = (json_path(error.absolute_path), error_message(error))
                    if item not in whole:
                        whole.append(item)
                assert validator.validate_against(name, candidate) == whole, name
                compared += bool(whole)
    assert compared > 500

"""Fuzzing ``osreplay validate`` and ``osreplay replay --dry-run`` with hypothesis.

Random bytes, mutated records and generated user schemas go through the command line as
a user runs it. Whatever the input: no traceback, an exit code in {0, 1, 2}, a JSON
report that parses, and the verdicts jsonschema (the reference) gives. The number of
examples is bounded so the suite runs in seconds in CI; ``FUZZ_EXAMPLES`` raises it for a
longer local run (``FUZZ_EXAMPLES=2000 pytest tests/fuzz``).
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing.exceptions
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import osreplay.replay.sender  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main
from osreplay.validate.validator import (
    BUILTIN_SCHEMAS,
    compile_check,
    json_path,
    load_builtin_schema,
)

ROOT = Path(__file__).parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SUMMARY_KEYS = {"records", "valid", "invalid", "no_schema", "unreadable"}


def base_records() -> list[dict[str, Any]]:
    """The project's fixture records, and the corpus samples when the corpus is beside us."""
    found: list[Any] = []
    for fixture in sorted((ROOT / "fixtures").glob("*.ndjson")):
        found += [json.loads(raw) for raw in fixture.read_bytes().splitlines() if raw.strip()]
    if CORPUS.is_dir():
        for sample in sorted(CORPUS.rglob("*.json"))[:80]:
            try:
                found.append(json.loads(sample.read_bytes()))
            except ValueError:
                pass
    return [item for item in found if isinstance(item, dict)]


BASES = base_records()
SCHEMAS = {name: load_builtin_schema(name) for name in BUILTIN_SCHEMAS}
CHECKS = {name: compile_check(schema) for name, schema in SCHEMAS.items()}
REFERENCES = {name: jsonschema.Draft7Validator(schema) for name, schema in SCHEMAS.items()}

# Text a hostile recording holds: controls, lone surrogates, line separators, plain text.
HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\x1b", "\r", "\n", "\t", "\x00", "\x9b", "\u2028", "\ud800", "\udfff"]),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE,
    st.sampled_from(["INFO", "AUDIT", "x.y", "1.0", "2024-05-01T12:00:00Z", "success"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from("abc"), HOSTILE), inner, max_size=3),
    ),
    max_leaves=8,
)


def nodes(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += nodes(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nodes(item, (*prefix, index))
    return found


@st.composite
def mutated_records(draw: st.DrawFn) -> dict[str, Any]:
    """A real record with a few nodes replaced by hostile values or deleted."""
    record = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = draw(st.sampled_from([path for path in nodes(record) if path]))
        parent = record
        for part in where[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(VALUES)
        if not any(nodes(record)[1:]):
            break
    return record


def encode(record: Any) -> bytes:
    return json.dumps(record).encode() + b"\n"  # ASCII: surrogates as \ud800 escapes


LINES = st.one_of(
    st.binary(max_size=60),
    mutated_records().map(encode),
    st.sampled_from(
        [b"", b"  ", b"[]", b"NaN", b'{"a": 1e999}', b"{" * 2000, b"9" * 5000, b"\x1f\x8b\x08"]
    ),
)


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), prog_name="osreplay")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the fuzz found a defect
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        assert result.stderr.startswith("Error: ")
    return result


def report(*args: str) -> dict[str, Any]:
    """``validate --format json ARGS``: always one JSON document on stdout."""
    result = invoke("validate", "--format", "json", *args)
    document = json.loads(result.stdout)
    assert set(document["summary"]) == SUMMARY_KEYS
    return document


# --- random bytes and mutated records through the command line --------------------------


@FUZZ
@given(lines=st.lists(LINES, max_size=6), gz=st.booleans())
def test_validate_and_dry_run_never_crash(lines: list[bytes], gz: bool) -> None:
    data = b"\n".join(lines)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("r.ndjson.gz" if gz else "r.ndjson")
        path.write_bytes(gzip.compress(data) if gz else data)

        document = report(str(path))
        text = invoke("validate", str(path))
        invoke("replay", "--dry-run", "--rate", "0", str(path))
        invoke("replay", "--dry-run", "--skip-invalid", str(path))

    if "error" in document:  # gzip data under a plain name, cut short: exit 2, told
        assert text.exit_code == 2
        assert text.stderr == f"Error: {document['error']}\n"
        return
    summary = document["summary"]
    assert summary["records"] == len([line for line in data.split(b"\n") if line.strip()])
    # before the summary line: the notes and the payload schemas used, one line each
    closing = len(document["notes"]) + ("notes_left_out" in document) + bool(document["by_schema"])
    problems = text.stdout.splitlines()[: -1 - closing]
    assert len(problems) == len(document["problems"])  # no forged or split lines


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_in_a_gz_name(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "junk.ndjson.gz"
        path.write_bytes(data)
        result = invoke("validate", "--format", "json", str(path))
    if result.exit_code != 2:
        json.loads(result.stdout)


@FUZZ
@given(record=mutated_records())
def test_shipped_schemas_fast_check_equals_jsonschema(record: dict[str, Any]) -> None:
    payload = record.get("payload")
    for instance in (record, payload):
        for name in BUILTIN_SCHEMAS:
            assert CHECKS[name](instance) == REFERENCES[name].is_valid(instance), name


# The subset compile_check implements, generated: its verdicts must be jsonschema's.
KEYS = st.sampled_from(["a", "b", "c", "nova_object.x"])
CHECKABLE_LEAVES = st.one_of(
    st.booleans(),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "object", "array", "null"])}
    ),
    st.fixed_dictionaries({"enum": st.lists(st.sampled_from(["x", "y", "1.0"]), min_size=1)}),
    st.fixed_dictionaries({"type": st.just("string"), "minLength": st.integers(0, 2)}),
    st.fixed_dictionaries({"maxLength": st.integers(0, 2)}),
    st.fixed_dictionaries({"pattern": st.sampled_from(["^x", "^(?!x)", "[0-9]+", "^y$"])}),
    st.fixed_dictionaries({"required": st.lists(KEYS, max_size=2, unique=True)}),
)
CHECKABLE_SCHEMAS = st.recursive(
    CHECKABLE_LEAVES,
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("object"),
                "required": st.lists(KEYS, max_size=3, unique=True),
                "properties": st.dictionaries(KEYS, inner, max_size=3),
            },
            optional={
                "additionalProperties": inner,
                "patternProperties": st.dictionaries(st.just("^(?!nova_object\\.)"), inner),
                "dependencies": st.dictionaries(KEYS, inner, max_size=1),
                "anyOf": st.lists(inner, min_size=1, max_size=2),
            },
        ),
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": inner},
            optional={"minItems": st.integers(0, 2), "maxItems": st.integers(0, 2)},
        ),
        st.fixed_dictionaries({"properties": st.dictionaries(KEYS, inner, max_size=3)}),
        st.fixed_dictionaries({"items": inner}),
        st.fixed_dictionaries({"patternProperties": st.dictionaries(KEYS, inner, max_size=1)}),
        st.fixed_dictionaries({"not": inner}),
        st.tuples(
            st.sampled_from(["allOf", "anyOf", "oneOf"]), st.lists(inner, min_size=1, max_size=3)
        ).map(lambda pair: {pair[0]: pair[1]}),
    ),
    max_leaves=8,
)
# Values near the schemas' edges: the keys they name, strings their tests tell apart.
CHECKED_SCALARS = st.sampled_from([None, True, 0, 1, 1.5, "", "x", "y", "xy", "1.0", "9"])
CHECKED_VALUES = st.recursive(
    CHECKED_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(FUZZ, max_examples=EXAMPLES * 10)
@given(schema=CHECKABLE_SCHEMAS, values=st.lists(CHECKED_VALUES, min_size=5, max_size=20))
def test_compiled_check_equals_jsonschema_on_generated_schemas(
    schema: Any, values: list[Any]
) -> None:
    check = compile_check(schema)
    reference = jsonschema.Draft7Validator(schema)
    for value in values:
        assert check(value) == reference.is_valid(value), json.dumps(value)


# --- generated user schemas ----------------------------------------------------------------

LEAF_SCHEMAS = st.one_of(
    st.booleans(),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "integer", "number", "object", "array", "null"])}
    ),
    st.fixed_dictionaries({"enum": st.lists(SCALARS, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"const": SCALARS}),
    st.fixed_dictionaries({"minimum": st.integers(-5, 5)}),
    st.fixed_dictionaries({"multipleOf": st.sampled_from([0.01, 0.1, 2, 3, 1e-9])}),
    st.fixed_dictionaries({"minLength": st.integers(0, 3), "maxLength": st.integers(0, 5)}),
    st.fixed_dictionaries({"pattern": st.sampled_from(["^a", "b$", "[0-9]+", "."])}),
    st.fixed_dictionaries({"required": st.lists(st.sampled_from("abc"), max_size=2, unique=True)}),
    st.fixed_dictionaries({"$ref": st.sampled_from(["#/definitions/d", "#/definitions/nowhere"])}),
)
USER_SCHEMAS = st.recursive(
    LEAF_SCHEMAS,
    lambda inner: st.one_of(
        st.fixed_dictionaries(
            {"properties": st.dictionaries(st.sampled_from("abc"), inner, max_size=3)}
        ),
        st.fixed_dictionaries({"items": inner}),
        st.fixed_dictionaries({"additionalProperties": inner}),
        st.fixed_dictionaries({"not": inner}),
        st.tuples(
            st.sampled_from(["allOf", "anyOf", "oneOf"]), st.lists(inner, min_size=1, max_size=3)
        ).map(lambda pair: {pair[0]: pair[1]}),
    ),
    max_leaves=6,
)


@st.composite
def schema_documents(draw: st.DrawFn) -> Any:
    schema = draw(USER_SCHEMAS)
    if isinstance(schema, dict) and draw(st.booleans()):
        schema = {**schema, "definitions": {"d": draw(USER_SCHEMAS)}}
    return schema


TOO_DEEP = "too deep"  # a schema that refers to itself: jsonschema itself recurses forever


def reference_paths(schema: Any, payload: Any) -> set[str] | str | None:
    """jsonschema's verdict: the JSON paths of its errors; None when it cannot resolve,
    :data:`TOO_DEEP` when it recurses without end (a ``$ref`` back to itself)."""
    validator = jsonschema.Draft7Validator(schema)
    try:
        errors = list(validator.iter_errors(payload))
    except referencing.exceptions.Unresolvable:
        return None
    except RecursionError:
        return TOO_DEEP
    except BaseException as exc:  # the same recursion, surfacing in rpds' Rust code
        if type(exc).__name__ != "PanicException":
            raise
        return TOO_DEEP
    return {json_path(error.absolute_path, "$.payload") for error in errors}


@FUZZ
@given(schema=schema_documents(), payload=VALUES)
def test_user_schema_verdicts_equal_jsonschema(schema: Any, payload: Any) -> None:
    record = {"event_type": "x", "publisher_id": "p", "priority": "INFO", "payload": payload}
    with tempfile.TemporaryDirectory() as folder:
        schema_path = Path(folder) / "schema.json"
        schema_path.write_text(json.dumps(schema))
        path = Path(folder) / "r.ndjson"
        path.write_bytes(encode(record))
        result = invoke("validate", "--format", "json", "--schema", f"x={schema_path}", str(path))

    expected = reference_paths(schema, payload)
    if result.exit_code == 2:
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith(f"Error: {schema_path}: ")
        assert "#/definitions/" in json.dumps(schema)  # only unresolvable refs stop a run
        return
    document = json.loads(result.stdout)
    if expected == TOO_DEEP:  # osreplay reports the record invalid instead of crashing
        assert document["summary"]["invalid"] == 1
        assert "nesting too deep to validate" in {p["message"] for p in document["problems"]}
        return
    assert isinstance(expected, set)
    found = {problem["json_path"] for problem in document["problems"]}
    assert (document["summary"]["invalid"] == 1) == bool(expected)
    if len(document["problems"]) < 20:  # past 20, the list is cut short
        assert found == expected


@pytest.mark.parametrize("nesting", [50, 150, 400])
def test_deeply_nested_user_schema_never_crashes(nesting: int, tmp_path: Path) -> None:
    schema: Any = {"type": "integer"}
    for index in range(nesting):
        schema = {
            ["allOf", "anyOf", "not", "items"][index % 4]: [schema] if index % 4 < 2 else schema
        }
    schema_path = tmp_path / "deep.json"
    schema_path.write_text(json.dumps(schema))
    path = tmp_path / "r.ndjson"
    path.write_bytes(
        encode({"event_type": "x", "publisher_id": "p", "priority": "INFO", "payload": [1]})
    )

    result = invoke("validate", "--format", "json", "--schema", f"x={schema_path}", str(path))

    assert result.exit_code == (2 if nesting > 100 else result.exit_code)

"""The hot loop of validate (osreplay.validate.scan) tells what Validator.validate_file does."""

from __future__ import annotations

import copy
import gzip
import json
import random
from pathlib import Path

import pytest

from osreplay.errors import InputError
from osreplay.validate.compiler import tells_numbers_apart
from osreplay.validate.scan import PROGRESS_EVERY, count_file
from osreplay.validate.validator import (
    BUILTIN_SCHEMAS,
    Summary,
    Validator,
    Verdict,
    load_builtin_schema,
)

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures"
CADF_URI = "http://schemas.dmtf.org/cloud/audit/1.0/event"
LOGIN = json.loads((FIXTURES / "keystone-login-failure.ndjson").read_bytes().splitlines()[0])


def counted(validator: Validator, path: str) -> tuple[dict[str, int], list[Verdict], list[int]]:
    """count_file's summary, the verdicts it told and the record counts of its progress."""
    summary, told, progress = Summary(), [], []
    count_file(validator, path, summary, told.append, lambda name, n: progress.append(n))
    return summary.as_dict(), told, progress


def same_as_validate_file(validator: Validator, path: str) -> dict[str, int]:
    """count_file's summary, after checking it against validate_file's verdicts: the same
    counts, each verdict told is validate_file's, and every one with a problem is told."""
    summary, told, _ = counted(validator, path)
    expected = Summary()
    every = {}
    for verdict in validator.validate_file(path):
        expected.add(verdict)
        every[verdict.lineno] = verdict
    assert summary == expected.as_dict()
    assert told == [every[verdict.lineno] for verdict in told]
    assert [v for v in told if v.problems] == [v for v in every.values() if v.problems]
    return summary


def mutated_lines(rng: random.Random, count: int) -> list[bytes]:
    """Fixture records with one node replaced, and lines no parser reads."""
    bases = [
        json.loads(raw)
        for fixture in sorted(FIXTURES.glob("*.ndjson"))
        for raw in fixture.read_bytes().splitlines()
    ]
    odd = [b"", b"   ", b"[]", b"7", b"NaN", b"{oops", b'{"a": 1e999}', b"\xff\xfe", b"{}"]
    lines = []
    for _ in range(count):
        if rng.random() < 0.2:
            lines.append(rng.choice(odd))
            continue
        record = copy.deepcopy(rng.choice(bases))
        node, key = record, rng.choice(list(record))
        while isinstance(node[key], dict) and node[key] and rng.random() < 0.6:
            node, key = node[key], rng.choice(list(node[key]))
        node[key] = rng.choice([None, 7, 10**30, 1.5, "", "x", [], {}, {"id": "target"}])
        lines.append(json.dumps(record).encode())
    return lines


@pytest.mark.parametrize(
    "fixture",
    sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.ndjson")),
)
def test_counting_a_fixture_tells_the_verdicts_of_validate_file(fixture: str) -> None:
    same_as_validate_file(Validator(), str(FIXTURES / fixture))


@pytest.mark.parametrize("strict", [False, True])
def test_counting_mutated_records_tells_the_verdicts_of_validate_file(
    tmp_path: Path, strict: bool
) -> None:
    path = tmp_path / "mutated.ndjson"
    path.write_bytes(b"\n".join(mutated_lines(random.Random(20260501), 3000)))  # no last \n
    validator = Validator(strict=strict)

    summary = same_as_validate_file(validator, str(path))

    assert min(summary["valid"], summary["invalid"], summary["no_schema"]) > 300
    assert len(counted(validator, str(path))[2]) == 3000 // PROGRESS_EVERY


def test_a_long_integer_is_read_exactly_where_a_record_is_not_valid(tmp_path: Path) -> None:
    # orjson reads 10**30 as 1e+30: the message must show the integer as written.
    inside_ctxt = {**LOGIN, "ctxt": {"big": 10**30}}
    as_message_id = {**LOGIN, "message_id": 10**30}
    path = tmp_path / "big.ndjson"
    path.write_text(json.dumps(inside_ctxt) + "\n" + json.dumps(as_message_id) + "\n")

    summary, told, _ = counted(Validator(), str(path))

    assert summary["valid"] == 1 and summary["invalid"] == 1
    [verdict] = [v for v in told if v.problems]
    assert [(p.lineno, p.json_path, p.message) for p in verdict.problems] == [
        (2, "$.message_id", "1000000000000000000000000000000 is not of type 'string'")
    ]


def test_the_generated_checks_tell_integers_apart_so_the_loop_parses_exactly() -> None:
    # The hand-written schemas never tell two numbers of one type apart; the generated nova
    # and ironic schemas test integers, so orjson's numbers are not trusted alone (see
    # osreplay.validate.scan).
    assert not any(tells_numbers_apart(load_builtin_schema(name)) for name in BUILTIN_SCHEMAS)
    flavor = ROOT / "schemas" / "nova" / "FlavorPayload" / "1.4.json"
    assert tells_numbers_apart(json.loads(flavor.read_text()))
    assert not Validator().number_blind
    assert tells_numbers_apart({"properties": {"n": {"type": ["string", "integer"]}}})
    assert not tells_numbers_apart({"properties": {"n": {"type": "number"}}})


def test_without_number_blind_checks_the_loop_parses_exactly(tmp_path: Path) -> None:
    validator = Validator()
    validator.number_blind = False
    path = tmp_path / "big.ndjson"
    path.write_text(json.dumps({**LOGIN, "ctxt": {"big": 10**30}}) + "\n" + "\n")

    assert same_as_validate_file(validator, str(path))["valid"] == 1
    assert len(counted(validator, str(path))[1]) == 1  # the exact parse decided


def test_an_over_long_line_is_unreadable_and_counting_goes_on(tmp_path: Path) -> None:
    line = json.dumps(LOGIN).encode()
    path = tmp_path / "long.ndjson"
    path.write_bytes(line + b"\n" + b" " * 5000 + line + b"\n" + line + b"\n")
    validator = Validator(max_line_bytes=4096)

    summary, told, _ = counted(validator, str(path))

    assert summary == {"records": 3, "valid": 2, "invalid": 0, "no_schema": 0, "unreadable": 1}
    assert [(v.lineno, v.problems[0].message) for v in told] == [
        (2, "line longer than 4 KiB, not read (see --max-line-bytes)")
    ]


def test_a_gzip_stream_broken_half_way_keeps_the_count_of_lines_before(tmp_path: Path) -> None:
    data = gzip.compress((json.dumps(LOGIN) + "\n").encode() * 3000)
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])
    summary = Summary()

    with pytest.raises(InputError, match=r"cannot read .*cut\.ndjson\.gz after line \d+"):
        count_file(Validator(), str(path), summary, lambda v: None, lambda n, r: None)

    assert 0 < summary.valid == summary.records < 3000


def test_a_json_document_is_one_record(tmp_path: Path) -> None:
    path = tmp_path / "sample.json"
    path.write_text(json.dumps({**LOGIN, "priority": "NOTICE"}, indent=2))
    assert same_as_validate_file(Validator(), str(path))["unreadable"] == 1

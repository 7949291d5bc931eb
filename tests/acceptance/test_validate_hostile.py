"""Hostile input to `osreplay validate` and `osreplay replay --dry-run` (issue 13).

Each test is one of the reported defects, run as the user ran it: no traceback, one
clear line, the exit code the README promises, and JSON output that always parses.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import osreplay.replay.replayer  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main

ROOT = Path(__file__).parents[2]
ESCAPED_RECORD = '{"event_type":"x","publisher_id":"p","priority":"\\ud800","payload":{}}\n'


def osreplay(*args: str, input: bytes | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(main, list(args), input=input, prog_name="osreplay")


def run(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """``python -m osreplay ARGS`` as a real process (streams, pipes, memory)."""
    return subprocess.run(
        [sys.executable, "-m", "osreplay", *args],
        capture_output=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        **kwargs,
    )


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def record(**fields) -> dict:
    return {"event_type": "x", "publisher_id": "p", "priority": "INFO", "payload": {}, **fields}


def ndjson(tmp_path: Path, *records: dict, name: str = "r.ndjson") -> str:
    return write(tmp_path / name, "".join(json.dumps(r) + "\n" for r in records))


# --- 1. no traceback ------------------------------------------------------------------


def test_lone_surrogate_in_priority_is_a_problem_line(tmp_path: Path) -> None:
    path = write(tmp_path / "s.ndjson", ESCAPED_RECORD)

    result = osreplay("validate", path)

    assert result.exit_code == 1
    assert result.stdout == (
        f'{path}:1: priority "\\ud800" is not one of AUDIT, DEBUG, INFO, WARN, ERROR, '
        "CRITICAL, SAMPLE\n"
        "1 record: 0 valid, 0 invalid, 0 without payload schema, 1 unreadable\n"
    )


def test_lone_surrogate_in_json_report_is_one_complete_document(tmp_path: Path) -> None:
    path = write(tmp_path / "s.ndjson", ESCAPED_RECORD.replace('"x"', '"\\udfff"'))

    proc = run("validate", "--format", "json", path)

    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["problems"][0]["event_type"] == "\udfff"
    assert report["summary"]["unreadable"] == 1
    assert proc.stderr == b""


@pytest.mark.parametrize(
    ("schema", "error"),
    [
        (
            {"$ref": "#/definitions/nowhere"},
            '$ref "#/definitions/nowhere" points to nothing '
            "('/definitions/nowhere' does not exist)",
        ),
        (
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$dynamicRef": "#missing",
            },
            "$dynamicRef \"#missing\": no anchor 'missing' in the schema",
        ),
    ],
    ids=["dangling-ref", "dynamic-ref-without-anchor"],
)
def test_unresolvable_user_schema_is_one_error_line(tmp_path: Path, schema, error) -> None:
    path = ndjson(tmp_path, record())
    schema_path = write(tmp_path / "my.json", json.dumps(schema))

    result = osreplay("validate", "--schema", f"x={schema_path}", path)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {schema_path}: {error}\n"


def test_user_schema_nested_400_levels_is_one_error_line(tmp_path: Path) -> None:
    schema: dict = {}
    for _ in range(400):
        schema = {"allOf": [schema]}
    schema_path = write(tmp_path / "deep.json", json.dumps(schema))

    result = osreplay("validate", "--schema", f"x={schema_path}", ndjson(tmp_path, record()))

    assert result.exit_code == 2
    assert result.stderr == f"Error: {schema_path}: nested too deep to check\n"


def test_user_schema_nested_beyond_the_limit_is_refused_before_python_gives_up(
    tmp_path: Path,
) -> None:
    schema: dict = {"type": "object"}
    for _ in range(120):
        schema = {"properties": {"a": schema}}
    schema_path = write(tmp_path / "deep.json", json.dumps(schema))

    result = osreplay("validate", "--schema", f"x={schema_path}", ndjson(tmp_path, record()))

    assert result.exit_code == 2
    assert result.stderr == f"Error: {schema_path}: nested more than 100 levels deep\n"


def test_dry_run_with_a_timestamp_before_year_one_in_utc(tmp_path: Path) -> None:
    path = ndjson(tmp_path, record(timestamp="0001-01-01T00:00:00+01:00"))

    paced = osreplay("replay", "--dry-run", path)
    steady = osreplay("replay", "--dry-run", "--rate", "0", path)

    assert paced.exit_code == 2
    assert paced.stderr == (
        f"Error: line 1 of {path} has no timestamp or recorded_at to pace it by: replay at a "
        "steady pace with --rate N (--rate 0 for as fast as possible)\n"
    )
    assert steady.exit_code == 0
    assert (
        steady.stdout.splitlines()[1] == f"{path}\t1\t+0.000\topenstack\tnotifications\tINFO\tp\tx"
    )


def test_dry_run_with_a_surrogate_and_controls_in_event_type(tmp_path: Path) -> None:
    path = ndjson(tmp_path, record(event_type="a\ud800\tb\x1b[31m\r\nFAKE"))

    proc = run("replay", "--dry-run", "--rate", "0", path)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines()[1] == (
        f"{path}\t1\t+0.000\topenstack\tnotifications\tINFO\tp\ta\\ud800\\tb\\u001b[31m\\r\\nFAKE"
    )


# --- 2. no network --------------------------------------------------------------------


def test_remote_ref_is_refused_without_connecting(tmp_path: Path) -> None:
    # A server that accepts connections and never answers: a fetch would hang the run.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        schema = write(tmp_path / "my.json", json.dumps({"$ref": f"http://127.0.0.1:{port}/s"}))

        proc = run("validate", "--schema", f"x={schema}", ndjson(tmp_path, record()), timeout=60)

        server.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody knocked
            server.accept()
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        f'Error: {schema}: $ref "http://127.0.0.1:{port}/s" is remote; validate never fetches '
        "schemas: save it beside the schema and refer to it by a relative path\n"
    )


def test_refs_to_local_files_beside_the_schema(tmp_path: Path) -> None:
    (tmp_path / "common").mkdir()
    write(tmp_path / "common" / "types.json", '{"$ref": "more.json#/definitions/size"}')
    write(tmp_path / "common" / "more.json", '{"definitions": {"size": {"type": "integer"}}}')
    schema = write(
        tmp_path / "flavor.json",
        '{"properties": {"size": {"$ref": "common/types.json"}}, "required": ["size"]}',
    )
    path = ndjson(tmp_path, record(payload={"size": 1}), record(payload={"size": "big"}))

    result = osreplay("validate", "--schema", f"x={schema}", path)

    assert result.stdout == (
        f"{path}:2: x: $.payload.size: \"big\" is not of type 'integer'\n"
        f"payload schemas: {schema} (2 records)\n"
        "2 records: 1 valid, 1 invalid, 0 without payload schema, 0 unreadable\n"
    )


def test_ref_under_the_schema_id_maps_to_the_schema_folder(tmp_path: Path) -> None:
    write(tmp_path / "size.json", '{"type": "integer"}')
    schema = write(
        tmp_path / "flavor.json",
        '{"$id": "https://schemas.example.com/nova/flavor.json",'
        ' "properties": {"size": {"$ref": "size.json"}}}',
    )
    path = ndjson(tmp_path, record(payload={"size": "big"}))

    result = osreplay("validate", "--schema", f"x={schema}", path)

    assert result.stdout.splitlines()[0] == (
        f"{path}:1: x: $.payload.size: \"big\" is not of type 'integer'"
    )


def test_ref_to_a_missing_local_file(tmp_path: Path) -> None:
    schema = write(tmp_path / "my.json", '{"$ref": "gone.json"}')

    result = osreplay("validate", "--schema", f"x={schema}", ndjson(tmp_path, record()))

    assert result.exit_code == 2
    assert result.stderr == (
        f'Error: {schema}: $ref "gone.json": cannot read {tmp_path / "gone.json"}: '
        "no such file or directory\n"
    )


# --- 3. bounded memory ------------------------------------------------------------------


def peak_rss_mb(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``python -m osreplay ARGS`` in a fresh parent and return its peak RSS (MB)."""
    probe = (
        "import resource, subprocess, sys;"
        "p = subprocess.run(sys.argv[1:], capture_output=True);"
        "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
        "sys.stderr.write(p.stdout.decode() + p.stderr.decode());"
        "sys.exit(p.returncode)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, sys.executable, "-m", "osreplay", *args],
        capture_output=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    return int(proc.stdout) / 1024, proc


@pytest.fixture(scope="module")
def huge_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A 50 MB line of ``{},{},…`` and 200 MB of spaces in a .gz, each before a record."""
    folder = tmp_path_factory.mktemp("huge")
    commas = folder / "commas.ndjson"
    commas.write_bytes(b"{}," * 16_700_000 + b"\n" + json.dumps(record()).encode() + b"\n")
    spaces = folder / "spaces.ndjson.gz"
    with gzip.open(spaces, "wb", compresslevel=1) as out:
        for _ in range(200):
            out.write(b" " * 1_000_000)
        out.write(b"\n" + json.dumps(record()).encode() + b"\n")
    return str(commas), str(spaces)


@pytest.mark.parametrize("which", [0, 1], ids=["50MB-line", "200MB-spaces-gz"])
def test_validate_memory_stays_bounded_on_a_huge_line(huge_files, which: int) -> None:
    path = huge_files[which]

    rss, proc = peak_rss_mb("validate", path)

    assert proc.returncode == 1
    assert proc.stderr.decode() == (
        f"{path}:1: line longer than 32 MiB, not read (see --max-line-bytes)\n"
        "2 records: 0 valid, 0 invalid, 1 without payload schema, 1 unreadable\n"
    )
    assert rss < 400


@pytest.mark.parametrize("which", [0, 1], ids=["50MB-line", "200MB-spaces-gz"])
def test_replay_dry_run_memory_stays_bounded_on_a_huge_line(huge_files, which: int) -> None:
    path = huge_files[which]

    rss, proc = peak_rss_mb("replay", "--dry-run", "--rate", "0", "--skip-invalid", path)

    assert proc.returncode == 0
    assert (
        f"Skipped line 1 of {path}: line longer than 32 MiB, not read (see --max-line-bytes)"
        in proc.stderr.decode()
    )
    assert rss < 400


def test_record_model_reader_memory_stays_bounded(huge_files) -> None:
    probe = (
        "import resource, sys; from osreplay.model.ndjson import read_lines;"
        "print([(l.lineno, l.error) for l in read_lines(sys.argv[1])]);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, huge_files[1]], capture_output=True, text=True, cwd=ROOT
    )

    lines, rss_kb = proc.stdout.splitlines()
    assert lines == ("[(1, 'line longer than 32 MiB, not read (see --max-line-bytes)'), (2, None)]")
    assert int(rss_kb) / 1024 < 400


def test_max_line_bytes_option(tmp_path: Path) -> None:
    path = ndjson(tmp_path, record(), record(payload={"a": "x" * 100}))

    result = osreplay("validate", "--max-line-bytes", "100", path)
    replayed = osreplay("replay", "--dry-run", "--rate", "0", "--max-line-bytes", "100", path)

    assert result.stdout == (
        f"{path}:2: line longer than 100 bytes, not read (see --max-line-bytes)\n"
        "2 records: 0 valid, 0 invalid, 1 without payload schema, 1 unreadable\n"
    )
    assert replayed.exit_code == 1
    assert "line 2: line longer than 100 bytes, not read (see --max-line-bytes)" in (
        replayed.stderr
    )


# --- 4. user schemas: jsonschema decides --------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "payload", "message"),
    [
        (
            {"properties": {"p": {"multipleOf": 0.01}}},
            {"p": 0.07},
            "0.07 is not a multiple of 0.01",
        ),
        (
            {
                "$id": "http://example.com/root.json",
                "properties": {
                    "p": {
                        "$id": "http://example.com/nested.json",
                        "definitions": {"t": {"type": "integer"}},
                        "allOf": [{"$ref": "#/definitions/t"}],
                    }
                },
                "definitions": {"t": {"type": "string"}},
            },
            {"p": "s"},
            "\"s\" is not of type 'integer'",
        ),
    ],
    ids=["multipleOf", "ref-scoped-by-nested-id"],
)
def test_user_schema_verdict_is_jsonschemas(tmp_path: Path, schema, payload, message) -> None:
    import jsonschema

    schema_path = write(tmp_path / "my.json", json.dumps(schema))
    path = ndjson(tmp_path, record(payload=payload))
    expected = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(payload)]

    result = osreplay("validate", "--schema", f"x={schema_path}", path)

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(message)
    assert len(expected) == 1


# --- 5. escaping, long values, a complete JSON document -------------------------------------


def test_control_characters_cannot_forge_report_lines(tmp_path: Path) -> None:
    path = ndjson(tmp_path, record(event_type="x\x1b[31m\r\nFAKE: line", message_id=7))

    result = osreplay("validate", path)

    assert result.stdout.splitlines() == [
        f"{path}:1: x\\x1b[31m\\x0d\\x0aFAKE: line: $.message_id: 7 is not of type 'string'",
        "1 record: 0 valid, 1 invalid, 0 without payload schema, 0 unreadable",
    ]


def test_control_characters_in_an_error_message_are_escaped(tmp_path: Path) -> None:
    result = osreplay("validate", str(tmp_path / "a\x1b[2Jb.ndjson"))

    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot open {tmp_path}/a\\x1b[2Jb.ndjson: no such file\n"


def test_long_number_is_shown_without_a_stray_quote(tmp_path: Path) -> None:
    path = ndjson(tmp_path, record(message_id=int("9" * 80)))

    result = osreplay("validate", path)

    assert result.stdout.splitlines()[0] == (
        f"{path}:1: x: $.message_id: {'9' * 59}… is not of type 'string'"
    )


def test_gzip_read_error_mid_file_still_ends_the_json_document(tmp_path: Path) -> None:
    lines = [json.dumps(record(message_id=7))] + [json.dumps(record())] * 20_000
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) // 2])

    proc = run("validate", "--format", "json", str(path))

    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert report["problems"][0]["line"] == 1
    assert report["error"].startswith(f"cannot read {path} after line ")
    assert proc.stderr.decode().startswith(f"Error: cannot read {path} after line ")


# --- 7. .gz from a FIFO or a pipe -------------------------------------------------------------


def test_gz_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "live.ndjson.gz"
    os.mkfifo(fifo)
    data = gzip.compress((json.dumps(record(message_id=7)) + "\n").encode())

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    proc = run("validate", "-q", str(fifo), timeout=60)
    writer.join()

    assert proc.stdout.decode() == (
        "1 record: 0 valid, 1 invalid, 0 without payload schema, 0 unreadable\n"
    )


def test_gz_through_process_substitution_and_a_pipe(tmp_path: Path) -> None:
    path = tmp_path / "r.ndjson.gz"
    path.write_bytes(gzip.compress((json.dumps(record(message_id=7)) + "\n").encode()))
    command = f"{sys.executable} -m osreplay validate -q <(cat {path}) && exit 9"

    substituted = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    piped = run("validate", "-q", "-", input=path.read_bytes())

    summary = "1 record: 0 valid, 1 invalid, 0 without payload schema, 0 unreadable\n"
    assert (substituted.returncode, substituted.stdout) == (1, summary)
    assert (piped.returncode, piped.stdout.decode()) == (1, summary)

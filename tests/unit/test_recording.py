"""Reading and writing recordings: line numbers, bad input, stdin, gzip."""

from __future__ import annotations

import gzip
import io
import json
import sys

import pytest

from osreplay.errors import InputError
from osreplay.model.ndjson import read_lines
from osreplay.model.writer import RecordingWriter

GOOD = '{"event_type": "a", "publisher_id": "p", "priority": "INFO", "payload": {}}'


def write(tmp_path, data: bytes, name="rec.ndjson"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_blank_lines_are_skipped_and_line_numbers_kept(tmp_path):
    path = write(tmp_path, f"{GOOD}\n\n   \n{GOOD}\n".encode())
    assert [(line.lineno, line.error) for line in read_lines(path)] == [(1, None), (4, None)]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"{not json}\n", "not valid JSON"),
        (b"[1, 2]\n", "not a JSON object (a JSON array)"),
        (b'"text"\n', "not a JSON object (a JSON string)"),
        (b'{"a": "\xff"}\n', "invalid UTF-8 at byte 8"),
        (b'{"a": NaN}\n', "not valid JSON: NaN is not JSON"),
        (b'{"a": -Infinity}\n', "not valid JSON: -Infinity is not JSON"),
        (b"[" * 200_000 + b"\n", "nesting deeper than 200 levels"),
        (b'{"a": 1', "truncated last line"),
    ],
)
def test_an_unreadable_line_says_why_and_reading_goes_on(tmp_path, data, error):
    path = write(tmp_path, data if not data.endswith(b"\n") else data + GOOD.encode() + b"\n")
    lines = list(read_lines(path))
    assert lines[0].lineno == 1 and lines[0].obj is None
    assert error in lines[0].error
    if data.endswith(b"\n"):
        assert lines[1].lineno == 2 and lines[1].error is None


def test_a_line_of_several_megabytes_is_read(tmp_path):
    big = json.dumps({"event_type": "a", "payload": "x" * 5_000_000})
    lines = list(read_lines(write(tmp_path, (big + "\n" + GOOD + "\n").encode())))
    assert [line.error for line in lines] == [None, None]


def test_a_missing_file_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError, match=r"cannot open .*nope.ndjson: no such file"):
        list(read_lines(str(tmp_path / "nope.ndjson")))


def test_a_directory_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="it is a directory"):
        list(read_lines(str(tmp_path)))


def test_a_gz_recording_is_read_compressed(tmp_path):
    path = tmp_path / "rec.ndjson.gz"
    path.write_bytes(gzip.compress(f"{GOOD}\n{GOOD}\n".encode()))
    assert len(list(read_lines(str(path)))) == 2


def test_a_gz_path_that_is_not_gzip_is_an_input_error(tmp_path):
    path = write(tmp_path, GOOD.encode(), name="plain.ndjson.gz")
    with pytest.raises(InputError, match="not a gzip file"):
        list(read_lines(path))


def test_dash_reads_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{GOOD}\n".encode())))
    [line] = list(read_lines("-"))
    assert line.path == "<stdin>" and line.obj["event_type"] == "a"


def test_the_writer_appends_whole_lines_and_gz_members(tmp_path):
    path = str(tmp_path / "out.ndjson.gz")
    for _ in range(2):
        with RecordingWriter(path, append=True, fsync=True) as writer:
            writer.write([GOOD + "\n", GOOD + "\n"])
            writer.flush()
    assert [line.error for line in read_lines(path)] == [None] * 4


def test_flushed_gz_lines_are_readable_before_close(tmp_path):
    path = str(tmp_path / "live.ndjson.gz")
    writer = RecordingWriter(path)
    writer.write([GOOD + "\n"])
    writer.flush()
    decompressor = gzip.zlib.decompressobj(31)
    with open(path, "rb") as compressed:
        assert decompressor.decompress(compressed.read()) == (GOOD + "\n").encode()
    writer.close()


def test_the_writer_refuses_a_missing_directory(tmp_path):
    with pytest.raises(InputError, match="its directory does not exist"):
        RecordingWriter(str(tmp_path / "no" / "such.ndjson"))


def test_a_json_file_is_one_pretty_printed_record(tmp_path):
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(json.loads(GOOD), indent=4))
    [line] = list(read_lines(str(path)))
    assert line.lineno == 1 and line.obj["event_type"] == "a"


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 10**30, 123456789012345678901234567890])
def test_integers_beyond_64_bits_are_read_exactly(tmp_path, number):
    path = write(tmp_path, f'{{"event_type": "a", "payload": {{"n": {number}}}}}\n'.encode())
    [line] = list(read_lines(path))
    assert line.obj["payload"]["n"] == number and isinstance(line.obj["payload"]["n"], int)

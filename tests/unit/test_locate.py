"""Line numbers for problems in a pretty-printed .json record."""

from __future__ import annotations

from osreplay.model.locate import line_of, syntax_error_line, value_lines
from osreplay.validate.validator import Validator, json_path

DOCUMENT = """{
  "event_type": "compute.instance.create.end",
  "payload": {
    "list": [
      1,
      {"odd.key": "x"}
    ],
    "text": "a \\" } [ ,"
  }
}
"""


def test_every_value_gets_the_line_it_starts_on():
    lines = {json_path(parts): n for parts, n in value_lines(DOCUMENT).items()}
    assert lines == {
        "$": 1,
        "$.event_type": 2,
        "$.payload": 3,
        "$.payload.list": 4,
        "$.payload.list[0]": 5,
        "$.payload.list[1]": 6,
        "$.payload.list[1]['odd.key']": 6,
        "$.payload.text": 8,
    }


def test_a_path_not_in_the_file_takes_the_line_of_what_encloses_it():
    lines = {json_path(parts): n for parts, n in value_lines(DOCUMENT).items()}
    assert line_of(lines, "$.payload.list[1].missing") == 6
    assert line_of(lines, "$.ctxt.user") == 1


def test_the_line_of_a_syntax_error():
    assert syntax_error_line('{\n  "a": 1,,\n}') == 2
    assert syntax_error_line("{}") is None


def test_validate_names_the_line_of_the_failing_value_in_a_json_file(tmp_path):
    path = tmp_path / "sample.json"
    path.write_text(
        '{\n  "event_type": "compute.instance.update",\n  "publisher_id": "p",\n'
        '  "priority": "INFO",\n  "payload": {\n    "nova_object.name": "X",\n'
        '    "nova_object.namespace": "nova",\n    "nova_object.version": "1.0",\n'
        '    "nova_object.data": []\n  }\n}\n'
    )
    [verdict] = Validator().validate_file(str(path))
    assert verdict.status == "invalid"
    assert [p.lineno for p in verdict.problems] == [9]
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "event_type": "a.b",\n  "payload": {\n    "x": 1,,\n  }\n}\n')
    [verdict] = Validator().validate_file(str(broken))
    assert [p.lineno for p in verdict.problems] == [4]


def test_replay_reads_a_broken_json_file_at_the_line_of_its_error(tmp_path):
    from osreplay.model.ndjson import read_document

    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "event_type": "a.b",\n  "payload": {\n    "x": 1,,\n  }\n}\n')
    line = read_document(str(broken))
    assert (line.obj, line.lineno) == (None, 4)

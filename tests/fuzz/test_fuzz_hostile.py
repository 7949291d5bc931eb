"""Fuzzing every command with the hostile shapes of issue 19, bounded examples.

Deep nesting around the limit, numbers beyond a double or Python's digit limit,
byte-order marks, bodies oslo cannot decode, and standard output on a full disk. Whatever
the input: no traceback, one verdict for a line whatever the command, and no body lost
without a word. ``FUZZ_EXAMPLES`` raises the number of examples for a longer local run.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import osreplay.replay.sender  # noqa: F401  # oslo imported now, while osreplay silences eventlet
from osreplay.cli import main
from osreplay.model.notification import MAX_NESTING

ROOT = Path(__file__).parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def nested(levels: int, leaf: str = "1", *, objects: bool = False) -> str:
    text = leaf
    for level in range(levels - 1):
        text = '{"k": ' + text + "}" if objects and level % 2 else "[" + text + "]"
    return text


@st.composite
def hostile_payloads(draw: st.DrawFn) -> str:
    """A payload's JSON text: nested near the limit, or holding a number no double holds."""
    kind = draw(st.sampled_from(["deep", "float", "int", "plain"]))
    if kind == "deep":
        levels = draw(st.sampled_from([MAX_NESTING - 2, MAX_NESTING - 1, MAX_NESTING,
                                       MAX_NESTING + 1, 495, 990, 1200]))  # fmt: skip
        return nested(levels - 1, objects=draw(st.booleans()))
    if kind == "float":
        exponent = draw(st.integers(min_value=300, max_value=2000))
        sign = draw(st.sampled_from(["", "-"]))
        return f'{{"n": {sign}1e{exponent}}}'
    if kind == "int":
        return '{"n": ' + "9" * draw(st.integers(min_value=4000, max_value=6000)) + "}"
    return '{"n": 1, "s": "x"}'


def line(payload: str) -> bytes:
    return (
        '{"event_type":"e.x","publisher_id":"p","priority":"INFO",'
        '"timestamp":"2024-05-01 12:00:00","ctxt":{"request_id":"req-1"},'
        '"payload":' + payload + "}\n"
    ).encode()


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), prog_name="osreplay")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: the fuzz found a defect
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stdout + result.stderr
    assert "Infinity" not in result.stdout
    return result


@FUZZ
@given(
    payloads=st.lists(hostile_payloads(), min_size=1, max_size=4),
    bom=st.booleans(),
    gz=st.booleans(),
)
def test_every_command_gives_hostile_lines_one_verdict(payloads, bom, gz):
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(line(p) for p in payloads)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("r.ndjson.gz" if gz else "r.ndjson")
        path.write_bytes(gzip.compress(data) if gz else data)
        name = str(path)
        document = json.loads(invoke("validate", "--format", "json", name).stdout)
        unreadable = document["summary"]["unreadable"]
        readable = len(payloads) - unreadable
        redacted = invoke("redact", name, "-o", f"{folder}/out.ndjson")
        assert f"Redacted {readable} record" in redacted.stderr
        out = Path(folder, "out.ndjson").read_bytes()
        assert len(out.splitlines()) == readable
        assert b"Infinity" not in out
        for command in (
            ["stats", name],
            ["trace", name],
            ["timeline", name, "-o", f"{folder}/t.html"],
            ["replay", "--dry-run", "--skip-invalid", "--fresh-ids", "--retime", name],
            ["redact", "--pseudonymise", "--seed", "s", name, "-o", f"{folder}/p.ndjson"],
        ):
            result = invoke(*command)
            assert result.exit_code in (0, 1), result.output
        refused = invoke("replay", "--dry-run", name)
        assert refused.exit_code == (1 if unreadable else 0), refused.output


# --- bodies oslo cannot decode -----------------------------------------------------------


def envelope(inner: str) -> bytes:
    return json.dumps({"oslo.version": "2.0", "oslo.message": inner}).encode()


GOOD_INNER = json.dumps(
    {"event_type": "e.x", "publisher_id": "p", "priority": "INFO", "payload": {"n": 1},
     "message_id": "m", "timestamp": "2024-05-01 12:00:00", "_unique_id": "u"}
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=40).map(str.encode),
    hostile_payloads().map(str.encode),
    hostile_payloads().map(lambda p: envelope(GOOD_INNER[:-1] + ', "x": ' + p + "}")),
    st.text(max_size=30).map(envelope),
    st.just(envelope(GOOD_INNER)),
)


@pytest.fixture(scope="module")
def tap_decoding():
    from kombu import serialization

    from osreplay.bus.codec import catch_undecodable, decode_json_with_orjson

    assert decode_json_with_orjson() and catch_undecodable()
    yield
    serialization.register_json()


@FUZZ
@given(body=BODIES, priority=st.sampled_from(["info", "error", "sample", "bogus"]))
def test_every_body_reaches_the_endpoint_decoded_or_as_a_named_stand_in(
    tap_decoding, body, priority
):
    from kombu.message import Message
    from oslo_messaging._drivers import impl_rabbit

    from osreplay.bus.codec import UNDECODABLE, undecodable_reason

    raw = Message(
        body=body,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_info={"routing_key": f"notifications.{priority}"},
    )
    message = impl_rabbit.RabbitMessage(raw)  # never raises: oslo would reject it unseen
    assert isinstance(message, dict)
    if message.get("event_type") is None and isinstance(message.get("payload"), dict):
        reason = undecodable_reason(message)
        if reason is not None:
            assert reason and "\n" not in reason
            assert body.decode("utf-8", "replace")[:20] not in reason or len(body) < 8
            expected = priority if priority != "bogus" else "info"
            assert message["priority"] == expected
            return
    # decoded: what oslo makes of it (NaN or 1e400 are then named by the recorder as
    # unencodable, with their message_id)
    payload = message.get("payload")
    assert not isinstance(payload, dict) or UNDECODABLE not in payload


# --- standard output on a full disk ---------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@settings(FUZZ, max_examples=min(EXAMPLES, 6))
@given(
    command=st.sampled_from([["validate"], ["validate", "--format", "json"], ["stats"],
                             ["trace"], ["replay", "--dry-run", "--skip-invalid"],
                             ["timeline", "-o", "-"], ["redact"]]),  # fmt: skip
    payloads=st.lists(hostile_payloads(), min_size=1, max_size=3),
)
def test_standard_output_on_a_full_disk_is_one_line_and_exit_2(command, payloads):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.ndjson"
        path.write_bytes(b"".join(line(p) for p in payloads) + line("{}"))
        with open("/dev/full", "wb") as full:
            result = subprocess.run(
                [sys.executable, "-m", "osreplay", *command, str(path)],
                stdout=full,
                stderr=subprocess.PIPE,
                cwd=ROOT,
                timeout=120,
            )
    errors = [text for text in result.stderr.decode().splitlines()
              if text.startswith("Error: ")]  # fmt: skip
    assert b"Traceback" not in result.stderr
    assert result.returncode == 2
    assert len(errors) == 1 and "no space left on device" in errors[0]

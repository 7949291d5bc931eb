"""Property: whatever ``osreplay record`` writes, ``replay --dry-run`` accepts and
``validate`` reads (no unreadable line), for any notification oslo can put on the wire.

Each generated notification goes through JSON as on the wire (oslo's serialiser escapes
non-ASCII, so lone surrogates arrive as ``\\udcff``), then through the recorder's own
endpoint code and writer, into a file that the two commands read as a user would.
"""

from __future__ import annotations

import json

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osreplay.bus.transport import resolve
from osreplay.cli import main
from osreplay.console.record import skipped_notice
from osreplay.model.notification import PRIORITIES
from osreplay.model.writer import RecordingWriter
from osreplay.tap.options import RecordOptions
from osreplay.tap.recorder import Recorder, _TapEndpoint

TRICKY = ["\udcff", "a\ud800b", "password=s3", "rabbit://u:p@h:5672/", "Bearer abc", "", "\x00"]
text = st.one_of(st.text(max_size=12), st.sampled_from(TRICKY))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
notifications = st.fixed_dictionaries(
    {
        "event_type": st.one_of(st.none(), text, st.just("compute.instance.update")),
        "publisher_id": st.one_of(st.none(), text),
        "priority": st.sampled_from(PRIORITIES),
        "payload": json_values,
        "ctxt": st.dictionaries(text, json_values, max_size=4),
        "message_id": st.uuids().map(str),
    }
)


def on_the_wire(note: dict) -> dict:
    """The message as oslo's batch listener hands it to an endpoint after JSON transit."""
    body = json.loads(json.dumps(note))  # oslo's jsonutils: ensure_ascii, like json
    return {
        "ctxt": body["ctxt"],
        "publisher_id": body["publisher_id"],
        "event_type": body["event_type"],
        "payload": body["payload"],
        "metadata": {"message_id": body["message_id"], "timestamp": "2024-05-01 12:00:00.5"},
    }


class Skips:
    """A console that keeps the skip notices and ignores the rest."""

    def __init__(self, notices: list[str]) -> None:
        self.notices = notices

    def skipped(self, skipped) -> None:
        self.notices.append(skipped_notice(skipped))

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(notifications, min_size=1, max_size=5))
def test_whatever_record_writes_replay_accepts_and_validate_reads(tmp_path, batch):
    path = tmp_path / "rec.ndjson"
    events: list[str] = []
    writer = RecordingWriter(str(path))
    recorder = Recorder(
        resolve(url="kombu+memory:////"),
        writer=writer,
        options=RecordOptions(exchanges=["nova"], topics=["notifications"]),
        events=Skips(events),
    )
    try:
        by_priority: dict[str, list[dict]] = {}
        for note in batch:
            by_priority.setdefault(note["priority"], []).append(on_the_wire(note))
        endpoint = _TapEndpoint(recorder, "nova", "notifications")
        for priority, messages in by_priority.items():
            assert recorder._handle(endpoint, priority, messages) is None  # acked, none requeued
    finally:
        recorder._sink.close()
        writer.close()
    assert not recorder._sink._thread.is_alive()

    # split on "\n" only: str.splitlines() also splits on U+0085 and U+2028 in values
    written = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
    readable = [note for note in batch if isinstance(note["event_type"], str)]
    assert len(written) == len(readable)  # only what is not a notification is skipped
    assert len(events) == len(batch) - len(readable)
    assert all("not a notification: event_type must be a string" in e for e in events)
    if not written:
        return
    runner = CliRunner()
    dry = runner.invoke(main, ["replay", "--dry-run", "--rate", "0", str(path)])
    assert dry.exit_code == 0, dry.output
    rows = dry.stdout.split("\n")
    assert len(rows) == 1 + len(written) + 2  # header, one row per record, summary, ""
    noun = "record" if len(written) == 1 else "records"
    assert rows[-2].startswith(f"Dry run: {len(written)} of {len(written)} {noun} planned")
    checked = runner.invoke(main, ["validate", "-q", str(path)])
    assert checked.stdout.startswith(f"{len(written)} {noun}: ")
    assert checked.stdout.endswith(", 0 unreadable\n")

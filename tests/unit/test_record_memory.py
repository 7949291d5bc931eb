"""The recorder end to end on oslo's in-process ``kombu+memory`` transport (no broker).

The memory transport runs the whole rabbit driver (envelope, pool queues, requeue) in
this process; its state is global, so every test uses its own exchange and pool names.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from click.testing import CliRunner

from osreplay.bus.queues import QueueAdmin
from osreplay.bus.transport import get_transport, resolve
from osreplay.cli import main
from osreplay.errors import InputError
from osreplay.model.repair import prepare_append
from osreplay.model.writer import RecordingWriter
from osreplay.tap.options import RecordOptions
from osreplay.tap.recorder import Recorder

URL = "kombu+memory:////"


def leaky_context(**values):
    """A context that keeps its token on the wire, as a careless service's might."""
    # Imported here: osreplay (imported above) silences eventlet's import-time warning.
    from oslo_context.context import RequestContext

    class LeakyContext(RequestContext):
        def redacted_copy(self, **kwargs):
            return self

    return LeakyContext(**values)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def notifier(exchange: str, publisher_id: str = "compute.host1"):
    import oslo_messaging

    transport = get_transport(resolve(url=URL), exchange=exchange)
    return oslo_messaging.Notifier(transport, publisher_id=publisher_id, driver="messagingv2")


def recorder(path, exchanges, **kwargs) -> tuple[Recorder, RecordingWriter]:
    writer = RecordingWriter(str(path), append=kwargs.pop("append_file", False))
    seen = kwargs.pop("seen_ids", ())
    kwargs.setdefault("batch_timeout", 0.05)
    options = RecordOptions(exchanges=exchanges, **kwargs)
    return Recorder(resolve(url=URL), writer=writer, options=options, seen=seen), writer


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def stop(rec: Recorder, writer: RecordingWriter):
    done = threading.Event()
    done.set()
    rec.run_until(done)
    summary = rec.stop()
    writer.close()
    return summary


def records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_every_exchange_and_priority_redacted_and_cleans_up(tmp_path):
    nova, keystone = unique("nova"), unique("keystone")
    path = tmp_path / "rec.ndjson"
    rec, writer = recorder(path, [nova, keystone], pool=unique("p"))
    rec.start()
    ctx = leaky_context(auth_token="tok-SECRET", user_id="u1", project_id="p1")
    notifier(nova).info(ctx, "compute.instance.create.end", {"id": 1})
    notifier(nova).error(ctx, "compute.instance.create.error", {"id": 2})
    notifier(keystone, "identity.host1").audit(
        ctx, "identity.authenticate", {"initiator": {"credential": {"token": "tok-SECRET"}}}
    )
    notifier(keystone, "identity.host1").sample(ctx, "identity.metric", {"v": 1.5})
    wait_for(lambda: rec.stats.written == 4)
    summary = stop(rec, writer)

    got = {r["event_type"]: r for r in records(path)}
    assert {e: (r["exchange"], r["topic"], r["priority"]) for e, r in got.items()} == {
        "compute.instance.create.end": (nova, "notifications", "INFO"),
        "compute.instance.create.error": (nova, "notifications", "ERROR"),
        "identity.authenticate": (keystone, "notifications", "AUDIT"),
        "identity.metric": (keystone, "notifications", "SAMPLE"),
    }
    assert got["compute.instance.create.end"]["payload"] == {"id": 1}
    assert got["compute.instance.create.end"]["ctxt"]["auth_token"] == "***"
    assert got["compute.instance.create.end"]["ctxt"]["user"] == "u1"
    assert "msg_id" not in got["compute.instance.create.end"]["ctxt"]
    assert got["identity.authenticate"]["payload"]["initiator"]["credential"]["token"] == "***"
    assert "tok-SECRET" not in path.read_text()
    assert summary.written == 4 and summary.kept_queues == []
    # The rate is over the time messages came, from the first batch to the last written.
    assert summary.receiving is not None and 0 <= summary.receiving <= summary.elapsed
    assert sorted(summary.deleted_queues) == sorted(rec.queues)
    admin = QueueAdmin.for_settings(resolve(url=URL))
    assert [admin.inspect(q) for q in rec.queues] == [None, None]


def test_no_redact_keeps_the_token(tmp_path):
    ex = unique("ex")
    path = tmp_path / "rec.ndjson"
    rec, writer = recorder(path, [ex], pool=unique("p"), redact=False)
    rec.start()
    notifier(ex).info(leaky_context(auth_token="tok-KEEP"), "a.b", {})
    wait_for(lambda: rec.stats.written == 1)
    stop(rec, writer)
    assert records(path)[0]["ctxt"]["auth_token"] == "tok-KEEP"


def test_filtered_messages_are_acked_and_counted_not_written(tmp_path):
    ex = unique("ex")
    path = tmp_path / "rec.ndjson"
    from osreplay.model.filters import Filters

    filters = Filters(event_types=("compute.*",), priorities=("error",))
    rec, writer = recorder(path, [ex], pool=unique("p"), filters=filters, keep_queue=True)
    rec.start()
    n = notifier(ex)
    n.error({}, "compute.instance.delete.error", {})
    n.info({}, "compute.instance.delete.end", {})
    n.error({}, "image.upload.error", {})
    wait_for(lambda: rec.stats.written + rec.stats.filtered == 3)
    summary = stop(rec, writer)
    assert [r["event_type"] for r in records(path)] == ["compute.instance.delete.error"]
    assert summary.filtered == 2
    admin = QueueAdmin.for_settings(resolve(url=URL))
    assert admin.inspect(rec.queues[0]).messages == 0  # acked, not left behind
    admin.delete(rec.queues[0])


def fill_kept_queue(tmp_path, exchange: str, pool: str, n: int) -> list[str]:
    """Create the tap queue with a short --keep-queue run, then publish n messages."""
    rec, writer = recorder(tmp_path / "setup.ndjson", [exchange], pool=pool, keep_queue=True)
    rec.start()
    stop(rec, writer)
    sender = notifier(exchange)
    for i in range(n):
        sender.info({}, "test.event", {"i": i})
    admin = QueueAdmin.for_settings(resolve(url=URL))
    assert admin.inspect(rec.queues[0]).messages == n
    return rec.queues


def test_count_stops_exactly_and_requeues_the_rest_then_append_resumes(tmp_path):
    ex, pool = unique("ex"), unique("p")
    queues = fill_kept_queue(tmp_path, ex, pool, 30)
    path = tmp_path / "rec.ndjson"
    rec, writer = recorder(path, [ex], pool=pool, count=10, keep_queue=True)
    rec.start()
    assert rec.run_until(threading.Event()) == "count"
    summary = rec.stop()
    writer.close()
    assert len(records(path)) == 10 and summary.written == 10
    admin = QueueAdmin.for_settings(resolve(url=URL))
    # Nothing unwritten was acked: the 20 others are back in the queue (and the 10 written
    # ones of the same batch too: a batch is acked or requeued as a whole).
    assert admin.inspect(queues[0]).messages >= 20

    seen = prepare_append(str(path))
    rec, writer = recorder(path, [ex], pool=pool, append=True, seen_ids=seen, append_file=True)
    rec.start()
    wait_for(lambda: rec.stats.written == 20)
    summary = stop(rec, writer)
    payloads = sorted(r["payload"]["i"] for r in records(path))
    assert payloads == list(range(30))  # nothing lost, nothing twice
    assert summary.deleted_queues == queues and admin.inspect(queues[0]) is None


class FailingWriter(RecordingWriter):
    def write(self, lines):
        raise InputError(f"cannot write {self.name}: no space left on device")


def test_a_failed_write_requeues_keeps_the_queue_and_reports(tmp_path):
    ex, pool = unique("ex"), unique("p")
    queues = fill_kept_queue(tmp_path, ex, pool, 5)
    writer = FailingWriter(str(tmp_path / "rec.ndjson"))
    rec = Recorder(
        resolve(url=URL),
        writer=writer,
        options=RecordOptions(exchanges=[ex], pool=pool, batch_timeout=0.05),
    )
    rec.start()
    assert rec.run_until(threading.Event()) == "error"
    summary = rec.stop()
    writer.close()
    assert isinstance(summary.error, InputError) and summary.kept_queues == queues
    admin = QueueAdmin.for_settings(resolve(url=URL))
    assert admin.inspect(queues[0]).messages == 5
    admin.delete(queues[0])


def test_duration_stops_by_itself(tmp_path):
    rec, writer = recorder(tmp_path / "rec.ndjson", [unique("ex")], pool=unique("p"))
    rec.start()
    assert rec.run_until(threading.Event(), duration=0.2) == "duration"
    summary = stop(rec, writer)
    assert summary.written == 0 and summary.receiving is None


# --- the command -------------------------------------------------------------------------


def invoke(args):
    return CliRunner().invoke(main, ["record", *args], prog_name="osreplay")


def test_cli_writes_only_records_to_stdout_and_the_rest_to_stderr(tmp_path):
    ex, pool = unique("ex"), unique("p")
    fill_kept_queue(tmp_path, ex, pool, 8)
    result = invoke(["--url", URL, "--exchange", ex, "--pool", pool, "--count", "8"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8 and all(json.loads(line)["exchange"] == ex for line in lines)
    stderr = result.stderr.splitlines()
    assert stderr[0] == f"Recording from {URL} on exchange {ex} (pool {pool})"
    assert stderr[1].startswith(f"Found tap queues left by an earlier recorder (resuming): {pool}")
    assert stderr[2].startswith("Recorded 8 records in ")
    assert stderr[-1] == f"  deleted 1 tap queue (pool {pool})"


def test_cli_quiet_prints_only_the_ready_line(tmp_path):
    ex, pool = unique("ex"), unique("p")
    fill_kept_queue(tmp_path, ex, pool, 2)
    out = tmp_path / "rec.ndjson.gz"
    args = f"--url {URL} --exchange {ex} --pool {pool} --count 2 -q --fsync --topic notifications"
    result = invoke([*args.split(), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"Recording from {URL} on exchange {ex} (pool {pool})\n"
    import gzip

    assert len(gzip.decompress(out.read_bytes()).splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--append"], "Error: --append needs -o FILE (standard output cannot be appended to)\n"),
        (["--priority", "loud"], None),
        (["--count", "0"], None),
        (
            ["--url", "rabbit://guest:s3cret@127.0.0.1:1/", "--connect-timeout", "3"],
            "Error: cannot connect to rabbit://guest:***@127.0.0.1:1/: "
            "[Errno 111] Connection refused\n",
        ),
    ],
)
def test_cli_usage_and_connection_errors_exit_2(args, message):
    started = time.monotonic()
    result = invoke(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    if message is not None:
        assert result.stderr == message
    assert "s3cret" not in result.stderr
    assert time.monotonic() - started < 10


def test_an_unreachable_broker_leaves_the_output_file_alone(tmp_path):
    out = tmp_path / "keep.ndjson"
    out.write_text('{"message_id": "m1"}\n')
    result = invoke(["--url", "rabbit://guest:guest@127.0.0.1:1/", "-o", str(out)])
    assert result.exit_code == 2
    assert out.read_text() == '{"message_id": "m1"}\n'


class _GonePipe:
    def write(self, data):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        pass


def test_the_reader_of_stdout_leaving_is_a_clean_stop(tmp_path, monkeypatch):
    class Stdout:
        buffer = _GonePipe()

    ex, pool = unique("ex"), unique("p")
    queues = fill_kept_queue(tmp_path, ex, pool, 3)
    monkeypatch.setattr("sys.stdout", Stdout())
    writer = RecordingWriter("-")
    rec = Recorder(
        resolve(url=URL),
        writer=writer,
        options=RecordOptions(exchanges=[ex], pool=pool, batch_timeout=0.05),
    )
    rec.start()
    rec.run_until(threading.Event())
    summary = rec.stop()
    assert summary.error is None and summary.stopped_by == "output closed"
    assert summary.deleted_queues == queues


def test_several_topics_get_a_queue_each_and_records_know_their_topic(tmp_path):
    import oslo_messaging

    ex, pool = unique("ex"), unique("p")
    path = tmp_path / "rec.ndjson"
    rec, writer = recorder(path, [ex], topics=["notifications", "versioned"], pool=pool)
    rec.start()
    assert sorted(rec.queues) == [f"{pool}.{ex}.notifications", f"{pool}.{ex}.versioned"]
    transport = get_transport(resolve(url=URL), exchange=ex)
    for topic in ("notifications", "versioned"):
        oslo_messaging.Notifier(
            transport, publisher_id="p", driver="messagingv2", topics=[topic]
        ).info({}, f"on.{topic}", {})
    wait_for(lambda: rec.stats.written == 2)
    stop(rec, writer)
    assert {r["event_type"]: r["topic"] for r in records(path)} == {
        "on.notifications": "notifications",
        "on.versioned": "versioned",
    }


def test_by_default_every_ceilometer_exchange_gets_a_tap_queue(monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "ctl-test")
    result = invoke(["--url", URL, "--duration", "0.3"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"Recording from {URL} on 15 exchanges (pool osreplay-ctl-test)"
    assert lines[-1] == "  deleted 15 tap queues (pool osreplay-ctl-test)"
    admin = QueueAdmin.for_settings(resolve(url=URL))
    assert admin.inspect("osreplay-ctl-test.nova") is None

"""Real osprofiler traces, recorded from a real RabbitMQ, equal osprofiler's own report.

osprofiler 4.4.0 lives in a virtualenv of its own (``OSREPLAY_OSPROFILER_PYTHON``, default
``/work/venvs/osprofiler/bin/python``; ``pip install osprofiler==4.4.0 oslo.messaging``).
``osprofiler_emit.py`` runs there: its messaging driver sends two traces across three
services, then its ``get_report`` reads them back. Meanwhile ``osreplay record`` taps the
same exchange, and ``osreplay trace --by trace`` on that recording must give, span for
span, the trees ``get_report`` gave. osprofiler's topic is always ``profiler``, so the
test runs in a virtual host of its own (created and deleted with ``rabbitmqctl``).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import test_replay_broker
from click.testing import CliRunner
from osprofiler_report import report_spans
from test_record_broker import ROOT, Recording, line_count, unique, wait_for

from osreplay.cli import main

pytestmark = pytest.mark.broker

bus = test_replay_broker.bus  # a private virtual host where rabbitmqctl allows one
PYTHON = Path(os.environ.get("OSREPLAY_OSPROFILER_PYTHON", "/work/venvs/osprofiler/bin/python"))
POINTS = 20  # 7 spans in the boot, 3 in the volume list; a start and a stop each


@pytest.fixture
def osprofiler_python() -> Path:
    if not PYTHON.exists():
        message = f"osprofiler's virtualenv is missing ({PYTHON})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return PYTHON


def test_trace_by_trace_equals_get_report_for_traces_sent_through_rabbitmq(
    bus, osprofiler_python, tmp_path
) -> None:
    if not bus.private:
        pytest.skip("osprofiler's topic is fixed (profiler): needs a virtual host of its own")
    exchange, pool = unique("osprofiler"), unique("pool")
    recording, reports = tmp_path / "profiler.ndjson", tmp_path / "reports.json"
    url = bus.transport_url()
    rec = Recording(
        ["--url", url, "--exchange", exchange, "--topic", "profiler", "--pool", pool,
         "--count", str(POINTS), "-o", str(recording)]
    )  # fmt: skip
    rec.wait_ready()
    try:
        sent = subprocess.run(
            [str(osprofiler_python), "-W", "ignore", str(ROOT / "tests" / "broker" /
             "osprofiler_emit.py"), url, exchange, str(reports)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr[-3000:]
        wait_for(lambda: line_count(recording) >= POINTS, timeout=120)
    finally:
        if rec.proc.poll() is None and line_count(recording) < POINTS:
            rec.proc.terminate()
        code, _ = rec.finish()
    assert code == 0, rec.stderr

    result = CliRunner().invoke(main, ["trace", "--by", "trace", "--format", "json",
                                       str(recording)])  # fmt: skip
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)
    expected = json.loads(reports.read_text())
    assert sent.stdout.split() == list(expected)
    assert [group["key"] for group in groups] == list(expected)
    for group in groups:
        assert group["spans"] == report_spans(expected[group["key"]])
        assert group["spans"], "a trace without spans"

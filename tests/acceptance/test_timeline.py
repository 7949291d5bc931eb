"""`osreplay timeline`: the page it writes, and that page opened in a real browser.

Tests marked ``browser`` run headless Chromium (Debian's ``chromium`` package) on the
page, take a screenshot and read from the DOM what the page's script drew: it writes its
counts into ``data-*`` attributes of ``#timeline`` once drawing is done. They are skipped
where Chromium is not installed, and fail instead under CI (``CI`` set).
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from osreplay.cli import main

ROOT = Path(__file__).parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
BEFORE = ROOT / "fixtures" / "scenario" / "boot-before.ndjson"
CADF = "http://schemas.dmtf.org/cloud/audit/1.0/event"
EVENT_TYPES = [
    "identity.authenticate",
    "instance.create.start",
    "instance.create.end",
    "instance.update",
    "instance.delete.start",
    "instance.delete.end",
    "port.create.end",
    "image.upload",
]


def osreplay(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="osreplay")


def busy_morning(path: Path, records: int) -> int:
    """``records`` records over six hours, busiest at 09:00; returns how many fail."""
    rng = random.Random(7)
    start = datetime(2024, 3, 5, 6, 0, tzinfo=timezone.utc)
    failures = 0
    with path.open("w") as out:
        for n in range(records):
            at = start + timedelta(seconds=abs(rng.gauss(3 * 3600, 5000)) % (6 * 3600))
            event_type = EVENT_TYPES[int(abs(rng.gauss(0, 3))) % len(EVENT_TYPES)]
            priority = "ERROR" if rng.random() < 0.003 else "INFO"
            payload: dict = {"id": n}
            if event_type == "identity.authenticate":
                outcome = "failure" if rng.random() < 0.01 else "success"
                payload = {"typeURI": CADF, "action": "authenticate", "outcome": outcome}
            failures += priority == "ERROR" or payload.get("outcome") == "failure"
            record = {
                "event_type": event_type,
                "publisher_id": f"svc.host-{n % 7}",
                "priority": priority,
                "payload": payload,
                "timestamp": at.isoformat(),
            }
            out.write(json.dumps(record) + "\n")
    return failures


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="timeline-data">(.*?)</script>', html)
    assert found, "no data block in the page"
    return json.loads(found.group(1))


# --- the page, without a browser -----------------------------------------------------------


def test_the_page_is_one_file_that_fetches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    result = osreplay("timeline", "-o", str(out), str(BEFORE))

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Wrote {out}: 14 records in 11 rows by event type, 8 lanes by request id\n"
    )
    html = out.read_text()
    assert not re.search(r"<script[^>]+src=|<link|<img|<iframe|@import|url\(", html)
    assert "fetch(" not in html and "XMLHttpRequest" not in html
    data = page_data(html)
    names = [row["name"] for row in data["rows"]]
    assert names[:2] == ["baremetal.node.power_set.end", "baremetal.node.power_set.start"]
    assert names == sorted(names)  # event types: natural order is alphabetical here
    assert sum(row["n"] for row in data["rows"]) == 14
    assert (data["records"], data["failures"], len(data["marks"])) == (14, 3, 14)
    failure = [m for m in data["marks"] if m[3]][1]
    assert failure[4] == f"{BEFORE}:9" and failure[5]["event_type"] == "instance.create.error"
    assert failure[5]["ctxt"]["auth_token"] == "***"  # the record as recorded


def test_rows_by_publisher_in_natural_order_and_whole_records_up_to_max_marks(
    tmp_path: Path,
) -> None:
    recording = tmp_path / "hosts.ndjson"
    base = json.loads(BEFORE.read_text().splitlines()[2])
    with recording.open("w") as out:
        for n, host in enumerate([1, 9, 8, 10, 2, 7, 11, 3]):
            record = {**base, "publisher_id": f"nova-compute:compute-{host}"}
            record["timestamp"] = f"2024-03-05 10:00:{n:02d}.000000"
            out.write(json.dumps(record) + "\n")
    out_page = tmp_path / "t.html"
    result = osreplay(
        "timeline", "--rows", "publisher", "--max-marks", "5", "-o", str(out_page),
        str(recording), str(BEFORE),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("22 records in 13 rows by publisher, 8 lanes by request id\n")
    data = page_data(out_page.read_text())
    computes = [r["name"] for r in data["rows"] if r["name"].startswith("nova-compute:compute-")]
    assert computes == [f"nova-compute:compute-{n}" for n in (1, 2, 3, 7, 8, 9, 10, 11)]
    # every record is in the page as numbers; 5 whole, then the failures after them
    assert sum(row["n"] for row in data["rows"]) == 22
    assert [m[3] for m in data["marks"]] == [0, 0, 0, 0, 0, 1, 1, 1]


def test_the_page_on_stdout_and_an_empty_recording(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndjson"
    empty.write_text("")
    result = osreplay("timeline", "-o", "-", str(empty))

    assert result.exit_code == 0
    assert (
        result.stderr
        == "Wrote <stdout>: 0 records in 0 rows by event type, 0 lanes by request id\n"
    )
    assert page_data(result.stdout)["first"] is None


def test_an_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    result = osreplay("timeline", "-o", str(tmp_path / "no" / "t.html"), str(BEFORE))

    assert result.exit_code == 2
    assert (
        result.stderr == f"Error: cannot write {tmp_path}/no/t.html: its directory does not exist\n"
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is absent")
def test_the_corpus_draws_what_has_a_time_and_counts_the_rest(tmp_path: Path) -> None:
    files = sorted(str(path) for path in CORPUS.rglob("*.json") if path.name != "MANIFEST.json")
    out = tmp_path / "corpus.html"
    result = osreplay("timeline", "-o", str(out), *files)

    assert result.exit_code == 0, result.stderr
    data = page_data(out.read_text())
    assert data["untimed"] > 100  # nova's samples carry no timestamp
    drawn = sum(row["n"] for row in data["rows"])
    assert drawn == len(data["marks"]) == data["records"] - data["untimed"] > 10
    assert any(m[5]["event_type"] == "identity.authenticate" and m[3] for m in data["marks"])


# --- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        message = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message)
    return found


def open_in_chromium(chromium: str, page: Path, tmp_path: Path) -> tuple[dict[str, str], Path, str]:
    """The attributes of ``#timeline`` after the page ran, a screenshot, the whole DOM."""
    flags = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,800",
    ]  # fmt: skip
    url = page.as_uri()
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    shot = tmp_path / "timeline.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True
    )
    canvas = re.search(r'<canvas id="timeline"([^>]*)>', dom)
    assert canvas, dom[:2000]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', canvas.group(1))), shot, dom


def assert_png(shot: Path) -> None:
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.browser
def test_chromium_draws_every_row_and_mark_of_a_small_recording(chromium, tmp_path) -> None:
    page = tmp_path / "boot.html"
    assert osreplay("timeline", "-o", str(page), str(BEFORE)).exit_code == 0

    drawn, shot, _ = open_in_chromium(chromium, page, tmp_path)

    counts = {key: drawn[key] for key in ("drawn", "rows", "marks", "cells", "failures")}
    assert counts == {"drawn": "yes", "rows": "11", "marks": "14", "cells": "0", "failures": "3"}
    assert_png(shot)


@pytest.mark.browser
def test_chromium_draws_100000_records_as_buckets_with_their_failures(chromium, tmp_path) -> None:
    recording = tmp_path / "morning.ndjson"
    failures = busy_morning(recording, 100_000)
    page = tmp_path / "morning.html"
    result = osreplay("timeline", "-o", str(page), str(recording))
    assert result.exit_code == 0, result.output
    assert page.stat().st_size < 3_000_000  # numbers per record, whole records for 1,000

    drawn, shot, _ = open_in_chromium(chromium, page, tmp_path)

    assert drawn["drawn"] == "yes" and drawn["rows"] == str(len(EVENT_TYPES))
    # every row is busy: buckets, each with its failures counted (and drawn in proportion)
    assert int(drawn["cells"]) > 1_000 and drawn["marks"] == "0"
    assert drawn["failures"] == str(failures)
    assert_png(shot)


@pytest.mark.browser
def test_a_record_cannot_inject_markup_into_the_page(chromium, tmp_path) -> None:
    hostile = json.loads(BEFORE.read_text().splitlines()[0])
    hostile["payload"]["target"]["id"] = '</script><script>document.title="pwned"</script>\u2028'
    recording = tmp_path / "hostile.ndjson"
    recording.write_text(json.dumps(hostile) + "\n")
    page = tmp_path / "hostile.html"
    assert osreplay("timeline", "-o", str(page), str(recording)).exit_code == 0

    drawn, _, dom = open_in_chromium(chromium, page, tmp_path)

    assert drawn["drawn"] == "yes" and drawn["marks"] == "1"
    assert f"<title>osreplay timeline: {recording}</title>" in dom


# What a person does, played by a script added to a copy of the page: hover the failed
# boot, click it, drag across the first 30 seconds, double-click. It points at the mark with
# the geometry the page wrote into #timeline and writes what it saw into <pre id="seen">.
PLAYER = """
<pre id="seen"></pre>
<script>
window.addEventListener("load", function () {
  var c = document.getElementById("timeline"), d = c.dataset, seen = {};
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var rect = c.getBoundingClientRect();
  function at(ms, row) {
    var span = Number(d.to) - Number(d.from), h = Number(d.rowHeight);
    return { bubbles: true,
             clientX: rect.left + Number(d.left) + (ms - Number(d.from)) / span * Number(d.width),
             clientY: rect.top + Number(d.top) + row * h + h / 2 };
  }
  var mark = data.marks.find(function (m) { return m[5].event_type === "instance.create.error"; });
  var p = at(mark[0], mark[1]);
  c.dispatchEvent(new MouseEvent("mousemove", p));
  seen.tip = document.getElementById("tip").textContent;
  c.dispatchEvent(new MouseEvent("mousedown", p));
  window.dispatchEvent(new MouseEvent("mouseup", p));
  seen.detail = document.getElementById("detail").textContent;
  var a = at(data.first, 0), b = at(data.first + 30000, 0);
  c.dispatchEvent(new MouseEvent("mousedown", a));
  c.dispatchEvent(new MouseEvent("mousemove", b));
  window.dispatchEvent(new MouseEvent("mouseup", b));
  seen.zoomed = [c.dataset.marks, document.getElementById("range").textContent];
  c.dispatchEvent(new MouseEvent("dblclick", a));
  seen.reset = c.dataset.marks;
  document.getElementById("seen").textContent = JSON.stringify(seen);
});
</script>
"""


@pytest.mark.browser
def test_hover_click_and_zoom_in_chromium(chromium, tmp_path) -> None:
    page = tmp_path / "boot.html"
    assert osreplay("timeline", "-o", str(page), str(BEFORE)).exit_code == 0
    page.write_text(page.read_text().replace("</body>", PLAYER + "</body>"))

    _, _, dom = open_in_chromium(chromium, page, tmp_path)

    seen = json.loads(html.unescape(re.search(r'<pre id="seen">(.*?)</pre>', dom).group(1)))
    assert (
        seen["tip"]
        == f"instance.create.error\n2024-03-05 10:00:25.500 UTC  ERROR  FAILED\n{BEFORE}:9"
    )
    head, record = seen["detail"].split("\n\n", 1)
    assert head == f"{BEFORE}:9  2024-03-05 10:00:25.500 UTC"
    assert json.loads(record) == json.loads(BEFORE.read_text().splitlines()[8])
    assert seen["zoomed"][0] == "9"  # the records of the first 30 seconds
    # within a pixel (about 0.1 s at this width) of the range dragged across
    assert re.fullmatch(
        r"2024-03-05 10:00:00\.\d{3} UTC to 2024-03-05 10:00:30\.\d{3} UTC", seen["zoomed"][1]
    )
    assert seen["reset"] == "14"

"""The page ``osreplay timeline`` writes: one HTML file, script and style inline.

:data:`PAGE` has two placeholders: ``__TITLE__`` (HTML-escaped text) and ``__DATA__`` (a
JSON document with every ``<`` escaped, so it cannot close the script element). The
script draws on a canvas, then writes what it drew into data attributes of
``#timeline`` (``data-rows``, ``data-marks``, ``data-cells``, ``data-failures``, and the
geometry: ``data-left``, ``data-width``, ``data-top``, ``data-row-height``, ``data-from``,
``data-to`` in ms) and sets ``data-drawn="yes"``, which tests read from the DOM. Nothing is fetched from the network.
"""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --stripe: #f6f7f9; }
  body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: #fff; }
  header { padding: 12px 16px 6px; border-bottom: 1px solid var(--line); }
  h1 { font-size: 16px; margin: 0 0 4px; }
  .facts { color: var(--muted); }
  .facts b { color: var(--fg); font-weight: 600; }
  .bar { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; padding: 6px 16px; }
  .legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; }
  .chip { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
  .fail-chip { width: 0; height: 0; border-left: 5px solid transparent;
               border-right: 5px solid transparent; border-top: 8px solid #d11a2a; }
  button { font: inherit; padding: 2px 10px; border: 1px solid #c5cad3; background: #fff;
           border-radius: 4px; cursor: pointer; }
  #range { color: var(--muted); }
  #wrap { position: relative; margin: 0 16px; }
  canvas { display: block; cursor: crosshair; }
  #tip { position: absolute; pointer-events: none; background: #1d2330; color: #fff;
         padding: 4px 8px; border-radius: 4px; font-size: 12px; white-space: pre;
         display: none; z-index: 2; max-width: 520px; overflow: hidden; }
  #sel { position: absolute; top: 0; background: rgba(40, 110, 220, .15);
         border: 1px solid rgba(40, 110, 220, .6); display: none; pointer-events: none; }
  #detail { margin: 10px 16px 24px; padding: 10px 12px; background: var(--stripe);
            border: 1px solid var(--line); border-radius: 4px; white-space: pre-wrap;
            font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
            max-height: 420px; overflow: auto; }
  .hint { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1 id="title">__TITLE__</h1>
  <div class="facts" id="facts"></div>
</header>
<div class="bar">
  <div class="legend" id="legend"></div>
  <button id="reset" type="button">Reset zoom</button>
  <span id="range"></span>
</div>
<div class="bar hint">Drag across the chart to zoom on a time range, scroll to zoom around the
pointer, double-click or Reset to see everything. Hover a mark for a summary, click it for
the whole record.</div>
<div id="wrap">
  <canvas id="timeline" data-drawn="no"></canvas>
  <div id="sel"></div>
  <div id="tip"></div>
</div>
<pre id="detail" class="hint">Click a mark to see its record here.</pre>
<script type="application/json" id="timeline-data">__DATA__</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("timeline-data").textContent);
  var PRIORITIES = ["AUDIT", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SAMPLE"];
  var COLOURS = { AUDIT: "#1c9a8c", DEBUG: "#9aa1ad", INFO: "#2f6fdb", WARN: "#e8900c",
                  ERROR: "#d11a2a", CRITICAL: "#7a0916", SAMPLE: "#8656c9" };
  var FAIL = "#d11a2a";
  var ROW_H = 24, TOP = 34, LABEL_W = 0, PAD = 8;
  var canvas = document.getElementById("timeline");
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("tip"), sel = document.getElementById("sel");
  var detail = document.getElementById("detail");
  var first = D.first, last = D.last;
  var span = Math.max(last - first, 1);
  var full = { from: first - span * 0.02, to: last + span * 0.02 };
  var view = { from: full.from, to: full.to };
  var byRow = D.rows.map(function () { return []; });
  D.marks.forEach(function (m, i) { byRow[m[1]].push(i); });
  byRow.forEach(function (list) { list.sort(function (a, b) { return D.marks[a][0] - D.marks[b][0]; }); });

  function fmtTime(ms, withDate, seconds) {
    var iso = new Date(ms).toISOString();
    if (withDate) return iso.replace("T", " ").replace("Z", " UTC");
    return iso.slice(11, seconds ? 19 : 23);
  }
  function plural(n, noun) { return n.toLocaleString("en") + " " + noun + (n === 1 ? "" : "s"); }

  function facts() {
    var parts = [plural(D.records, "record"), plural(D.failures, "failure"),
                 "rows by " + (D.rowsBy === "publisher" ? "publisher" : "event type")];
    if (D.untimed) parts.push(plural(D.untimed, "record") + " without time (not drawn)");
    if (D.unreadable) parts.push(plural(D.unreadable, "unreadable line") + " skipped");
    parts.push(D.aggregated ? "aggregated: " + plural(D.cells.length, "bucket") +
               " of " + (D.bucketMs / 1000).toPrecision(3) + " s, failures drawn one by one"
               : "one mark per record");
    if (D.first !== null) parts.push(fmtTime(D.first, true) + " to " + fmtTime(D.last, true));
    var el = document.getElementById("facts");
    parts.forEach(function (text, i) {
      var span = document.createElement("span");
      if (i === 0) { var b = document.createElement("b"); b.textContent = text; span.appendChild(b); }
      else span.textContent = " · " + text;
      el.appendChild(span);
    });
    var legend = document.getElementById("legend");
    PRIORITIES.forEach(function (p) {
      var item = document.createElement("span"), chip = document.createElement("i");
      chip.className = "chip"; chip.style.background = COLOURS[p];
      item.appendChild(chip); item.appendChild(document.createTextNode(p));
      legend.appendChild(item);
    });
    var f = document.createElement("span"), fc = document.createElement("i");
    fc.className = "fail-chip"; f.appendChild(fc);
    f.appendChild(document.createTextNode("failure (ERROR, CRITICAL, CADF outcome failure)"));
    legend.appendChild(f);
  }

  function layout() {
    ctx.font = "12px system-ui, sans-serif";
    LABEL_W = Math.min(320, 16 + D.rows.reduce(function (w, name) {
      return Math.max(w, ctx.measureText(name).width + ctx.measureText(" 99,999").width);
    }, 80));
    var width = Math.max(600, document.getElementById("wrap").clientWidth);
    var height = TOP + D.rows.length * ROW_H + PAD;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    sel.style.height = height + "px";
  }
  function plotW() { return parseFloat(canvas.style.width) - LABEL_W - PAD; }
  function x(t) { return LABEL_W + (t - view.from) / (view.to - view.from) * plotW(); }
  function t(px) { return view.from + (px - LABEL_W) / plotW() * (view.to - view.from); }

  function ticks() {
    var range = view.to - view.from, steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3,
      1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5,
      1728e5, 6048e5, 2592e6];
    var step = steps.find(function (s) { return range / s <= 8; }) || 2592e6;
    var out = [];
    for (var v = Math.ceil(view.from / step) * step; v <= view.to; v += step) out.push(v);
    return { values: out, withDate: step >= 864e5 || range > 864e5, seconds: step >= 1e3 };
  }

  var drawn = { marks: 0, cells: 0, failures: 0 };
  function draw() {
    var width = parseFloat(canvas.style.width), height = parseFloat(canvas.style.height);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "middle";
    D.rows.forEach(function (name, r) {
      var y = TOP + r * ROW_H;
      if (r % 2 === 0) { ctx.fillStyle = "#f6f7f9"; ctx.fillRect(0, y, width, ROW_H); }
      ctx.fillStyle = "#1d2330";
      var count = " " + D.rowCounts[r].toLocaleString("en"), label = name;
      var room = LABEL_W - 12 - ctx.measureText(count).width;
      while (label.length > 4 && ctx.measureText(label).width > room) label = "…" + label.slice(2);
      ctx.fillText(label, 6, y + ROW_H / 2);
      ctx.fillStyle = "#6b7385"; ctx.fillText(count, 6 + ctx.measureText(label).width, y + ROW_H / 2);
    });
    var tk = ticks();
    ctx.strokeStyle = "#e3e6ec"; ctx.fillStyle = "#6b7385"; ctx.textAlign = "center";
    tk.values.forEach(function (v) {
      var px = x(v);
      ctx.beginPath(); ctx.moveTo(px, TOP - 4); ctx.lineTo(px, height - PAD); ctx.stroke();
      var label = fmtTime(v, tk.withDate, tk.seconds).replace(" UTC", "");
      ctx.fillText(tk.withDate ? label.slice(0, tk.seconds ? 16 : 23) : label, px, TOP - 14);
    });
    ctx.textAlign = "start";
    ctx.save();
    ctx.beginPath(); ctx.rect(LABEL_W, 0, plotW(), height); ctx.clip();
    drawn = { marks: 0, cells: 0, failures: 0 };
    if (D.aggregated) drawCells();
    drawMarks();
    ctx.restore();
    ctx.strokeStyle = "#c5cad3"; ctx.beginPath(); ctx.moveTo(LABEL_W, TOP - 4);
    ctx.lineTo(LABEL_W, height - PAD); ctx.stroke();
    document.getElementById("range").textContent =
      fmtTime(view.from, true) + " to " + fmtTime(view.to, true);
    canvas.dataset.rows = String(D.rows.length);
    // The geometry drawn with, so that a test (or a user script) can point at a mark.
    canvas.dataset.left = String(LABEL_W); canvas.dataset.width = String(plotW());
    canvas.dataset.top = String(TOP); canvas.dataset.rowHeight = String(ROW_H);
    canvas.dataset.from = String(view.from); canvas.dataset.to = String(view.to);
    canvas.dataset.marks = String(drawn.marks);
    canvas.dataset.cells = String(drawn.cells);
    canvas.dataset.failures = String(drawn.failures);
    canvas.dataset.drawn = "yes";
  }

  function drawCells() {
    var max = D.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    D.cells.forEach(function (c) {
      var from = D.first + c[1] * D.bucketMs, to = from + D.bucketMs;
      if (to < view.from || from > view.to) return;
      var x0 = x(from), w = Math.max(1, x(to) - x0), y = TOP + c[0] * ROW_H;
      ctx.globalAlpha = 0.25 + 0.75 * Math.log(1 + c[2]) / Math.log(1 + max);
      ctx.fillStyle = COLOURS[c[4]];
      ctx.fillRect(x0, y + 5, w, ROW_H - 10);
      ctx.globalAlpha = 1;
      drawn.cells += 1;
      if (c[3] > 0) { ctx.fillStyle = FAIL; ctx.fillRect(x0, y + 1, Math.max(2, w), 3); }
    });
  }

  function drawMarks() {
    D.marks.forEach(function (m) {
      if (m[0] < view.from || m[0] > view.to) return;
      var px = x(m[0]), y = TOP + m[1] * ROW_H;
      if (m[3]) {
        ctx.fillStyle = FAIL;
        ctx.fillRect(px - 1.5, y + 3, 3, ROW_H - 6);
        ctx.beginPath(); ctx.moveTo(px - 5, y + 1); ctx.lineTo(px + 5, y + 1); ctx.lineTo(px, y + 8);
        ctx.closePath(); ctx.fill();
        drawn.failures += 1;
      } else {
        ctx.fillStyle = COLOURS[PRIORITIES[m[2]]];
        ctx.fillRect(px - 1, y + 6, 3, ROW_H - 12);
      }
      drawn.marks += 1;
    });
  }

  function hit(evt) {
    var rect = canvas.getBoundingClientRect(), px = evt.clientX - rect.left, py = evt.clientY - rect.top;
    var r = Math.floor((py - TOP) / ROW_H);
    if (px < LABEL_W || r < 0 || r >= D.rows.length) return null;
    var best = null, bestD = 6;
    byRow[r].forEach(function (i) {
      var d = Math.abs(x(D.marks[i][0]) - px);
      if (d < bestD) { bestD = d; best = { mark: D.marks[i] }; }
    });
    if (best || !D.aggregated) return best;
    var tm = t(px), b = Math.floor((tm - D.first) / D.bucketMs);
    var cell = D.cells.find(function (c) { return c[0] === r && c[1] === b; });
    return cell ? { cell: cell } : null;
  }

  function summary(h) {
    if (h.mark) {
      var m = h.mark;
      return D.rows[m[1]] + "\\n" + fmtTime(m[0], true) + "  " + PRIORITIES[m[2]] +
             (m[3] ? "  FAILED" : "") + "\\n" + m[4];
    }
    var c = h.cell, from = D.first + c[1] * D.bucketMs;
    return D.rows[c[0]] + "\\n" + plural(c[2], "record") + ", " + plural(c[3], "failure") +
           ", worst " + c[4] + "\\n" + fmtTime(from, true) + " + " + (D.bucketMs / 1000).toPrecision(3) + " s";
  }

  var drag = null;
  canvas.addEventListener("mousemove", function (evt) {
    var rect = canvas.getBoundingClientRect(), px = evt.clientX - rect.left;
    if (drag !== null) {
      sel.style.display = "block";
      sel.style.left = Math.min(drag, px) + "px"; sel.style.width = Math.abs(px - drag) + "px";
      return;
    }
    var h = hit(evt);
    if (!h) { tip.style.display = "none"; return; }
    tip.textContent = summary(h);
    tip.style.display = "block";
    tip.style.left = Math.min(px + 12, rect.width - 300) + "px";
    tip.style.top = (evt.clientY - rect.top + 14) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  canvas.addEventListener("mousedown", function (evt) {
    var rect = canvas.getBoundingClientRect();
    drag = Math.max(LABEL_W, evt.clientX - rect.left);
  });
  window.addEventListener("mouseup", function (evt) {
    if (drag === null) return;
    var rect = canvas.getBoundingClientRect(), px = Math.max(LABEL_W, evt.clientX - rect.left);
    var a = Math.min(drag, px), b = Math.max(drag, px);
    drag = null; sel.style.display = "none";
    if (b - a > 4) { zoomTo(t(a), t(b)); return; }
    var h = hit(evt);
    if (h) show(h);
  });
  canvas.addEventListener("dblclick", function () { zoomTo(full.from, full.to); });
  canvas.addEventListener("wheel", function (evt) {
    evt.preventDefault();
    var rect = canvas.getBoundingClientRect(), at = t(evt.clientX - rect.left);
    var k = evt.deltaY > 0 ? 1.25 : 0.8;
    zoomTo(at - (at - view.from) * k, at + (view.to - at) * k);
  }, { passive: false });
  document.getElementById("reset").addEventListener("click", function () { zoomTo(full.from, full.to); });

  function zoomTo(from, to) {
    if (to - from < 1) { var mid = (from + to) / 2; from = mid - 0.5; to = mid + 0.5; }
    view = { from: Math.max(from, full.from - span), to: Math.min(to, full.to + span) };
    draw();
  }

  function show(h) {
    detail.classList.remove("hint");
    if (h.mark) {
      var m = h.mark;
      detail.textContent = m[4] + "  " + fmtTime(m[0], true) + "\\n\\n" + JSON.stringify(m[5], null, 2);
      return;
    }
    var c = h.cell, from = D.first + c[1] * D.bucketMs, lines = [summary(h), ""];
    var kept = D.marks.filter(function (m) { return m[1] === c[0] && m[0] >= from && m[0] < from + D.bucketMs; });
    lines.push(kept.length ? "Failures in this bucket (click one in the chart for its record):" :
               "Zoom in (drag across it) to spread these records out.");
    kept.slice(0, 50).forEach(function (m) { lines.push("  " + fmtTime(m[0], true) + "  " + m[4]); });
    detail.textContent = lines.join("\\n");
  }

  facts();
  if (D.first === null) {
    canvas.dataset.rows = "0"; canvas.dataset.marks = "0"; canvas.dataset.cells = "0";
    canvas.dataset.failures = "0"; canvas.dataset.drawn = "yes";
    detail.textContent = "No record with a time to draw.";
    return;
  }
  layout(); draw();
  window.addEventListener("resize", function () { layout(); draw(); });
})();
</script>
</body>
</html>
"""

"""The page ``osreplay timeline`` writes: one HTML file, script and style inline.

:data:`PAGE` has two placeholders: ``__TITLE__`` (HTML-escaped text) and ``__DATA__`` (a
JSON document with every ``<`` escaped, so it cannot close the script element). Nothing
is fetched from the network.

Two views, chosen by the tabs (or the address's ``#strip`` / ``#waterfall``):

- **Strip**: a canvas, one row per event type or publisher. Each row's label is an
  element ``.strip-row`` with ``data-row`` (its name) over the canvas. Every record's
  time is in the data, so each redraw buckets again what is in view: a row with at most
  :data:`MARKS_PER_ROW` records in view draws each one (failures as red flags), a
  busier row draws buckets whose red part is in proportion to the failures in them.
  After drawing, ``#timeline`` carries ``data-rows`` (rows shown), ``data-marks``
  (records drawn one by one), ``data-cells`` (buckets drawn), ``data-failures`` (failed
  records in view), ``data-red-share`` (the share of the buckets' area drawn red), the
  geometry (``data-left``, ``data-width``, ``data-top``,
  ``data-row-height``, ``data-from``, ``data-to`` in ms) and ``data-drawn="yes"``.
- **Waterfall**: ``#lanes`` holds one ``section.lane`` per group (``data-id``,
  ``data-records``, ``data-failures``), each with one ``.span-row`` per span
  (``data-depth``) whose ``.span`` bar (``data-id``, ``data-error``, ``data-open``) runs
  from the span's start to its end on the lane's own scale; failed records are
  ``.fail-mark`` elements (``data-where``). ``#lanes`` carries ``data-lanes`` (in the
  data), ``data-matching`` (after the filter), ``data-shown`` (in the page now) and
  ``data-drawn="yes"``.

``<html>`` gets ``data-ready-ms``: the milliseconds from the start of navigation until
both views were drawn. The ``#filter`` box keeps the strip rows whose name holds the text and the lanes whose
id, event types, publishers or span names hold it.
"""

from __future__ import annotations

MARKS_PER_ROW = 600

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --stripe: #f6f7f9; --fail: #d11a2a; }
  body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: #fff; }
  header { padding: 12px 16px 6px; border-bottom: 1px solid var(--line); }
  h1 { font-size: 16px; margin: 0 0 4px; }
  .facts { color: var(--muted); }
  .facts b { color: var(--fg); font-weight: 600; }
  .bar { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; padding: 6px 16px; }
  .legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; }
  .chip { width: 10px; height: 10px; border-radius: 2px; display: inline-block; }
  .fail-chip { width: 10px; height: 10px; display: inline-block;
               background: linear-gradient(to top, var(--fail) 40%, #c5cad3 40%); }
  button, select, input { font: inherit; padding: 2px 8px; border: 1px solid #c5cad3;
                          background: #fff; border-radius: 4px; }
  button { cursor: pointer; }
  .tabs button[aria-selected="true"] { background: #1d2330; color: #fff; border-color: #1d2330; }
  #filter { width: 260px; }
  #range { color: var(--muted); }
  .view[hidden] { display: none; }
  #wrap { position: relative; margin: 0 16px; }
  canvas { display: block; cursor: crosshair; }
  #strip-rows { position: absolute; left: 0; top: 0; margin: 0; padding: 0; list-style: none;
                pointer-events: none; }
  .strip-row { position: absolute; left: 6px; white-space: nowrap; overflow: hidden;
               text-overflow: ellipsis; font-size: 12px; }
  .strip-row .count { color: var(--muted); margin-left: 4px; }
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
  #lanes { margin: 0 16px; }
  .lane { border-top: 1px solid var(--line); padding: 4px 0 6px; }
  .lane-head { display: flex; gap: 10px; align-items: baseline; padding: 2px 0; }
  .lane-id { font-weight: 600; font-family: ui-monospace, Menlo, Consolas, monospace;
             font-size: 12px; }
  .lane-facts { color: var(--muted); }
  .lane-facts .failed { color: var(--fail); font-weight: 600; }
  .span-row { display: grid; grid-template-columns: 340px 1fr; align-items: center;
              height: 16px; }
  .span-name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 12px; }
  .span-track { position: relative; height: 12px; background: var(--stripe); }
  .span { position: absolute; top: 2px; height: 8px; min-width: 2px; background: #2f6fdb;
          border-radius: 2px; cursor: pointer; }
  .span[data-depth="0"] { background: #9aa1ad; }
  .span[data-error="1"] { background: var(--fail); }
  .span[data-open="1"] { background: repeating-linear-gradient(90deg, #e8900c 0 6px,
                         transparent 6px 9px); }
  .fail-mark { position: absolute; top: -2px; width: 3px; height: 16px; margin-left: -1px;
               background: var(--fail); cursor: pointer; }
  #more { margin: 8px 16px; }
</style>
</head>
<body>
<header>
  <h1 id="title">__TITLE__</h1>
  <div class="facts" id="facts"></div>
</header>
<div class="bar">
  <div class="tabs" role="tablist">
    <button id="tab-strip" role="tab" type="button" aria-selected="true">Strip</button>
    <button id="tab-waterfall" role="tab" type="button" aria-selected="false">Waterfall</button>
  </div>
  <label>Filter <input id="filter" type="search"
         placeholder="event type, publisher or id"></label>
  <span id="filter-count" class="hint"></span>
</div>
<div id="view-strip" class="view">
  <div class="bar">
    <div class="legend" id="legend"></div>
    <button id="reset" type="button">Reset zoom</button>
    <span id="range"></span>
  </div>
  <div class="bar hint">Drag across the chart to zoom on a time range, scroll to zoom around
  the pointer, double-click or Reset to see everything: every zoom buckets the records in
  view again, and a row draws each of its records once few enough are in view. Hover for a
  summary, click for the whole record.</div>
  <div id="wrap">
    <canvas id="timeline" data-drawn="no"></canvas>
    <ol id="strip-rows"></ol>
    <div id="sel"></div>
    <div id="tip"></div>
  </div>
</div>
<div id="view-waterfall" class="view" hidden>
  <div class="bar">
    <label>Order <select id="sort">
      <option value="start">by start</option>
      <option value="id">by id (natural)</option>
    </select></label>
    <span class="hint">One lane per group; each span from its start to its end on the lane's
    own scale, nested spans indented, failures in red. Click a span or a red mark.</span>
  </div>
  <div id="lanes" data-drawn="no"></div>
  <button id="more" type="button" hidden>Show more</button>
</div>
<pre id="detail" class="hint">Click a mark or a span to see it here.</pre>
<script type="application/json" id="timeline-data">__DATA__</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("timeline-data").textContent);
  var PRIORITIES = ["AUDIT", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SAMPLE"];
  var SEVERITY = [3, 1, 2, 4, 5, 6, 0];  // by priority index: SAMPLE < DEBUG < INFO < ...
  var COLOURS = { AUDIT: "#1c9a8c", DEBUG: "#9aa1ad", INFO: "#2f6fdb", WARN: "#e8900c",
                  ERROR: "#d11a2a", CRITICAL: "#7a0916", SAMPLE: "#8656c9" };
  var FAIL = "#d11a2a", MARKS_PER_ROW = __MARKS_PER_ROW__, BUCKET_PX = 3, LANE_PAGE = 200;
  var ROW_H = 24, TOP = 34, LABEL_W = 0, PAD = 8;
  var canvas = document.getElementById("timeline");
  var ctx = canvas.getContext("2d");
  var tip = document.getElementById("tip"), sel = document.getElementById("sel");
  var detail = document.getElementById("detail");
  var filterBox = document.getElementById("filter");
  var query = "";

  // --- the records, decoded: per row, times (ms), lines, files, flags ------------------
  var rows = D.rows.map(function (row) {
    var n = row.n, times = new Float64Array(n), lines = new Float64Array(n);
    var files = new Uint32Array(n), flags = new Uint8Array(n).fill(4);
    var t = D.origin, l = 0, i;
    for (i = 0; i < n; i++) { t += row.t[i]; l += row.ln[i]; times[i] = t; lines[i] = l; }
    for (var k = 0, at = 0; k < row.fi.length; k += 2) {
      for (var c = 0; c < row.fi[k]; c++) files[at++] = row.fi[k + 1];
    }
    for (i = 0; i < row.fl.length; i += 2) flags[row.fl[i]] = row.fl[i + 1];
    return { name: row.name, n: n, times: times, lines: lines, files: files, flags: flags };
  });
  var kept = {};
  D.marks.forEach(function (m) { kept[m[4]] = m; });
  var shown = rows.map(function (_, i) { return i; });

  function where(row, i) { return D.paths[row.files[i]] + ":" + row.lines[i]; }
  function lowerBound(a, v) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (a[mid] < v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function upperBound(a, v) {
    var lo = 0, hi = a.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (a[mid] <= v) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function fmtTime(ms, withDate, seconds) {
    var iso = new Date(ms).toISOString();
    if (withDate) return iso.replace("T", " ").replace("Z", " UTC");
    return iso.slice(11, seconds ? 19 : 23);
  }
  function fmtMs(ms) {
    if (ms < 1000) return (Math.round(ms * 1000) / 1000) + " ms";
    if (ms < 120000) return (ms / 1000).toFixed(3) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }
  function plural(n, noun) { return n.toLocaleString("en") + " " + noun + (n === 1 ? "" : "s"); }

  function facts() {
    var parts = [plural(D.records, "record"), plural(D.failures, "failure"),
                 "rows by " + (D.rowsBy === "publisher" ? "publisher" : "event type"),
                 plural(D.lanes.length, "lane") + " by " + D.byName +
                 (D.groups > D.lanes.length ? " (of " + D.groups.toLocaleString("en") +
                  ", --max-lanes)" : "")];
    if (D.untimed) parts.push(plural(D.untimed, "record") + " without time (not drawn)");
    if (D.unreadable) parts.push(plural(D.unreadable, "unreadable line") + " skipped");
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
    f.appendChild(document.createTextNode(
      "failures (ERROR, CRITICAL, CADF outcome failure): a red flag each, or the red share of a bucket"));
    legend.appendChild(f);
  }

  // --- the strip ----------------------------------------------------------------------
  var first = D.first, last = D.last;
  var span = Math.max(last - first, 1);
  var full = { from: first - span * 0.02, to: last + span * 0.02 };
  var view = { from: full.from, to: full.to };

  function layout() {
    ctx.font = "12px system-ui, sans-serif";
    LABEL_W = Math.min(320, 16 + rows.reduce(function (w, row) {
      return Math.max(w, ctx.measureText(row.name).width + ctx.measureText(" 99,999").width);
    }, 80));
    var width = Math.max(600, document.getElementById("wrap").clientWidth);
    var height = TOP + shown.length * ROW_H + PAD;
    var ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio; canvas.height = height * ratio;
    canvas.style.width = width + "px"; canvas.style.height = height + "px";
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    sel.style.height = height + "px";
    var list = document.getElementById("strip-rows");
    list.textContent = "";
    shown.forEach(function (r, k) {
      var item = document.createElement("li"), count = document.createElement("span");
      item.className = "strip-row"; item.dataset.row = rows[r].name;
      item.style.top = (TOP + k * ROW_H + 4) + "px"; item.style.width = (LABEL_W - 12) + "px";
      item.title = rows[r].name;
      item.appendChild(document.createTextNode(rows[r].name));
      count.className = "count"; count.textContent = rows[r].n.toLocaleString("en");
      item.appendChild(count);
      list.appendChild(item);
    });
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

  // What each shown row drew: {marks: true, lo, hi} or {buckets: [[count, fails, worst]]}.
  var drawnRows = [];
  function bucketsOf(row, lo, hi) {
    var nb = Math.max(1, Math.ceil(plotW() / BUCKET_PX)), out = new Array(nb);
    var scale = nb / (view.to - view.from);
    for (var i = lo; i < hi; i++) {
      var b = Math.min(nb - 1, Math.floor((row.times[i] - view.from) * scale));
      var c = out[b] || (out[b] = [0, 0, -1, i]);
      c[0] += 1; c[1] += row.flags[i] & 1;
      var sev = SEVERITY[row.flags[i] >> 1];
      if (!(row.flags[i] & 1) && sev > c[2]) c[2] = sev;
    }
    return out;
  }
  var BY_SEVERITY = ["SAMPLE", "DEBUG", "INFO", "AUDIT", "WARN", "ERROR", "CRITICAL"];

  function draw() {
    var width = parseFloat(canvas.style.width), height = parseFloat(canvas.style.height);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "middle";
    shown.forEach(function (r, k) {
      if (k % 2 === 0) { ctx.fillStyle = "#f6f7f9"; ctx.fillRect(0, TOP + k * ROW_H, width, ROW_H); }
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
    var drawn = { marks: 0, cells: 0, failures: 0, red: 0, area: 0 }, max = 1, perRow = [];
    shown.forEach(function (r) {
      var row = rows[r], lo = lowerBound(row.times, view.from), hi = upperBound(row.times, view.to);
      if (hi - lo <= MARKS_PER_ROW) { perRow.push({ marks: true, lo: lo, hi: hi }); return; }
      var buckets = bucketsOf(row, lo, hi);
      buckets.forEach(function (c) { if (c && c[0] > max) max = c[0]; });
      perRow.push({ buckets: buckets, lo: lo, hi: hi });
    });
    drawnRows = perRow;
    perRow.forEach(function (d, k) {
      var row = rows[shown[k]], y = TOP + k * ROW_H;
      if (d.marks) {
        for (var i = d.lo; i < d.hi; i++) {
          var px = x(row.times[i]), flag = row.flags[i];
          if (flag & 1) {
            ctx.fillStyle = FAIL;
            ctx.fillRect(px - 1.5, y + 3, 3, ROW_H - 6);
            ctx.beginPath(); ctx.moveTo(px - 5, y + 1); ctx.lineTo(px + 5, y + 1);
            ctx.lineTo(px, y + 8); ctx.closePath(); ctx.fill();
            drawn.failures += 1;
          } else {
            ctx.fillStyle = COLOURS[PRIORITIES[flag >> 1]];
            ctx.fillRect(px - 1, y + 6, 3, ROW_H - 12);
          }
          drawn.marks += 1;
        }
        return;
      }
      var bw = plotW() / d.buckets.length, h = ROW_H - 8;
      d.buckets.forEach(function (c, b) {
        if (!c) return;
        var x0 = LABEL_W + b * bw;
        ctx.globalAlpha = 0.25 + 0.75 * Math.log(1 + c[0]) / Math.log(1 + max);
        ctx.fillStyle = c[2] >= 0 ? COLOURS[BY_SEVERITY[c[2]]] : "#c5cad3";
        ctx.fillRect(x0, y + 4, Math.max(1, bw - 0.5), h);
        ctx.globalAlpha = 1;
        var fh = 0;
        if (c[1] > 0) {  // the red share of the bucket: its failures over its records
          fh = Math.max(1, h * c[1] / c[0]);
          ctx.fillStyle = FAIL; ctx.fillRect(x0, y + 4 + h - fh, Math.max(1, bw - 0.5), fh);
        }
        drawn.cells += 1; drawn.failures += c[1]; drawn.red += fh; drawn.area += h;
      });
    });
    ctx.restore();
    ctx.strokeStyle = "#c5cad3"; ctx.beginPath(); ctx.moveTo(LABEL_W, TOP - 4);
    ctx.lineTo(LABEL_W, height - PAD); ctx.stroke();
    document.getElementById("range").textContent =
      fmtTime(view.from, true) + " to " + fmtTime(view.to, true);
    canvas.dataset.rows = String(shown.length);
    // The geometry drawn with, so that a test (or a user script) can point at a mark.
    canvas.dataset.left = String(LABEL_W); canvas.dataset.width = String(plotW());
    canvas.dataset.top = String(TOP); canvas.dataset.rowHeight = String(ROW_H);
    canvas.dataset.from = String(view.from); canvas.dataset.to = String(view.to);
    canvas.dataset.marks = String(drawn.marks);
    canvas.dataset.cells = String(drawn.cells);
    canvas.dataset.failures = String(drawn.failures);
    // The share of the buckets' area drawn red: about the failure rate, not a wall.
    canvas.dataset.redShare = drawn.area ? (drawn.red / drawn.area).toFixed(3) : "0";
    canvas.dataset.drawn = "yes";
  }

  function hit(evt) {
    var rect = canvas.getBoundingClientRect(), px = evt.clientX - rect.left, py = evt.clientY - rect.top;
    var k = Math.floor((py - TOP) / ROW_H);
    if (px < LABEL_W || k < 0 || k >= shown.length) return null;
    var row = rows[shown[k]], d = drawnRows[k];
    if (d.marks) {
      var best = null, bestD = 6;
      for (var i = d.lo; i < d.hi; i++) {
        var dist = Math.abs(x(row.times[i]) - px);
        if (dist < bestD) { bestD = dist; best = i; }
      }
      return best === null ? null : { row: row, index: best };
    }
    var b = Math.floor((px - LABEL_W) / (plotW() / d.buckets.length)), c = d.buckets[b];
    if (!c) return null;
    var from = view.from + b * (view.to - view.from) / d.buckets.length;
    return { row: row, bucket: c, from: from, to: from + (view.to - view.from) / d.buckets.length };
  }

  function summary(h) {
    var row = h.row;
    if (h.index !== undefined) {
      var flag = row.flags[h.index];
      return row.name + "\\n" + fmtTime(row.times[h.index], true) + "  " + PRIORITIES[flag >> 1] +
             (flag & 1 ? "  FAILED" : "") + "\\n" + where(row, h.index);
    }
    var c = h.bucket;
    return row.name + "\\n" + plural(c[0], "record") + ", " + plural(c[1], "failure") + "\\n" +
           fmtTime(h.from, true) + " + " + fmtMs(h.to - h.from);
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
    var row = h.row;
    if (h.index !== undefined) {
      var at = where(row, h.index), m = kept[at];
      detail.textContent = at + "  " + fmtTime(row.times[h.index], true) + "\\n\\n" +
        (m ? JSON.stringify(m[5], null, 2)
           : "(" + row.name + ", " + PRIORITIES[row.flags[h.index] >> 1] + ": the whole record " +
             "is not kept in the page past --max-marks; it is line " + row.lines[h.index] +
             " of " + D.paths[row.files[h.index]] + ")");
      return;
    }
    var lo = lowerBound(row.times, h.from), hi = lowerBound(row.times, h.to), lines = [summary(h), ""];
    lines.push("Zoom in (drag across it) to draw these records one by one. The first of them:");
    for (var i = lo; i < hi && i < lo + 50; i++) {
      lines.push("  " + fmtTime(row.times[i], true) + "  " + PRIORITIES[row.flags[i] >> 1] +
                 (row.flags[i] & 1 ? " FAILED" : "") + "  " + where(row, i));
    }
    detail.textContent = lines.join("\\n");
  }

  // --- the waterfall --------------------------------------------------------------------
  var waterfall = document.getElementById("lanes"), more = document.getElementById("more");
  var collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  var lanes = D.lanes.map(function (l, i) {
    var text = [l[0]].concat(l[5], l[6], l[7].map(function (b) { return b[3] + " " + b[4]; }));
    return { data: l, order: i, text: text.join("\\n").toLowerCase() };
  });
  var matching = lanes, limit = LANE_PAGE;

  function laneElement(lane) {
    var l = lane.data, dur = Math.max(l[2], 0), section = document.createElement("section");
    section.className = "lane"; section.dataset.id = l[0];
    section.dataset.records = String(l[3]); section.dataset.failures = String(l[4]);
    var head = document.createElement("div"), id = document.createElement("span");
    var facts = document.createElement("span");
    head.className = "lane-head"; id.className = "lane-id"; id.textContent = l[0];
    facts.className = "lane-facts";
    facts.textContent = fmtTime(l[1], true) + " · " + fmtMs(dur) + " · " + plural(l[3], "record") +
      (l[5].length ? " · " + l[5].join(", ") : "");
    if (l[4]) {
      var bad = document.createElement("span");
      bad.className = "failed"; bad.textContent = " · " + plural(l[4], "failure");
      facts.appendChild(bad);
    }
    head.appendChild(id); head.appendChild(facts); section.appendChild(head);
    function pos(ms) { return dur > 0 ? (ms / dur) * 100 : 0; }
    l[7].forEach(function (b, index) {
      var line = document.createElement("div"), name = document.createElement("div");
      var track = document.createElement("div"), bar = document.createElement("div");
      line.className = "span-row"; line.dataset.depth = String(b[2]);
      name.className = "span-name"; name.style.paddingLeft = (b[2] * 14) + "px";
      name.textContent = b[2] === 0 ? "all " + plural(l[3], "record") : b[3]; name.title = b[3];
      track.className = "span-track";
      bar.className = "span"; bar.dataset.id = b[4]; bar.dataset.depth = String(b[2]);
      bar.dataset.error = String(b[5]); bar.dataset.open = String(b[6]);
      bar.style.left = pos(b[0]) + "%";
      bar.style.width = (dur > 0 ? Math.max(pos(b[1]) - pos(b[0]), 0.2) : 0) + "%";
      bar.title = b[3] + ": " + fmtMs(b[1] - b[0]) + (b[5] ? ", failed" : "") + (b[6] ? ", no end" : "");
      bar.addEventListener("click", function () {
        detail.classList.remove("hint");
        detail.textContent = b[3] + "\\nid " + b[4] + "\\nstarts " + fmtTime(l[1] + b[0], true) +
          " (+" + fmtMs(b[0]) + " in " + l[0] + ")\\nlasts " + fmtMs(b[1] - b[0]) +
          (b[5] ? "\\nfailed" : "") + (b[6] ? "\\nno end recorded: drawn to the end of the lane" : "");
      });
      track.appendChild(bar);
      if (index === 0) {
        l[8].forEach(function (f) {
          var mark = document.createElement("i");
          mark.className = "fail-mark"; mark.dataset.where = f[1];
          mark.style.left = pos(f[0]) + "%"; mark.title = f[2] + " failed, " + f[1];
          mark.addEventListener("click", function () {
            var m = kept[f[1]];
            detail.classList.remove("hint");
            detail.textContent = f[1] + "  " + fmtTime(l[1] + f[0], true) + "\\n\\n" +
              (m ? JSON.stringify(m[5], null, 2) : f[2] + " (the whole record is not kept in the page)");
          });
          track.appendChild(mark);
        });
      }
      line.appendChild(name); line.appendChild(track); section.appendChild(line);
    });
    return section;
  }

  function renderLanes() {
    waterfall.textContent = "";
    var fragment = document.createDocumentFragment();
    matching.slice(0, limit).forEach(function (lane) { fragment.appendChild(laneElement(lane)); });
    waterfall.appendChild(fragment);
    if (!lanes.length) {
      var none = document.createElement("p");
      none.className = "hint";
      none.textContent = "No record has a " + D.byName + " (osreplay timeline --by request, " +
        "global-request, resource or trace).";
      waterfall.appendChild(none);
    }
    var rest = matching.length - Math.min(limit, matching.length);
    more.hidden = rest <= 0;
    more.textContent = "Show " + Math.min(rest, LANE_PAGE).toLocaleString("en") + " more of " +
      rest.toLocaleString("en");
    waterfall.dataset.lanes = String(lanes.length);
    waterfall.dataset.matching = String(matching.length);
    waterfall.dataset.shown = String(Math.min(limit, matching.length));
    waterfall.dataset.drawn = "yes";
  }
  more.addEventListener("click", function () { limit += LANE_PAGE; renderLanes(); });
  document.getElementById("sort").addEventListener("change", function (evt) {
    var byId = evt.target.value === "id";
    lanes.sort(function (a, b) { return byId ? collator.compare(a.data[0], b.data[0]) : a.order - b.order; });
    applyFilter();
  });

  // --- filter and tabs ------------------------------------------------------------------
  function applyFilter() {
    query = filterBox.value.trim().toLowerCase();
    shown = [];
    rows.forEach(function (row, r) { if (!query || row.name.toLowerCase().indexOf(query) >= 0) shown.push(r); });
    matching = lanes.filter(function (lane) { return !query || lane.text.indexOf(query) >= 0; });
    limit = LANE_PAGE;
    document.getElementById("filter-count").textContent = query ?
      plural(shown.length, "row") + ", " + plural(matching.length, "lane") + " match" : "";
    if (D.first !== null) { layout(); draw(); }
    renderLanes();
  }
  filterBox.addEventListener("input", applyFilter);

  function choose(name) {
    ["strip", "waterfall"].forEach(function (v) {
      document.getElementById("view-" + v).hidden = v !== name;
      document.getElementById("tab-" + v).setAttribute("aria-selected", String(v === name));
    });
    if (name === "strip" && D.first !== null) { layout(); draw(); }
  }
  document.getElementById("tab-strip").addEventListener("click", function () { location.hash = "strip"; });
  document.getElementById("tab-waterfall").addEventListener("click", function () { location.hash = "waterfall"; });
  window.addEventListener("hashchange", function () { choose(location.hash === "#waterfall" ? "waterfall" : "strip"); });

  facts();
  renderLanes();
  if (D.first === null) {
    canvas.dataset.rows = "0"; canvas.dataset.marks = "0"; canvas.dataset.cells = "0";
    canvas.dataset.failures = "0"; canvas.dataset.drawn = "yes";
    detail.textContent = "No record with a time to draw.";
  } else {
    layout(); draw();
    window.addEventListener("resize", function () { layout(); draw(); });
  }
  choose(location.hash === "#waterfall" ? "waterfall" : "strip");
  // From the start of navigation to both views drawn: how long the page takes to open.
  document.documentElement.dataset.readyMs = String(Math.round(performance.now()));
})();
</script>
</body>
</html>
""".replace("__MARKS_PER_ROW__", str(MARKS_PER_ROW))

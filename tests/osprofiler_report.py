"""osprofiler's own report, ``Driver.get_report(base_id)``, in ``trace --by trace``'s shape.

A report is ``{"info": {...}, "children": [node], "stats": ...}``; a node is
``{"info": {"name", "service", "started", "finished", "exception",
"meta.raw_payload.<point name>": payload, ...}, "trace_id", "parent_id", "children"}``
with ``started``/``finished`` in whole milliseconds from the trace's first point and
``exception`` the text ``"None"`` when the span ended normally. The check: every span,
its place in the tree, name, service, duration (``finished - started``), error, and its
start and end (the timestamps of its points) equal what ``trace --by trace --format
json`` gives.
"""

from __future__ import annotations

from typing import Any


def _point_time(info: dict[str, Any], stop: bool) -> str | None:
    for key, payload in info.items():
        if key.startswith("meta.raw_payload.") and payload["name"].endswith("stop") == stop:
            return payload["timestamp"] + "Z"
    return None


def report_spans(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's tree as ``trace --by trace`` spans."""

    def span(node: dict[str, Any]) -> dict[str, Any]:
        info = node["info"]
        return {
            "name": info["name"],
            "trace_id": node["trace_id"],
            "parent_id": node["parent_id"],
            "service": info["service"],
            "start": _point_time(info, stop=False),
            "end": _point_time(info, stop=True),
            "ms": info["finished"] - info["started"],
            "error": None if info.get("exception", "None") == "None" else info["exception"],
            "children": [span(child) for child in node["children"]],
        }

    return [span(node) for node in report["children"]]

"""`osreplay trace` on what real services send: where each puts a request's identity,
chains of requests across services, and osprofiler's span trees (issue 22).

``fixtures/profiler/osprofiler-boot.ndjson`` was recorded by ``osreplay record`` from
osprofiler 4.4.0's messaging driver on a real RabbitMQ (tests/broker/osprofiler_emit.py
made it; tests/broker/test_osprofiler_broker.py makes it again and compares live), and
``osprofiler-boot.report.json`` is what osprofiler's own ``get_report(base_id)`` gave for
its two traces in the same run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from osprofiler_report import report_spans

from osreplay.cli import main
from osreplay.model.notification import Notification, normalise
from osreplay.scenario import trace
from osreplay.scenario.profile import build, profile_point

ROOT = Path(__file__).parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
PROFILER = ROOT / "fixtures" / "profiler" / "osprofiler-boot.ndjson"
REPORT = ROOT / "fixtures" / "profiler" / "osprofiler-boot.report.json"
CHAIN = ROOT / "fixtures" / "chain" / "nova-neutron-cinder.ndjson"
CADF = "http://schemas.dmtf.org/cloud/audit/1.0/event"


def osreplay(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="osreplay")


def corpus_note(relative: str) -> Notification:
    return Notification.from_dict(normalise(json.loads((CORPUS / relative).read_text())))


# --- where services put a request's identity -------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not on this machine")
@pytest.mark.parametrize(
    ("relative", "request_id"),
    [
        # keystone: empty context, the request id in the CADF initiator
        (
            "keystone/identity.authenticate.failure.invalid_password.cadf.json",
            "req-214d0f85-74a4-441b-85b5-c1159341d577",
        ),
        # nova versioned payloads carry the request id in their data
        ("nova/instance-create-end.json", "req-5b6c791d-5709-4f36-8fbe-c3e02869e35d"),
        # legacy nova and neutron: the oslo v1 wire body's _context_request_id
        (
            "designate/nova/compute.instance.create.start.json",
            None,  # read from the file below
        ),
        # octavia: the v1 wire body with _context_request_id (global request id null)
        (
            "octavia/octavia.loadbalancer.create.end.json",
            "req-072bab53-1b9b-46fa-92b0-7f04305c31bf",
        ),
        # keystonemiddleware's audit events (ironic-api, barbican): the correlation_id tag
        ("ironic/audit.http.request.json", "685f1abb-620e-5d5d-b74a-b4135fb32373"),
        (
            "cadf/envelopes/barbican-audit.http.request.json",
            "openstack:7e0fe4a6-e258-477e-a1c9-0fd0921a8435",
        ),
    ],
)
def test_the_request_id_is_read_where_each_service_puts_it(relative, request_id) -> None:
    raw = json.loads((CORPUS / relative).read_text())
    expected = request_id or raw["_context_request_id"]
    assert trace.request_key(corpus_note(relative)) == expected


def test_keystone_cadf_with_an_empty_context_is_grouped_by_its_initiator_request_id() -> None:
    def login(request_id: str, outcome: str, n: int) -> dict:
        return {
            "event_type": "identity.authenticate",
            "publisher_id": "identity.keystone-1",
            "priority": "INFO",
            "timestamp": f"2024-03-05 09:00:0{n}.000000",
            "ctxt": {},
            "payload": {
                "typeURI": CADF,
                "action": "authenticate",
                "outcome": outcome,
                "id": f"ev-{n}",
                "initiator": {
                    "typeURI": "service/security/account/user",
                    "id": "u-hash",
                    "user_id": "u-1",
                    "request_id": request_id,
                },
                "target": {"typeURI": "service/security/account/user", "id": f"fresh-{n}"},
            },
        }

    notes = [Notification.from_dict(login(f"req-{n}", "success", n)) for n in range(3)]
    assert [trace.request_key(n) for n in notes] == ["req-0", "req-1", "req-2"]
    # by resource, logins are about the user (each has a fresh target id)
    assert {trace.resource_key(n) for n in notes} == {"u-1"}


# --- a chain across services -----------------------------------------------------------


def test_by_global_request_links_nova_neutron_and_cinder_with_each_request_a_child() -> None:
    result = osreplay("trace", "--by", "global-request", str(CHAIN))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    chain = lines.index(
        "req-11111111-1111-4111-8111-111111111111: 7 records, 2024-03-05T11:00:01.000000Z"
        " to 2024-03-05T11:00:06.000000Z (5.000 s)"
    )
    heads = [line for line in lines[chain:] if line.startswith("  request ")]
    assert heads == [
        "  request req-11111111-1111-4111-8111-111111111111 (nova-compute:compute-2): 3 records",
        "  request req-22222222-2222-4222-8222-222222222222 (network.net-2): 2 records",
        "  request req-33333333-3333-4333-8333-333333333333 (volume.block-10): 2 records",
    ]
    assert "    span port.create: 0.500 s, end" in lines
    assert lines[-1] == (
        "2 groups by global request id, 8 records (0 without a global request id); 3 spans, 0 open"
    )

    result = osreplay("trace", "--by", "global-request", "--format", "json", str(CHAIN))
    login, group = json.loads(result.stdout)
    assert login["key"] == "req-55555555-5555-4555-8555-555555555555"  # keystone, no context
    requests = [(r["key"], r["publisher"], [s["event"] for s in r["spans"]])
                for r in group["requests"]]  # fmt: skip
    assert requests == [
        (
            "req-11111111-1111-4111-8111-111111111111",
            "nova-compute:compute-2",
            ["compute.instance.create"],
        ),
        ("req-22222222-2222-4222-8222-222222222222", "network.net-2", ["port.create"]),
        ("req-33333333-3333-4333-8333-333333333333", "volume.block-10", ["volume.attach"]),
    ]
    assert [len(r["records"]) for r in group["requests"]] == [3, 2, 2]
    # --by request keeps each service's request apart
    by_request = json.loads(osreplay("trace", "--format", "json", str(CHAIN)).stdout)
    assert len(by_request) == 4


# --- osprofiler span trees --------------------------------------------------------------


def test_by_trace_gives_osprofilers_own_span_trees() -> None:
    """The check: every group equals osprofiler's get_report for its base_id."""
    result = osreplay("trace", "--by", "trace", "--format", "json", str(PROFILER))
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)
    reports = json.loads(REPORT.read_text())
    assert [g["key"] for g in groups] == list(reports)
    for group in groups:
        assert group["spans"] == report_spans(reports[group["key"]])
    # and what that means, spelled out for the boot
    boot = groups[0]["spans"]
    assert [s["name"] for s in boot] == ["wsgi"]
    assert [c["name"] for c in boot[0]["children"]] == ["db", "rpc"]
    assert [c["name"] for c in boot[0]["children"][0]["children"]] == ["db"]  # db-inner
    [compute] = boot[0]["children"][1]["children"]
    assert (compute["name"], compute["service"]) == ("compute_build", "nova-compute")
    assert [(c["name"], c["error"]) for c in compute["children"]] == [
        ("vif_plug", "ValueError"),
        ("db", None),
    ]
    keys = set(boot[0])
    assert keys == {"name", "trace_id", "parent_id", "service", "start", "end", "ms", "error",
                    "children"}  # fmt: skip


def test_by_trace_text_is_an_indented_tree() -> None:
    result = osreplay("trace", "--by", "trace", str(PROFILER))
    assert result.exit_code == 0, result.output
    reports = json.loads(REPORT.read_text())
    first = next(iter(reports))
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{first}: 14 records, ")
    tree = [line.split("  ", 2)[-1].split(":")[0] for line in lines[1:8]]
    assert tree == [
        "wsgi (nova-api)",
        "  db (nova-api)",
        "    db (nova-api)",
        "  rpc (nova-api)",
        "    compute_build (nova-compute)",
        "      vif_plug (nova-compute)",
        "      db (nova-compute)",
    ]
    assert "error ValueError" in lines[6]
    wsgi_ms = reports[first]["children"][0]["info"]["finished"]
    assert lines[1].endswith(f"wsgi (nova-api): {wsgi_ms} ms")
    assert lines[-1] == (
        "2 groups by trace id, 20 records (0 without a trace id); 10 spans, 0 open"
    )


def point(name: str, trace_id: str, parent_id: str, at: str, **info) -> dict:
    payload = {"name": name, "base_id": "B", "trace_id": trace_id, "parent_id": parent_id,
               "timestamp": f"2024-03-05T10:00:{at}", "service": "svc"}  # fmt: skip
    if info:
        payload["info"] = info
    return payload


def test_spans_pair_by_trace_id_in_any_order_and_lone_points_last_zero_ms() -> None:
    points = [
        point("a-stop", "t1", "B", "00.010999"),  # the stop arrives before its start
        point("a-start", "t1", "B", "00.000000"),
        point("b-x-start", "t2", "t1", "00.002500"),
        point("b-x-stop", "t2", "t1", "00.004499", etype="KeyError"),
        point("c-start", "t3", "B", "00.020000"),  # never stopped
        point("d-stop", "t4", "gone", "00.030000"),  # never started, parent unknown
    ]
    tree = build([profile_point(p) for p in points])  # type: ignore[misc]
    flat = [(s.name, s.started_ms, s.ms, s.error, [c.name for c in s.children]) for s in tree]
    assert flat == [
        ("a", 0, 10, None, ["b"]),
        ("c", 20, 0, None, []),
        ("d", 30, 0, None, []),
    ]
    [b] = tree[0].children
    # offsets truncated to whole ms first, as osprofiler does: 4 - 2, not 1.999
    assert (b.started_ms, b.ms, b.error) == (2, 2, "KeyError")


def test_records_that_are_not_osprofiler_points_are_not_grouped_by_trace() -> None:
    assert profile_point({"name": "x-start", "base_id": "B"}) is None
    assert profile_point({**point("a-start", "t", "B", "00.0"), "timestamp": "yesterday"}) is None
    result = osreplay("trace", "--by", "trace", str(ROOT / "fixtures" / "scenario" /
                                                      "boot-before.ndjson"))  # fmt: skip
    assert result.stdout.splitlines()[-1] == (
        "0 groups by trace id, 14 records (14 without a trace id); 0 spans, 0 open"
    )


KEYSTONE = ROOT / "fixtures" / "keystone" / "keystone-28.1.0.ndjson"


def test_a_real_keystone_recording_groups_every_request() -> None:
    """keystone 28.1.0 recorded from RabbitMQ (fixtures/keystone/drive_keystone.py)."""
    records = [json.loads(line) for line in KEYSTONE.read_text().splitlines()]
    assert all("ctxt" not in record for record in records)  # keystone sends no context
    result = osreplay("trace", "--format", "json", str(KEYSTONE))
    groups = json.loads(result.stdout)
    assert [g["key"] for g in groups] == [r["payload"]["initiator"]["request_id"] for r in records]
    text = osreplay("trace", str(KEYSTONE)).stdout.splitlines()[-1]
    assert text == "5 groups by request id, 5 records (0 without a request id); 0 spans, 0 open"
    # by resource: the two failed logins are the user's, the rest the project's
    by_resource = json.loads(osreplay("trace", "--by", "resource", "--format", "json",
                                      str(KEYSTONE)).stdout)  # fmt: skip
    assert [(g["key"], len(g["records"])) for g in by_resource] == [
        (records[0]["payload"]["initiator"]["user_id"], 2),
        (records[2]["payload"]["target"]["id"], 3),
    ]

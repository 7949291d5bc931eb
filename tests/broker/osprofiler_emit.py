"""Send real osprofiler traces through oslo.messaging, then ask osprofiler for its report.

Run with a Python that has ``osprofiler`` (4.4.0) and ``oslo.messaging`` installed, not
osreplay's: ``/work/venvs/osprofiler/bin/python osprofiler_emit.py URL EXCHANGE OUT``.

osprofiler's messaging driver (``osprofiler.drivers.messaging.Messaging``) sends each
trace point with a ``messaging`` (v1) Notifier on the topic ``profiler`` of the
transport's ``control_exchange`` (here EXCHANGE). Three services take part, each with a
driver of its own, as in a cloud: ``nova-api`` handles a request (``wsgi``, a ``db``
query, a nested ``db-inner`` query that the report names ``db`` too, an ``rpc`` call),
``nova-compute`` continues the same trace under that call (its profiler is initialised
with the caller's ``base_id`` and the ``rpc`` span as parent, as osprofiler's
``web``/``messaging`` glue does) and one of its spans ends with an exception;
``cinder-api`` makes a second, separate trace. Then, for each trace, the driver's own
``get_report(base_id)`` reads the ``profiler`` queue and builds the tree; OUT receives
``{base_id: report}`` as JSON, datetimes as text.

Prints the base ids, one a line, at the end.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import oslo_messaging
from oslo_config import cfg
from osprofiler import notifier, profiler
from osprofiler.drivers.messaging import Messaging

HMAC = "osreplay-test"


def driver(conf: cfg.ConfigOpts, url: str, service: str, host: str) -> Messaging:
    return Messaging(
        "messaging://", project="osreplay", service=service, host=host, conf=conf,
        transport_url=url, idle_timeout=2,
    )  # fmt: skip


def in_service(point_driver: Messaging, base_id: str | None, parent_id: str | None, work) -> None:
    """Run ``work`` as another service would: its own thread (osprofiler's profiler is
    per thread) and its own driver (the notifier is per process, so one at a time)."""
    previous = notifier.get()

    def body() -> None:
        notifier.set(point_driver.notify)
        profiler.init(HMAC, base_id=base_id, parent_id=parent_id)
        work()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    notifier.set(previous)


def pause(ms: float) -> None:
    time.sleep(ms / 1000)


def boot() -> None:
    """nova-compute's part of the boot: one span ends with an exception."""
    with profiler.Trace("compute_build", info={"instance": "boot-1"}):
        pause(12)
        try:
            with profiler.Trace("vif_plug", info={"port": "p-1"}):
                pause(4)
                raise ValueError("vif plugging timed out")
        except ValueError:
            pass
        with profiler.Trace("db", info={"db": {"statement": "UPDATE instances"}}):
            pause(2)


def volumes() -> None:
    with profiler.Trace("wsgi", info={"request": {"method": "GET", "path": "/v3/volumes"}}):
        pause(2)
        for statement in ("SELECT volumes", "SELECT volume_types"):
            with profiler.Trace("db", info={"db": {"statement": statement}}):
                pause(1)


def main() -> None:
    url, exchange, out = sys.argv[1:4]
    conf = cfg.ConfigOpts()
    oslo_messaging.get_notification_transport(conf, url=url)  # registers the options
    conf.set_override("control_exchange", exchange)
    api = driver(conf, url, "nova-api", "api-1")
    compute = driver(conf, url, "nova-compute", "compute-2")
    cinder = driver(conf, url, "cinder-api", "block-10")
    reports = {}

    # Trace 1: a boot, across nova-api and nova-compute.
    notifier.set(api.notify)
    profiler.init(HMAC)
    base_id = profiler.get().get_base_id()
    profiler.start("wsgi", {"request": {"method": "POST", "path": "/v2.1/servers"}})
    pause(5)
    with profiler.Trace("db", info={"db": {"statement": "SELECT 1"}}):
        pause(8)
        with profiler.Trace("db-inner", info={"db": {"statement": "SELECT 2"}}):
            pause(3)
    with profiler.Trace("rpc", info={"method": "build_and_run_instance"}):
        in_service(compute, base_id, profiler.get().get_id(), boot)
        pause(3)
    profiler.stop()
    # get_report reads the whole profiler queue (it filters on the client side), so each
    # trace is reported before the next one is sent.
    reports[base_id] = api.get_report(base_id)

    # Trace 2: a volume list in cinder-api, a trace of its own.
    holder = {}

    def second() -> None:
        holder["base_id"] = profiler.get().get_base_id()
        volumes()

    in_service(cinder, None, None, second)
    reports[holder["base_id"]] = cinder.get_report(holder["base_id"])
    print(base_id, holder["base_id"], sep="\n", flush=True)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(reports, handle, indent=1, default=str)


if __name__ == "__main__":
    main()

"""Named recordings for ``timeline``'s page: what docs/scenario.md states the page size of.

``cloud_day(path)`` writes **100,000 records of which 8 % failed**: 20,000 server boots
over six hours on 40 compute hosts, each boot five records of one request id
(``compute.instance.create.start``, two ``compute.instance.update``, then
``compute.instance.create.end``, or for 2 boots in 5 ``compute.instance.create.error``
at ERROR), boots overlapping, the file in time order as ``osreplay record`` writes it.
Each record is a small legacy nova notification (about 450 bytes a line).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

START = datetime(2024, 3, 5, 6, 0, tzinfo=timezone.utc)


def cloud_day(path: Path, records: int = 100_000, *, seed: int = 7) -> int:
    """Write the recording; returns how many records failed (8 % of them)."""
    rng = random.Random(seed)
    boots = records // 5
    spread = 6 * 3600
    lines: list[tuple[float, int, dict]] = []
    failures = 0
    for boot in range(boots):
        at = spread * boot / boots
        host = f"nova-compute:compute-{rng.randrange(1, 41)}"
        request = f"req-{rng.getrandbits(128):032x}"
        instance = f"{rng.getrandbits(128):032x}"
        fails = boot % 5 in (1, 3)  # 2 boots in 5: 8,000 failed records in 100,000
        steps = [
            ("compute.instance.create.start", 0.0),
            ("compute.instance.update", rng.uniform(0.5, 3)),
            ("compute.instance.update", rng.uniform(3, 8)),
            ("compute.instance.create.error" if fails else "compute.instance.create.end",
             rng.uniform(8, 40)),
        ]  # fmt: skip
        steps.insert(1, ("scheduler.select_destinations.end", rng.uniform(0.05, 0.4)))
        for n, (event_type, offset) in enumerate(steps):
            failed = event_type.endswith(".error")
            failures += failed
            moment = START + timedelta(seconds=at + offset)
            record = {
                "event_type": event_type,
                "publisher_id": host,
                "priority": "ERROR" if failed else "INFO",
                "payload": {
                    "instance_id": instance,
                    "state": "error" if failed else "building",
                    "host": host.split(":")[1],
                    "image_ref_url": "http://glance:9292/images/3a2b",
                    "message": "Build of instance aborted: vif plugging timed out"
                    if failed
                    else "",
                },
                "message_id": f"{rng.getrandbits(128):032x}",
                "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "ctxt": {"request_id": request, "global_request_id": None},
                "exchange": "nova",
                "topic": "notifications",
            }
            lines.append((at + offset, boot * 5 + n, record))
    lines.sort(key=lambda item: (item[0], item[1]))
    with path.open("w") as out:
        for _, _, record in lines:
            out.write(json.dumps(record) + "\n")
    return failures

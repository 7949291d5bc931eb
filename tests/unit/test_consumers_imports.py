"""consumers/ and the schema commands read recordings only: no bus, no oslo, no click."""

from __future__ import annotations

import subprocess
import sys


def test_consumers_and_schema_import_neither_the_bus_nor_oslo_nor_click():
    code = (
        "import sys, osreplay.consumers.run, osreplay.scenario.schema\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('osreplay.bus', 'oslo', 'click',"
        " 'kombu', 'osreplay.console', 'osreplay.cli')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""

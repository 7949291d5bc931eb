"""How fast and how lean are ``osreplay stats`` and ``osreplay trace``?

    python benchmarks/scenario.py [--records 100000] [--runs 3]

Writes the same mixed recording as ``benchmarks/validate.py`` (its generator: keystone
CADF logins, each with its own request id, and nova versioned payloads, about one record
in a hundred spoiled), then times, best of ``--runs``, as subprocesses of this checkout
(``python -m osreplay``, startup included, output to /dev/null):

- ``osreplay validate -q FILE``, the baseline;
- ``osreplay stats FILE`` and ``osreplay trace FILE`` (by request), and
  ``osreplay trace --by resource FILE``.

It prints each time, records/s and the ratio of speeds against ``validate -q`` (target
>= 0.5: at least half its speed), and the peak RSS of each command on the whole file and
on a fifth of it (memory flat: the peak must not grow with the number of records by more
than 20 MB). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate import generate  # noqa: E402 - the validate benchmark's record generator

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.5
FLAT_MB = 20
COMMANDS = {
    "validate -q": ["validate", "-q"],
    "stats": ["stats"],
    "trace": ["trace"],
    "trace --by resource": ["trace", "--by", "resource"],
}


def run(args: list[str], path: Path) -> tuple[float, float]:
    """Seconds and peak RSS in MB of one ``python -m osreplay`` run."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        proc = subprocess.Popen(
            [sys.executable, "-m", "osreplay", *args, str(path)],
            stdout=devnull,
            stderr=devnull,
            cwd=REPO,
        )
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        sys.exit(f"osreplay {' '.join(args)} failed with exit code {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def best(args: list[str], path: Path, runs: int) -> tuple[float, float]:
    results = [run(args, path) for _ in range(runs)]
    return min(t for t, _ in results), max(m for _, m in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        full, fifth = Path(tmp) / "mixed.ndjson", Path(tmp) / "fifth.ndjson"
        generate(full, args.records)
        generate(fifth, args.records // 5)
        size_mb = full.stat().st_size / 1e6
        print(f"{args.records} records ({size_mb:.1f} MB), best of {args.runs}")
        baseline = 0.0
        for name, command in COMMANDS.items():  # validate -q first: the baseline
            seconds, rss = best(command, full, args.runs)
            baseline = baseline or seconds
            _, small_rss = run(command, fifth)
            ratio = baseline / seconds
            target = "" if name == "validate -q" else f" (target >= {TARGET_RATIO})"
            print(
                f"{name:<20} {seconds:6.2f} s {args.records / seconds:9,.0f} records/s"
                f"  ratio {ratio:.2f}{target}"
                f"  peak RSS {rss:.0f} MB ({small_rss:.0f} MB on {args.records // 5})"
            )
            if name != "validate -q":
                ok = ok and ratio >= TARGET_RATIO and rss - small_rss < FLAT_MB
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The demo's wall time and peak memory: `setpiece demo` into a fresh folder, as a newcomer runs it.

Goal (issue 11): under 120 seconds and under 2 GB on the 2-core development machine.
Each run starts from an empty folder in a fresh process (no warm caches inside
Setpiece); peak memory is the largest resident set of the process and its children
(``ru_maxrss`` of the waited-for children). It also prints each step's own time from
the demo's JSON report, so a regression shows where it is.

    python bench/demo_run.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import machine

GOAL_SECONDS = 120.0
GOAL_BYTES = 2 * 1024**3


def run_once(folder: Path) -> tuple[float, int, dict[str, object]]:
    env = {**os.environ, "SETPIECE_USER": "demo"}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "setpiece.cli.main", "demo", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    out, err = child.communicate()
    elapsed = time.perf_counter() - started
    if child.returncode not in (0, 3):
        raise SystemExit(f"setpiece demo failed ({child.returncode}): {err.decode()[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux
    return elapsed, peak, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times: list[float] = []
    peak = 0
    report: dict[str, object] = {}
    for index in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, peak_now, report = run_once(Path(tmp) / "demo")
        times.append(elapsed)
        peak = max(peak, peak_now)
        print(f"run {index + 1}: {elapsed:.1f} s", flush=True)
    median = statistics.median(times)
    print(f"machine: {machine()}")
    print(
        f"setpiece demo: median {median:.1f} s (min {min(times):.1f}, max {max(times):.1f}) "
        f"over {len(times)} runs = {median / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:.0f} s goal"
    )
    print(
        f"peak resident memory: {peak / 1024**2:.0f} MiB = {peak / GOAL_BYTES:.2f}x the 2 GB goal"
    )
    steps = report.get("steps", [])
    assert isinstance(steps, list)
    for step in steps:
        print(
            f"  {step['step']:11s} {step['status']:8s} {step['seconds']:6.1f} s  {step['detail']}"
        )


if __name__ == "__main__":
    main()

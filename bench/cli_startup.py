"""`setpiece --help` start-up time. Goal: under 0.3 s (heavy libraries imported lazily).

Anchors in the same run: the bare interpreter (the floor no Python CLI can beat),
and importing the heavy libraries Setpiece keeps out of start-up (SQLAlchemy,
PyAV, Pillow, fsspec), to show what laziness saves.

    python bench/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import sys

from _timing import machine, time_command

GOAL_S = 0.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    setpiece = shutil.which("setpiece") or sys.exit("setpiece is not installed in this environment")
    rows = [
        ("setpiece --help", [setpiece, "--help"]),
        ("setpiece --version", [setpiece, "--version"]),
        ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        (
            "import sqlalchemy.orm, av, PIL.Image, fsspec (eager)",
            [sys.executable, "-c", "import sqlalchemy.orm, av, PIL.Image, fsspec"],
        ),
    ]
    print(f"machine: {machine()}")
    results = {}
    for label, argv in rows:
        median, low, high = time_command(argv, runs=args.runs)
        results[label] = median
        print(
            f"{label:55s} median {median * 1000:7.1f} ms  (min {low * 1000:.1f}, max {high * 1000:.1f})"
        )
    help_s = results["setpiece --help"]
    print(
        f"setpiece --help / goal {GOAL_S:.1f} s: {help_s / GOAL_S:.2f}  ({'met' if help_s < GOAL_S else 'MISSED'})"
    )
    print(f"setpiece --help / bare interpreter: {help_s / results['python -c pass (floor)']:.2f}x")
    eager = results["import sqlalchemy.orm, av, PIL.Image, fsspec (eager)"]
    print(f"eager heavy imports alone / setpiece --help: {eager / help_s:.2f}x")


if __name__ == "__main__":
    main()

"""Timing helpers shared by the benchmarks: wall-clock medians of whole commands."""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
from collections.abc import Sequence


def time_command(
    argv: Sequence[str], *, runs: int = 7, env: dict[str, str] | None = None, cwd: str | None = None
) -> tuple[float, float, float]:
    """Runs ``argv`` ``runs`` times; returns (median, min, max) seconds. Fails on a non-zero exit."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            list(argv),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), min(samples), max(samples)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    import os

    return ", ".join(f"{value:.2f}" for value in os.getloadavg())

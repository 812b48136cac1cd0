"""Two versions of Setpiece on the same media work, in one run: did a change slow it down?

A refactor that moves code between modules (one video writer for everything, the render
queue split into a package) should cost nothing at run time. This bench runs the same
commands, through the CLI a user types (the one interface both versions share), with the
sources of an earlier commit and with this working tree, interleaved run by run so that
both see the same load:

- ``help``: ``setpiece --help``, which must stay fast (nothing heavy imported);
- ``retime``: a clip to another frame rate by optical flow (decode, flow, encode);
- ``cuts``: shot boundaries of a film excerpt (decode at signature size, the detector);
- ``preview``: ``edit assemble --movie --burn-in`` of a previs cut of video takes (every
  take decoded, conformed, lettered and encoded).

Each tree gets its own project for ``preview`` (made by that tree, untimed), because a
newer tree's database is one migration ahead of an older tree's code. The figure is the
median wall time of ``--runs`` runs of each command, and the ratio after/before (below 1:
faster). Both trees use this interpreter's packages.

    python bench/tree_compare.py --before 0bc68b2 [--runs 3] [--only retime cuts]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import load_average, machine

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "from setpiece.cli.main import main; main()"
FOUNTAIN = """Title: Compare

INT. KITCHEN - NIGHT

ANNA pours coffee. BEN watches from the door.

ANNA
You're late.

BEN
The train was.

EXT. STATION - DAY

The platform is empty. ANNA waits with a suitcase.
"""


def run(src: Path, args: list[str], *, cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "SETPIECE_USER": "bench"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} with {src} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def project(src: Path, where: Path) -> Path:
    """A project of two scenes with a previs video take per shot, made by ``src``."""
    script = where / "compare.fountain"
    script.write_text(FOUNTAIN, encoding="utf-8")
    run(src, ["init", "film", "--name", "Compare", "--fps", "24"], cwd=where)
    film = where / "film"
    run(src, ["script", "import", str(script)], cwd=film)
    run(src, ["shot", "plan"], cwd=film)
    run(src, ["render", "--all", "--kind", "video"], cwd=film)
    return film


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="The earlier commit (any git revision).")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--only", nargs="+", choices=("help", "retime", "cuts", "preview"), help="These alone."
    )
    options = parser.parse_args()
    clips = options.data / "shotcut_pyscenedetect_resources"
    excerpt, moving = clips / "goldeneye-vfr-drop3.mp4", clips / "testvideo.mp4"
    for path in (excerpt, moving):
        if not path.exists():
            raise SystemExit(f"{path} is missing: give --data the shared data folder")
    with tempfile.TemporaryDirectory(prefix="tree-compare-") as scratch:
        work = Path(scratch)
        before = work / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", options.before], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        trees = {"before": before / "src", "after": ROOT / "src"}
        films = {}
        for name, src in trees.items():
            (work / name / "p").mkdir(parents=True, exist_ok=True)
            if not options.only or "preview" in options.only:
                films[name] = project(src, work / name / "p")
        commands = {
            "help": lambda name: ["--help"],
            "retime": lambda name: ["retime", str(moving), str(work / f"{name}-r.mp4"), "--fps", "60"],
            "cuts": lambda name: ["cuts", str(excerpt), "--json"],
            "preview": lambda name: [
                "edit", "assemble", "--include-unapproved", "--burn-in",
                "--movie", str(work / f"{name}-preview.mp4"),
            ],
        }  # fmt: skip
        if options.only:
            commands = {name: argv for name, argv in commands.items() if name in options.only}
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(options.runs):
            for command, argv in commands.items():
                for name, src in trees.items():
                    cwd = films[name] if command == "preview" else work
                    times.setdefault((command, name), []).append(run(src, argv(name), cwd=cwd))
    print(f"machine: {machine()}")
    print(f"before: {options.before}; after: the working tree; {options.runs} runs each")
    print(f"{'command':<10}{'before s':>10}{'after s':>10}{'after/before':>14}")
    for command in commands:
        old = statistics.median(times[(command, "before")])
        new = statistics.median(times[(command, "after")])
        print(f"{command:<10}{old:>10.2f}{new:>10.2f}{new / old:>14.2f}")
    print(f"load average: {load_average()}")


if __name__ == "__main__":
    main()

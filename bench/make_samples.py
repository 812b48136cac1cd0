"""`setpiece make` on the official Fountain samples: it finishes, and how long it takes.

The three samples published at fountain.io (``../shared/data/fountain_official_samples``)
are scripts nobody wrote for Setpiece: a two-line title (Brick & Steel), a short with
dialogue (The Last Birthday Card), a full-length feature (Big Fish, 907 shots). Each is made
into a fresh folder by the real command, in a fresh process, and then checked the way an
editor would receive it:

* ``make`` exits 0 and every step is done;
* ``cut/cut.otio`` opens in OpenTimelineIO with one clip for every shot of the project;
* ``cut/preview.mp4`` decodes, every frame;
* ``setpiece verify`` finds valid signatures on the movie, the OTIO and the EDL;
* the disclosure (JSON and HTML) exists;
* ``setpiece fsck`` is clean.

CI runs Brick & Steel (``.ci/run``); The Last Birthday Card (a 38-minute cut, about 10
minutes alone, 38 beside CI's tests) and Big Fish run here, their times recorded in
bench/RESULTS.md:

    python bench/make_samples.py brick                   # what CI runs
    python bench/make_samples.py birthday bigfish        # the short and the feature: minutes

Peak memory is the largest resident set of the ``make`` process (``wait4``'s rusage).
Exits 1 when any sample fails a check, naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import load_average, machine

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fountain_official_samples"
SAMPLES = {
    "brick": "Brick-and-Steel.fountain",
    "birthday": "The-Last-Birthday-Card.fountain",
    "bigfish": "Big-Fish.fountain",
}


class CheckFailed(Exception):
    """A sample's make or one of the checks on what it made failed."""


def setpiece(*args: str | Path, project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "setpiece.cli.main", "--project", str(project), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "SETPIECE_USER": os.environ.get("SETPIECE_USER", "bench")},
    )


def make(script: Path, project: Path, resolution: str, takes: int) -> tuple[float, int, dict]:
    """Runs ``setpiece make``; returns (seconds, peak bytes, its JSON report)."""
    argv = [sys.executable, "-m", "setpiece.cli.main", "make", str(script)]
    argv += ["--project", str(project), "--resolution", resolution, "--takes", str(takes)]
    argv += ["--kind", "video"]  # the whole pipeline: clips, retimed (the default renders stills)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen([*argv, "--json"], stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise CheckFailed(f"make exited {child.returncode}: {stderr.strip()[-1500:]}")
    report = json.loads(stdout)
    failed = [f"{s['step']}: {s['detail']}" for s in report["steps"] if s["status"] == "failed"]
    if failed:
        raise CheckFailed("steps failed: " + "; ".join(failed))
    return elapsed, usage.ru_maxrss * 1024, report


def check_cut(project: Path) -> dict[str, int]:
    """The checks an editor's delivery must pass; returns the figures it counted."""
    import av
    import opentimelineio as otio

    cut = project / "cut"
    listed = setpiece("shot", "list", "--json", project=project)
    if listed.returncode != 0:
        raise CheckFailed(f"shot list exited {listed.returncode}: {listed.stderr.strip()}")
    shots = json.loads(listed.stdout)
    codes = {shot["code"] for shot in (shots["shots"] if isinstance(shots, dict) else shots)}
    timeline = otio.adapters.read_from_file(str(cut / "cut.otio"))
    clips = {clip.metadata["setpiece"]["shot"] for clip in timeline.find_clips()}
    if not codes <= clips:
        raise CheckFailed(f"cut.otio lacks shots: {sorted(codes - clips)[:10]}")
    with av.open(str(cut / "preview.mp4")) as movie:
        frames = sum(1 for _ in movie.decode(video=0))
    if frames == 0:
        raise CheckFailed("preview.mp4 has no frames")
    for name in ("preview.mp4", "cut.otio", "cut.edl"):
        verified = setpiece("verify", cut / name, project=project)
        if verified.returncode != 0:
            raise CheckFailed(f"verify {name} exited {verified.returncode}: {verified.stdout}")
    for name in ("disclosure.json", "disclosure.html"):
        if not (cut / name).is_file():
            raise CheckFailed(f"no {name}")
    checked = setpiece("fsck", project=project)
    if checked.returncode != 0:
        raise CheckFailed(f"fsck exited {checked.returncode}: {checked.stdout.strip()[-800:]}")
    return {"shots": len(codes), "frames": frames}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="+", choices=sorted(SAMPLES))
    parser.add_argument("--resolution", default="640x360")
    parser.add_argument("--takes", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DATA, help="the samples' folder")
    parser.add_argument("--keep", type=Path, help="make the projects here and keep them")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="setpiece-samples-"))
    print(f"machine: {machine()}; load average at start: {load_average()}", flush=True)
    failures = 0
    try:
        for name in args.samples:
            project = root / name
            shutil.rmtree(project, ignore_errors=True)
            try:
                seconds, peak, report = make(
                    args.data / SAMPLES[name], project, args.resolution, args.takes
                )
                figures = check_cut(project)
            except CheckFailed as exc:
                failures += 1
                print(f"{name}: FAILED: {exc}", flush=True)
                continue
            steps = ", ".join(f"{s['step']} {s['seconds']:.0f} s" for s in report["steps"])
            print(
                f"{name}: {figures['shots']} shots, {figures['frames']} frames at "
                f"{args.resolution}, {seconds:.1f} s, peak {peak / 1024**2:.0f} MiB; "
                f"checks passed ({steps})",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average at end: {load_average()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Evaluation: OpenTimelineIO's and the CMX 3600 adapter's own sample edits through Setpiece's edit reader.

Every ``.otio`` and ``.edl`` in ../shared/data/otio_core_sample_data and
../shared/data/otio_cmx3600_edl_samples goes through ``read_edit``, the parsing
path of ``setpiece edit import`` (read the first video track into whole frames,
match nothing). Per file: clips, total frames of the video track, and the
verdict against the ground truth their authors' tests assert, where they assert
one (see each folder's SOURCE.txt):

- EDLs: tests/test_cmx_3600_adapter.py and tests/test_cdl.py of
  OpenTimelineIO/otio-cmx3600-adapter at 4b02a66 (the commit the samples come
  from): clip counts, per-clip durations, track durations, and the files that
  must fail (dissolve_test_fail.edl; timecode_mismatch.edl without
  ignore_timecode_mismatch, which the importer never sets).
- OTIO files: tests/test_console.py of OpenTimelineIO (otiotool --list-clips on
  screening_example.otio: 9 clips; --list-tracks --list-clips on multitrack.otio:
  3 clips on its first track). The others are read without a ground truth.

    python bench/otio_interop_eval.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from _timing import machine
from setpiece.edit.reading import read_edit
from setpiece.errors import SetpieceError

CMX = "cmx3600-adapter@4b02a66 tests"
CORE = "OpenTimelineIO tests/test_console.py"


@dataclass(frozen=True)
class Expect:
    clips: int | None = None
    durations: tuple[int, ...] | None = None  # of the first clips, in frames
    total: int | None = None  # frames of the video track
    refused: bool = False  # the authors' tests expect the read to fail
    rate: int = 24
    source: str = CMX
    note: str = ""


SCREENING = (31, 50, 28, 115, 101, 161, 170, 136, 257)  # 00:00:01:07 ... 00:00:10:17

EXPECTED: dict[str, Expect] = {
    # otio_cmx3600_edl_samples
    "screening_example.edl": Expect(9, SCREENING, sum(SCREENING)),
    "no_spaces_test.edl": Expect(9, SCREENING, sum(SCREENING), note="= screening_example"),
    "avid_example.edl": Expect(2, (31, 50)),
    "nucoda_example.edl": Expect(2, (31, 50)),
    "premiere_example.edl": Expect(2, (31, 50)),
    "cdl.edl": Expect(2, (31, 31)),
    "25fps.edl": Expect(None, (161, 200, 86, 49), rate=25),
    "dissolve_test.edl": Expect(3, (9, 10, 1), note="+1 dissolve"),
    "dissolve_test_2.edl": Expect(3, (5, 10), note="+1 dissolve"),
    "dissolve_test_3.edl": Expect(3, (61, 30, 46), note="+1 dissolve"),
    "dissolve_test_4.edl": Expect(6, (30, 51, 81, 84, 96, 135), note="+2 dissolves"),
    "wipe_test.edl": Expect(3, (9, 10, 1), note="+1 wipe"),
    "gap_test.edl": Expect(3, (24, 24, 24), 5 * 24 + 6, note="2 record gaps"),
    "speed_effects.edl": Expect(total=30330, note="00:21:03:18, M2 and freeze frames"),
    "transition_duration.edl": Expect(note="5 items, a 26-frame transition"),
    "multi_audio.edl": Expect(refused=True, note="audio only: no picture to import"),
    "timecode_mismatch.edl": Expect(refused=True, rate=25, note="source/record mismatch"),
    "dissolve_test_fail.edl": Expect(refused=True, note="transition/event id mismatch"),
    "enabled.otio": Expect(2, (3, 3), note="2 video tracks; V1 read"),
    # otio_core_sample_data
    "screening_example.otio": Expect(9, source=CORE),
    "multitrack.otio": Expect(3, source=CORE, note="3 video tracks; V1 read"),
}


def verdict(
    expect: Expect | None, clips: list[int] | None, total: int | None
) -> tuple[str, int, int]:
    """('ok' / 'MISMATCH' / 'no truth', checks made, checks passed)."""
    if expect is None:
        return "no truth", 0, 0
    checks: list[bool] = []
    if expect.refused or clips is None:
        checks.append(expect.refused == (clips is None))
    else:
        if expect.clips is not None:
            checks.append(len(clips) == expect.clips)
        if expect.durations is not None:
            checks.append(tuple(clips[: len(expect.durations)]) == expect.durations)
        if expect.total is not None:
            checks.append(total == expect.total)
    if not checks:
        return "no truth", 0, 0
    passed = sum(checks)
    return ("ok" if passed == len(checks) else "MISMATCH"), len(checks), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    args = parser.parse_args()
    folders = ["otio_core_sample_data", "otio_cmx3600_edl_samples"]
    files = sorted(
        p
        for folder in folders
        for p in (args.data / folder).iterdir()
        if p.suffix in (".otio", ".edl")
    )
    print(f"{machine()}\n")
    print("| file | rate | clips | frames | expected | verdict | read in | note |")
    print("|---|---|---|---|---|---|---|---|")
    totals = {
        "files": 0,
        "read": 0,
        "refused": 0,
        "clips": 0,
        "frames": 0,
        "checks": 0,
        "passed": 0,
    }
    mismatches: list[str] = []
    started_all = time.perf_counter()
    for path in files:
        expect = EXPECTED.get(path.name)
        rate = Fraction(expect.rate) if expect else None
        if path.suffix == ".edl" and rate is None:
            rate = Fraction(24)
        started = time.perf_counter()
        durations: list[int] | None
        try:
            edit = read_edit(path, rate if path.suffix == ".edl" else None)
            durations = [c.duration for c in edit.clips]
            total: int | None = edit.duration
            shown = f"{len(edit.clips)} | {edit.duration}"
            note = "; ".join(edit.warnings)
            fps = f"{edit.fps.numerator}/{edit.fps.denominator}"
            totals["read"] += 1
            totals["clips"] += len(edit.clips)
            totals["frames"] += edit.duration
        except SetpieceError as exc:
            durations, total, fps = None, None, "-"
            shown = "- | -"
            note = f"refused: {exc}"
            totals["refused"] += 1
        elapsed = time.perf_counter() - started
        result, checks, passed = verdict(expect, durations, total)
        totals["files"] += 1
        totals["checks"] += checks
        totals["passed"] += passed
        if result == "MISMATCH":
            mismatches.append(path.name)
        wanted = _describe(expect)
        if expect and expect.note:
            note = f"{expect.note}. {note}" if note else expect.note
        print(
            f"| {path.parent.name.removeprefix('otio_')}/{path.name} | {fps} | {shown} | {wanted} | "
            f"{result} | {elapsed * 1000:.0f} ms | {note[:160]} |"
        )
    print()
    print(
        f"{totals['files']} files: {totals['read']} read, {totals['refused']} refused; "
        f"{totals['clips']} clips, {totals['frames']} frames; ground truth: "
        f"{totals['passed']}/{totals['checks']} checks pass"
        + (f"; mismatches: {', '.join(mismatches)}" if mismatches else "")
        + f"; {time.perf_counter() - started_all:.2f} s in all"
    )


def _describe(expect: Expect | None) -> str:
    if expect is None:
        return "-"
    if expect.refused:
        return "refused"
    parts = []
    if expect.clips is not None:
        parts.append(f"{expect.clips} clips")
    if expect.durations is not None:
        parts.append("durations " + ",".join(map(str, expect.durations)))
    if expect.total is not None:
        parts.append(f"{expect.total} frames")
    return "; ".join(parts) or "-"


if __name__ == "__main__":
    main()

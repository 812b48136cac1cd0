"""The look check, side by side: the setting's light (the check's rule now) against the
whole-frame rule it replaced, on the same pictures and the same takes (issue 28).

Three parts, each printed with its number of cases and, for rates, a 95 % Wilson interval:

1. **Shifts of known size** on real pictures (../shared/data: the 14 photos of
   faces_identity, the 10 UKBench photos of neardup_imagededup_tests, one frame of each AI
   video clip): 1 stop of exposure either way, and 1,500 K of white balance either way
   (6504 K to 5004 K and 8004 K along the CIE *daylight* locus, von Kries gains in linear
   light: another formula than the check's Planckian one). A shift is caught when the
   comparison of the picture with its shifted self passes a day threshold.
2. **A close-up after a wide shot**, from the same pictures: the centre half of each picture
   scaled back to full size (what a push-in on the subject shows), lit by the same light.
   Every look jump reported here is a false one.
3. **The demo and Brick & Steel** made by the real command with fixed seeds
   (``setpiece demo``; ``setpiece make Brick-and-Steel.fountain --resolution 640x360
   --takes 1``), their look jumps listed by both rules over the same cuts: the staged jump
   is 3A->3B and 3B->3C; Brick & Steel is all day light.

    python bench/continuity_look_eval.py                    # all three (makes the projects)
    python bench/continuity_look_eval.py --demo PATH --brick PATH   # reuse made projects
    python bench/continuity_look_eval.py --data /work/shared/data   # from a git worktree
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _stats import wilson
from _timing import load_average, machine
from setpiece.continuity.look import CielabLook, LookStats, SettingLook, face_boxes
from setpiece.continuity.settings import LookThresholds, continuity_settings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DAY = LookThresholds()
SHIFTS = ("exposure -1 stop", "exposure +1 stop", "white balance 5004 K", "white balance 8004 K")


def rate(hits: int, total: int) -> str:
    lo, hi = wilson(hits, total)
    return f"{hits}/{total} = {hits / max(1, total):.3f} (95% CI {lo:.3f}-{hi:.3f})"


# Pictures ------------------------------------------------------------------------------


def _middle_frame(path: Path) -> np.ndarray | None:
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames[len(frames) // 2] if frames else None


def pictures() -> list[tuple[str, np.ndarray]]:
    from setpiece.store.frames import load_rgb

    found: list[tuple[str, np.ndarray]] = []
    folders = [DATA / "faces_identity", DATA / "neardup_imagededup_tests" / "base_images"]
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
                found.append((path.name, load_rgb(path)))
    clips = sorted((DATA / "aivideo_generators").rglob("*")) + sorted(
        (DATA / "aivideo_magicme_same_identity").glob("*.mp4")
    )
    for path in clips:
        if path.suffix.lower() in (".mp4", ".gif"):
            frame = _middle_frame(path)
        elif path.suffix.lower() == ".png":
            frame = load_rgb(path)
        else:
            continue
        if frame is not None:
            found.append((path.name, np.ascontiguousarray(frame)))
    return found


def _linear(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float64) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _encoded(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0, 1)
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(srgb * 255), 0, 255).astype(np.uint8)


def _daylight_white(kelvin: float) -> np.ndarray:
    """Linear sRGB of the CIE daylight locus' white at ``kelvin`` (CIE 15), green at 1."""
    t = kelvin
    if t <= 7000:
        x = -4.6070e9 / t**3 + 2.9678e6 / t**2 + 0.09911e3 / t + 0.244063
    else:
        x = -2.0064e9 / t**3 + 1.9018e6 / t**2 + 0.24748e3 / t + 0.237040
    y = -3.0 * x**2 + 2.870 * x - 0.275
    xyz = np.array([x / y, 1.0, (1 - x - y) / y])
    to_rgb = np.array(
        [[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]]
    )
    rgb = to_rgb @ xyz
    return rgb / rgb[1]


def shifted(rgb: np.ndarray, shift: str) -> np.ndarray:
    if shift.startswith("exposure"):
        return _encoded(_linear(rgb) * (0.5 if "-1" in shift else 2.0))
    kelvin = float(shift.split()[2])
    return _encoded(_linear(rgb) * (_daylight_white(kelvin) / _daylight_white(6504.0)))


def close_up(rgb: np.ndarray) -> np.ndarray:
    import cv2

    height, width = rgb.shape[:2]
    centre = rgb[height // 4 : height - height // 4, width // 4 : width - width // 4]
    return np.asarray(cv2.resize(centre, (width, height), interpolation=cv2.INTER_CUBIC))


class Rules:
    """The two rules on one picture: the whole frame, and the setting with people left out."""

    def __init__(self) -> None:
        self.old, self.new = CielabLook(), SettingLook()

    def looks(self, rgb: np.ndarray) -> tuple[LookStats, LookStats | None]:
        return self.old.stats([rgb]), self.new.pooled([self.new.frame_light(rgb, face_boxes(rgb))])

    def jumps(self, a: np.ndarray, b: np.ndarray) -> tuple[list[str], list[str] | None]:
        (old_a, new_a), (old_b, new_b) = self.looks(a), self.looks(b)
        old = self.old.compare(old_a, old_b).exceeded(DAY)
        if new_a is None or new_b is None:
            return old, None  # figures over the whole border: not measured
        return old, self.new.compare(new_a, new_b).exceeded(DAY)


def known_shifts_and_close_ups() -> None:
    rules = Rules()
    shots = pictures()
    print(f"{len(shots)} pictures")
    caught = {rule: {s: 0 for s in SHIFTS} for rule in ("old", "new")}
    cases = {s: 0 for s in SHIFTS}
    unmeasured = 0
    for _name, rgb in shots:
        for shift in SHIFTS:
            old, new = rules.jumps(rgb, shifted(rgb, shift))
            cases[shift] += 1
            caught["old"][shift] += bool(old)
            if new is None:
                unmeasured += 1
                continue
            caught["new"][shift] += bool(new)
    print("1. shifts of known size caught (day thresholds; same picture before and after):")
    print("| shift | whole frame (old rule) | setting, people left out (new rule) |")
    print("|---|---|---|")
    for shift in SHIFTS:
        print(
            f"| {shift} | {rate(caught['old'][shift], cases[shift])} | "
            f"{rate(caught['new'][shift], cases[shift])} |"
        )
    total = sum(cases.values())
    print(
        f"| all | {rate(sum(caught['old'].values()), total)} | "
        f"{rate(sum(caught['new'].values()), total)} |"
    )
    print(f"   (new rule: {unmeasured} case(s) not measured: figures over the whole border)")

    false_old = false_new = skipped = 0
    for name, rgb in shots:
        old, new = rules.jumps(rgb, close_up(rgb))
        false_old += bool(old)
        if new is None:
            skipped += 1
        else:
            false_new += bool(new)
        if old or new:
            print(f"   {name}: old {old or '-'}; new {new if new is not None else 'not measured'}")
    print("2. a close-up after the wide shot, same light (every jump is a false one):")
    print(f"   old rule: {rate(false_old, len(shots))}")
    print(f"   new rule: {rate(false_new, len(shots))}, {skipped} not measured")


# Projects -------------------------------------------------------------------------------


def setpiece(*args: str | Path) -> None:
    env = {**os.environ, "SETPIECE_USER": os.environ.get("SETPIECE_USER", "bench")}
    done = subprocess.run(
        [sys.executable, "-m", "setpiece.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"setpiece {' '.join(map(str, args))} exited {done.returncode}: "
            f"{done.stderr.strip()[-800:]}"
        )


def old_rule_jumps(project: Path) -> list[str]:
    """The rule before issue 28: whole-frame CIELAB statistics of 8 sampled frames of each
    shot's circled-or-latest take, consecutive shots of a scene, every measure judged."""
    from setpiece.continuity.check import representative_take
    from setpiece.pipeline.hooks import install
    from setpiece.production.context import Production
    from setpiece.production.scenes import list_scenes
    from setpiece.production.shots import list_shots
    from setpiece.production.takes import list_takes
    from setpiece.store.frames import take_pictures

    install()
    # The thresholds of that time too: night's white balance was 1,200 K, not 2,000 K.
    settings = continuity_settings({"continuity": {"look": {"NIGHT": {"kelvin": 1200.0}}}})
    model = CielabLook()
    found = []
    with Production.open(project) as production:
        scenes = {s.number: s for s in list_scenes(production)}
        takes: dict[str, list] = {}
        for take in list_takes(production):
            if (
                take.status.value not in ("rejected", "failed", "pending", "rendering")
                and take.media
            ):
                takes.setdefault(take.shot, []).append(take)
        shots = list_shots(production)
        looks: dict[str, LookStats] = {}
        for shot in shots:
            take = representative_take(takes.get(shot.code, []))
            if take is None or take.media is None:
                continue
            every = max(1, take.media.frames // 8)
            frames, _ = take_pictures(take.media, take.label, production.store, every=every)
            if frames:
                looks[shot.code] = model.stats([f.rgb for f in frames])
        for a, b in itertools.pairwise(shots):
            if a.scene != b.scene or a.code not in looks or b.code not in looks:
                continue
            limits = settings.look_for(scenes[b.scene].time_of_day)
            over = model.compare(looks[a.code], looks[b.code]).exceeded(limits)
            if over:
                found.append(f"{a.code}->{b.code}: " + "; ".join(over))
    return found


def new_rule_jumps(project: Path) -> tuple[list[str], int]:
    from setpiece.continuity.check import LookChecker, check_continuity
    from setpiece.pipeline.hooks import install
    from setpiece.production.context import Production

    install()
    with Production.open(project) as production:
        report = check_continuity(production, checkers=[LookChecker()], store=False)
    return [f"{f.shot} frame {f.frame}: {f.detail}" for f in report.findings], len(report.skipped)


def projects(demo: Path | None, brick: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="look-eval-") as folder:
        if demo is None:
            demo = Path(folder) / "demo"
            setpiece("demo", demo)
        if brick is None:
            brick = Path(folder) / "brick"
            script = DATA / "fountain_official_samples" / "Brick-and-Steel.fountain"
            setpiece("make", script, "--project", brick, "--resolution", "640x360", "--takes", "1")
        for title, project in (("the demo", demo), ("Brick & Steel", brick)):
            old = old_rule_jumps(project)
            new, skipped = new_rule_jumps(project)
            print(
                f"3. {title}: old rule {len(old)} look jump(s), new rule {len(new)} "
                f"({skipped} shot(s) show no setting or no light, judged around)"
            )
            for line in old:
                print(f"   old {line}")
            for line in new:
                print(f"   new {line}")


def main() -> None:
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", type=Path, help="a demo project already made")
    parser.add_argument("--brick", type=Path, help="Brick & Steel already made at 640x360")
    parser.add_argument("--skip-projects", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared test material")
    args = parser.parse_args()
    DATA = args.data
    print(f"machine: {machine()}; load average at start: {load_average()}")
    known_shifts_and_close_ups()
    if not args.skip_projects:
        projects(args.demo, args.brick)
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()

"""Shot-boundary detection: F1 and speed of ``setpiece cuts`` against PySceneDetect's
ContentDetector and AdaptiveDetector (PyAV backend), in the same run.

Truth that PySceneDetect did not produce:

- spliced videos this script renders from segments of real footage (testvideo.mp4's
  three shots, goldeneye-vfr-drop3.mp4's three), joined by hard cuts, dissolves
  (8-20 frames) and fades through black (fade out, 2-6 black frames, fade in), at
  known frames, seeded;
- testvideo.mp4's two fades, spans from testvideo/testvideo_output.txt (OUT 185 / IN
  217, OUT 364 / IN 400);
- goldeneye-vfr-drop3.mp4's cuts at nominal frames 90 and 210 (SOURCE.txt).

The goldens/ folder holds PySceneDetect's own outputs and is not used as truth. A hard
cut counts as found within +-2 frames; a gradual one anywhere in its span +-3 frames;
matching is one to one. Precision and recall carry Wilson 95% intervals. Speed is
frames per second of video read, decoding included (the fastest of ``--repeat`` runs),
video by video: ours, then PySceneDetect's on the same file, so both meet the same load.

PySceneDetect runs in its own venv (it pulls a non-headless OpenCV):

    python -m venv /tmp/bench-scenedetect
    /tmp/bench-scenedetect/bin/pip install scenedetect opencv-python-headless av
    python bench/motion_cuts.py [--data ../shared/data] [--python /tmp/bench-scenedetect/bin/python]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from _stats import wilson
from _timing import machine
from setpiece.motion.cuts import detect_cuts
from setpiece.store.video import decode

ROOT = Path(__file__).resolve().parents[1]
SIZE = (640, 360)


@dataclass(frozen=True)
class Truth:
    start: int  # the first frame of the new shot (cut), or the span of a transition
    end: int
    kind: str


def shots(data: Path) -> list[list[np.ndarray]]:
    folder = data / "shotcut_pyscenedetect_resources"
    test = [f.rgb for f in decode(folder / "testvideo.mp4", size=SIZE)]
    gold = [f.rgb for f in decode(folder / "goldeneye-vfr-drop3.mp4", size=SIZE)]
    return [test[40:180], test[222:360], test[405:690], gold[2:58], gold[63:139], gold[142:160]]


def splice(pool: list[list[np.ndarray]], seed: int, path: Path) -> list[Truth]:
    rng = random.Random(seed)
    frames: list[np.ndarray] = []
    truth: list[Truth] = []
    last = -1
    for n in range(8):
        choice = rng.choice([i for i in range(len(pool)) if i != last])
        last = choice
        source = pool[choice]
        length = min(len(source), rng.randint(24, 48))
        offset = rng.randint(0, len(source) - length)
        segment = [f.astype(np.float32) for f in source[offset : offset + length]]
        if n == 0:
            frames += segment
            continue
        kind = rng.choice(["cut", "dissolve", "fade"])
        at = len(frames)
        if kind == "cut":
            frames += segment
            truth.append(Truth(at, at, "cut"))
        elif kind == "dissolve":
            span = rng.randint(8, 20)
            span = min(span, len(segment) // 2, 12)
            tail = frames[-span:]
            for i in range(span):
                w = (i + 1) / (span + 1)
                tail[i] = tail[i] * (1 - w) + segment[i] * w
            frames[-span:] = tail
            frames += segment[span:]
            truth.append(Truth(at - span, at, "dissolve"))
        else:
            out_len, black, in_len = rng.randint(6, 12), rng.randint(2, 6), rng.randint(6, 12)
            for i in range(out_len):
                frames[-out_len + i] = frames[-out_len + i] * (1 - (i + 1) / (out_len + 1))
            frames += [np.zeros_like(segment[0])] * black
            for i in range(min(in_len, len(segment))):
                segment[i] = segment[i] * ((i + 1) / (in_len + 1))
            frames += segment
            truth.append(Truth(at - out_len, at + black + in_len, "fade"))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for i, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(
                np.clip(picture, 0, 255).astype(np.uint8), format="rgb24"
            )
            frame.pts, frame.time_base = i, Fraction(1, 24)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return truth


def score(found: list[int], truth: list[Truth]) -> tuple[int, int, int]:
    """(true positives, detections, truths), matched one to one."""
    left = list(found)
    hits = 0
    for t in truth:
        lo, hi = (t.start - 2, t.start + 2) if t.kind == "cut" else (t.start - 3, t.end + 3)
        match = next((f for f in left if lo <= f <= hi), None)
        if match is not None:
            left.remove(match)
            hits += 1
    return hits, len(found), len(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--python", default="/tmp/bench-scenedetect/bin/python")
    parser.add_argument("--spliced", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    folder = args.data / "shotcut_pyscenedetect_resources"
    cases: dict[str, list[Truth]] = {
        str(folder / "testvideo.mp4"): [Truth(185, 217, "fade"), Truth(364, 400, "fade")],
        str(folder / "goldeneye-vfr-drop3.mp4"): [Truth(90, 90, "cut"), Truth(210, 210, "cut")],
    }
    with tempfile.TemporaryDirectory() as tmp:
        pool = shots(args.data)
        for seed in range(args.spliced):
            path = Path(tmp) / f"spliced{seed}.mp4"
            cases[str(path)] = splice(pool, seed, path)
        methods = ("setpiece", "ContentDetector", "AdaptiveDetector")
        found: dict[str, dict[str, list[int]]] = {m: {} for m in methods}
        seconds = dict.fromkeys(methods, 0.0)
        frames = 0
        runner = str(ROOT / "bench" / "_scenedetect_runner.py")
        # Video by video, ours then PySceneDetect's, so both meet the same load (the
        # machine is shared); each side's time is the fastest of --repeat runs.
        for path in cases:
            best = float("inf")
            for _ in range(args.repeat):
                started = time.perf_counter()
                report = detect_cuts(path)
                best = min(best, time.perf_counter() - started)
            seconds["setpiece"] += best
            found["setpiece"][path] = [c.frame for c in report.cuts]
            frames += report.frames
            other = subprocess.run(
                [args.python, runner, str(args.repeat), path],
                check=True,
                capture_output=True,
                text=True,
            )
            for name, value in json.loads(other.stdout)[path].items():
                found[name][path] = value["cuts"]
                seconds[name] += value["seconds"]
    truths = sum(len(t) for t in cases.values())
    kinds = {
        k: sum(1 for t in cases.values() for x in t if x.kind == k)
        for k in ("cut", "dissolve", "fade")
    }
    print(f"{len(cases)} videos, {frames} frames, {truths} true boundaries {kinds}")
    for method in methods:
        tp = det = tr = 0
        by_kind = {k: [0, 0] for k in kinds}
        for path, truth in cases.items():
            h, d, t = score(found[method][path], truth)
            tp, det, tr = tp + h, det + d, tr + t
            for k in kinds:
                sub = [x for x in truth if x.kind == k]
                by_kind[k][0] += score(found[method][path], sub)[0]
                by_kind[k][1] += len(sub)
        precision = tp / det if det else 0.0
        recall = tp / tr if tr else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        p_lo, p_hi = wilson(tp, det)
        r_lo, r_hi = wilson(tp, tr)
        recall_by_kind = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in by_kind.items())
        print(
            f"  {method:17s} F1 {f1:.3f}  precision {precision:.3f} [{p_lo:.2f}, {p_hi:.2f}] "
            f"({tp}/{det})  recall {recall:.3f} [{r_lo:.2f}, {r_hi:.2f}] ({recall_by_kind})  "
            f"{frames / seconds[method]:7.1f} fps"
        )
    for path in cases:
        print(f"  {Path(path).name}: truth {[(t.start, t.end, t.kind) for t in cases[path]]}")
        for method in methods:
            print(f"      {method}: {found[method][path]}")


if __name__ == "__main__":
    main()

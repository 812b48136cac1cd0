"""Which optical flow settings interpolation should default to: quality against flow time.

Each setting (DIS preset or parameter set, and the long side flow is computed at) rebuilds
middle frames from their neighbours, and the rebuilt frame is scored against the true
one (PSNR over RGB). More pairs than bench/motion_interp.py scores, and larger motion:

- CFD animation, every triplet of consecutive frames (7), and every triplet two frames
  apart (5: twice the motion),
- goldeneye-vfr-drop3 at 8 fps, every triplet within each of its first two shots,
- testvideo.mp4's moving stretch (the same pairs as bench/motion_interp.py).

Flow time is both directions of one pair, on one core (OpenCV's own threads off), so it
is the CPU a pair costs whatever else runs. The interpolation after it is the same for
every setting. The choice of the default is in setpiece.motion.flow's docstring.

    python bench/motion_flow_settings.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from _timing import machine
from motion_interp import clips, psnr
from setpiece.motion.flow import flow_pair, flow_size, interpolate

ROOT = Path(__file__).resolve().parents[1]

#: (label, long side, OpenCV preset, gradient-descent iterations, refinement iterations);
#: None keeps the preset's own.
SETTINGS: list[tuple[str, int, str, int | None, int | None]] = [
    ("medium @512 (the earlier default)", 512, "medium", None, None),
    ("balanced @384 (the default)", 384, "medium", 12, 2),
    ("balanced @512", 512, "medium", 12, 2),
    ("balanced @448", 448, "medium", 12, 2),
    ("balanced @320", 320, "medium", 12, 2),
    ("medium @384", 384, "medium", None, None),
    ("medium, 8/1 iterations @384", 384, "medium", 8, 1),
    ("fast @512", 512, "fast", None, None),
    ("fast @768", 768, "fast", None, None),
]


def engine(preset: str, descent: int | None, refinement: int | None) -> object:
    code = {"medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST}
    made = cv2.DISOpticalFlow_create(code[preset])
    if descent is not None:
        made.setGradientDescentIterations(descent)
    if refinement is not None:
        made.setVariationalRefinementIterations(refinement)
    return made


def triplets(data: Path) -> dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    runs = clips(data, 12)
    cfd = runs["cfd animation"]
    return {
        "cfd": [(cfd[i], cfd[i + 1], cfd[i + 2]) for i in range(len(cfd) - 2)],
        "cfd x2": [(cfd[i], cfd[i + 2], cfd[i + 4]) for i in range(len(cfd) - 4)],
        "goldeneye": [
            (run[i], run[i + 1], run[i + 2])
            for name in ("goldeneye 8 fps (shot 1)", "goldeneye 8 fps (shot 2)")
            for run in [runs[name]]
            for i in range(len(run) - 2)
        ],
        "testvideo": [
            (run[i], run[i + 1], run[i + 2])
            for run in (runs["testvideo (moving)"], runs["testvideo (moving, later)"])
            for i in range(0, len(run) - 2, 2)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"machine: {machine()}")
    sets = triplets(args.data)
    count = sum(len(items) for items in sets.values())
    print(f"{count} rebuilt frames: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    print(f"\n{'setting':36s} " + " ".join(f"{k:>9s}" for k in sets) + "   all (95% CI)   ms/pair")
    for label, side, preset, descent, refinement in SETTINGS:
        dis = engine(preset, descent, refinement)
        seconds, scores, line = 0.0, [], []
        for items in sets.values():
            here = []
            for a, truth, b in items:
                h, w = a.shape[:2]
                size = flow_size(w, h, side)
                grey_a, grey_b = (
                    cv2.resize(
                        cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA
                    )
                    for x in (a, b)
                )
                started = time.perf_counter()
                pair = flow_pair(grey_a, grey_b, engine=dis)
                seconds += time.perf_counter() - started
                here.append(psnr(interpolate(a, b, pair, 0.5), truth))
            scores += here
            line.append(f"{statistics.mean(here):9.2f}")
        row(label, line, scores, f"{1000 * seconds / count:6.1f}")
    # The floor: blending the neighbours, no flow.
    scores, line = [], []
    for items in sets.values():
        here = [psnr(cv2.addWeighted(a, 0.5, b, 0.5, 0), truth) for a, truth, b in items]
        scores += here
        line.append(f"{statistics.mean(here):9.2f}")
    row("simple blend (no flow)", line, scores, "     0")


def row(label: str, line: list[str], scores: list[float], cost: str) -> None:
    half = 1.96 * statistics.stdev(scores) / math.sqrt(len(scores))
    print(f"{label:36s} {' '.join(line)}   {statistics.mean(scores):.2f} (+-{half:.2f})   {cost}")


if __name__ == "__main__":
    main()

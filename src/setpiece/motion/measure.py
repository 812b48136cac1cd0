"""Temporal quality figures of a video: warping error, flicker, frozen runs.

* **Warping error** (E_warp, Lai et al. 2018, "Learning Blind Video Temporal
  Consistency"): frame t is warped onto frame t-1 with the flow of the video itself,
  occluded pixels (forward-backward check) are masked out, and the mean squared
  difference (pixel values in 0..1) is averaged over frames. It is computed at flow
  scale (long side ``flow_long_side``), not full size: the figure compares takes with
  each other, and full-size flow would cost twenty times as much.
* **Flicker index**: the mean absolute second difference in time of each region's
  mean luma (a 3x3 grid, 0-255 units): |m(t) - (m(t-1) + m(t+1)) / 2|. A steady fade or
  a light switched on once barely moves it; brightness jumping frame to frame does.
* **Longest frozen run**: the most consecutive frames that repeat the same picture
  (mean absolute grey difference under ``frozen_delta``), as generators stall.

Pairs across a hard cut or a fade are left out of every figure.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from setpiece.motion.config import MotionSettings

__all__ = ["TemporalMeasures", "measure_video", "region_means"]


@dataclass(frozen=True)
class TemporalMeasures:
    """The figures :func:`measure_video` finds (and a take stores under ``measures``)."""

    frames: int
    warp_error: float
    flicker: float
    frozen_run: int
    frozen_at: int | None
    cuts: int

    # Not jsonable's shape: ``warp_error`` and ``flicker`` rounded (6 and 4 places).
    def to_json(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "warp_error": round(self.warp_error, 6),
            "flicker": round(self.flicker, 4),
            "frozen_run": self.frozen_run,
            "frozen_at": self.frozen_at,
            "cuts": self.cuts,
        }


def region_means(grey: np.ndarray, regions: int = 3) -> np.ndarray:
    """Mean of each cell of a ``regions`` x ``regions`` grid over a grey picture."""
    import cv2

    return cv2.resize(grey.astype(np.float32), (regions, regions), interpolation=cv2.INTER_AREA)


def measure_video(
    path: str | os.PathLike[str],
    settings: MotionSettings | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    label: str = "video",
) -> TemporalMeasures:
    """Measures a video's temporal quality (see the module doc).

    Raises:
        InvalidInputError: The file does not exist.
        InvalidMediaError: Not a video, audio only, no frames.
        DecodeStopped: The video breaks mid-way (the message names the frame).
    """
    import cv2

    from setpiece.errors import InvalidMediaError
    from setpiece.motion.cuts import SIGNATURE_SIZE, CutDetector
    from setpiece.motion.flow import backward_warp, flow_pair, flow_size
    from setpiece.store.video import decode, probe_video

    settings = settings or MotionSettings()
    info = probe_video(path, label)
    size = flow_size(info.width, info.height, settings.flow_long_side)
    detector = CutDetector(settings)
    errors: list[float] = []
    steps: list[float] = []
    means: list[np.ndarray] = []
    previous: np.ndarray | None = None
    count = 0
    for frame in decode(path, size=size, label=label):
        rgb = frame.rgb
        detector.push(cv2.resize(rgb, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA), frame.time)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        means.append(region_means(grey))
        if previous is not None:
            steps.append(float(cv2.absdiff(grey, previous).mean()))
            pair = flow_pair(
                previous, grey, preset=settings.flow_preset, occlusion_px=settings.occlusion_px
            )
            warped = backward_warp(grey, pair.forward).astype(np.float32) / 255.0
            visible = 1.0 - pair.occluded_a
            diff = (warped - previous.astype(np.float32) / 255.0) ** 2
            total = float(visible.sum())
            errors.append(float((diff * visible).sum() / total) if total else 0.0)
        previous = grey
        count += 1
        if progress is not None and count % 25 == 0:
            progress(count, info.frames)
    if count == 0:
        raise InvalidMediaError(f"the {label} {path} has no frames that decode")
    boundaries = detector.finish(info.rate)
    broken = {cut.index for cut in boundaries}  # pair (i-1, i) crosses a boundary at i
    for cut in boundaries:
        if cut.kind != "cut":  # a fade or dissolve spans frames: leave its span out
            broken.update(range(cut.index - settings.dissolve_max_frames // 2, cut.index + 16))
    kept = [e for i, e in enumerate(errors, start=1) if i not in broken]
    flicker_terms = [
        float(np.abs(means[t] - (means[t - 1] + means[t + 1]) / 2).mean())
        for t in range(1, count - 1)
        if t not in broken and t + 1 not in broken
    ]
    run = best = 1
    start = best_start = 0
    for i, step in enumerate(steps, start=1):
        if step < settings.frozen_delta and i not in broken:
            run += 1
        else:
            run, start = 1, i
        if run > best:
            best, best_start = run, start
    return TemporalMeasures(
        frames=count,
        warp_error=float(np.mean(kept)) if kept else 0.0,
        flicker=float(np.mean(flicker_terms)) if flicker_terms else 0.0,
        frozen_run=best if best > 1 else 0,
        frozen_at=best_start if best > 1 else None,
        cuts=len(boundaries),
    )

"""Deflicker: frame-to-frame brightness and colour flicker removed, light changes kept.

Two passes over the file (decoding twice keeps memory flat, where a look-ahead buffer
of full frames would not):

1. Each frame's brightness relative to the previous one, per channel, globally and on
   a grid of ``deflicker_regions`` x ``deflicker_regions`` cells, is read at small
   size (:func:`relative_gain`: the previous picture warped onto this one by optical
   flow, the median log ratio over pixels that match), and summed into a log
   brightness series; the shot boundaries come along (the same detector as ``cuts``).
   Comparing each pixel with itself is what keeps fast action from reading as flicker:
   a frame's mean moves when a bright object enters it, which a global-mean estimate
   "corrected" (on goldeneye's action shot that left flicker 0.83 where FFmpeg's
   filter reached 0.65; matched pixels bring it to 0.60, bench/motion_deflicker.py).
2. Each series is cut at shot boundaries and at light changes (the median of the
   frames after a frame differs from the median of those before by more than
   ``deflicker_step``), then smoothed in time within each piece by an edge-preserving
   filter: a Gaussian over +-``deflicker_window`` frames whose weights also fall off with the
   distance from the window's *median* (a robust reference that switches cleanly at
   a step). A light switched on moves the median at once and puts the frames before
   it outside the range weight, so it stays a step; flicker, frame-to-frame noise
   around a steady level, is averaged away. The gain per channel is
   exp(smoothed - measured): the global gain, times a per-region correction clamped
   to +-10 % (so a dark object crossing one cell is not "corrected"), upsampled
   smoothly over the picture and multiplied in.

Why not FFmpeg's ``deflicker`` filter: it corrects one global luminance gain and
averages over a fixed window, so a light switched on is smeared over the window
(bench/motion_deflicker.py measures both on the same clips).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from setpiece.motion.config import MotionSettings
from setpiece.store.frames import Frame

__all__ = ["DeflickerReport", "deflicker", "light_steps", "relative_gain", "smooth_steps"]

_REGION_LIMIT = 0.1  # log units: the most a cell's own correction may add
# Brightness is estimated on pictures of this size (a multiple of the cut signature's).
ANALYSIS_SIZE = (128, 72)
_DARK, _BRIGHT = 10, 245  # grey levels outside which a pixel's ratio means little
_MIN_SHARE = 0.1  # share of matched pixels needed to trust a median ratio


@dataclass(frozen=True)
class DeflickerReport:
    """What :func:`deflicker` wrote."""

    path: Path
    frames: int
    fps: Fraction
    max_gain: float
    cuts: int

    # Not jsonable's shape: ``max_gain`` rounded to 4 places.
    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "frames": self.frames,
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "max_gain": round(self.max_gain, 4),
            "cuts": self.cuts,
        }


def smooth_steps(series: np.ndarray, window: int, step: float) -> np.ndarray:
    """Edge-preserving temporal smoothing of a (frames, ...) series (see module doc)."""
    n = series.shape[0]
    out = np.empty_like(series)
    sigma_t = max(1.0, window / 2)
    sigma_r = step / 2
    for t in range(n):
        lo, hi = max(0, t - window), min(n, t + window + 1)
        chunk = series[lo:hi]
        reference = np.median(chunk, axis=0)
        offsets = np.arange(lo, hi) - t
        shape = (-1,) + (1,) * (series.ndim - 1)
        w_t = np.exp(-0.5 * (offsets / sigma_t) ** 2).reshape(shape)
        w_r = np.exp(-0.5 * ((chunk - reference) / sigma_r) ** 2)
        weights = w_t * w_r + 1e-9
        out[t] = (weights * chunk).sum(axis=0) / weights.sum(axis=0)
    return out


def light_steps(series: np.ndarray, window: int, step: float) -> list[int]:
    """Frames where the light changes for good: the median of the ``window`` frames
    after differs from the median of those before by more than ``step`` (log units), at
    the strongest such frame of its neighbourhood. Flicker moves single frames, which a
    median ignores; a light switched on moves every frame after it."""
    n = len(series)
    jumps = np.zeros(n)
    for t in range(2, n - 1):
        before = np.median(series[max(0, t - window) : t])
        after = np.median(series[t : min(n, t + window)])
        jumps[t] = abs(after - before)
    found = []
    for t in range(2, n - 1):
        lo, hi = max(0, t - window), min(n, t + window + 1)
        if jumps[t] > step and jumps[t] == jumps[lo:hi].max():
            # The medians place the step within a frame or two; the split that best
            # explains the frames around it as two flat levels places it exactly.
            def cost(c: int, lo: int = lo, hi: int = hi) -> float:
                left, right = series[lo:c], series[c:hi]
                return float(
                    ((left - left.mean()) ** 2).sum() + ((right - right.mean()) ** 2).sum()
                )

            found.append(min(range(max(lo + 1, t - 2), min(hi - 1, t + 3)), key=cost))
    return found


def relative_gain(
    previous: tuple[np.ndarray, np.ndarray],
    current: tuple[np.ndarray, np.ndarray],
    regions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """How much brighter ``current`` is than ``previous``, in log units per channel,
    over the whole picture and per cell of a ``regions`` x ``regions`` grid.

    Each is (small grey, log RGB). The previous picture is warped onto the current one
    by optical flow and the gain is the median log ratio over pixels that have a
    consistent match (forward-backward check), lie inside the picture and are neither
    near black nor clipped: what moved is compared with itself, so action does not
    read as a change of light. A cell with too few such pixels takes the global figure;
    a picture with too few of them falls back to the ratio of the means.
    """
    from setpiece.motion.flow import backward_warp, flow_pair

    grey_p, logs_p = previous
    grey_c, logs_c = current
    h, w = grey_c.shape
    pair = flow_pair(grey_c, grey_p, preset="fast", occlusion_px=1.0)
    warped = backward_warp(logs_p, pair.forward)
    warped_grey = backward_warp(grey_p, pair.forward)
    diff = logs_c - warped
    xs = np.arange(w, dtype=np.float32)[None, :] + pair.forward[..., 0]
    ys = np.arange(h, dtype=np.float32)[:, None] + pair.forward[..., 1]
    usable = (
        (pair.occluded_a == 0)
        & (xs >= 0)
        & (xs <= w - 1)
        & (ys >= 0)
        & (ys <= h - 1)
        & (grey_c > _DARK)
        & (grey_c < _BRIGHT)
        & (warped_grey > _DARK)
        & (warped_grey < _BRIGHT)
    )
    if usable.sum() >= _MIN_SHARE * usable.size:
        whole = np.median(diff[usable], axis=0)
    else:
        whole = logs_c.reshape(-1, 3).mean(axis=0) - logs_p.reshape(-1, 3).mean(axis=0)
    per_cell = np.empty((regions, regions, 3), dtype=np.float32)
    rows = np.linspace(0, h, regions + 1).round().astype(int)
    cols = np.linspace(0, w, regions + 1).round().astype(int)
    for r in range(regions):
        for c in range(regions):
            cell = (slice(rows[r], rows[r + 1]), slice(cols[c], cols[c + 1]))
            mask = usable[cell]
            if mask.sum() >= _MIN_SHARE * mask.size:
                per_cell[r, c] = np.median(diff[cell][mask], axis=0)
            else:
                per_cell[r, c] = whole
    return whole.astype(np.float32), per_cell


def deflicker(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    settings: MotionSettings | None = None,
    codec: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DeflickerReport:
    """Writes ``source`` with its flicker removed into ``target`` (same rate, audio kept).

    Raises:
        InvalidInputError: Output equal to input, or a bad output path.
        InvalidMediaError: Not a video, audio only, no frames.
        DecodeStopped: The source breaks mid-way (no output is left).
    """
    import cv2

    from setpiece.errors import InvalidMediaError
    from setpiece.motion.cuts import SIGNATURE_SIZE, CutDetector
    from setpiece.store.video import check_paths, decode, open_writer, probe_video

    settings = settings or MotionSettings()
    out_path = check_paths(source, target)
    info = probe_video(source, "input")
    regions = settings.deflicker_regions
    detector = CutDetector(settings)
    glob: list[np.ndarray] = []
    cells: list[np.ndarray] = []
    seen: tuple[np.ndarray, np.ndarray] | None = None
    for frame in decode(source, size=ANALYSIS_SIZE, label="input", rough=True):
        small = frame.rgb
        detector.push(cv2.resize(small, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA), frame.time)
        logs = np.log(small.astype(np.float32) + 4.0)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        if seen is None:
            glob.append(logs.reshape(-1, 3).mean(axis=0))
            cells.append(cv2.resize(logs, (regions, regions), interpolation=cv2.INTER_AREA))
        else:
            step_g, step_c = relative_gain(seen, (grey, logs), regions)
            glob.append(glob[-1] + step_g)
            cells.append(cells[-1] + step_c)
        seen = (grey, logs)
        if progress is not None and len(glob) % 50 == 0:
            progress("analyse", len(glob), info.frames)
    if not glob:
        raise InvalidMediaError(f"the input {source} has no frames")
    cuts = detector.finish(info.rate)
    series_g, series_c = np.stack(glob), np.stack(cells)
    gain_g = np.zeros_like(series_g)
    gain_c = np.zeros_like(series_c)
    window, step = settings.deflicker_window, settings.deflicker_step
    steps = light_steps(series_g.mean(axis=1), window, step)
    bounds = sorted({0, *[c.index for c in cuts if c.kind == "cut"], *steps, len(glob)})
    for lo, hi in itertools.pairwise(bounds):
        if hi <= lo:
            continue
        gain_g[lo:hi] = smooth_steps(series_g[lo:hi], window, step) - series_g[lo:hi]
        own = smooth_steps(series_c[lo:hi], window, step) - series_c[lo:hi]
        gain_c[lo:hi] = np.clip(own - gain_g[lo:hi, None, None, :], -_REGION_LIMIT, _REGION_LIMIT)
    largest = 1.0
    # Output frame k shows the source frame nearest to k / rate: one per source frame
    # for a constant rate, evenly timed for a variable one (the length, and so the
    # sound's sync, is kept).
    period = 1 / info.average_rate if info.average_rate else 1 / info.rate
    planned = max(1, round((detector.times[-1] + period) * info.rate))
    with open_writer(
        out_path, info, info.rate, codec=codec, preset=settings.encoder_preset, crf=settings.crf
    ) as writer:

        def emit(frame: Frame, until: Fraction | None) -> None:
            nonlocal largest
            i = min(frame.index, len(glob) - 1)
            h, w = frame.rgb.shape[:2]
            log_gain = (gain_c[i] + gain_g[i][None, None, :]).astype(np.float32)
            gain = np.exp(cv2.resize(log_gain, (w, h), interpolation=cv2.INTER_LINEAR))
            largest = max(largest, float(np.exp(np.abs(log_gain).max())))
            corrected = cv2.multiply(frame.rgb, gain, dtype=cv2.CV_8U)
            while writer.frames < planned and (
                until is None or Fraction(writer.frames) / info.rate < until
            ):
                writer.write(corrected)
                if progress is not None and writer.frames % 25 == 0:
                    progress("write", writer.frames, planned)

        previous: Frame | None = None
        for frame in decode(source, label="input"):
            if previous is not None:
                emit(previous, (previous.time + frame.time) / 2)
            previous = frame
        if previous is not None:
            emit(previous, None)
        frames = writer.frames
    return DeflickerReport(
        path=out_path, frames=frames, fps=info.rate, max_gain=largest, cuts=len(cuts)
    )

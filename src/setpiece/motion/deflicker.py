"""Deflicker: frame-to-frame brightness and colour flicker removed, light changes kept.

Two passes over the file (decoding twice keeps memory flat, where a look-ahead buffer
of full frames would not):

1. Each frame's mean of log(RGB) per channel, globally and on a grid of
   ``deflicker_regions`` x ``deflicker_regions`` cells, is read at small size, along
   with the shot boundaries (the same detector as ``cuts``).
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

__all__ = ["DeflickerReport", "deflicker", "light_steps", "smooth_steps"]

_REGION_LIMIT = 0.1  # log units: the most a cell's own correction may add


@dataclass(frozen=True)
class DeflickerReport:
    """What :func:`deflicker` wrote."""

    path: Path
    frames: int
    fps: Fraction
    max_gain: float
    cuts: int

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
    from setpiece.motion.video import check_paths, decode, open_writer, probe_video

    settings = settings or MotionSettings()
    out_path = check_paths(source, target)
    info = probe_video(source, "input")
    regions = settings.deflicker_regions
    detector = CutDetector(settings)
    glob: list[np.ndarray] = []
    cells: list[np.ndarray] = []
    for frame in decode(source, size=SIGNATURE_SIZE, label="input", rough=True):
        detector.push(frame.rgb, frame.time)
        logs = np.log(frame.rgb.astype(np.float32) + 4.0)
        glob.append(logs.reshape(-1, 3).mean(axis=0))
        cells.append(cv2.resize(logs, (regions, regions), interpolation=cv2.INTER_AREA))
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

"""Shot boundaries: hard cuts, fades through black, and dissolves.

Why our own detector rather than PySceneDetect: its ContentDetector misses fades and
dissolves, its AdaptiveDetector finds hard cuts only, and neither is importable here
without a second OpenCV (it depends on the non-headless build). This one reads each
frame once, at 64x36 (swscale shrinks while decoding, which is most of the speed),
decoding spans between keyframes two at a time (:func:`decode_spans`: H.264 decoding
is most of the time, and FFmpeg's frame threading used 1.2 of the 2 cores), and keeps
a few floats per frame plus a ring of small pictures, so an hour of video costs a few
tens of megabytes:

* **Hard cut** at frame i: the mean absolute HSV difference between i-1 and i is at
  least ``cut_min_score`` and ``cut_threshold`` times the median difference of the
  frames around it (AdaptiveDetector's idea: fast motion raises the local median).
* **Fade**: a run of black frames (mean luma under ``black_level``) with picture on
  both sides; the cut is the middle of the run.
* **Dissolve**: for half-widths h, the frames i-h and i+h differ a lot while frame i
  is close to their average (a linear blend, which a pan or a zoom is not), the two
  ends are different pictures (not one picture dimmed: a fade), the frame-to-frame
  changes add up to about the whole change (a blend moves each pixel one way; motion
  moves it back and forth), and no hard cut lies in between; the cut is the centre of
  the best-scoring run.

Two boundaries closer than ``min_shot_frames`` are one (the stronger kind wins: a cut
over a dissolve). Frames are numbered from their timestamps at the nominal rate
(``round(time * fps)``), as PySceneDetect's PyAV backend does, so a variable-frame-rate
file reports the frame a player would show.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from setpiece.motion.config import MotionSettings
from setpiece.timebase import format_rate

__all__ = ["SIGNATURE_SIZE", "Cut", "CutDetector", "CutReport", "detect_cuts"]

SIGNATURE_SIZE = (64, 36)
_LOCAL = 5  # frames either side in the local median of hard-cut scores
_THIRD = np.full(3, 1 / 3, dtype=np.float32)


@dataclass(frozen=True)
class Cut:
    """One shot boundary: the first frame of the new shot.

    Attributes:
        index: Decode-order index of that frame.
        frame: Its frame number from its timestamp at the nominal rate.
        time: Its time in seconds from the first frame.
        kind: "cut", "fade" or "dissolve".
        score: How strong the evidence was (kind-specific, for debugging).
    """

    index: int
    frame: int
    time: Fraction
    kind: str
    score: float = 0.0

    # Not jsonable's shape: no ``index`` or ``score``, and ``time`` as seconds (3 places).
    def to_json(self) -> dict[str, Any]:
        return {"frame": self.frame, "time": round(float(self.time), 3), "kind": self.kind}


@dataclass(frozen=True)
class CutReport:
    """What ``cuts`` prints: the rate, the frame count and the boundaries."""

    fps: Fraction
    frames: int
    cuts: list[Cut] = field(default_factory=list)
    end: Fraction = Fraction(0)  # the last frame's time plus one frame: the length

    # Not jsonable's shape: leaves out ``end``.
    def to_json(self) -> dict[str, Any]:
        return {
            "fps": format_rate(self.fps),
            "frames": self.frames,
            "cuts": [cut.to_json() for cut in self.cuts],
        }


class CutDetector:
    """Streaming shot-boundary detection over small RGB signatures (see module doc)."""

    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        half = max(2, self.settings.dissolve_max_frames // 2)
        self._halves = sorted({h for h in (3, 6, 10, 15, half) if h <= half})
        self._ring: deque[tuple[np.ndarray, np.ndarray | None]] = deque(
            maxlen=2 * self._halves[-1] + 1
        )
        self._previous_hsv: np.ndarray | None = None
        self.scores: list[float] = []  # HSV change into each frame (0 for the first)
        self.luma: list[float] = []
        self.times: list[Fraction] = []
        self.steps: list[float] = []  # mean absolute RGB change into each frame
        # dissolve evidence per (centre, half): (far difference, blend residual)
        self._blend: dict[int, tuple[float, float, int]] = {}

    def push(self, small_rgb: np.ndarray, time: Fraction) -> None:
        """Adds the next frame's signature (any small RGB picture, same size each time)."""
        import cv2

        # cv2.norm(a, b, NORM_L1) is the sum of |a - b| in one pass, without the
        # temporary arrays of numpy's abs(a - b).mean(): push was half of cuts' time.
        hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
        score = 0.0
        if self._previous_hsv is not None:
            score = cv2.norm(hsv, self._previous_hsv, cv2.NORM_L1) / hsv.size
        self._previous_hsv = hsv
        self.scores.append(score)
        self.luma.append(float(cv2.mean(hsv)[2]))
        self.times.append(time)
        picture = small_rgb.astype(np.float32)
        size = picture.size
        pattern = _pattern(picture)
        self.steps.append(
            cv2.norm(picture, self._ring[-1][0], cv2.NORM_L1) / size if self._ring else 0.0
        )
        self._ring.append((picture, pattern))
        index = len(self.scores) - 1
        ring = list(self._ring)
        least = 3 * self.settings.cut_min_score / 2
        for half in self._halves:
            if len(ring) < 2 * half + 1:
                break
            (first, first_pattern), (middle, _), (last, last_pattern) = (
                ring[-1 - 2 * half],
                ring[-1 - half],
                ring[-1],
            )
            far = cv2.norm(last, first, cv2.NORM_L1) / size
            if far < least:
                continue  # too little change for a dissolve at this width
            if _similarity(first_pattern, last_pattern) > 0.6:
                continue  # the same picture dimmed or lit: a fade or a light change
            blend = cv2.addWeighted(first, 0.5, last, 0.5, 0.0)
            residual = cv2.norm(middle, blend, cv2.NORM_L1) / size
            centre = index - half
            best = self._blend.get(centre)
            if best is None or far - 4 * residual > best[0] - 4 * best[1]:
                self._blend[centre] = (far, residual, half)

    def finish(self, rate: Fraction) -> list[Cut]:
        """All boundaries found, in order."""
        scores = np.asarray(self.scores, dtype=np.float64)
        black = np.asarray(self.luma) < self.settings.black_level
        found = self._hard_cuts(scores, black) + _fades(black)
        cut_at = {i for i, kind, _ in found if kind == "cut"}
        found += self._dissolves(scores, black, cut_at)
        return self._merge(found, rate)

    def _hard_cuts(self, scores: np.ndarray, black: np.ndarray) -> list[tuple[int, str, float]]:
        """Frames that change far more than the frames around them, outside black runs."""
        s = self.settings
        n = len(scores)
        found: list[tuple[int, str, float]] = []
        for i in range(1, n):
            if scores[i] < s.cut_min_score or (black[i] and black[i - 1]):
                continue
            lo, hi = max(1, i - _LOCAL), min(n, i + _LOCAL + 1)
            around = np.concatenate([scores[lo:i], scores[i + 1 : hi]])
            local = float(np.median(around)) if around.size else 0.0
            strong = scores[i] >= s.cut_threshold * max(local, 1.0)
            if strong and scores[i] == scores[lo:hi].max() and not (black[i] or black[i - 1]):
                found.append((i, "cut", float(scores[i])))
        return found

    def _dissolves(
        self, scores: np.ndarray, black: np.ndarray, cut_at: set[int]
    ) -> list[tuple[int, str, float]]:
        """Runs of centres where a linear blend explains the middle frame."""
        s = self.settings
        candidates = []
        for centre, (far, residual, half) in sorted(self._blend.items()):
            lo, hi = centre - half, centre + half
            if black[lo] or black[hi] or black[centre]:
                continue
            if residual > 0.15 * far or any(lo < c <= hi for c in cut_at):
                continue
            steps = scores[lo + 1 : hi + 1]
            if steps.size and steps.max() >= s.cut_threshold * max(float(np.median(steps)), 1.0):
                continue  # one frame does most of the change: not gradual
            if far < 0.5 * sum(self.steps[lo + 1 : hi + 1]):
                continue  # pixels go back and forth (motion), a blend moves them one way
            candidates.append((centre, far - 4 * residual))
        found: list[tuple[int, str, float]] = []
        run: list[tuple[int, float]] = []
        for item in [*candidates, (len(scores) + 10**9, 0.0)]:
            if run and item[0] - run[-1][0] > 2:
                if len(run) >= 3:
                    best = max(run, key=lambda c: c[1])
                    found.append((run[len(run) // 2][0], "dissolve", best[1]))
                run = []
            run.append(item)
        return found

    def _merge(self, found: list[tuple[int, str, float]], rate: Fraction) -> list[Cut]:
        rank = {"cut": 0, "fade": 1, "dissolve": 2}
        kept: list[tuple[int, str, float]] = []
        for item in sorted(found, key=lambda f: (rank[f[1]], -f[2])):
            if all(abs(item[0] - k[0]) >= self.settings.min_shot_frames for k in kept):
                kept.append(item)
        return [
            Cut(
                index=i,
                frame=round(self.times[i] * rate),
                time=self.times[i],
                kind=kind,
                score=round(score, 3),
            )
            for i, kind, score in sorted(kept)
        ]


def _fades(black: np.ndarray) -> list[tuple[int, str, float]]:
    """Black runs with picture on both sides: the cut is the middle of the run."""
    n = len(black)
    found: list[tuple[int, str, float]] = []
    i = 0
    while i < n:
        if black[i]:
            j = i
            while j + 1 < n and black[j + 1]:
                j += 1
            if i > 0 and j < n - 1:
                found.append(((i + j + 1) // 2, "fade", float(j - i + 1)))
            i = j + 1
        else:
            i += 1
    return found


def _pattern(picture: np.ndarray) -> np.ndarray | None:
    """A picture's grey pattern, zero mean and unit length, flattened (None if flat)."""
    # A product with (1/3, 1/3, 1/3), not mean(axis=2): numpy reduces a last axis of
    # 3 a hundred times slower (0.26 ms against 2 us a signature).
    grey = picture.reshape(-1, 3) @ _THIRD
    grey -= grey.mean()
    norm = float(np.sqrt(grey @ grey))
    return grey / norm if norm > 1e-3 else None


def _similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Normalised cross-correlation of two patterns (1: the same picture, whatever its
    brightness; a flat picture counts as the same as anything)."""
    return 1.0 if a is None or b is None else float(a @ b)


def detect_cuts(
    path: str | os.PathLike[str],
    settings: MotionSettings | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    label: str = "video",
) -> CutReport:
    """Finds the shot boundaries of a video file.

    Raises:
        InvalidInputError: The file does not exist.
        InvalidMediaError: Not a video, audio only, or no frames at all.
        DecodeStopped: The video breaks mid-way (the message names the frame).
    """
    from setpiece.errors import InvalidMediaError
    from setpiece.store.video import decode_spans, probe_video

    info = probe_video(path, label)
    detector = CutDetector(settings)
    count = 0
    for frame in decode_spans(path, size=SIGNATURE_SIZE, label=label, rough=True):
        detector.push(frame.rgb, frame.time)
        count += 1
        if progress is not None and count % 50 == 0:
            progress(count, info.frames)
    if count == 0:
        raise InvalidMediaError(f"the {label} {path} has no frames that decode")
    step = 1 / info.average_rate if info.average_rate else 1 / info.rate
    end = detector.times[-1] + step
    return CutReport(fps=info.rate, frames=count, cuts=detector.finish(info.rate), end=end)

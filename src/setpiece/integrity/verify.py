"""Pixel verification: is a candidate really the same picture once scale and crop agree?

A hash match is a hint; a finding needs evidence. The take's frame (mirrored when the
mirrored code matched) is scaled to the size the matched window implies, and a few
scales around it, and slid over the reference thumbnail with normalised
cross-correlation (``cv2.matchTemplate``) to find where it sits; SSIM is then taken
between the take and that region, on small grey pictures with their histograms
equalised, so colour grading (a monotone change of tones) does not lower the score
while a different picture does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from setpiece.integrity.hashing import Window

__all__ = ["ALIGN_WIDTH", "Alignment", "verify"]

ALIGN_WIDTH = 64
"""Width the reference is brought to for alignment and SSIM. Measured on the evaluation
set: at 128 a copy rotated by 1-5 degrees often scores under 0.5; at 64 it scores 0.6-0.85,
while unrelated pictures stay low (bench/results/integrity.md)."""

_STEPS = (0.88, 0.94, 1.0, 1.06)


@dataclass(frozen=True)
class Alignment:
    """Where the take sits in the reference, and how alike they are there."""

    ssim: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the reference's pixels
    mirrored: bool


def _grey(
    rgb: np.ndarray, width: int | None = None, size: tuple[int, int] | None = None
) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    if size is None:
        assert width is not None
        h, w = grey.shape
        size = (width, max(8, round(h * width / w)))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return cv2.equalizeHist(grey)


def verify(
    take_rgb: np.ndarray, reference_rgb: np.ndarray, window: Window, mirrored: bool
) -> Alignment:
    """The best alignment of a take frame inside a reference frame, scored by SSIM.

    Args:
        take_rgb: The take's frame.
        reference_rgb: The reference frame (its stored thumbnail).
        window: The reference window whose code matched: the expected scale.
        mirrored: Whether the take's mirrored code matched.
    """
    import cv2
    from skimage.metrics import structural_similarity

    if mirrored:
        take_rgb = take_rgb[:, ::-1]
    reference = _grey(reference_rgb, width=ALIGN_WIDTH)
    rh, rw = reference.shape
    best: tuple[float, int, int, int, int] | None = None
    for sx in _STEPS:
        for sy in _STEPS:
            tw = min(rw, max(8, round(window.w * sx * rw)))
            th = min(rh, max(8, round(window.h * sy * rh)))
            template = _grey(take_rgb, size=(tw, th))
            if template.std() == 0 or reference.std() == 0:
                score, (x, y) = 0.0, (0, 0)
            else:
                result = cv2.matchTemplate(reference, template, cv2.TM_CCOEFF_NORMED)
                _, score, _, (x, y) = cv2.minMaxLoc(result)
            if best is None or score > best[0]:
                best = (float(score), x, y, tw, th)
    assert best is not None
    _, x, y, tw, th = best
    region = reference[y : y + th, x : x + tw]
    template = _grey(take_rgb, size=(tw, th))
    side = min(7, tw, th)
    side -= 1 - side % 2
    if side < 3:
        ssim = 0.0
    else:
        ssim = float(structural_similarity(region, template, win_size=side, data_range=255))
    scale_x = reference_rgb.shape[1] / rw
    scale_y = reference_rgb.shape[0] / rh
    box = (
        round(x * scale_x),
        round(y * scale_y),
        round((x + tw) * scale_x),
        round((y + th) * scale_y),
    )
    return Alignment(ssim=ssim, box=box, mirrored=mirrored)

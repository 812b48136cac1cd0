"""Pixel verification: is a candidate really the same picture once scale and crop agree?

A hash match is a hint; a finding needs evidence. The take's frame (mirrored when the
mirrored code matched) is scaled to the size the matched window implies, and a few
scales around it, and slid over the reference thumbnail with normalised
cross-correlation (``cv2.matchTemplate``) to find where it sits; SSIM is then taken
between the take and that region, on small grey pictures with their histograms
equalised, so colour grading (a monotone change of tones) does not lower the score
while a different picture does.

That score alone does not separate frames of one generated film: previs frames of
different locations share the panel, the silhouettes and the framing, and score 0.5-0.8.
Two more measures are taken in the same aligned region, and :func:`is_copy` needs all
three: the SSIM of the raw grey pictures at 32 pixels (``coarse``: the layout of tones,
which equalising flattens; the better of the take as it is and the take with its tones
matched to the region's, so that a global tone curve, a heavy grade's contrast and gamma,
does not lower it), and the agreement of colour (``colour``: the correlation of
the Lab a* and b* channels at 16 pixels, each channel centred and scaled, so a grade
that tints or (de)saturates keeps it while a figure in another colour lowers it; None
when either picture has no colour, as a grey copy has, and then it is not asked).
Measured (bench/integrity_eval.py, bench/RESULTS.md) at the default floors
(SSIM 0.4, coarse 0.7, colour 0.55): natural copies keep recall 0.956 with no false
positive; previs frames matched to a reference of another location fall from 885 (SSIM
0.4 alone) to 13, of 158 matches: fewer, not none (precision 0.92 there, not 0.99).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from setpiece.integrity.hashing import Window
from setpiece.integrity.settings import IntegritySettings

__all__ = [
    "ALIGN_WIDTH",
    "COARSE_WIDTH",
    "COLOUR_WIDTH",
    "Alignment",
    "is_copy",
    "ssim",
    "verify",
]

ALIGN_WIDTH = 64
"""Width the reference is brought to for alignment and SSIM. Measured on the evaluation
set: at 128 a copy rotated by 1-5 degrees often scores under 0.5; at 64 it scores 0.6-0.85,
while unrelated pictures stay low (bench/RESULTS.md)."""

COARSE_WIDTH = 32
"""Width of the raw grey pictures the coarse SSIM is taken on."""

COLOUR_WIDTH = 16
"""Width of the pictures colour agreement is measured on (colour, not detail)."""

_STEPS = (0.88, 0.94, 1.0, 1.06)


@dataclass(frozen=True)
class Alignment:
    """Where the take sits in the reference, and how alike they are there."""

    ssim: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the reference's pixels
    mirrored: bool
    coarse: float = 0.0  # SSIM of the raw grey pictures at COARSE_WIDTH
    colour: float | None = None  # a*/b* correlation at COLOUR_WIDTH; None: no colour
    inliers: int | None = None  # the keypoint stage's fit, when it placed the take
    agreement: float | None = None  # cell agreement (setpiece.integrity.keypoints)


def is_copy(alignment: Alignment, config: IntegritySettings) -> bool:
    """Whether an aligned candidate is a near-duplicate under the configured floors."""
    if alignment.ssim < config.ssim or alignment.coarse < config.coarse_ssim:
        return False
    return alignment.colour is None or alignment.colour >= config.colour


def _grey(
    rgb: np.ndarray,
    width: int | None = None,
    size: tuple[int, int] | None = None,
    equalise: bool = True,
) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    if size is None:
        assert width is not None
        h, w = grey.shape
        size = (width, max(8, round(h * width / w)))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return cv2.equalizeHist(grey) if equalise else grey


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    side = min(7, a.shape[0], a.shape[1])
    side -= 1 - side % 2
    if side < 3:
        return 0.0
    return ssim(a, b, win_size=side)


def ssim(a: np.ndarray, b: np.ndarray, *, win_size: int = 7, data_range: float = 255.0) -> float:
    """Mean SSIM of two grey pictures (Wang, Bovik, Sheikh and Simoncelli 2004).

    The form scikit-image's ``structural_similarity`` computes by default (a uniform
    ``win_size`` window, sample covariances, K1 0.01, K2 0.03, the mean over the pixels
    whose window lies inside the picture), written with OpenCV's box filter so that the
    core needs no scikit-image (with its SciPy, about 100 MB). tests/integrity/test_verify.py
    checks it against scikit-image to 1e-9 on random, graded and unrelated pictures. At the
    64x36 pictures verification compares it takes 70 us against scikit-image's 148 us (the
    box filter against SciPy's ``uniform_filter``; 2-core development VM, 6 Dec 2026).
    """
    import cv2

    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    window = (win_size, win_size)

    def mean(image: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(image, cv2.CV_64F, window, normalize=True)

    ux, uy = mean(x), mean(y)
    norm = win_size * win_size / (win_size * win_size - 1)  # sample covariance
    vx = norm * (mean(x * x) - ux * ux)
    vy = norm * (mean(y * y) - uy * uy)
    vxy = norm * (mean(x * y) - ux * uy)
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    inner = s[pad : s.shape[0] - pad, pad : s.shape[1] - pad]
    return float(inner.mean(dtype=np.float64))


def _colour(region: np.ndarray, take: np.ndarray) -> float | None:
    """Mean correlation of the a* and b* channels of two same-sized RGB pictures; a
    channel flat (std <= 1) in either counts 0, and None when both channels are."""
    import cv2

    values = []
    for rgb in (region, take):
        lab = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2LAB)
        values.append(lab.reshape(-1, 3)[:, 1:].astype(np.float64))
    agreement = []
    for channel in (0, 1):
        a, b = values[0][:, channel], values[1][:, channel]
        if a.std() > 1 and b.std() > 1:
            agreement.append(float(np.corrcoef(a, b)[0, 1]))
        else:
            agreement.append(0.0)
    if not any(agreement):
        return None
    return float(np.mean(agreement))


def _tones_of(grey: np.ndarray, model: np.ndarray) -> np.ndarray:
    """``grey`` with its tones mapped, monotonically, onto ``model``'s distribution
    (histogram matching): equal tones stay equal, so a flat area stays flat."""
    import numpy as np

    _, inverse, counts = np.unique(grey.ravel(), return_inverse=True, return_counts=True)
    middle = (np.cumsum(counts) - counts / 2) / grey.size
    mapped = np.quantile(model.astype(np.float64), middle)
    return np.asarray(mapped[inverse].reshape(grey.shape).round().clip(0, 255), np.uint8)


def _extras(take_rgb: np.ndarray, region_rgb: np.ndarray) -> tuple[float, float | None]:
    """(coarse SSIM, colour agreement) of the take and the reference region it sits on."""
    import cv2

    h, w = region_rgb.shape[:2]
    if h < 2 or w < 2:
        return 0.0, None
    size = (COARSE_WIDTH, max(8, round(h * COARSE_WIDTH / w)))
    region = _grey(region_rgb, size=size, equalise=False)
    take = _grey(take_rgb, size=size, equalise=False)
    # the layout of tones, as they are or once a global tone curve (a grade's contrast and
    # gamma) is undone: a heavy grade lowered the raw SSIM under the floor (issue 30)
    coarse = max(_ssim(region, take), _ssim(region, _tones_of(take, region)))
    size = (COLOUR_WIDTH, max(4, round(h * COLOUR_WIDTH / w)))
    pictures = [
        cv2.resize(np.ascontiguousarray(rgb[:, :, :3]), size, interpolation=cv2.INTER_AREA)
        for rgb in (region_rgb, take_rgb)
    ]
    return coarse, _colour(pictures[0], pictures[1])


def verify(
    take_rgb: np.ndarray, reference_rgb: np.ndarray, window: Window, mirrored: bool
) -> Alignment:
    """The best alignment of a take frame inside a reference frame, scored by SSIM,
    coarse SSIM and colour agreement (:func:`is_copy` applies the floors).

    Args:
        take_rgb: The take's frame.
        reference_rgb: The reference frame (its stored thumbnail).
        window: The reference window whose code matched: the expected scale.
        mirrored: Whether the take's mirrored code matched.
    """
    import cv2

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
    ssim = _ssim(region, template)
    scale_x = reference_rgb.shape[1] / rw
    scale_y = reference_rgb.shape[0] / rh
    box = (
        round(x * scale_x),
        round(y * scale_y),
        round((x + tw) * scale_x),
        round((y + th) * scale_y),
    )
    x0, y0, x1, y1 = box
    coarse, colour = _extras(take_rgb, reference_rgb[y0:y1, x0:x1])
    return Alignment(ssim=ssim, box=box, mirrored=mirrored, coarse=coarse, colour=colour)

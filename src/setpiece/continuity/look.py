"""A shot's look, measured: colour in CIELAB, exposure in stops, white balance, contrast.

Two shots that cut together should look lit by the same light. Each take's sampled
frames are pooled (downscaled to at most 256 pixels wide: these are statistics, not
detail) and summarised:

* colour: the mean and spread of L*, a*, b* (CIE 1976, D65, from sRGB); two looks
  differ by the CIEDE2000 distance of their means (Sharma, Wu and Dalal 2005,
  :func:`delta_e_2000`);
* exposure: the 5th, 50th and 95th percentiles of linear luminance Y; two looks differ
  by log2 of the ratio of their medians, in stops;
* white balance: the correlated colour temperature of the mid-tones' mean colour
  (grey world, McCamy's 1992 cubic from CIE 1931 xy), the shift reported in kelvin;
* contrast: the spread (standard deviation) of L*, the change reported relative.

And the format: a take whose resolution, aspect ratio or frame rate differs from the
project's will not cut in cleanly whatever it shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from setpiece.continuity.embedders import LookModel
from setpiece.model.enums import TakeKind

if TYPE_CHECKING:
    from setpiece.continuity.settings import LookThresholds
    from setpiece.production.views import MediaView

__all__ = [
    "CielabLook",
    "LookDifference",
    "LookStats",
    "delta_e_2000",
    "downscaled",
    "format_problems",
    "lab_pixels",
    "linear",
]

_SAMPLE_WIDTH = 256
# sRGB (D65) linear RGB to CIE XYZ.
_RGB_TO_XYZ = np.array(
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)


def delta_e_2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 colour difference of two CIELAB colours (kL = kC = kH = 1).

    The formula as Sharma, Wu and Dalal (2005) give it (hue angles in 0-360 degrees; a pair
    whose hues are exactly 180 degrees apart takes their plain mean). Written here, not
    imported: scikit-image's ``deltaE_ciede2000``, which tests/continuity/test_look.py checks
    this against to 1e-9 (random colours, neutral greys, hues 180 degrees apart), would bring
    scikit-image and SciPy (about 100 MB) into the core for one comparison of two colours
    (and takes 4.5 us to its 76 us).
    """
    l1, a1, b1 = (float(v) for v in lab1)
    l2, a2, b2 = (float(v) for v in lab2)
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0

    dl = l2 - l1
    dc = c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    elif h2p - h1p > 180:
        dh = h2p - h1p - 360
    else:
        dh = h2p - h1p + 360
    dh_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))

    l_bar = (l1 + l2) / 2
    cp_bar = (c1p + c2p) / 2
    if c1p * c2p == 0:
        hp_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hp_bar = (h1p + h2p) / 2
    elif h1p + h2p < 360:
        hp_bar = (h1p + h2p + 360) / 2
    else:
        hp_bar = (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(hp_bar - 30))
        + 0.24 * math.cos(math.radians(2 * hp_bar))
        + 0.32 * math.cos(math.radians(3 * hp_bar + 6))
        - 0.20 * math.cos(math.radians(4 * hp_bar - 63))
    )
    d_theta = 30 * math.exp(-(((hp_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    squared = (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dh_big / s_h) ** 2
    return math.sqrt(max(squared + r_t * (dc / s_c) * (dh_big / s_h), 0.0))


def linear(rgb8: np.ndarray) -> np.ndarray:
    """8-bit sRGB to linear light in 0-1 (the sRGB transfer function undone)."""
    c = rgb8.astype(np.float32) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab_pixels(rgb8: np.ndarray) -> np.ndarray:
    """8-bit sRGB to CIELAB (L* 0-100), same shape, float32."""
    import cv2

    return cv2.cvtColor(rgb8.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def downscaled(frame: np.ndarray) -> np.ndarray:
    import cv2

    height, width = frame.shape[:2]
    if width <= _SAMPLE_WIDTH:
        return frame
    size = (_SAMPLE_WIDTH, max(1, round(height * _SAMPLE_WIDTH / width)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class LookStats:
    """The look of a take (or any frames), pooled over its sampled frames."""

    lab_mean: tuple[float, float, float]
    lab_std: tuple[float, float, float]
    luma: tuple[float, float, float]  # linear Y at the 5th, 50th, 95th percentile
    kelvin: float
    contrast: float  # standard deviation of L*


@dataclass(frozen=True)
class LookDifference:
    """How one look differs from another (signed: the second minus the first)."""

    delta_e: float
    stops: float
    kelvin: float
    contrast: float

    def exceeded(self, limits: LookThresholds) -> list[str]:
        """Which measures are past their threshold, each as "name value (threshold t)"."""
        over = []
        if self.delta_e > limits.delta_e:
            over.append(f"colour ΔE2000 {self.delta_e:.1f} (threshold {limits.delta_e:g})")
        if abs(self.stops) > limits.stops:
            over.append(f"exposure {self.stops:+.2f} stops (threshold {limits.stops:g})")
        if abs(self.kelvin) > limits.kelvin:
            over.append(f"white balance {self.kelvin:+.0f} K (threshold {limits.kelvin:g})")
        if abs(self.contrast) > limits.contrast:
            over.append(f"contrast {self.contrast:+.0%} (threshold {limits.contrast:.0%})")
        return over

    def ratio(self, limits: LookThresholds) -> float:
        """The largest measure as a multiple of its threshold (1.0 = on the threshold)."""
        pairs = (
            (self.delta_e, limits.delta_e),
            (abs(self.stops), limits.stops),
            (abs(self.kelvin), limits.kelvin),
            (abs(self.contrast), limits.contrast),
        )
        return max((value / limit if limit > 0 else 0.0) for value, limit in pairs)


def _kelvin(linear_rgb: np.ndarray) -> float:
    """McCamy's correlated colour temperature of a mean linear RGB colour, 1,000-25,000 K."""
    x_, y_, z_ = _RGB_TO_XYZ @ linear_rgb
    total = x_ + y_ + z_
    if total <= 1e-9:
        return 6504.0
    x, y = x_ / total, y_ / total
    if abs(0.1858 - y) < 1e-9:
        return 25000.0
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449.0 * n**3 + 3525.0 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(cct, 1000.0, 25000.0))


class CielabLook(LookModel):
    """The built-in look model: CIELAB statistics, luminance percentiles, grey-world CCT."""

    name = "cielab"

    def stats(self, frames: list[np.ndarray]) -> LookStats:
        if not frames:
            raise ValueError("a look needs at least one frame")
        pixels = np.concatenate([downscaled(f).reshape(-1, 3) for f in frames]).reshape(-1, 1, 3)
        lab = lab_pixels(pixels).reshape(-1, 3)
        lin = linear(pixels).reshape(-1, 3)
        luminance = lin @ _RGB_TO_XYZ[1]
        mid = (lab[:, 0] > 15) & (lab[:, 0] < 95)
        chosen = lin[mid] if mid.sum() >= 16 else lin
        p5, p50, p95 = np.percentile(luminance, [5, 50, 95])
        return LookStats(
            lab_mean=tuple(float(v) for v in lab.mean(axis=0)),  # type: ignore[arg-type]
            lab_std=tuple(float(v) for v in lab.std(axis=0)),  # type: ignore[arg-type]
            luma=(float(p5), float(p50), float(p95)),
            kelvin=_kelvin(chosen.mean(axis=0).astype(np.float64)),
            contrast=float(lab[:, 0].std()),
        )

    def compare(self, a: LookStats, b: LookStats) -> LookDifference:
        delta = delta_e_2000(a.lab_mean, b.lab_mean)
        floor = 1e-4  # a black frame has no exposure to compare
        stops = float(np.log2(max(b.luma[1], floor) / max(a.luma[1], floor)))
        contrast = (b.contrast - a.contrast) / max(a.contrast, 1.0)
        return LookDifference(
            delta_e=delta, stops=stops, kelvin=b.kelvin - a.kelvin, contrast=contrast
        )


def format_problems(
    media: MediaView, *, width: int, height: int, aspect: Fraction, fps: Fraction
) -> list[str]:
    """What in a take's format differs from the project's: resolution, aspect, frame rate."""
    problems = []
    if (media.width, media.height) != (width, height):
        problems.append(f"resolution {media.width}x{media.height}, project {width}x{height}")
    if media.height > 0:
        shown = Fraction(media.width, media.height)
        if abs(float(shown) / float(aspect) - 1) > 0.01:
            problems.append(f"aspect {float(shown):.3f}:1, project {float(aspect):.3f}:1")
    if media.kind == TakeKind.VIDEO and media.fps is not None and media.fps != fps:
        problems.append(
            f"frame rate {media.fps.numerator}/{media.fps.denominator}, "
            f"project {fps.numerator}/{fps.denominator}"
        )
    return problems

"""A shot's look, measured: colour in CIELAB, exposure in stops, white balance, contrast.

Two shots that cut together should look lit by the same light. Each take's sampled
frames are pooled (downscaled to at most 256 pixels wide: these are statistics, not
detail) and summarised:

* colour: the mean and spread of L*, a*, b* (CIE 1976, D65, from sRGB); two looks
  differ by the CIEDE2000 distance of their means (Sharma, Wu and Dalal 2005, through
  scikit-image's ``deltaE_ciede2000``);
* exposure: the 5th, 50th and 95th percentiles of linear luminance Y; two looks differ
  by log2 of the ratio of their medians, in stops;
* white balance: the correlated colour temperature of the mid-tones' mean colour
  (grey world, McCamy's 1992 cubic from CIE 1931 xy), the shift reported in kelvin;
* contrast: the spread (standard deviation) of L*, the change reported relative.

And the format: a take whose resolution, aspect ratio or frame rate differs from the
project's will not cut in cleanly whatever it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from setpiece.continuity.embedders import LookModel

if TYPE_CHECKING:
    from setpiece.continuity.settings import LookThresholds
    from setpiece.production.views import MediaView

__all__ = [
    "CielabLook",
    "LookDifference",
    "LookStats",
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
        from skimage.color import deltaE_ciede2000

        delta = float(deltaE_ciede2000(np.array(a.lab_mean), np.array(b.lab_mean)))
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
    if media.kind == "video" and media.fps is not None and media.fps != fps:
        problems.append(
            f"frame rate {media.fps.numerator}/{media.fps.denominator}, "
            f"project {fps.numerator}/{fps.denominator}"
        )
    return problems

"""A shot's look, measured: colour in CIELAB, exposure in stops, white balance, contrast.

Two shots that cut together should look lit by the same light. Two models measure it:

* :class:`SettingLook` (the look check's): the light of the *setting*, where the figures
  are not. A close-up of a red coat after a wide shot is not a change of light, but the
  whole-frame statistics below call it one (the demo's previs figures moved the whole-frame
  exposure by +1.76 stops and the colour by ΔE2000 12.7 between shots lit alike). So the
  picture (inside any matte or letterbox, found from the frame's uniform edges) is cut
  into tiles along its border, tiles on detected figures are left out, and the setting
  is the weighted median of the tiles (the top counts most: headroom shows the set, the
  bottom of a close shot shows bodies). A figure moves the median only if it covers
  most of the border. White balance is measured as the shift of the setting's red/blue
  balance, given in kelvin as that same shift would move daylight (6504 K, on the
  Planckian locus): a blue night set is far from any locus, where a correlated colour
  temperature means little and McCamy's cubic swings by thousands of kelvin.
* :class:`CielabLook` (``setpiece match``'s, and the look check's before): every pixel of
  the sampled frames pooled. Each take's sampled frames are pooled (downscaled to at
  most 256 pixels wide: these are statistics, not detail) and summarised:

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

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from setpiece.colour import delta_e_2000
from setpiece.continuity.embedders import LookModel
from setpiece.matte import picture_box
from setpiece.model.enums import TakeKind

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from setpiece.continuity.settings import LookThresholds
    from setpiece.production.views import MediaView, ShotView
    from setpiece.store.video import Frame

__all__ = [
    "Box",
    "CielabLook",
    "FrameLight",
    "GradeShift",
    "LookDifference",
    "LookStats",
    "SettingLook",
    "TakeLight",
    "balance_kelvin",
    "decimals_apart",
    "delta_e_2000",
    "downscaled",
    "face_boxes",
    "format_problems",
    "lab_pixels",
    "linear",
    "measure_take",
    "shows_no_setting",
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
    # SettingLook's: ln(R/B) of the setting's linear light; the tiles it was measured on.
    balance: float | None = None
    tiles: int = 0


@dataclass(frozen=True)
class LookDifference:
    """How one look differs from another (signed: the second minus the first)."""

    delta_e: float
    stops: float
    kelvin: float
    contrast: float
    # Contrast is a property of the framing and of figures moving as much as of the light:
    # the setting model measures it but does not judge it (bench/RESULTS.md, issue 28).
    contrast_judged: bool = True

    def exceeded(self, limits: LookThresholds) -> list[str]:
        """Which measures are past their threshold, each as "name value (threshold t)".

        Values are printed with enough decimals to differ from their threshold (ΔE2000
        10.04, not 10.0, against a threshold of 10).
        """
        over = []
        if self.delta_e > limits.delta_e:
            shown = decimals_apart(self.delta_e, limits.delta_e)
            over.append(f"colour ΔE2000 {shown} (threshold {limits.delta_e:g})")
        if abs(self.stops) > limits.stops:
            shown = decimals_apart(self.stops, limits.stops, least=2, sign=True)
            over.append(f"exposure {shown} stops (threshold {limits.stops:g})")
        if abs(self.kelvin) > limits.kelvin:
            shown = decimals_apart(self.kelvin, limits.kelvin, least=0, sign=True)
            if kelvin_clipped(self.kelvin):  # the locus ends there: the shift is larger still
                shown = f"beyond {shown}"
            over.append(f"white balance {shown} K (threshold {limits.kelvin:g})")
        if self.contrast_judged and abs(self.contrast) > limits.contrast:
            shown = decimals_apart(self.contrast * 100, limits.contrast * 100, least=0, sign=True)
            over.append(f"contrast {shown}% (threshold {limits.contrast * 100:g}%)")
        return over

    def worst(self, limits: LookThresholds) -> tuple[str, float, float] | None:
        """The measure furthest past its threshold: (name, |value|, threshold), or None."""
        pairs = (
            ("colour", self.delta_e, limits.delta_e),
            ("exposure", abs(self.stops), limits.stops),
            ("white balance", abs(self.kelvin), limits.kelvin),
            ("contrast", abs(self.contrast) if self.contrast_judged else 0.0, limits.contrast),
        )
        over = [(name, value, limit) for name, value, limit in pairs if value > limit]
        if not over:
            return None
        return max(over, key=lambda p: p[1] / p[2] if p[2] > 0 else float("inf"))

    def ratio(self, limits: LookThresholds) -> float:
        """The largest measure as a multiple of its threshold (1.0 = on the threshold)."""
        pairs = (
            (self.delta_e, limits.delta_e),
            (abs(self.stops), limits.stops),
            (abs(self.kelvin), limits.kelvin),
            (abs(self.contrast), limits.contrast),
        )
        return max((value / limit if limit > 0 else 0.0) for value, limit in pairs)


def decimals_apart(
    value: float, threshold: float, *, least: int = 1, most: int = 6, sign: bool = False
) -> str:
    """``value`` with the fewest decimals (at least ``least``) that keep it apart from
    ``threshold`` as printed: 10.041 against 10 is "10.04", never "10.0".

    Magnitudes are compared (a signed shift against its threshold), as the checks do.
    """
    plus = "+" if sign else ""
    for places in range(least, most + 1):
        text = f"{value:{plus}.{places}f}"
        if abs(float(text)) != abs(threshold):
            return text
    return f"{value:{plus}.{most}f}"


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


Box = tuple[float, float, float, float]  # left, top, right, bottom, as fractions of the picture

_BLACK_L = 3.0  # a picture whose setting is darker than L* 3 shows no light to measure
_WHITE_L = 97.0  # ... or brighter than L* 97 with nothing in it: clipped white


@dataclass(frozen=True)
class FrameLight:
    """One frame's border tiles: mean linear RGB, weight, L* spread inside each."""

    linear: np.ndarray  # (tiles, 3)
    weights: np.ndarray  # (tiles,)
    spread: np.ndarray  # (tiles,) standard deviation of L* inside the tile
    covered: int  # tiles left out because a figure covers them


# Tile weights by side: the top of a frame shows the set (headroom); the bottom of a close
# shot shows bodies. Chosen on the demo's previs, checked on Brick & Steel (bench/RESULTS.md).
_SIDE_WEIGHTS = {"top": 2.0, "left": 1.0, "right": 1.0, "bottom": 0.5}


def _border_tiles(
    height: int, width: int, band: float, across: int
) -> list[tuple[str, int, int, int, int]]:
    """(side, top, bottom, left, right) of the tiles around a picture's border."""
    bh, bw = max(1, round(height * band)), max(1, round(width * band))
    xs = np.linspace(0, width, across + 1).astype(int)
    ys = np.linspace(bh, height - bh, 3).astype(int)
    tiles = []
    for i in range(across):
        tiles.append(("top", 0, bh, int(xs[i]), int(xs[i + 1])))
        tiles.append(("bottom", height - bh, height, int(xs[i]), int(xs[i + 1])))
    for i in range(2):
        tiles.append(("left", int(ys[i]), int(ys[i + 1]), 0, bw))
        tiles.append(("right", int(ys[i]), int(ys[i + 1]), width - bw, width))
    return [t for t in tiles if t[2] > t[1] and t[4] > t[3]]


def _overlaps(tile: tuple[int, int, int, int], box: Box, height: int, width: int) -> bool:
    top, bottom, left, right = tile
    bl, bt, br, bb = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    inter = max(0.0, min(right, br) - max(left, bl)) * max(0.0, min(bottom, bb) - max(top, bt))
    return inter > 0.5 * (bottom - top) * (right - left)


_TRIM = 0.25  # the weight of the tiles left out as unlike the setting


def _lab_of_linear(lin: np.ndarray) -> np.ndarray:
    """Linear RGB rows (0-1) to CIELAB rows."""
    srgb = np.where(
        lin <= 0.0031308, lin * 12.92, 1.055 * np.power(np.clip(lin, 0, None), 1 / 2.4) - 0.055
    )
    return lab_pixels(np.clip(srgb * 255.0, 0, 255).reshape(-1, 1, 3)).reshape(-1, 3)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _planck_xy(kelvin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CIE 1931 xy of the Planckian locus, 1,667-25,000 K (Kim et al. 2002's cubic splines)."""
    t = kelvin.astype(np.float64)
    x = np.where(
        t <= 4000,
        -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910,
        -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390,
    )
    y = np.where(
        t <= 2222,
        -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683,
        np.where(
            t <= 4000,
            -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867,
            3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483,
        ),
    )
    return x, y


def _locus_balance() -> tuple[np.ndarray, np.ndarray]:
    """ln(R/B) of the white of each temperature on the locus, and the temperatures."""
    kelvin = 1e6 / np.linspace(1e6 / 1667, 1e6 / 25000, 600)  # even steps in mired
    x, y = _planck_xy(kelvin)
    xyz = np.stack([x / y, np.ones_like(x), (1 - x - y) / y])
    rgb = np.linalg.solve(_RGB_TO_XYZ, xyz)
    inside = (rgb > 0).all(axis=0)  # below about 1,900 K the locus leaves sRGB's gamut
    return np.log(rgb[0, inside] / rgb[2, inside]), kelvin[inside]


_LOCUS_BALANCE, _LOCUS_KELVIN = _locus_balance()  # kelvin rising, balance falling
_DAYLIGHT = 6504.0


def balance_kelvin(shift: float) -> float:
    """A shift of ln(R/B) as kelvin: how far it would move daylight (6504 K) along the
    Planckian locus (warmer is negative), clipped to the locus inside sRGB (about
    1,900-25,000 K)."""
    start = float(np.interp(_DAYLIGHT, _LOCUS_KELVIN, _LOCUS_BALANCE))
    moved = float(np.interp(start + shift, _LOCUS_BALANCE[::-1], _LOCUS_KELVIN[::-1]))
    return moved - _DAYLIGHT


def kelvin_clipped(kelvin: float) -> bool:
    """Whether a ``balance_kelvin`` value sits at an end of the locus (so it is a bound, not
    a measure: the real shift is at least that large)."""
    low, high = _LOCUS_KELVIN[0] - _DAYLIGHT, _LOCUS_KELVIN[-1] - _DAYLIGHT
    return bool(kelvin <= low + 0.5 or kelvin >= high - 0.5)


class SettingLook(LookModel):
    """The look check's model: the light of the setting, figures left out (module docstring).

    Colour (ΔE2000), exposure (stops) and white balance (kelvin) are judged; contrast is
    measured and stored but not judged: the lightness spread of a border changes with the
    framing and with figures walking through it (on the demo it moved 31 % inside a take
    whose grade never changed, and up to 94 % across cuts lit alike on Brick & Steel).

    Args:
        band: The border's depth, as a fraction of the picture's height and width.
        across: Tiles along the top and along the bottom (each side has two more).
    """

    name = "setting"

    def __init__(self, band: float = 0.2, across: int = 6) -> None:
        self.band = band
        self.across = across

    def frame_light(self, rgb: np.ndarray, figures: Sequence[Box] = ()) -> FrameLight:
        """One frame's border tiles, without those ``figures`` (boxes in the picture) cover."""
        small = downscaled(rgb)
        top, bottom, left, right = picture_box(small)
        picture = small[top:bottom, left:right]
        height, width = picture.shape[:2]
        lin = linear(picture)
        lightness = lab_pixels(picture)[..., 0]
        means, weights, spread, covered = [], [], [], 0
        for side, t, b, lft, r in _border_tiles(height, width, self.band, self.across):
            if any(_overlaps((t, b, lft, r), box, height, width) for box in figures):
                covered += 1
                continue
            means.append(lin[t:b, lft:r].reshape(-1, 3).mean(axis=0))
            weights.append(_SIDE_WEIGHTS[side])
            spread.append(float(lightness[t:b, lft:r].std()))
        return FrameLight(
            np.array(means, dtype=np.float64).reshape(-1, 3),
            np.array(weights, dtype=np.float64),
            np.array(spread, dtype=np.float64),
            covered,
        )

    def setting_pixels(self, rgb: np.ndarray, figures: Sequence[Box] = ()) -> np.ndarray:
        """The pixels of the border tiles no figure covers, as an (n, 1, 3) uint8 picture
        (what ``setpiece match`` fits its transform on); the whole frame when none is left."""
        small = downscaled(rgb)
        top, bottom, left, right = picture_box(small)
        picture = small[top:bottom, left:right]
        height, width = picture.shape[:2]
        kept = [
            picture[t:b, lft:r].reshape(-1, 3)
            for _, t, b, lft, r in _border_tiles(height, width, self.band, self.across)
            if not any(_overlaps((t, b, lft, r), box, height, width) for box in figures)
        ]
        pixels = np.concatenate(kept) if kept else picture.reshape(-1, 3)
        return np.ascontiguousarray(pixels.reshape(-1, 1, 3))

    def pooled(self, lights: list[FrameLight]) -> LookStats | None:
        """The setting's look over some frames' tiles; None when no tile shows the setting.

        The setting is a trimmed mean: the tiles furthest (in CIELAB) from the weighted
        median tile, a quarter of the weight, are left out (figures and props the border
        still shows), and the rest are averaged in linear light.
        """
        lights = [light for light in lights if len(light.weights)]
        if not lights:
            return None
        lin = np.concatenate([light.linear for light in lights])
        weights = np.concatenate([light.weights for light in lights])
        lab = _lab_of_linear(lin)
        median = np.array([_weighted_median(lab[:, c], weights) for c in range(3)])
        order = np.argsort(np.linalg.norm(lab - median, axis=1), kind="stable")
        cumulative = np.cumsum(weights[order])
        keep = order[cumulative <= (1 - _TRIM) * cumulative[-1] + 1e-9]
        keep = keep if keep.size else order[:1]
        setting = np.average(lin[keep], axis=0, weights=weights[keep])
        luminance = lin[keep] @ _RGB_TO_XYZ[1]
        kept_l = lab[keep, 0]
        spread = float(np.sqrt(np.average((kept_l - kept_l.mean()) ** 2, weights=weights[keep])))
        red, blue = max(float(setting[0]), 1e-6), max(float(setting[2]), 1e-6)
        return LookStats(
            lab_mean=tuple(float(v) for v in _lab_of_linear(setting[None])[0]),  # type: ignore[arg-type]
            lab_std=tuple(float(v) for v in lab[keep].std(axis=0)),  # type: ignore[arg-type]
            luma=(
                float(np.percentile(luminance, 5)),
                float(setting @ _RGB_TO_XYZ[1]),
                float(np.percentile(luminance, 95)),
            ),
            kelvin=_kelvin(setting),
            contrast=spread,
            balance=float(np.log(red / blue)),
            tiles=len(weights),
        )

    def stats(self, frames: list[np.ndarray]) -> LookStats:
        if not frames:
            raise ValueError("a look needs at least one frame")
        pooled = self.pooled([self.frame_light(f) for f in frames])
        if pooled is None:
            raise ValueError("no tile of the border shows the setting")
        return pooled

    def compare(self, a: LookStats, b: LookStats) -> LookDifference:
        """How ``b`` differs from ``a``: contrast is measured but not judged (see the class)."""
        floor = 1e-4  # a black frame has no exposure to compare
        stops = float(np.log2(max(b.luma[1], floor) / max(a.luma[1], floor)))
        contrast = (b.contrast - a.contrast) / max(a.contrast, 1.0)
        shift = (b.balance or 0.0) - (a.balance or 0.0)
        return LookDifference(
            delta_e=delta_e_2000(a.lab_mean, b.lab_mean),
            stops=stops,
            kelvin=balance_kelvin(shift),
            contrast=contrast,
            contrast_judged=False,
        )

    @staticmethod
    def unlit(stats: LookStats) -> str | None:
        """Why a look has no light to compare (a black or a clipped white picture), or None."""
        if stats.lab_mean[0] < _BLACK_L:
            return "the picture is black: no light to measure"
        if stats.lab_mean[0] > _WHITE_L and stats.contrast < 1.0:
            return "the picture is clipped white: no light to measure"
        return None


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


# Shots that frame a prop or a detail (the planner's inserts) or a face filling the frame
# show no setting: their look is not compared; the cut is judged around them.
_NO_SETTING_SIZES = frozenset({"ECU", "EXTREME CLOSE-UP", "EXTREME CLOSE UP", "INSERT"})


def shows_no_setting(shot: ShotView) -> str | None:
    """Why a shot's frame shows no setting to measure the light on, or None.

    An extreme close-up is all figure; a close-up of props only (an insert) is all prop.
    """
    size = " ".join((shot.size or "").upper().split())
    if size in _NO_SETTING_SIZES:
        return f"{size.lower()}: the frame is all figure, no setting to measure the light on"
    props = [s.name for s in shot.subjects if s.kind == "prop"]
    if size == "CU" and props and len(props) == len(shot.subjects):
        return f"insert of {', '.join(props)}: the frame shows the prop, not the setting"
    return None


def face_boxes(rgb: np.ndarray) -> list[Box]:
    """The boxes of the people whose faces dlib's detector finds (HOG, at up to 640 wide),
    as fractions of the picture: a face widened to twice its width (the shoulders), from
    just above it down to the bottom of the frame (the body under it). Needs the ``faces`` extra."""
    from setpiece.continuity.embedders import _dlib_models

    detector = _dlib_models()[0]
    height, width = rgb.shape[:2]
    scale = min(1.0, 640 / max(1, width))
    small = rgb
    if scale < 1.0:
        import cv2

        size = (round(width * scale), round(height * scale))
        small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    h, w = small.shape[:2]
    boxes: list[Box] = []
    for found in detector(np.ascontiguousarray(small), 0):
        face_w = found.right() - found.left()
        left = max(0.0, (found.left() - 0.5 * face_w) / w)
        right = min(1.0, (found.right() + 0.5 * face_w) / w)
        top = max(0.0, (found.top() - 0.25 * face_w) / h)
        boxes.append((left, top, right, 1.0))
    return boxes


@dataclass(frozen=True)
class GradeShift:
    """The look changing inside one take, at ``frame`` (the first frame that differs)."""

    frame: int
    before: int  # the last frame before it that was measured
    difference: LookDifference
    pictures: tuple[np.ndarray, np.ndarray]  # the frame before and the frame at the shift


@dataclass(frozen=True)
class TakeLight:
    """A take's light: its look where it cuts in, where it cuts out, and grade shifts.

    ``unmeasured`` says why there is none (a black or white picture, figures over the
    whole border); the looks are then None.
    """

    first: LookStats | None
    last: LookStats | None
    first_frame: tuple[int, np.ndarray] | None
    last_frame: tuple[int, np.ndarray] | None
    shifts: list[GradeShift]
    unmeasured: str | None = None


def measure_take(
    model: SettingLook,
    frames: Sequence[Frame],
    limits: LookThresholds,
    *,
    figures: Callable[[np.ndarray], list[Box]] | None = None,
    every_frame: Callable[[int, int], Sequence[Frame]] | None = None,
) -> TakeLight:
    """Measures a take's sampled ``frames``: each frame's setting, and a grade shift
    wherever two measured frames in a row differ past ``limits``. A shift is placed at the exact frame with ``every_frame(after, upto)``
    (the frames in between), else at the sample where it was seen.
    """
    measured: list[tuple[Frame, LookStats]] = []
    lights: list[FrameLight] = []
    why: str | None = "no frame could be read"
    for frame in frames:
        light = model.frame_light(frame.rgb, figures(frame.rgb) if figures else [])
        stats = model.pooled([light])
        if stats is None:
            why = "figures cover the whole border: no setting to measure the light on"
            continue
        unlit = model.unlit(stats)
        if unlit is not None:
            why = unlit
            continue
        measured.append((frame, stats))
        lights.append(light)
    if not measured:
        return TakeLight(None, None, None, None, [], why)
    cuts = [0]
    shifts: list[GradeShift] = []
    for i in range(1, len(measured)):
        (before, a), (after, b) = measured[i - 1], measured[i]
        difference = model.compare(a, b)
        if not difference.exceeded(limits):
            continue
        at, at_rgb = after.index, after.rgb
        for between in every_frame(before.index, after.index) if every_frame else ():
            stats = model.pooled([model.frame_light(between.rgb)])
            if stats is not None and model.compare(a, stats).exceeded(limits):
                at, at_rgb = between.index, between.rgb
                break
        shifts.append(GradeShift(at, before.index, difference, (before.rgb, at_rgb)))
        cuts.append(i)
    first = model.pooled(lights[: cuts[1] if len(cuts) > 1 else None])
    last = model.pooled(lights[cuts[-1] :])
    return TakeLight(
        first,
        last,
        (measured[0][0].index, measured[0][0].rgb),
        (measured[-1][0].index, measured[-1][0].rgb),
        shifts,
    )

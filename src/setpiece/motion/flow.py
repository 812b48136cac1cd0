"""Dense optical flow, occlusion, and warping: what retime and measure stand on.

Flow is OpenCV's DIS (Kroeger et al. 2016), computed on grey pictures scaled down to
a long side of ``flow_long_side`` pixels, then upsampled with its vectors scaled: on
720p footage flow at 384 pixels made interpolation 4.3 times faster than full-resolution
flow for 0.3 dB less PSNR (bench/motion_interp.py measures both). The default preset,
"balanced" (:data:`PRESETS`), keeps DIS "medium"'s dense patch grid: "fast", whose
patches are sparser and whose finest scale is coarser, lost 8 dB on fine moving
contours (the CFD animation) at 512 pixels; fewer iterations cost far less.

Both directions are computed; a pixel whose forward and backward vectors disagree by
more than ``occlusion_px`` is occluded (forward-backward consistency, Sundaram et al.
2010). An intermediate picture at time ``t`` warps both neighbours towards ``t`` with
the flow approximation of Super SloMo (Jiang et al. 2018)
``F_t0 = -(1-t)t F_01 + t^2 F_10`` and ``F_t1 = (1-t)^2 F_01 - t(1-t) F_10``, then blends
them weighted by closeness in time, each side's weight cut where the *other* side
says the pixel is occluded. Maps and weights are built at flow scale, the pixel grid
included, and upsampled: the full-resolution work is two map resizes, two remaps and
one blend per output frame (no longer numpy's several passes: 17-20 % cheaper).

What :class:`Interpolator` decides per pair of pictures, from what it measures
(bench/motion_interp_classes.py: pans and zooms at 720p and 1080p, non-rigid motion,
near-still shots, AI clips; every choice cross-validated on halves of the clips):

* **Flow scale from the motion.** A probe, flow at half the coarse side, measures the
  motion; where it is small (95th percentile under ``fine_motion`` of the long side),
  flow is computed at ``flow_fine_side``: 0.4-0.6 dB better on pans, zooms and AI
  clips (576 pixels scored as 768 did, for two thirds of a 720p pan's time). Large
  motion gets the coarse flow (``flow_long_side``), which is cheaper and tracks it as
  well. A pair the probe already finds a blend (below, with a margin of
  :data:`PROBE_MARGIN`) is one: on still and flickering shots finer flow only confirmed
  the blend, at most of the pair's cost. The probe costs a fifth of the coarse flow and
  replaces it wherever the fine flow is computed.
* **Blend where flow cannot help.** The two pictures warped to the middle are compared
  (mean absolute grey difference at flow scale, brightness evened out so that a fade
  does not count) with the two pictures unwarped. Flow
  that explains the change brings the first far below the second; on near-still shots,
  flicker and fades it does not (ratio 0.85-1.0), and warping costs up to 4 dB there,
  since it only resamples noise. From ``fallback_ratio - 0.1`` to ``fallback_ratio`` the
  vectors are scaled down to nothing, and from there on the picture is a plain blend.
  So is a pair whose flow fails the forward-backward check on half the picture's
  texture or more (no correspondence found: unrelated pictures, or motion beyond the
  flow's reach). Texture, not area: flow in a flat sky or wall is arbitrary and fails
  the check harmlessly, and counted by area it sent pans that warped at 44 dB to a
  26 dB blend (43-54 % of a 720p pan over a cloud photograph "lost").
* **Smoothed greys for the flow** (``flow_blur``): fine periodic texture (a woven tie
  at 1080p) locked DIS a period off, 1.7 dB under minterpolate on that pan; a light
  Gaussian (sigma 0.3 px at the coarse scale) before the flow removes it.
* **A cut the detector missed** (it needs a steady shot around a cut: a cut every two
  frames defeats its local median): flow cannot help (above), the pictures differ by more
  than ``cut_min_score`` grey levels, and they are not one picture brightened or
  dimmed (a fade: correlation of the grey pictures at least 0.5). The pair is marked,
  and retime holds the nearer picture instead of blending two shots.

* **Detail that stands still** (:func:`_static_detail`): a GIF's dither pattern, a
  burnt-in caption or logo, a plot's axes stay on the screen while the picture under them
  moves, and warping moved them with it (VideoCrafter2's dithered GIFs lost 1-2 dB to
  minterpolate and up to 2 dB to a plain blend). Per pixel, the finest detail is compared
  unwarped and warped; where it agrees standing still, the blend's detail replaces the
  warp's. On every clip of every class: AI clips +0.29 dB, non-rigid +0.73 (the fluid's
  axes), pans 0.02-0.10 dB lower. It is applied only in the bands of rows where it
  would change the picture by half a grey level or more (:data:`DETAIL_MIN`): everywhere,
  it cost about 20 ms a 720p picture, mostly on pans, where it changed almost nothing
  (bench/RESULTS.md, 7 Dec 2026).

Occlusion variants (Sundaram's relative threshold, a dilated or a soft mask) moved
PSNR by under 0.1 dB either way on the same clips: the fixed threshold stays.

OpenCV releases the GIL, so the retime pipeline runs these in threads; a DIS object
is not thread-safe, so each thread gets its own (:func:`dis`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from setpiece.motion.config import FLOW_PRESETS

if TYPE_CHECKING:
    from setpiece.motion.config import MotionSettings

__all__ = [
    "PRESETS",
    "FlowPair",
    "Interpolator",
    "Scratch",
    "backward_warp",
    "dis",
    "flow_pair",
    "flow_size",
    "interpolate",
]

_LOCAL = threading.local()


#: DIS presets: OpenCV's three, and "balanced", OpenCV's "medium" patch grid (finest
#: scale 1, 8-pixel patches every 3 pixels) with 12 gradient-descent iterations instead
#: of 25 and 2 variational refinement iterations instead of 5. On 82 rebuilt frames
#: of real and animated footage (bench/motion_flow_settings.py), "balanced" at 384
#: pixels scored 0.22 dB under "medium" at 512 (0.14-0.33 dB per clip) for 45 % of its
#: flow time (6.8 vs 15.1 ms a pair, both directions, one core).
PRESETS = FLOW_PRESETS

PROBE_MARGIN = 0.1
"""How far over ``fallback_ratio`` the probe's ratio (flow at half the coarse side) must be
for the pair to be a blend without finer flow. Flow at half the side explains less of
a change: on the near-still clips the pairs the coarse flow warped had probe ratios up to
0.89, against the fallback ratio of 0.8 (bench/RESULTS.md, 7 Dec 2026)."""


def dis(preset: str = "fast") -> object:
    """This thread's DIS optical flow object for ``preset`` (one of :data:`PRESETS`)."""
    import cv2

    cache = getattr(_LOCAL, "dis", None)
    if cache is None:
        cache = _LOCAL.dis = {}
    if preset not in cache:
        code = {
            "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
            "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
            "balanced": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        }[preset]
        engine = cv2.DISOpticalFlow_create(code)  # type: ignore[attr-defined, unused-ignore]
        if preset == "balanced":
            engine.setGradientDescentIterations(12)
            engine.setVariationalRefinementIterations(2)
        cache[preset] = engine
    return cache[preset]


def flow_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The (width, height) flow is computed at: the picture scaled to ``long_side``."""
    scale = min(1.0, long_side / max(width, height))
    return max(8, round(width * scale)), max(8, round(height * scale))


@dataclass(frozen=True)
class FlowPair:
    """Flow between two pictures a and b at flow scale, both ways, with occlusions.

    Attributes:
        forward: (h, w, 2) float32 flow a -> b, in flow-scale pixels.
        backward: (h, w, 2) float32 flow b -> a.
        occluded_a: (h, w) float32, 1 where a's pixel has no consistent match in b.
        occluded_b: (h, w) float32, 1 where b's pixel has no consistent match in a.
        blend: How far the in-between picture is a plain blend instead of a warp: 0
            warps with the full vectors, 1 blends (:class:`Interpolator` decides).
        cut: The two pictures are different shots: nothing in between is made.
    """

    forward: np.ndarray
    backward: np.ndarray
    occluded_a: np.ndarray
    occluded_b: np.ndarray
    blend: float = 0.0
    cut: bool = False


_GRIDS2: dict[tuple[int, int], np.ndarray] = {}


def _grid2(height: int, width: int) -> np.ndarray:
    """(h, w, 2) float32 pixel coordinates (x, y), the identity map of cv2.remap."""
    key = (height, width)
    if key not in _GRIDS2:
        xs, ys = np.meshgrid(
            np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
        )
        _GRIDS2[key] = np.ascontiguousarray(np.dstack((xs, ys)))
    return _GRIDS2[key]


def backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at x + flow(x) (bilinear, edges repeated); same size as ``flow``."""
    import cv2

    where = cv2.add(flow, _grid2(*flow.shape[:2]))
    # OpenCV 4.x's stubs want a map2 (None is valid); 5.x's accept None: ignored on both.
    return cv2.remap(  # type: ignore[call-overload, unused-ignore]
        image, where, None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _occlusion(forward: np.ndarray, backward: np.ndarray, limit: float) -> np.ndarray:
    """1 where forward(x) + backward(x + forward(x)) is longer than ``limit``.

    Channel by channel: OpenCV's remap has a vector path for one float channel and not
    for two (4.6 against 2 x 1.2 ms at 768 x 432), and numpy's hypot over the strided
    halves of a flow took 3.7 ms where cv2.magnitude takes 0.7.
    """
    import cv2

    where = cv2.add(forward, _grid2(*forward.shape[:2]))
    sums = []
    for ahead, back in zip(cv2.split(forward), cv2.split(backward), strict=True):
        # OpenCV 4.x's stubs want a map2 (None is valid); 5.x's accept None.
        there = cv2.remap(  # type: ignore[call-overload, unused-ignore]
            back, where, None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        sums.append(cv2.add(ahead, there, dst=there))
    error = cv2.magnitude(*sums)
    return cv2.threshold(error, limit, 1.0, cv2.THRESH_BINARY)[1]


def flow_pair(
    grey_a: np.ndarray,
    grey_b: np.ndarray,
    *,
    preset: str = "fast",
    occlusion_px: float = 1.5,
    engine: Any = None,
) -> FlowPair:
    """Bidirectional DIS flow and occlusion masks between two grey flow-scale pictures.

    ``engine``, a DIS object configured by the caller, replaces ``preset`` (the flow
    settings benchmark tries parameter sets that no preset names).
    """
    engine = engine if engine is not None else dis(preset)
    forward = engine.calc(grey_a, grey_b, None)
    backward = engine.calc(grey_b, grey_a, None)
    return FlowPair(
        forward=forward,
        backward=backward,
        occluded_a=_occlusion(forward, backward, occlusion_px),
        occluded_b=_occlusion(backward, forward, occlusion_px),
    )


_FOLDED: dict[tuple[int, int, int, int], tuple[np.ndarray, list[tuple[Any, np.ndarray]]]] = {}


def _folded_grid(fh: int, fw: int, height: int, width: int) -> tuple[np.ndarray, list[Any]]:
    """The identity map folded into flow scale, and the border fixes it needs.

    Bilinear resizing is exact on a linear function, so a flow-scale map holding
    ``(u + 0.5) * s - 0.5`` (pixel centres, as cv2.resize places them) upsamples to the
    full-resolution pixel grid, except in the outermost columns and rows, where resize
    clamps its source coordinate. Adding the grid at flow scale and fixing those strips
    saves a full-resolution pass per warp. Returns the (fh, fw, 2) folded grid and
    (index, correction) pairs to add after the resize.
    """
    import cv2

    key = (fh, fw, height, width)
    if key not in _FOLDED:
        sx, sy = width / fw, height / fh
        small = np.dstack(
            np.meshgrid(
                (np.arange(fw, dtype=np.float64) + 0.5) * sx - 0.5,
                (np.arange(fh, dtype=np.float64) + 0.5) * sy - 0.5,
            )
        ).astype(np.float32)
        upsampled = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        error = _grid2(height, width) - upsampled
        fixes: list[tuple[Any, np.ndarray]] = []
        columns = np.flatnonzero(np.abs(error[0, :, 0]) > 1e-3)
        rows = np.flatnonzero(np.abs(error[:, 0, 1]) > 1e-3)
        if columns.size:
            fixes.append(((slice(None), columns, 0), error[:, columns, 0].copy()))
        if rows.size:
            fixes.append(((rows, slice(None), 1), error[rows, :, 1].copy()))
        _FOLDED[key] = (np.ascontiguousarray(small), fixes)
    return _FOLDED[key]


class Scratch(threading.local):
    """Full-resolution working arrays kept between in-between pictures, per thread.

    A fresh array of a few megabytes is fresh pages, and each page's first touch is a
    page fault (the kernel clears it): a 720p in-between picture allocated about 40 MB
    of maps, padded pictures and weights. Kept arrays made it 10 % faster in two threads
    (17.9 to 16.2 ms a 720p picture, 29.2 to 26.2 at 1080p; bench/RESULTS.md, 7 Dec
    2026). An :class:`Interpolator` keeps one (each thread sees its own arrays), so
    they are freed with it.
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, slot: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """The array kept for ``slot``, made anew when its shape or type changes."""
        array = self.arrays.get(slot)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self.arrays[slot] = np.empty(shape, dtype)
        return array


def _warp_full(
    picture: np.ndarray, flow: np.ndarray, scratch: Scratch | None = None, slot: str = ""
) -> np.ndarray:
    """``picture`` (H, W, C) sampled at x + flow(x), ``flow`` at flow scale in its pixels
    (into ``scratch``'s array ``slot`` where given)."""
    import cv2

    height, width = picture.shape[:2]
    fh, fw = flow.shape[:2]
    if (fh, fw) == (height, width):
        where = cv2.add(flow, _grid2(height, width))
    else:
        small, fixes = _folded_grid(fh, fw, height, width)
        # Vectors scaled to full-resolution pixels and the grid added while small.
        per_channel = (width / fw, height / fh, 0.0, 0.0)
        # A Scalar: OpenCV 4.x's stubs refuse the tuple, 5.x's take it.
        scaled = cv2.multiply(flow, per_channel)  # type: ignore[call-overload, unused-ignore]
        kept = None if scratch is None else scratch.get("map", (height, width, 2), np.float32)
        where = cv2.resize(
            cv2.add(scaled, small), (width, height), dst=kept, interpolation=cv2.INTER_LINEAR
        )
        for index, fix in fixes:
            where[index] += fix
    out = None if scratch is None else scratch.get(slot, picture.shape, picture.dtype)
    # OpenCV 4.x's stubs want a map2 (None is valid); 5.x's accept None: ignored on both.
    return cv2.remap(  # type: ignore[call-overload, unused-ignore]
        picture,
        where,
        None,
        dst=out,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def interpolate(
    a: np.ndarray,
    b: np.ndarray,
    pair: FlowPair,
    t: float,
    scratch: Scratch | None = None,
    *,
    still_detail: bool = True,
) -> np.ndarray:
    """The picture at time ``t`` (0 < t < 1) between full-size RGB ``a`` and ``b``.

    Args:
        a: (H, W, 3) uint8 picture at time 0.
        b: (H, W, 3) uint8 picture at time 1.
        pair: Flow between them at flow scale (any scale: it is resized to H x W).
        t: Where in between.
        scratch: Working arrays to reuse (the picture returned is always a new one).
        still_detail: Keep fine detail that stands still where it is
            (:func:`_static_detail`; RGB pictures only).

    Returns:
        (H, W, 3) uint8.
    """
    import cv2

    if pair.blend >= 1.0:
        return cv2.addWeighted(a, 1.0 - t, b, t, 0.0)
    height, width = a.shape[:2]
    f01, f10 = pair.forward, pair.backward
    if pair.blend > 0.0:
        # Part way to a blend: shorter vectors, and the time weights take over.
        keep = 1.0 - pair.blend
        f01, f10 = cv2.multiply(f01, (keep, keep, 0, 0)), cv2.multiply(f10, (keep, keep, 0, 0))  # type: ignore[call-overload, unused-ignore]
        pair = replace(pair, occluded_a=pair.occluded_a * keep, occluded_b=pair.occluded_b * keep)
    # Everything at flow scale is one OpenCV pass per array: these small arrays are
    # a fifth of the work of an interpolation in numpy's several passes.
    flow_t0 = cv2.addWeighted(f01, -(1 - t) * t, f10, t * t, 0.0)
    flow_t1 = cv2.addWeighted(f01, (1 - t) * (1 - t), f10, -t * (1 - t), 0.0)
    # Where each warped sample comes from occluded area of its own frame.
    occ_a = backward_warp(pair.occluded_a, flow_t0)
    occ_b = backward_warp(pair.occluded_b, flow_t1)
    eps = 1e-3
    # Each side's weight, (1 - t) and t, cut where the other side says it is occluded.
    w0 = cv2.addWeighted(occ_b, -(1 - t), occ_b, 0.0, (1 - t) * (1 + eps))
    w1 = cv2.addWeighted(occ_a, -t, occ_a, 0.0, t * (1 + eps))
    weight_a = cv2.divide(w0, cv2.add(w0, w1))
    work = scratch if scratch is not None else Scratch()
    three = a.ndim == 3 and a.shape[2] == 3
    if three:
        # OpenCV's remap has a vector path for 4 channels and not for 3: padding the
        # pictures to 4 channels first halves the two remaps' cost (2.5 to 1.3 ms at
        # 720p), far more than the padding and unpadding (0.1 ms each).
        shape = (height, width, 4)
        a = cv2.cvtColor(a, cv2.COLOR_RGB2RGBA, dst=work.get("rgba a", shape, np.uint8))
        b = cv2.cvtColor(b, cv2.COLOR_RGB2RGBA, dst=work.get("rgba b", shape, np.uint8))
    warped_a = _warp_full(a, flow_t0, work, "warped a")
    warped_b = _warp_full(b, flow_t1, work, "warped b")
    # The blend goes to a new array unless it is padded (unpadding makes the new one).
    out = work.get("blend", warped_a.shape, warped_a.dtype) if three else None
    low, high = cv2.minMaxLoc(weight_a)[:2]
    if high - low < 1e-6:
        # No occlusion anywhere: a constant blend, several times cheaper per pixel.
        out = cv2.addWeighted(warped_a, low, warped_b, 1.0 - low, 0.0, dst=out)
    else:
        weights: np.ndarray = weight_a
        if weight_a.shape != (height, width):
            weights = cv2.resize(
                weight_a,
                (width, height),
                dst=work.get("weights", (height, width), np.float32),
                interpolation=cv2.INTER_LINEAR,
            )
        other = np.subtract(1.0, weights, out=work.get("weights b", weights.shape, np.float32))
        out = cv2.blendLinear(warped_a, warped_b, weights, other, dst=out)
    if not three:
        return out
    if still_detail:
        _static_detail(a, b, warped_a, warped_b, out, t, work)
    return cv2.cvtColor(out, cv2.COLOR_RGBA2RGB)


#: The finest detail, a picture less its Gaussian blur of this sigma (pixels), is what
#: :func:`_static_detail` takes from where it stands or from the warps.
DETAIL_SIGMA = 0.7
#: The blur's kernel: 5 x 5 holds all but 1e-4 of a sigma of 0.7 (OpenCV would take 7
#: for 16-bit pictures: 30 % more work for nothing).
DETAIL_KERNEL = (5, 5)
#: The side of the box (pixels) over which it compares the two.
DETAIL_BOX = 17


def _detail_change(a: np.ndarray, b: np.ndarray, work: Scratch, slot: str) -> np.ndarray:
    """How far the finest detail of grey ``a`` and ``b`` differs, averaged over a box:
    |(a - b) - blur(a - b)|, which is |detail(a) - detail(b)| (the blur is linear)."""
    import cv2

    shape = a.shape
    difference = cv2.subtract(a, b, dst=work.get("difference", shape, np.int16), dtype=cv2.CV_16S)
    blurred = cv2.GaussianBlur(
        difference, DETAIL_KERNEL, DETAIL_SIGMA, dst=work.get("blurred", shape, np.int16)
    )
    cv2.subtract(difference, blurred, dst=difference)
    change = cv2.convertScaleAbs(difference, dst=work.get("change", shape, np.uint8))
    box = (DETAIL_BOX, DETAIL_BOX)
    return cv2.boxFilter(change, cv2.CV_32F, box, dst=work.get(slot, shape, np.float32))


#: Where the step would change the picture by less than this many grey levels (the
#: weight m times the warps' detail disagreement ``moved``, both box means), it is left
#: out: on 720p pans it changed 1-6 % of the pixels by a grey level or more and cost a
#: sixth of a pair. 0.25, 0.5 and 1 were tried on every clip of three classes
#: (bench/RESULTS.md, 7 Dec 2026): 0.5 took 87 to 71 ms a 720p pan pair, +0.02 dB on
#: pans, -0.015 on the non-rigid class, -0.001 on AI clips.
DETAIL_MIN = 0.5
#: Rows are looked at in bands of this many; in each, the columns from the first to the
#: last spot over :data:`DETAIL_MIN` get the step.
DETAIL_BAND = 32
#: ``moved`` and m are read on a grid of this step (pixels): both are 17-pixel box means,
#: smooth at that scale.
_GRID = 8


def _static_detail(
    a: np.ndarray,
    b: np.ndarray,
    warped_a: np.ndarray,
    warped_b: np.ndarray,
    out: np.ndarray,
    t: float,
    work: Scratch,
) -> None:
    """Puts back, into ``out``, the finest detail that stands still while the picture
    moves: a GIF's dither pattern, a burnt-in caption or logo, a plot's axes over a
    moving field.

    Warping moves everything with the content, and detail that stays on the screen is
    then misplaced in every moving area (VideoCrafter2's dithered GIFs lost 1-2 dB to
    minterpolate and 2 dB to plain blending that way). Per pixel, the finest detail
    (the picture less its blur) is compared where it stands, between ``a`` and ``b``
    unwarped, and where the warps put it, between the two warped pictures; where it
    agrees better standing still, the blend's detail replaces the warp's, softly, with
    weight m = moved^2 / (moved^2 + still^2). Moving texture agrees in the warps and
    keeps the warp's detail (m near 0); a still pattern agrees unwarped (m near 1).
    Only where m * moved reaches :data:`DETAIL_MIN` (:func:`_detail_spans`) is the
    picture touched. All RGBA uint8; ``out`` (the warped in-between picture) is changed
    in place.
    """
    import cv2

    height, width = out.shape[:2]
    grey = cv2.COLOR_RGBA2GRAY
    greys = [
        cv2.cvtColor(picture, grey, dst=work.get(f"grey {i}", (height, width), np.uint8))
        for i, picture in enumerate((a, b, warped_a, warped_b))
    ]
    # The blend's weights are spent: their arrays hold these two (the kept arrays of a
    # 1080p picture are about 150 MB a thread as it is).
    still = _detail_change(greys[0], greys[1], work, "weights")
    moved = _detail_change(greys[2], greys[3], work, "weights b")
    half = _GRID // 2
    moved_grid = moved[half::_GRID, half::_GRID].copy()
    cv2.multiply(still, still, dst=still)
    cv2.multiply(moved, moved, dst=moved)
    cv2.add(still, moved, dst=still)
    cv2.add(still, 1e-3, dst=still)
    weight = cv2.divide(moved, still, dst=moved)  # in [0, 1]
    spans = _detail_spans(weight[half::_GRID, half::_GRID] * moved_grid, height, width)
    if not spans:
        return
    other = np.subtract(1.0, weight, out=still)
    if sum((y1 - y0) * (x1 - x0) for y0, y1, x0, x1 in spans) > 0.6 * height * width:
        spans = [(0, height, 0, width)]
    for span in spans:
        _swap_detail(a, b, out, (weight, other), t, span, work)


def _swap_detail(
    a: np.ndarray,
    b: np.ndarray,
    out: np.ndarray,
    weights: tuple[np.ndarray, np.ndarray],
    t: float,
    span: tuple[int, int, int, int],
    work: Scratch,
) -> None:
    """``out`` + m * detail(blend - out) over ``span`` (top, bottom, left, right): the warp
    with the blend's finest detail in place of its own, mixed in by the weights m and
    1 - m (one channel for all four)."""
    import cv2

    height, width = out.shape[:2]
    y0, y1, x0, x1 = span
    # The detail's blur reaches 2 pixels: computed with that margin, kept without.
    top, left = max(0, y0 - 2), max(0, x0 - 2)
    bottom, right = min(height, y1 + 2), min(width, x1 + 2)
    whole = (top, bottom, left, right) == (0, height, 0, width)
    area = (slice(top, bottom), slice(left, right))
    shape = (bottom - top, right - left, out.shape[2])
    # The whole picture's working arrays are kept; a band's are small.
    kept = work if whole else Scratch()
    blend = cv2.addWeighted(
        a[area], 1.0 - t, b[area], t, 0.0, dst=kept.get("plain", shape, np.uint8)
    )
    change = cv2.subtract(
        blend, out[area], dst=kept.get("change4", shape, np.int16), dtype=cv2.CV_16S
    )
    blurred = cv2.GaussianBlur(
        change, DETAIL_KERNEL, DETAIL_SIGMA, dst=kept.get("blurred4", shape, np.int16)
    )
    cv2.subtract(change, blurred, dst=change)
    swapped = cv2.add(out[area], change, dst=blend, dtype=cv2.CV_8U)
    weight, other = weights
    if whole:
        cv2.blendLinear(swapped, out, weight, other, dst=out)
        return
    rows, columns = slice(y0, y1), slice(x0, x1)
    inner = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    out[rows, columns] = cv2.blendLinear(
        swapped[inner], out[rows, columns], weight[rows, columns], other[rows, columns]
    )


def _detail_spans(score: np.ndarray, height: int, width: int) -> list[tuple[int, int, int, int]]:
    """The (top, bottom, left, right) of each row band's stretch where ``score`` (m * moved
    on the :data:`_GRID`, one sample per cell) reaches :data:`DETAIL_MIN`, a cell wider
    on each side (and a cell taller: a band reads its neighbours' rows)."""
    per_band = DETAIL_BAND // _GRID
    over = score >= DETAIL_MIN
    spans = []
    for top in range(0, height, DETAIL_BAND):
        row = top // _GRID
        hits = np.flatnonzero(over[max(0, row - 1) : row + per_band + 1].any(axis=0))
        if hits.size:
            left = max(0, (int(hits[0]) - 1) * _GRID)
            right = min(width, (int(hits[-1]) + 2) * _GRID)
            spans.append((top, min(height, top + DETAIL_BAND), left, right))
    return spans


def _middle_flows(pair: FlowPair, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Super SloMo's approximations of the flows from time ``t`` to 0 and to 1."""
    import cv2

    f01, f10 = pair.forward, pair.backward
    flow_t0 = cv2.addWeighted(f01, -(1 - t) * t, f10, t * t, 0.0)
    flow_t1 = cv2.addWeighted(f01, (1 - t) * (1 - t), f10, -t * (1 - t), 0.0)
    return flow_t0, flow_t1


def _disagreement(grey_a: np.ndarray, grey_b: np.ndarray, pair: FlowPair) -> tuple[float, float]:
    """Mean absolute difference of the pictures warped to the middle, and unwarped, with
    their brightness evened out first (a fade is a change the warps need not explain:
    the time-weighted blend of the two warps reproduces it)."""
    import cv2

    mean_a, mean_b = cv2.mean(grey_a)[0], cv2.mean(grey_b)[0]
    middle = (mean_a + mean_b) / 2
    gain_a, gain_b = middle / max(mean_a, 1.0), middle / max(mean_b, 1.0)
    a = cv2.multiply(grey_a, gain_a, dtype=cv2.CV_32F)
    b = cv2.multiply(grey_b, gain_b, dtype=cv2.CV_32F)
    flow_t0, flow_t1 = _middle_flows(pair, 0.5)
    warped = cv2.absdiff(backward_warp(a, flow_t0), backward_warp(b, flow_t1))
    return float(cv2.mean(warped)[0]), float(cv2.mean(cv2.absdiff(a, b))[0])


class Interpolator:
    """Flow and in-between pictures for one picture size, adapted to each pair.

    One object serves a whole video; :meth:`grey`, :meth:`flow` and :meth:`interpolate`
    may run in several threads at once (each thread has its own DIS objects).

    Args:
        width: The pictures' width.
        height: Their height.
        settings: Flow settings (scales, preset, thresholds).
    """

    def __init__(self, width: int, height: int, settings: MotionSettings) -> None:
        self.settings = settings
        self.coarse = flow_size(width, height, settings.flow_long_side)
        fine = flow_size(width, height, settings.flow_fine_side or 1)
        #: The size greys are kept at: the fine one when refining is possible.
        self.fine: tuple[int, int] | None = (
            fine if settings.flow_fine_side and fine[0] > self.coarse[0] else None
        )
        #: The size the probe flow is computed at, where the fine flow may follow.
        self.probe = flow_size(width, height, max(8, settings.flow_long_side // 2))
        self._limit = settings.fine_motion * max(self.probe)  # in the probe's pixels
        self._scratch = Scratch()

    def grey(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` as the grey picture :meth:`flow` takes (at the finest scale needed)."""
        import cv2

        size = self.fine or self.coarse
        return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)

    def flow(self, grey_a: np.ndarray, grey_b: np.ndarray) -> FlowPair:
        """Flow between two pictures from :meth:`grey`, at the scale their motion asks for,
        with how far to blend instead and whether they are two shots."""
        import cv2

        if self.fine is None:
            return self._decide(grey_a, grey_b, self._flow_pair(grey_a, grey_b))
        probe_a = cv2.resize(grey_a, self.probe, interpolation=cv2.INTER_AREA)
        probe_b = cv2.resize(grey_b, self.probe, interpolation=cv2.INTER_AREA)
        probe = self._flow_pair(probe_a, probe_b)
        measured = _disagreement(probe_a, probe_b, probe)
        if _ratio(*measured) >= self.settings.fallback_ratio + PROBE_MARGIN:
            # A blend already (the warp explains nothing: a still, flicker, a fade, a cut):
            # finer flow would only confirm it.
            return self._decide(probe_a, probe_b, probe, measured)
        if _motion(probe.forward) >= self._limit:
            # Large motion, which the coarse flow tracks as well as the fine one.
            small_a = cv2.resize(grey_a, self.coarse, interpolation=cv2.INTER_AREA)
            small_b = cv2.resize(grey_b, self.coarse, interpolation=cv2.INTER_AREA)
            return self._decide(small_a, small_b, self._flow_pair(small_a, small_b))
        return self._decide(grey_a, grey_b, self._flow_pair(grey_a, grey_b))

    def _decide(
        self,
        small_a: np.ndarray,
        small_b: np.ndarray,
        pair: FlowPair,
        measured: tuple[float, float] | None = None,
    ) -> FlowPair:
        """``pair`` with how far to blend instead of warp, and whether it spans a cut
        (``measured``: its :func:`_disagreement`, where the caller has it)."""
        settings = self.settings
        warped, unwarped = measured or _disagreement(small_a, small_b, pair)
        ratio = _ratio(warped, unwarped)
        top = settings.fallback_ratio
        blend = min(1.0, max(0.0, (ratio - (top - 0.1)) / 0.1))
        # Flow that fails its forward-backward check over most of the picture found
        # no correspondence at all: it cannot help either.
        lost = (_lost(small_a, pair.occluded_a) + _lost(small_b, pair.occluded_b)) / 2
        if lost >= 0.5:
            blend = 1.0
        cut = (
            blend >= 1.0
            and unwarped >= settings.cut_min_score
            and _correlation(small_a, small_b) < 0.5
        )
        return replace(pair, blend=blend, cut=cut)

    def _flow_pair(self, grey_a: np.ndarray, grey_b: np.ndarray) -> FlowPair:
        """:func:`flow_pair` of the two greys smoothed by ``flow_blur`` (a sigma at the
        coarse scale, scaled up with the greys' width)."""
        import cv2

        settings = self.settings
        sigma = settings.flow_blur * grey_a.shape[1] / self.coarse[0]
        if sigma > 0:
            grey_a = cv2.GaussianBlur(grey_a, (0, 0), sigma)
            grey_b = cv2.GaussianBlur(grey_b, (0, 0), sigma)
        return flow_pair(
            grey_a, grey_b, preset=settings.flow_preset, occlusion_px=settings.occlusion_px
        )

    def interpolate(self, a: np.ndarray, b: np.ndarray, pair: FlowPair, t: float) -> np.ndarray:
        """The picture at ``t`` between full-size RGB ``a`` and ``b`` (:func:`interpolate`);
        across a cut, the nearer of the two."""
        if pair.cut:
            return a if t < 0.5 else b
        return interpolate(a, b, pair, t, self._scratch, still_detail=self.settings.still_detail)


def _ratio(warped: float, unwarped: float) -> float:
    """How much of the change the warp leaves (:func:`_disagreement`'s two figures); 0.1
    grey levels keep identical pictures (0 / 0) at a ratio of 1: a blend."""
    return (warped + 0.1) / (unwarped + 0.1)


def _lost(grey: np.ndarray, occluded: np.ndarray) -> float:
    """The share of ``grey``'s texture (gradient magnitude) whose flow failed the
    forward-backward check: flow in a flat area is arbitrary and may fail it harmlessly."""
    import cv2

    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    texture = cv2.magnitude(gx, gy)
    total = float(cv2.sumElems(texture)[0])
    if total <= 0:
        return float(cv2.mean(occluded)[0])
    return float(cv2.sumElems(cv2.multiply(texture, occluded))[0]) / total


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two grey pictures (0 where either is flat)."""
    x = a.astype(np.float32).ravel()
    y = b.astype(np.float32).ravel()
    x -= x.mean()
    y -= y.mean()
    norm = float(np.sqrt(np.dot(x, x) * np.dot(y, y)))
    return 0.0 if norm == 0 else float(np.dot(x, y)) / norm


def _motion(flow: np.ndarray) -> float:
    """The 95th percentile of the vectors' length (flow-scale pixels)."""
    import cv2

    length = cv2.magnitude(flow[..., 0], flow[..., 1])
    return float(np.percentile(length, 95))

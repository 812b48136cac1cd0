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

OpenCV releases the GIL, so the retime pipeline runs these in threads; a DIS object
is not thread-safe, so each thread gets its own (:func:`dis`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from setpiece.motion.config import FLOW_PRESETS

__all__ = ["PRESETS", "FlowPair", "backward_warp", "dis", "flow_pair", "flow_size", "interpolate"]

_LOCAL = threading.local()


#: DIS presets: OpenCV's three, and "balanced", OpenCV's "medium" patch grid (finest
#: scale 1, 8-pixel patches every 3 pixels) with 12 gradient-descent iterations instead
#: of 25 and 2 variational refinement iterations instead of 5. On 82 rebuilt frames
#: of real and animated footage (bench/motion_flow_settings.py), "balanced" at 384
#: pixels scored 0.22 dB under "medium" at 512 (0.14-0.33 dB per clip) for 45 % of its
#: flow time (6.8 vs 15.1 ms a pair, both directions, one core).
PRESETS = FLOW_PRESETS


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
    """

    forward: np.ndarray
    backward: np.ndarray
    occluded_a: np.ndarray
    occluded_b: np.ndarray


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
    """1 where forward(x) + backward(x + forward(x)) is longer than ``limit``."""
    back = backward_warp(backward, forward)
    error = np.hypot(forward[..., 0] + back[..., 0], forward[..., 1] + back[..., 1])
    return (error > limit).astype(np.float32)


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


def _warp_full(picture: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``picture`` (H, W, C) sampled at x + flow(x), ``flow`` at flow scale in its pixels."""
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
        where = cv2.resize(cv2.add(scaled, small), (width, height), interpolation=cv2.INTER_LINEAR)
        for index, fix in fixes:
            where[index] += fix
    # OpenCV 4.x's stubs want a map2 (None is valid); 5.x's accept None: ignored on both.
    return cv2.remap(  # type: ignore[call-overload, unused-ignore]
        picture, where, None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def interpolate(a: np.ndarray, b: np.ndarray, pair: FlowPair, t: float) -> np.ndarray:
    """The picture at time ``t`` (0 < t < 1) between full-size RGB ``a`` and ``b``.

    Args:
        a: (H, W, 3) uint8 picture at time 0.
        b: (H, W, 3) uint8 picture at time 1.
        pair: Flow between them at flow scale (any scale: it is resized to H x W).
        t: Where in between.

    Returns:
        (H, W, 3) uint8.
    """
    import cv2

    height, width = a.shape[:2]
    f01, f10 = pair.forward, pair.backward
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
    three = a.ndim == 3 and a.shape[2] == 3
    if three:
        # OpenCV's remap has a vector path for 4 channels and not for 3: padding the
        # pictures to 4 channels first halves the two remaps' cost (2.5 to 1.3 ms at
        # 720p), far more than the padding and unpadding (0.1 ms each).
        a, b = cv2.cvtColor(a, cv2.COLOR_RGB2RGBA), cv2.cvtColor(b, cv2.COLOR_RGB2RGBA)
    warped_a = _warp_full(a, flow_t0)
    warped_b = _warp_full(b, flow_t1)
    low, high = cv2.minMaxLoc(weight_a)[:2]
    if high - low < 1e-6:
        # No occlusion anywhere: a constant blend, several times cheaper per pixel.
        out = cv2.addWeighted(warped_a, low, warped_b, 1.0 - low, 0.0)
    else:
        weights: np.ndarray = weight_a
        if weight_a.shape != (height, width):
            weights = cv2.resize(weight_a, (width, height), interpolation=cv2.INTER_LINEAR)
        out = cv2.blendLinear(warped_a, warped_b, weights, 1.0 - weights)
    return cv2.cvtColor(out, cv2.COLOR_RGBA2RGB) if three else out

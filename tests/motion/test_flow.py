"""Interpolation's blend: occlusion weights, and the constant-blend shortcut."""

from __future__ import annotations

import numpy as np

from setpiece.motion.flow import FlowPair, interpolate


def _still_pair(height: int, width: int, occluded_b: np.ndarray | None = None) -> FlowPair:
    zero = np.zeros((height, width, 2), dtype=np.float32)
    none = np.zeros((height, width), dtype=np.float32)
    return FlowPair(
        forward=zero,
        backward=zero.copy(),
        occluded_a=none,
        occluded_b=none.copy() if occluded_b is None else occluded_b,
    )


def test_no_occlusion_is_a_blend_weighted_by_time() -> None:
    a = np.full((24, 32, 3), 40, dtype=np.uint8)
    b = np.full((24, 32, 3), 200, dtype=np.uint8)
    out = interpolate(a, b, _still_pair(24, 32), 0.25)
    assert np.abs(out.astype(int) - 80).max() <= 1  # 0.75 * 40 + 0.25 * 200


def test_a_side_occluded_in_the_other_frame_is_not_blended_in() -> None:
    a = np.zeros((24, 32, 3), dtype=np.uint8)
    b = np.full((24, 32, 3), 200, dtype=np.uint8)
    hidden = np.zeros((24, 32), dtype=np.float32)
    hidden[:, :16] = 1.0  # b says these pixels have no match in a: take them from b
    out = interpolate(a, b, _still_pair(24, 32, occluded_b=hidden), 0.5)
    assert np.abs(out[:, :12].astype(int) - 200).max() <= 1
    assert np.abs(out[:, 20:].astype(int) - 100).max() <= 1


def test_upsampled_flow_moves_the_picture_by_full_resolution_pixels() -> None:
    rng = np.random.default_rng(3)
    a = (rng.random((64, 96, 3)) * 255).astype(np.uint8)
    b = np.roll(a, 4, axis=1)  # everything moves 4 px right
    # Flow at half scale: 2 flow pixels are 4 full-resolution pixels.
    forward = np.zeros((32, 48, 2), dtype=np.float32)
    forward[..., 0] = 2.0
    backward = -forward
    none = np.zeros((32, 48), dtype=np.float32)
    out = interpolate(a, b, FlowPair(forward, backward, none, none.copy()), 0.5)
    truth = np.roll(a, 2, axis=1)
    assert np.abs(out[:, 8:-8].astype(int) - truth[:, 8:-8]).mean() < 1.0


def test_zero_flow_at_an_uneven_scale_leaves_every_pixel_in_place() -> None:
    # The pixel grid is added at flow scale and upsampled; resize clamps at the edges,
    # so the outermost columns and rows need their fix. Any slip shows on a noise picture.
    rng = np.random.default_rng(5)
    a = (rng.random((61, 101, 3)) * 255).astype(np.uint8)
    zero = np.zeros((23, 37, 2), dtype=np.float32)
    none = np.zeros((23, 37), dtype=np.float32)
    out = interpolate(a, a, FlowPair(zero, zero.copy(), none, none.copy()), 0.5)
    assert np.abs(out.astype(int) - a).max() <= 1


def test_the_balanced_preset_is_a_lighter_medium() -> None:
    from setpiece.motion.flow import dis

    balanced, medium = dis("balanced"), dis("medium")
    assert balanced.getPatchStride() == medium.getPatchStride()  # type: ignore[attr-defined]
    assert balanced.getGradientDescentIterations() == 12  # type: ignore[attr-defined]
    assert balanced.getVariationalRefinementIterations() == 2  # type: ignore[attr-defined]

"""Interpolation's blend (occlusion weights, the constant-blend shortcut), and what the
Interpolator decides per pair: flow scale, blending instead, a cut."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from setpiece.motion.config import MotionSettings
from setpiece.motion.flow import FlowPair, Interpolator, interpolate


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


# -- Interpolator: what it decides per pair ----------------------------------------


def _texture(width: int, height: int, seed: int) -> np.ndarray:
    from .conftest import texture

    return np.ascontiguousarray(texture(width, height, seed)[:height, :width])


def _engine(width: int, height: int, **changes: Any) -> Interpolator:
    from setpiece.motion.config import MotionSettings

    return Interpolator(width, height, MotionSettings(**changes))


def test_a_still_repeated_is_a_plain_blend_of_itself() -> None:
    still = _texture(320, 180, 2)
    engine = _engine(320, 180)
    pair = engine.flow(engine.grey(still), engine.grey(still))
    assert pair.blend == 1.0 and not pair.cut
    assert np.array_equal(engine.interpolate(still, still, pair, 0.5), still)


def test_two_unrelated_pictures_are_a_cut_and_the_nearer_is_held() -> None:
    a, b = _texture(320, 180, 1), _texture(320, 180, 9)
    engine = _engine(320, 180)
    pair = engine.flow(engine.grey(a), engine.grey(b))
    assert pair.cut
    assert engine.interpolate(a, b, pair, 0.25) is a
    assert engine.interpolate(a, b, pair, 0.75) is b


def test_a_fade_is_not_a_cut() -> None:
    a = _texture(320, 180, 4)
    b = (a * 0.4).astype(np.uint8)  # the same picture, much darker
    engine = _engine(320, 180)
    assert not engine.flow(engine.grey(a), engine.grey(b)).cut


def test_flow_is_fine_where_motion_is_small_and_coarse_where_large() -> None:
    wide = _texture(1600, 720, 3)
    engine = _engine(1280, 720)
    assert engine.fine == (576, 324) and engine.coarse == (384, 216)
    small = engine.flow(engine.grey(wide[:, :1280]), engine.grey(wide[:, 8:1288]))
    assert small.forward.shape[:2] == (324, 576)  # 8 px: 0.6 % of the long side
    large = engine.flow(engine.grey(wide[:, :1280]), engine.grey(wide[:, 120:1400]))
    assert large.forward.shape[:2] == (216, 384)  # 120 px: 9 %
    assert large.blend == 0.0 and not large.cut
    off = _engine(1280, 720, flow_fine_side=0)
    assert off.fine is None and off.grey(wide[:, :1280]).shape == (216, 384)


def test_the_probe_decides_a_blend_and_which_flow_follows() -> None:
    """A still under fresh sensor noise: nothing moved, so the probe's warp (flow at half the
    coarse side) explains none of the change and the pair is a blend, with no other flow
    computed. A small pan goes from the probe to the fine flow, a large one to the coarse."""
    rng = np.random.default_rng(11)
    still = _texture(1280, 720, 3).astype(np.int16)
    a, b = (
        np.clip(still + rng.normal(0, 6, still.shape), 0, 255).astype(np.uint8) for _ in range(2)
    )
    engine = _engine(1280, 720)
    assert engine.probe == (192, 108)
    calls: list[tuple[int, ...]] = []
    measure = engine._flow_pair

    def counted(grey_a: np.ndarray, grey_b: np.ndarray) -> Any:
        calls.append(grey_a.shape)
        return measure(grey_a, grey_b)

    engine._flow_pair = counted  # type: ignore[method-assign]
    pair = engine.flow(engine.grey(a), engine.grey(b))
    assert pair.blend == 1.0 and not pair.cut
    assert calls == [(108, 192)] and pair.forward.shape[:2] == (108, 192)
    wide = _texture(1600, 720, 3)
    calls.clear()
    moved = engine.flow(engine.grey(wide[:, :1280]), engine.grey(wide[:, 8:1288]))
    assert calls == [(108, 192), (324, 576)] and moved.blend < 1.0
    calls.clear()
    moved = engine.flow(engine.grey(wide[:, :1280]), engine.grey(wide[:, 120:1400]))
    assert calls == [(108, 192), (216, 384)] and moved.blend < 1.0


def test_an_odd_size_gets_flow_sizes_and_a_picture_of_its_own_size() -> None:
    wide = _texture(1321, 721, 6)
    engine = _engine(1281, 721)
    a, b = wide[:, :1281], wide[:, 6:1287]
    out = engine.interpolate(a, b, engine.flow(engine.grey(a), engine.grey(b)), 0.5)
    assert out.shape == (721, 1281, 3)
    truth = wide[:, 3:1284]
    assert np.abs(out[:, 16:-16].astype(int) - truth[:, 16:-16]).mean() < 2.0


def test_a_full_blend_is_the_time_weighted_mix() -> None:
    a = np.full((24, 32, 3), 40, dtype=np.uint8)
    b = np.full((24, 32, 3), 200, dtype=np.uint8)
    pair = _still_pair(24, 32)
    from dataclasses import replace

    out = interpolate(a, b, replace(pair, blend=1.0), 0.25)
    assert np.abs(out.astype(int) - 80).max() <= 1


def test_flow_lost_only_in_a_flat_area_does_not_count() -> None:
    from setpiece.motion.flow import _lost

    grey = np.full((90, 160), 128, dtype=np.uint8)
    grey[60:] = (_texture(160, 30, 5)[..., 1] // 2 + 64).astype(np.uint8)  # texture below
    in_sky = np.zeros((90, 160), dtype=np.float32)
    in_sky[:55] = 1.0  # 61 % of the area fails the check, all of it flat
    assert _lost(grey, in_sky) < 0.05
    in_texture = np.zeros((90, 160), dtype=np.float32)
    in_texture[58:] = 1.0  # 36 % of the area, all of the texture
    assert _lost(grey, in_texture) > 0.8
    flat = np.full((90, 160), 128, dtype=np.uint8)
    assert _lost(flat, in_sky) == np.float32(in_sky.mean())  # no texture at all: by area


def test_flow_blur_smooths_what_the_flow_sees_and_zero_leaves_it() -> None:
    a = _texture(320, 180, 7)
    b = np.ascontiguousarray(np.roll(a, 3, axis=1))
    plain, smoothed = _engine(320, 180, flow_blur=0.0), _engine(320, 180, flow_blur=2.0)
    ga, gb = plain.grey(a), plain.grey(b)
    assert np.array_equal(ga, smoothed.grey(a))  # the greys kept are not smoothed
    assert not np.array_equal(plain.flow(ga, gb).forward, smoothed.flow(ga, gb).forward)


def test_kept_working_arrays_give_the_same_picture_and_never_the_same_array() -> None:
    # An Interpolator reuses its full-resolution working arrays between pictures; what it
    # returns must be the picture the one-off call makes, and a new array each time, or a
    # picture still queued for the encoder would change under it.
    rng = np.random.default_rng(11)
    a = (rng.random((72, 128, 3)) * 255).astype(np.uint8)
    b = np.roll(a, 3, axis=1)
    forward = np.full((36, 64, 2), (1.5, 0.0), dtype=np.float32)
    hidden = np.zeros((36, 64), dtype=np.float32)
    hidden[:, :4] = 1.0  # some occlusion: the per-pixel blend, not the constant one
    pair = FlowPair(forward, -forward, hidden, hidden.copy())
    engine = Interpolator(128, 72, MotionSettings())
    first = engine.interpolate(a, b, pair, 0.5)
    kept = first.copy()
    second = engine.interpolate(b, a, pair, 0.25)
    assert np.array_equal(first, kept)  # the second picture did not write into the first
    assert np.array_equal(first, interpolate(a, b, pair, 0.5))
    assert np.array_equal(second, interpolate(b, a, pair, 0.25))
    assert not np.shares_memory(first, second)


def test_occlusion_marks_where_forward_and_backward_disagree() -> None:
    from setpiece.motion.flow import _occlusion

    forward = np.zeros((20, 30, 2), dtype=np.float32)
    forward[..., 0] = 2.0
    backward = -forward
    backward[:, 20:, 1] = 3.0  # these pixels' way back lands 3 px off (over 1.5)
    occluded = _occlusion(forward, backward, 1.5)
    assert occluded.dtype == np.float32
    assert occluded[:, :17].max() == 0.0  # forward lands at x + 2 < 20: consistent
    assert occluded[:, 18:28].min() == 1.0  # lands in the inconsistent part


def _moving(shift: float, pattern: np.ndarray | None, texture: np.ndarray) -> np.ndarray:
    """``texture`` moved ``shift`` px right, with ``pattern`` (fixed on the screen) over it."""
    import cv2

    moved = cv2.warpAffine(
        texture,
        np.float32([[1, 0, shift], [0, 1, 0]]),
        texture.shape[1::-1],
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    ).astype(np.float32)
    if pattern is not None:
        moved += pattern
    return np.clip(moved + 0.5, 0, 255).astype(np.uint8)


def _moving_pair(height: int, width: int, shift: float) -> FlowPair:
    forward = np.zeros((height, width, 2), dtype=np.float32)
    forward[..., 0] = -shift  # a's pixel x is b's pixel x + shift: b sampled there
    none = np.zeros((height, width), dtype=np.float32)
    return FlowPair(-forward, forward.copy(), none, none.copy())


def test_a_pattern_fixed_on_the_screen_stays_where_it_is_while_the_picture_moves() -> None:
    # A dithered GIF: a smooth picture moves, its dither pattern does not. Warping moved
    # the pattern with the picture (the old in-between picture was off by the pattern
    # everywhere); the still detail puts it back.
    import cv2

    rng = np.random.default_rng(21)
    smooth = cv2.GaussianBlur((rng.random((96, 160, 3)) * 255).astype(np.float32), (0, 0), 6)
    smooth = cv2.normalize(smooth, None, 40, 210, cv2.NORM_MINMAX)
    dither = (rng.integers(0, 2, (96, 160, 1)) * 24 - 12).astype(np.float32)
    a, truth, b = (_moving(s, dither, smooth) for s in (0.0, 3.0, 6.0))
    out = interpolate(a, b, _moving_pair(96, 160, 6.0), 0.5)
    inner = (slice(8, -8), slice(12, -12))
    error = np.abs(out[inner].astype(int) - truth[inner]).mean()
    warped_only = np.abs(_moving(3.0, None, smooth)[inner].astype(int) - truth[inner]).mean()
    assert warped_only > 10  # what the pattern costs when it moves with the picture
    # 12.2 grey levels before; the pattern's coarser part (above the finest detail)
    # still moves with the warps: 4.9.
    assert error < 6
    # [motion] still_detail = false: the plain warp, pattern and all.
    engine = Interpolator(160, 96, MotionSettings(still_detail=False))
    plain = engine.interpolate(a, b, _moving_pair(96, 160, 6.0), 0.5)
    assert np.abs(plain[inner].astype(int) - truth[inner]).mean() > 10


def test_a_logo_over_a_moving_picture_is_kept_and_the_rest_is_the_plain_warp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A still logo in one corner of a moving picture: its rows get the still detail, and
    # the bands of rows where the step would change nothing worth having keep the warp.
    import cv2

    from setpiece.motion import flow

    rng = np.random.default_rng(23)
    fine = cv2.GaussianBlur((rng.random((160, 256, 3)) * 255).astype(np.float32), (0, 0), 0.8)
    fine = cv2.normalize(fine, None, 40, 210, cv2.NORM_MINMAX)
    logo = np.zeros((160, 256, 1), dtype=np.float32)
    logo[8:24, 100:160] = (rng.integers(0, 2, (16, 60, 1)) * 60 - 30).astype(np.float32)
    a, truth, b = (_moving(s, logo, fine) for s in (0.0, 2.5, 5.0))
    pair = _moving_pair(160, 256, 5.0)
    out = interpolate(a, b, pair, 0.5)
    plain = interpolate(a, b, pair, 0.5, still_detail=False)
    sign = (slice(8, 24), slice(100, 160))
    error = np.abs(out[sign].astype(int) - truth[sign]).mean()
    assert error < 0.7 * np.abs(plain[sign].astype(int) - truth[sign]).mean()  # 17.6 vs 30.2
    # Bands two away from the logo's: nothing there reaches DETAIL_MIN.
    assert np.array_equal(out[64:], plain[64:])
    # Everywhere, the step nudged a hundred of those pixels by a level or two.
    monkeypatch.setattr(flow, "DETAIL_MIN", 0.0)
    everywhere = interpolate(a, b, pair, 0.5)
    assert (everywhere[64:] != plain[64:]).sum() > 50


def test_the_still_detail_spans_are_the_bands_and_columns_where_it_matters() -> None:
    from setpiece.motion.flow import DETAIL_MIN, _detail_spans

    score = np.zeros((12, 20), dtype=np.float32)  # a 96 x 160 picture on an 8-pixel grid
    assert _detail_spans(score, 96, 160) == []
    score[5, 7] = DETAIL_MIN  # the cell of pixels 40-47 down, 56-63 across
    assert _detail_spans(score, 96, 160) == [(32, 64, 48, 72)]  # a cell more each side
    score[5, 7], score[4, 7] = 0, DETAIL_MIN  # pixels 32-39: next to the band above
    assert _detail_spans(score, 96, 160) == [(0, 32, 48, 72), (32, 64, 48, 72)]
    score[5, 0] = score[5, 19] = 2 * DETAIL_MIN
    assert _detail_spans(score, 96, 160)[1] == (32, 64, 0, 160)


def test_moving_texture_keeps_the_warps_detail() -> None:
    # Fine texture that moves with the picture agrees in the warps, not where it
    # stands: the still detail must leave it alone.
    rng = np.random.default_rng(22)
    texture = (rng.random((96, 160, 3)) * 255).astype(np.float32)
    a, truth, b = (_moving(s, None, texture) for s in (0.0, 4.0, 8.0))
    out = interpolate(a, b, _moving_pair(96, 160, 8.0), 0.5)
    inner = (slice(8, -8), slice(16, -16))
    assert np.abs(out[inner].astype(int) - truth[inner]).mean() < 2

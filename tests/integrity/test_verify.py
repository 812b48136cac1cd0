"""The SSIM that pixel verification uses, against scikit-image's (the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from setpiece.integrity.verify import ssim

skimage_metrics = pytest.importorskip("skimage.metrics")


@pytest.mark.parametrize("shape", [(64, 64), (36, 64), (7, 9), (32, 32)])
@pytest.mark.parametrize("win_size", [3, 5, 7])
def test_ssim_agrees_with_scikit_image(shape: tuple[int, int], win_size: int) -> None:
    if min(shape) < win_size:
        pytest.skip("window larger than the picture")
    rng = np.random.default_rng(shape[0] * 100 + win_size)
    a = rng.integers(0, 256, shape).astype(np.uint8)
    graded = np.clip(a.astype(np.int16) * 0.8 + 20 + rng.normal(0, 6, shape), 0, 255)
    unrelated = rng.integers(0, 256, shape).astype(np.uint8)
    for b in (a, graded.astype(np.uint8), unrelated):
        expected = skimage_metrics.structural_similarity(a, b, win_size=win_size, data_range=255)
        assert ssim(a, b, win_size=win_size) == pytest.approx(expected, abs=1e-9)


def test_ssim_of_a_picture_with_itself_is_one() -> None:
    a = np.random.default_rng(1).integers(0, 256, (40, 50)).astype(np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)


def _graded(rgb: np.ndarray, contrast: float, gamma: float) -> np.ndarray:
    x = np.clip((rgb.astype(np.float64) / 255 - 0.5) * contrast + 0.5, 0, 1) ** gamma
    return (x * 255).round().astype(np.uint8)


def test_a_heavy_grade_keeps_the_layout_of_tones_and_another_picture_does_not() -> None:
    """Issue 30: a grade's tone curve (contrast halved, gamma 0.5) lowered the raw coarse
    SSIM under its floor; the tones matched to the reference's, it does not."""
    from integrity.pictures import scene
    from setpiece.integrity.hashing import WINDOWS
    from setpiece.integrity.settings import IntegritySettings
    from setpiece.integrity.verify import _extras, _grey, _ssim, verify

    floor = IntegritySettings().coarse_ssim
    for seed in (1, 2, 3):
        original = np.asarray(scene(seed, 320, 240))
        copy = _graded(original, 0.5, 0.5)
        size = (32, 24)
        raw = _ssim(
            _grey(original, size=size, equalise=False), _grey(copy, size=size, equalise=False)
        )
        assert raw < floor  # what the coarse SSIM was
        assert _extras(copy, original)[0] >= floor
        assert verify(copy, original, WINDOWS[0], False).coarse >= floor
        other = _graded(np.asarray(scene(seed + 40, 320, 240)), 1.8, 0.5)
        assert _extras(other, original)[0] < floor


def test_tones_matched_keep_a_flat_area_flat() -> None:
    from setpiece.integrity.verify import _tones_of

    grey = np.full((24, 32), 90, np.uint8)
    grey[:, 16:] = np.arange(16, dtype=np.uint8)[None, :] * 8
    model = np.linspace(0, 255, 24 * 32).reshape(24, 32).astype(np.uint8)
    matched = _tones_of(grey, model)
    assert np.ptp(matched[:, :16]) == 0  # equal tones stay equal
    order = np.argsort(grey[0, 16:])
    assert np.all(np.diff(matched[0, 16:][order].astype(int)) >= 0)  # monotone

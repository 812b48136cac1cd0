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

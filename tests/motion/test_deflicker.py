"""Deflicker's brightness estimate: a change of light, not a change of picture."""

from __future__ import annotations

import numpy as np

from setpiece.motion.deflicker import ANALYSIS_SIZE, relative_gain


def _frame(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.log(rgb.astype(np.float32) + 4.0)


def test_relative_gain_reads_the_light_not_what_moves_in() -> None:
    import cv2

    width, height = ANALYSIS_SIZE
    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.random((height, width + 20)).astype(np.float32), (0, 0), 1.5)
    texture = (60 + 120 * (texture - texture.min()) / np.ptp(texture)).astype(np.float32)
    first = np.repeat(texture[:, 10 : 10 + width, None], 3, axis=2)
    second = np.repeat(texture[:, 13 : 13 + width, None], 3, axis=2)  # a 3-pixel pan
    second[:, -20:] = 240  # and a bright object entering on the right
    second = second * 1.1  # the light rises 10 %
    a = np.clip(first, 0, 255).astype(np.uint8)
    b = np.clip(second, 0, 255).astype(np.uint8)
    whole, cells = relative_gain(_frame(a), _frame(b), 3)
    assert whole.shape == (3,) and cells.shape == (3, 3, 3)
    truth = np.log(1.1)
    assert np.abs(whole - truth).max() < 0.02
    assert np.abs(cells[:, 0] - truth).max() < 0.03  # cells away from the object
    naive = np.log(b.astype(np.float32) + 4).mean() - np.log(a.astype(np.float32) + 4).mean()
    assert abs(naive - truth) > 0.05  # what a global mean would have said

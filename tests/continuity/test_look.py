"""The CIEDE2000 distance the look check uses, against scikit-image's (the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from setpiece.continuity.look import delta_e_2000

skimage_color = pytest.importorskip("skimage.color")


def _pairs() -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    rng = np.random.default_rng(7)
    lab = np.column_stack(
        [rng.uniform(0, 100, 600), rng.uniform(-110, 110, 600), rng.uniform(-110, 110, 600)]
    )
    pairs = [(tuple(lab[i]), tuple(lab[i + 1])) for i in range(0, 600, 2)]
    pairs += [
        ((50.0, 0.0, 0.0), (60.0, 0.0, 0.0)),  # neutral greys: no chroma, no hue
        ((50.0, 0.0, 0.0), (50.0, 20.0, -5.0)),  # one neutral
        ((50.0, 30.0, 0.0), (50.0, -30.0, 0.0)),  # hues 180 degrees apart
        ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5)),  # hues across 0/360
        ((40.0, 10.0, 10.0), (40.0, 10.0, 10.0)),  # identical
    ]
    return [
        (tuple(float(v) for v in a), tuple(float(v) for v in b))  # type: ignore[misc]
        for a, b in pairs
    ]


def test_delta_e_2000_agrees_with_scikit_image() -> None:
    for a, b in _pairs():
        expected = float(skimage_color.deltaE_ciede2000(np.array(a), np.array(b)))
        assert delta_e_2000(a, b) == pytest.approx(expected, abs=1e-9), (a, b)
        assert delta_e_2000(b, a) == pytest.approx(expected, abs=1e-9), (b, a)


def test_delta_e_2000_published_pair() -> None:
    # Sharma, Wu and Dalal (2005), table 1, pair 1.
    assert delta_e_2000((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485)) == pytest.approx(
        2.0425, abs=1e-4
    )

"""Integrated loudness against ITU-R BS.1770-4's calibration."""

from __future__ import annotations

import numpy as np
import pytest

from setpiece.store.loudness import SILENCE_LUFS, integrated_loudness

RATE = 48000


def sine(amplitude: float, seconds: float = 3.0, hz: float = 997.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(RATE * seconds)) / RATE)


def test_a_sine_reads_as_the_standard_says() -> None:
    # A 997 Hz sine of amplitude A in both channels reads 20 log10(A) LUFS; in one, 3 dB less.
    assert integrated_loudness(np.stack([sine(0.1), sine(0.1)])) == pytest.approx(-20.0, abs=0.1)
    assert integrated_loudness(np.stack([sine(0.1), 0 * sine(0.1)])) == pytest.approx(
        -23.01, abs=0.1
    )
    assert integrated_loudness(np.stack([sine(0.5), sine(0.5)])) == pytest.approx(-6.02, abs=0.1)


def test_silence_and_too_short_read_as_the_gate() -> None:
    assert integrated_loudness(np.zeros((2, RATE))) == SILENCE_LUFS
    assert integrated_loudness(np.stack([sine(0.5, 0.2)] * 2)) == SILENCE_LUFS
    with pytest.raises(ValueError, match="stereo"):
        integrated_loudness(np.zeros(RATE))

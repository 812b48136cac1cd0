"""Tiny real WAV files and a voice backend made for the tests, in one call each."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_sine(
    path: Path,
    *,
    seconds: float = 1.0,
    rate: int = 22050,
    amplitude: float = 0.1,
    frequency: float = 1000.0,
    channels: int = 1,
) -> Path:
    """A 16-bit PCM WAV of a sine wave: ``amplitude`` is the peak, 1.0 full scale."""
    t = np.arange(round(seconds * rate)) / rate
    tone = (amplitude * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2")
    frames = np.repeat(tone[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return path

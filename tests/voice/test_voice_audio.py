"""Reading a dialogue WAV: exact length, BS.1770 loudness, and every file it must refuse."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.voice.audio import SILENCE_LUFS, read_wav
from voice.voicefactory import write_sine


@pytest.mark.parametrize(("amplitude", "rate"), [(0.1, 22050), (0.5, 48000), (0.05, 24000)])
def test_a_sine_reads_at_the_standards_calibration(
    tmp_path: Path, amplitude: float, rate: int
) -> None:
    # ITU-R BS.1770: a 1 kHz sine at full-scale peak reads -3.01 LKFS (mono).
    info = read_wav(write_sine(tmp_path / "a.wav", seconds=3, rate=rate, amplitude=amplitude))
    assert info.lufs == pytest.approx(20 * math.log10(amplitude) - 3.01, abs=0.05)
    assert info.seconds == Fraction(3)
    assert (info.sample_rate, info.channels, info.samples) == (rate, 1, 3 * rate)


def test_silence_reads_as_the_absolute_gate(tmp_path: Path) -> None:
    assert read_wav(write_sine(tmp_path / "s.wav", amplitude=0.0)).lufs == SILENCE_LUFS


@pytest.mark.parametrize(
    ("seconds", "amplitude", "silent"),
    [
        (2, 0.0, True),  # digital silence
        (2, 10 ** (-80 / 20), True),  # a hiss under the -70 LUFS gate
        (2, 0.3, False),
        (Fraction(3, 10), 0.3, False),  # a short line: -70 LUFS (no 400 ms block), yet heard
        (Fraction(3, 10), 0.0, True),
    ],
)
def test_silence_is_told_from_a_short_line(
    tmp_path: Path, seconds: Fraction, amplitude: float, silent: bool
) -> None:
    info = read_wav(write_sine(tmp_path / "s.wav", seconds=seconds, amplitude=amplitude))
    assert info.silent is silent
    assert info.peak == pytest.approx(amplitude, abs=1e-4)


def test_a_file_that_is_not_audio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "line.wav"
    path.write_bytes(b"RIFF this is not a wave file at all" * 10)
    with pytest.raises(InvalidMediaError, match=r"line\.wav"):
        read_wav(path)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "line.wav"
    path.write_bytes(b"")
    with pytest.raises(InvalidMediaError, match=r"line\.wav"):
        read_wav(path)


def test_audio_in_another_container_is_refused(tmp_path: Path) -> None:
    import av
    import numpy as np

    path = tmp_path / "line.wav"  # named .wav, but Ogg/FLAC inside
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=22050, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 22050), "<i2"), format="s16", layout="mono")
        frame.sample_rate = 22050
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    with pytest.raises(InvalidMediaError, match="not a WAV"):
        read_wav(path)


def test_a_line_longer_than_max_seconds_is_refused(tmp_path: Path) -> None:
    path = write_sine(tmp_path / "long.wav", seconds=3)
    assert read_wav(path, max_seconds=3).seconds == 3
    with pytest.raises(InvalidInputError, match=r"longer than 2.5 s \(\[dialogue\] max_seconds\)"):
        read_wav(path, max_seconds=Fraction(5, 2))


def test_the_default_limit_is_120_seconds(tmp_path: Path) -> None:
    path = write_sine(tmp_path / "long.wav", seconds=121, rate=8000)
    with pytest.raises(InvalidInputError, match="longer than 120 s"):
        read_wav(path)


def test_a_sample_rate_mismatch_is_refused_not_resampled(tmp_path: Path) -> None:
    path = write_sine(tmp_path / "line.wav", rate=16000)
    assert read_wav(path, sample_rate=16000).sample_rate == 16000
    with pytest.raises(InvalidMediaError, match="16000 Hz, not the 22050 Hz"):
        read_wav(path, sample_rate=22050)

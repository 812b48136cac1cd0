"""Integrated loudness of decoded sound, measured by FFmpeg's EBU R128 meter.

The mix levels each line of dialogue by its loudness (``setpiece.edit.sound``). FFmpeg's
``ebur128`` filter (PyAV, a core dependency) measures it as ITU-R BS.1770-4 defines it:
K-weighting, 400 ms blocks overlapping by 75 %, the absolute gate at -70 LUFS and the
relative gate 10 LU below. A well-kept meter rather than our own filter: SciPy is not a
core dependency, and a K-weighting biquad in NumPy needs a per-sample loop. Checked in
tests/store/test_loudness.py against the standard's calibration (a 997 Hz sine of
amplitude A in both channels reads 20 log10(A) LUFS).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

__all__ = ["SILENCE_LUFS", "integrated_loudness"]

SILENCE_LUFS = -70.0  # BS.1770's absolute gate: nothing louder was heard
_BLOCK = 4800  # samples per frame pushed (100 ms at 48 kHz)


def integrated_loudness(samples: np.ndarray, rate: int = 48000) -> float:
    """The integrated loudness (LUFS) of (2, n) float samples (stereo, -1..1).

    Returns ``SILENCE_LUFS`` for silence and for sound too short to fill one 400 ms
    block (nothing can be gated in).
    """
    import av
    from av.filter import Graph

    if samples.ndim != 2 or samples.shape[0] != 2:
        raise ValueError(f"expected (2, n) stereo samples, got shape {samples.shape}")
    if samples.shape[1] < rate * 4 // 10:
        return SILENCE_LUFS
    graph = Graph()
    source = graph.add_abuffer(
        format="fltp", sample_rate=rate, layout="stereo", time_base=Fraction(1, rate)
    )
    meter = graph.add("ebur128", "metadata=1")
    sink = graph.add("abuffersink")
    source.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    last: dict[str, str] = {}
    data = np.ascontiguousarray(samples, dtype=np.float32)
    for start in range(0, data.shape[1], _BLOCK):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data[:, start : start + _BLOCK]), format="fltp", layout="stereo"
        )
        frame.sample_rate, frame.pts = rate, start
        graph.push(frame)
        last = _drain(graph, av, last)
    graph.push(None)
    last = _drain(graph, av, last)
    return max(float(last.get("lavfi.r128.I", SILENCE_LUFS)), SILENCE_LUFS)


def _drain(graph: Any, av: Any, last: dict[str, str]) -> dict[str, str]:
    while True:
        try:
            out = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return last
        metadata = dict(out.metadata)
        if "lavfi.r128.I" in metadata:  # the flushed tail carries none
            last = metadata

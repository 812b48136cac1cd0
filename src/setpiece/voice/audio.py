"""Reading a dialogue WAV once: is it audio, how long is it, how loud is it.

One pass over the file through PyAV (FFmpeg, a core dependency) decodes it and feeds
FFmpeg's ``ebur128`` filter, the EBU R128 meter, which measures integrated loudness as
ITU-R BS.1770-4 defines it (K-weighting, 400 ms blocks overlapping by 75 %, the absolute
gate at -70 LUFS and the relative gate 10 LU below). A well-kept implementation rather
than our own: ``pyloudnorm`` would add SciPy to the core, and a hand-written K-weighting
filter in NumPy needs a per-sample loop. Checked in tests/voice/test_audio.py against the
standard's calibration: a 1 kHz sine of peak amplitude A reads 20 log10(A) - 3.01 LUFS
(within 0.05 LU; FFmpeg meters at 48 kHz and resamples on the way in). Audio that never
rises above the absolute gate (silence) reads -70.0, FFmpeg's floor.

What it decides:

* **Not audio is refused** (``InvalidMediaError``): a file FFmpeg cannot open, one that is
  not a WAV container, one with no audio stream or with zero samples.
* **Longer than ``max_seconds`` is refused** (``[dialogue] max_seconds``, 120 by default):
  a line is not a reel. Decoding stops at the limit; nothing is kept.
* **A sample rate other than the one expected is refused, never resampled here.** Each
  backend speaks at its own rate (eSpeak NG 22,050 Hz, a Piper voice at its model's, OpenAI
  24,000 Hz) and the take records it; the mix resamples once, where all lines meet. A WAV
  whose rate differs from what its source promised (``sample_rate=``) is a broken file or a
  mislabelled one, and silently resampling it would hide that.
* **Duration is exact**: decoded samples over the sample rate, a ``Fraction``.
* **Silence is told apart from a short line** (``WavInfo.silent``): BS.1770 reads both as
  -70 LUFS (a clip under 400 ms fills no gating block), so a file is silent when its
  integrated loudness is at the gate and either it is long enough to have been measured
  or its sample peak is below -70 dBFS too. Whether to take a silent file is the caller's
  decision (``dialogue import`` refuses one unless told otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError, InvalidMediaError

__all__ = ["DEFAULT_MAX_SECONDS", "SILENCE_LUFS", "WavInfo", "read_wav"]

DEFAULT_MAX_SECONDS = 120
SILENCE_LUFS = -70.0  # the absolute gate of BS.1770: nothing louder was heard
SILENCE_PEAK = 10 ** (SILENCE_LUFS / 20)  # the same level as a sample peak (-70 dBFS)
_GATE_BLOCK = Fraction(2, 5)  # BS.1770's gating block: shorter sound is never measured


@dataclass(frozen=True)
class WavInfo:
    """What a dialogue WAV is: its rate, channels, exact length and integrated loudness."""

    sample_rate: int
    channels: int
    samples: int  # per channel
    seconds: Fraction
    lufs: float  # integrated loudness, LUFS (SILENCE_LUFS when all of it is gated out)
    peak: float = 1.0  # largest sample, full scale 1.0

    @property
    def silent(self) -> bool:
        """Nothing heard: at the loudness gate, and too quiet to be a short line."""
        if self.lufs > SILENCE_LUFS:
            return False
        return self.seconds >= _GATE_BLOCK or self.peak <= SILENCE_PEAK


def read_wav(
    path: Path,
    *,
    max_seconds: float | Fraction = DEFAULT_MAX_SECONDS,
    sample_rate: int | None = None,
) -> WavInfo:
    """Decodes a WAV file and measures it.

    Args:
        path: The file.
        max_seconds: The longest a line may be ([dialogue] max_seconds).
        sample_rate: The rate the file must have (what its source promised), or None.

    Returns:
        Its rate, channels, length and integrated loudness.

    Raises:
        InvalidMediaError: Not a WAV, no audio in it, or a sample rate other than
            ``sample_rate``.
        InvalidInputError: Longer than ``max_seconds``.
    """
    import av

    limit = Fraction(max_seconds)
    if not path.is_file():
        raise InvalidMediaError(f"{path}: no such file")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)  # FFmpeg's words, not its errno
        raise InvalidMediaError(f"{path.name} is not audio FFmpeg can read ({why})") from None
    with container:
        if "wav" not in container.format.name.split(","):
            raise InvalidMediaError(
                f"{path.name} is a {container.format.long_name or container.format.name} "
                "file, not a WAV: a dialogue take is a WAV file"
            )
        if not container.streams.audio:
            raise InvalidMediaError(f"{path.name} has no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or 0)
        if rate <= 0:
            raise InvalidMediaError(f"{path.name} has no sample rate in its header")
        if sample_rate is not None and rate != sample_rate:
            raise InvalidMediaError(
                f"{path.name} is at {rate} Hz, not the {sample_rate} Hz its source gives: "
                "the file is broken or mislabelled (Setpiece does not resample it silently)"
            )
        meter = _Meter(rate, stream.codec_context.layout.name)
        samples = 0
        try:
            for frame in container.decode(stream):
                samples += frame.samples
                if Fraction(samples, rate) > limit:
                    raise InvalidInputError(
                        f"{path.name} is longer than {float(limit):g} s "
                        "([dialogue] max_seconds): split the line or raise the limit"
                    )
                meter.push(frame)
        except av.error.FFmpegError as exc:
            raise InvalidMediaError(f"{path.name} cannot be decoded: {exc}") from None
        if samples == 0:
            raise InvalidMediaError(f"{path.name} holds no audio samples")
        return WavInfo(
            sample_rate=rate,
            channels=stream.codec_context.channels,
            samples=samples,
            seconds=Fraction(samples, rate),
            lufs=meter.integrated(),
            peak=meter.peak,
        )


class _Meter:
    """FFmpeg's ``ebur128`` filter as a meter: push frames, read the integrated loudness."""

    def __init__(self, rate: int, layout: str) -> None:
        from av.filter import Graph

        self._graph = Graph()
        self._source: Any = None
        self._rate = rate
        self._layout = layout
        self._last: dict[str, str] = {}
        self._pts = 0
        self.peak = 0.0  # largest sample so far, full scale 1.0

    def push(self, frame: Any) -> None:
        import av

        if self._source is None:
            self._source = self._graph.add_abuffer(
                format=frame.format.name,
                sample_rate=self._rate,
                layout=self._layout,
                time_base=Fraction(1, self._rate),
            )
            meter = self._graph.add("ebur128", "metadata=1")
            sink = self._graph.add("abuffersink")
            self._source.link_to(meter)
            meter.link_to(sink)
            self._graph.configure()
        self.peak = max(self.peak, _peak(frame))
        frame.pts = self._pts
        self._pts += frame.samples
        self._graph.push(frame)
        self._drain(av)

    def _drain(self, av: Any) -> None:
        while True:
            try:
                out = self._graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            metadata = dict(out.metadata)
            if "lavfi.r128.I" in metadata:  # the flushed tail carries none
                self._last = metadata

    def integrated(self) -> float:
        import av

        if self._source is None:
            return SILENCE_LUFS
        self._graph.push(None)
        self._drain(av)
        value = float(self._last.get("lavfi.r128.I", SILENCE_LUFS))
        return max(value, SILENCE_LUFS)


def _peak(frame: Any) -> float:
    """A frame's largest sample on a full scale of 1.0, whatever its sample format."""
    import numpy as np

    data = frame.to_ndarray()
    if data.size == 0:
        return 0.0
    if data.dtype.kind == "f":
        return float(np.abs(data).max())
    if data.dtype.kind == "u":  # 8-bit WAV: unsigned, centred on 128
        return float(np.abs(data.astype(np.int32) - 128).max()) / 128
    scale = float(2 ** (8 * data.dtype.itemsize - 1))
    return float(np.abs(data.astype(np.int64)).max()) / scale

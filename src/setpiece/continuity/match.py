"""The fix for a look jump: a derived take whose colour is matched to a reference take.

``match_take`` computes one transform from the whole source and the whole reference
(up to 32 frames sampled evenly across each take, pooled) and applies that same
transform to every frame, so the matched take does not flicker the way a per-frame
match would. Three methods:

* ``light`` (the default): one gain per channel in linear light, the way a change of
  exposure and white balance acts, fitted so that the setting's light as the look check
  measures it (``continuity.look.SettingLook``: the border, figures left out) lands on
  the reference's (three rounds, each re-measuring, as clipped highlights give way);

and two in CIELAB over the whole frame, so lightness and colour move independently:

* ``statistics``: each channel's mean and spread moved onto the reference's
  (Reinhard, Ashikhmin, Gooch and Shirley 2001, "Color transfer between images");
* ``histogram``: each channel's distribution mapped onto the reference's through their
  quantiles (1,001 of them, a lookup shared by every frame).

The result is written to a temporary file (PNG for a still; H.264 for a video, at the
source's rational frame rate, its audio stream copied untouched), imported as a
derived take of the source's shot, and the operation recorded on it:
``{"name": "colour_match", "to": REF_TAKE_ID, "method": ...}``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from setpiece.continuity.look import (
    Box,
    LookDifference,
    LookStats,
    SettingLook,
    downscaled,
    face_boxes,
    lab_pixels,
    linear,
)
from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.enums import TakeKind
from setpiece.production.context import Production
from setpiece.production.views import TakeView
from setpiece.store.frames import open_media, take_pictures
from setpiece.store.video import Encoding, MovieWriter, movie_codec, reason

__all__ = ["METHODS", "ColourTransform", "MatchResult", "fit_transform", "match_take"]

METHODS = ("light", "statistics", "histogram")
_SAMPLED = 32
_QUANTILES = np.linspace(0.0, 1.0, 1001)


@dataclass(frozen=True)
class ColourTransform:
    """A per-channel CIELAB mapping, the same for every frame it is applied to."""

    method: str
    source: np.ndarray  # statistics: (2, 3) mean and std; histogram: (1001, 3) quantiles
    target: np.ndarray  # light: source is (3,) gains in linear light, target unused

    def apply(self, rgb8: np.ndarray) -> np.ndarray:
        """An 8-bit RGB picture with the transform applied."""
        import cv2

        if self.method == "light":
            lin = linear(rgb8) * self.source.astype(np.float32)
            srgb = np.where(
                lin <= 0.0031308,
                lin * 12.92,
                1.055 * np.power(np.clip(lin, 0, None), 1 / 2.4) - 0.055,
            )
            return np.clip(np.rint(srgb * 255.0), 0, 255).astype(np.uint8)
        lab = lab_pixels(rgb8)
        if self.method == "statistics":
            mean_s, std_s = self.source
            mean_t, std_t = self.target
            lab = (lab - mean_s) * (std_t / np.maximum(std_s, 1e-3)) + mean_t
        else:
            for channel in range(3):
                lab[..., channel] = np.interp(
                    lab[..., channel], self.source[:, channel], self.target[:, channel]
                )
        lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)
        rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB)
        return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def _pooled_lab(frames: list[np.ndarray]) -> np.ndarray:
    pixels = np.concatenate([downscaled(f).reshape(-1, 3) for f in frames]).reshape(-1, 1, 3)
    return lab_pixels(pixels).reshape(-1, 3)


def fit_transform(
    source: list[np.ndarray], reference: list[np.ndarray], method: str = "statistics"
) -> ColourTransform:
    """The transform that moves the pooled look of ``source`` frames onto ``reference``'s.

    Raises:
        InvalidInputError: An unknown method.
    """
    if method not in METHODS:
        raise InvalidInputError(f"unknown match method {method!r}: choose {' or '.join(METHODS)}")
    a, b = _pooled_lab(source), _pooled_lab(reference)
    if method == "statistics":
        return ColourTransform(
            method, np.stack([a.mean(0), a.std(0)]), np.stack([b.mean(0), b.std(0)])
        )
    qa, qb = np.quantile(a, _QUANTILES, axis=0), np.quantile(b, _QUANTILES, axis=0)
    # np.interp needs increasing x: flat runs of the source (a flat colour) are nudged apart.
    qa = qa + np.arange(len(_QUANTILES))[:, None] * 1e-6
    return ColourTransform(method, qa, qb)


def _figures() -> Callable[[np.ndarray], list[Box]]:
    """dlib's people where the faces extra is installed (the look check leaves them out)."""
    import importlib.util

    if importlib.util.find_spec("dlib") is None:
        return lambda rgb: []
    return face_boxes


def _setting_linear(stats: LookStats) -> np.ndarray:
    import cv2

    lab = np.array(stats.lab_mean, dtype=np.float32).reshape(1, 1, 3)
    rgb = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB).reshape(3).astype(np.float64)
    return np.maximum(linear(np.clip(rgb * 255.0, 0, 255)), 1e-4)


def _fit_light(
    look: SettingLook,
    wanted: LookStats,
    frames: list[np.ndarray],
    measured: Callable[[list[np.ndarray]], LookStats],
) -> ColourTransform:
    """Per-channel gains moving the setting of ``frames`` onto ``wanted`` (three rounds)."""
    target = _setting_linear(wanted)
    gains = np.ones(3)
    for _ in range(3):
        transform = ColourTransform("light", gains, np.zeros(3))
        now = _setting_linear(measured([transform.apply(f) for f in frames]))
        gains = np.clip(gains * target / now, 1 / 16, 16)
    return ColourTransform("light", gains, np.zeros(3))


@dataclass(frozen=True)
class MatchResult:
    take: TakeView
    created: bool
    method: str
    before: LookDifference
    after: LookDifference

    # Not jsonable's shape: ``delta_e`` written as ``delta_e2000``, measures rounded.
    def to_json(self) -> dict[str, Any]:
        def measures(d: LookDifference) -> dict[str, float]:
            return {
                "delta_e2000": round(d.delta_e, 3),
                "stops": round(d.stops, 3),
                "kelvin": round(d.kelvin, 1),
                "contrast": round(d.contrast, 4),
            }

        return {
            "take": self.take.to_json(),
            "created": self.created,
            "method": self.method,
            "before": measures(self.before),
            "after": measures(self.after),
        }


def _sampled(production: Production, take: TakeView) -> list[np.ndarray]:
    if take.media is None:
        raise InvalidInputError(f"take {take.label} has no media to match")
    every = max(1, take.media.frames // _SAMPLED) if take.kind == TakeKind.VIDEO else 1
    frames, stopped = take_pictures(take.media, take.label, production.store, every=every)
    if stopped is not None:
        raise InvalidMediaError(f"cannot match colour: {reason(stopped)}")
    if not frames:
        raise InvalidMediaError(f"take {take.label} has no picture to match")
    return [f.rgb for f in frames]


def _write_video(
    production: Production,
    take: TakeView,
    transform: ColourTransform,
    target: Path,
    progress: Callable[[int, int], None],
) -> None:
    import av

    assert take.media is not None
    codec = movie_codec()
    with open_media(take.media, take.label, production.store) as source:
        video_in = source.streams.video[0]
        rate = Fraction(video_in.average_rate or video_in.guessed_rate or take.media.fps or 24)
        even = video_in.width % 2 == 0 and video_in.height % 2 == 0
        encoding = Encoding(
            codec,
            "yuv420p" if even or codec != "libx264" else "yuv444p",
            {"crf": "16", "preset": "medium"} if codec == "libx264" else {},
        )
        with MovieWriter(target, video_in.width, video_in.height, rate, encoding) as output:
            audio_in = source.streams.audio[0] if source.streams.audio else None
            audio_out = output.copy_stream(audio_in) if audio_in is not None else None
            streams = [video_in] + ([audio_in] if audio_in is not None else [])
            index = 0
            total = take.media.frames
            try:
                for packet in source.demux(*streams):
                    if packet.stream is audio_in:
                        if packet.dts is not None and audio_out is not None:
                            packet.stream = audio_out
                            output.mux(packet)
                        continue
                    for decoded in packet.decode():
                        output.rgb(transform.apply(decoded.to_ndarray(format="rgb24")))
                        index += 1
                        progress(index, total)
            except (av.FFmpegError, OSError, ValueError) as exc:
                raise InvalidMediaError(
                    f"cannot match colour: take {take.label} stops decoding at frame {index} "
                    f"({reason(exc)})"
                ) from exc
    if index == 0:
        raise InvalidMediaError(f"take {take.label} has no frame to match")


def match_take(
    production: Production,
    take: str,
    to: str,
    *,
    method: str = "light",
    progress: Callable[[int, int], None] | None = None,
) -> MatchResult:
    """Makes a derived take of ``take`` whose colour matches take ``to``.

    Args:
        production: The open project.
        take: The take to fix (id or SHOT/NUMBER).
        to: The reference take whose look is matched.
        method: ``light``, ``statistics`` or ``histogram``.
        progress: Called as (frames done, frames in all) for a video.

    Returns:
        The derived take, whether it is new, and the look difference before and after.

    Raises:
        NotFoundError: Unknown take.
        InvalidInputError: A take without media, the same take twice, or an unknown method.
        InvalidMediaError: A take that cannot be decoded to the end.
    """
    from setpiece.model.operations import Operation
    from setpiece.production.derive import derive_take
    from setpiece.production.takes import get_take

    if method not in METHODS:
        raise InvalidInputError(f"unknown match method {method!r}: choose {' or '.join(METHODS)}")
    source, reference = get_take(production, take), get_take(production, to)
    if source.id == reference.id:
        raise InvalidInputError(f"take {source.label} cannot be matched to itself")
    source_frames, reference_frames = _sampled(production, source), _sampled(production, reference)
    # Judged as the look check judges: the setting's light, figures left out.
    look, figures = SettingLook(), _figures()

    def measured(frames: list[np.ndarray]) -> LookStats:
        stats = look.pooled([look.frame_light(f, figures(f)) for f in frames])
        if stats is None:
            raise InvalidInputError(
                f"figures cover the whole border of {source.label} or {reference.label}: "
                "no setting to match"
            )
        return stats

    wanted, now = measured(reference_frames), measured(source_frames)
    if method == "light":
        transform = _fit_light(look, wanted, source_frames, measured)
    else:
        transform = fit_transform(source_frames, reference_frames, method)
    before = look.compare(wanted, now)
    after = look.compare(wanted, measured([transform.apply(f) for f in source_frames]))
    report = progress or (lambda done, total: None)
    with tempfile.TemporaryDirectory(prefix="setpiece-match-") as folder:
        if source.kind == TakeKind.VIDEO:
            target = Path(folder) / f"{source.id}-matched.mp4"
            _write_video(production, source, transform, target, report)
        else:
            from PIL import Image

            target = Path(folder) / f"{source.id}-matched.png"
            Image.fromarray(transform.apply(source_frames[0]), "RGB").save(target, format="PNG")
        derived, created = derive_take(
            production,
            source.id,
            target,
            Operation("colour_match", 1, {"to": reference.id, "method": method}),
        )
    return MatchResult(derived, created, method, before, after)

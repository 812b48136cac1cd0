"""The motion tools' settings: one frozen dataclass of defaults that the CLI, the
services and a project's ``[motion]`` table in setpiece.toml all read.

PySceneDetect's CLI and API once disagreed on ``min_scene_len``; here a default
lives in exactly one place, and a project may override any of them by name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from setpiece.errors import InvalidInputError

__all__ = ["MotionSettings", "motion_settings"]


@dataclass(frozen=True)
class MotionSettings:
    """Every tunable of retime, deflicker, cuts and measure.

    Attributes:
        flow_long_side: Optical flow is computed on frames scaled down to this long side
            (pixels) and upsampled; at 384, 0.3 dB below full-resolution flow for under
            a quarter of the interpolation's cost on 720p footage (bench/motion_interp.py).
        flow_preset: DIS preset: "ultrafast", "fast", "medium" (OpenCV's) or "balanced"
            (medium's patch grid with fewer iterations; see setpiece.motion.flow).
        occlusion_px: Forward-backward flow disagreement (pixels at flow scale) above
            which a pixel counts as occluded.
        encoder_preset: x264 preset of H.264 output. "ultrafast": at 1080p the encoder
            is most of a retime's cost, and "veryfast" made it 2.5 times slower
            (bench/motion_retime_speed.py); files are larger, quality at ``crf`` alike.
        crf: x264 constant rate factor of H.264 output (18: visually lossless).
        cut_threshold: A hard cut's content change must be this many times the local
            median change around it...
        cut_min_score: ...and at least this absolute change (mean 0-255 units).
        min_shot_frames: Two cuts closer than this are one cut.
        black_level: Mean luma (0-255) under which a frame counts as black (fades).
        dissolve_max_frames: The longest dissolve looked for.
        deflicker_window: Frames either side in the temporal smoothing of brightness.
        deflicker_regions: Regions per side of the per-region gain grid.
        deflicker_step: A brightness change (log units, 0.15 = 16%) held for the
            smoothing window counts as a real light change and is kept as a step.
        frozen_delta: Mean absolute grey difference (0-255) under which two frames
            count as the same picture.
        flicker_ratio: A take whose flicker index is this many times its scene's
            median is reported as ``temporal_flicker``...
        flicker_min: ...when its flicker index is at least this.
    """

    flow_long_side: int = 384
    flow_preset: str = "balanced"
    occlusion_px: float = 1.5
    encoder_preset: str = "ultrafast"
    crf: int = 18
    cut_threshold: float = 3.0
    cut_min_score: float = 15.0
    min_shot_frames: int = 8
    black_level: float = 20.0
    dissolve_max_frames: int = 30
    deflicker_window: int = 6
    deflicker_regions: int = 3
    deflicker_step: float = 0.15
    frozen_delta: float = 0.3
    flicker_ratio: float = 3.0
    flicker_min: float = 1.0


_X264 = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)


def _check(settings: MotionSettings) -> MotionSettings:
    def bad(key: str, why: str) -> InvalidInputError:
        value = getattr(settings, key)
        return InvalidInputError(f"setpiece.toml [motion] {key} = {value!r}: {why}")

    if not 64 <= settings.flow_long_side <= 4096:
        raise bad("flow_long_side", "give a size from 64 to 4096 pixels")
    from setpiece.motion.flow import PRESETS

    if settings.flow_preset not in PRESETS:
        raise bad("flow_preset", f"choose one of {', '.join(PRESETS)}")
    if settings.encoder_preset not in _X264:
        raise bad("encoder_preset", f"choose an x264 preset: {', '.join(_X264)}")
    if not 0 <= settings.crf <= 51:
        raise bad("crf", "give a value from 0 to 51")
    for key in (
        "occlusion_px",
        "cut_threshold",
        "cut_min_score",
        "black_level",
        "deflicker_step",
        "frozen_delta",
        "flicker_ratio",
        "flicker_min",
    ):
        if not getattr(settings, key) > 0:
            raise bad(key, "give a positive number")
    for key, low, high in (
        ("min_shot_frames", 1, 10000),
        ("dissolve_max_frames", 2, 500),
        ("deflicker_window", 1, 100),
        ("deflicker_regions", 1, 16),
    ):
        if not low <= getattr(settings, key) <= high:
            raise bad(key, f"give a whole number from {low} to {high}")
    return settings


def motion_settings(project_settings: dict[str, Any] | None = None) -> MotionSettings:
    """The defaults, overridden by the ``[motion]`` table of a parsed setpiece.toml.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or range (named).
    """
    table = (project_settings or {}).get("motion") or {}
    if not isinstance(table, dict):
        raise InvalidInputError("setpiece.toml [motion] must be a table of settings")
    fields = {f.name: f for f in dataclasses.fields(MotionSettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise InvalidInputError(
                f"setpiece.toml [motion] has an unknown key {key!r}: known keys are "
                + ", ".join(sorted(fields))
            )
        default = getattr(MotionSettings(), key)
        if isinstance(default, bool) or isinstance(value, bool):
            ok = isinstance(value, type(default))
        elif isinstance(default, float):
            ok = isinstance(value, int | float)
            value = float(value) if ok else value
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise InvalidInputError(
                f"setpiece.toml [motion] {key} = {value!r}: expected a "
                f"{type(default).__name__}, e.g. {default!r}"
            )
        values[key] = value
    return _check(MotionSettings(**values))

"""The motion tools' settings: one frozen dataclass of defaults that the CLI, the
services and a project's ``[motion]`` table in setpiece.toml all read.

PySceneDetect's CLI and API once disagreed on ``min_scene_len``; here a default
lives in exactly one place, and a project may override any of them by name. The ranges
and choices are declared on the fields and read by :func:`setpiece.config.load_section`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from setpiece.config import load_section, setting

__all__ = ["FLOW_PRESETS", "X264_PRESETS", "MotionSettings", "motion_settings"]

#: DIS optical-flow presets: OpenCV's three and "balanced" (see :mod:`setpiece.motion.flow`).
FLOW_PRESETS = ("ultrafast", "fast", "medium", "balanced")
#: x264's presets, fastest first.
X264_PRESETS = (
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


@dataclass(frozen=True)
class MotionSettings:
    """Every tunable of retime, deflicker, cuts and measure.

    Attributes:
        flow_long_side: Optical flow is computed on frames scaled down to this long side
            (pixels) and upsampled; at 384, 0.3 dB below full-resolution flow for under
            a quarter of the interpolation's cost on 720p footage (bench/motion_interp.py).
        flow_preset: DIS preset: "ultrafast", "fast", "medium" (OpenCV's) or "balanced"
            (medium's patch grid with fewer iterations; see setpiece.motion.flow).
        flow_fine_side: Where the measured motion is small (``fine_motion``), flow is
            computed again at this long side: finer flow gained 0.4-0.6 dB on pans,
            zooms and AI clips (bench/motion_interp_classes.py). 576 scored as 768 did
            (every class within 0.03 dB, 1080p pans +0.23) for two thirds of a 720p
            pan's time; 512 lost 0.16 dB on 1080p pans (bench/RESULTS.md, 7 Dec 2026,
            19:30). 0 turns it off.
        fine_motion: The motion (95th percentile of the probe flow's vectors, flow at
            half ``flow_long_side``, as a share of the picture's long side) under which
            the fine flow is computed;
            larger motion keeps the coarse flow (cheaper, and as good there).
        flow_blur: The grey pictures are smoothed (Gaussian, this sigma in pixels of the
            ``flow_long_side`` scale, proportionally more at the fine scale) before flow
            is computed: fine periodic texture (a woven tie at 1080p) otherwise locked
            the flow a period off (-1.7 dB against minterpolate on that pan); 0.3 was
            the setting leave-one-clip-out chose most often (bench/motion_interp_classes.py).
            0 turns it off.
        occlusion_px: Forward-backward flow disagreement (pixels at flow scale) above
            which a pixel counts as occluded.
        fallback_ratio: When the two pictures warped to the middle still differ by this
            share of how much the unwarped pictures differ, the flow is not helping
            and the in-between picture is a plain blend (ramped in over the 0.1 below,
            so nothing jumps); near-still shots and fades end up here.
        still_detail: Fine detail that stays on the screen while the picture moves (a
            GIF's dither, a burnt-in caption or logo) is kept where it stands instead of
            travelling with the warp: +0.3 dB on AI clips and +0.7 on the fluid
            animation's axes, 0.02-0.10 dB less on pans; only where it changes the
            picture by half a grey level or more, which on 720p pans took it from 17 to
            11 ms a pair (bench/RESULTS.md, 7 Dec 2026). False turns it off.
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

    flow_long_side: int = setting(384, low=64, high=4096)
    flow_preset: str = setting("balanced", choices=FLOW_PRESETS)
    flow_fine_side: int = setting(576, low=0, high=4096)
    fine_motion: float = setting(0.04, low=0.0, high=1.0)
    occlusion_px: float = setting(1.5, positive=True)
    flow_blur: float = setting(0.3, low=0.0, high=10.0)
    fallback_ratio: float = setting(0.8, low=0.1, high=10.0)
    still_detail: bool = setting(True)
    encoder_preset: str = setting("ultrafast", choices=X264_PRESETS)
    crf: int = setting(18, low=0, high=51)
    cut_threshold: float = setting(3.0, positive=True)
    cut_min_score: float = setting(15.0, positive=True)
    min_shot_frames: int = setting(8, low=1, high=10000)
    black_level: float = setting(20.0, positive=True)
    dissolve_max_frames: int = setting(30, low=2, high=500)
    deflicker_window: int = setting(6, low=1, high=100)
    deflicker_regions: int = setting(3, low=1, high=16)
    deflicker_step: float = setting(0.15, positive=True)
    frozen_delta: float = setting(0.3, positive=True)
    flicker_ratio: float = setting(3.0, positive=True)
    flicker_min: float = setting(1.0, positive=True)


def motion_settings(project_settings: dict[str, Any] | None = None) -> MotionSettings:
    """The defaults, overridden by the ``[motion]`` table of a parsed setpiece.toml.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type, range or choice,
            named as ``setpiece.toml [motion] key`` (:func:`setpiece.config.load_section`).
    """
    return load_section(MotionSettings, (project_settings or {}).get("motion"), section="motion")

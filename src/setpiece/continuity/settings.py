"""The ``[continuity]`` section of setpiece.toml, with its defaults kept in one place.

The CLI, the web board and the bench read these same defaults; a project overrides
them in its toml::

    [continuity]
    embedder = "dlib-resnet-v1"  # or "arcface-onnx", with face_model = "models/arcface.onnx"
    face_threshold = 0.6   # the same person within this distance (the embedder's default)
    face_other = 0.75      # someone else beyond this one; between the two: a drifting likeness
    judge_frames = 8       # a take's verdict is the median over its best-quality faces, up to 8
    min_sharpness = 100.0  # faces blurrier than this (Laplacian variance at 64 px) are not judged
    max_turn = 0.35        # faces turned further than this (nose off the eye midline) are not judged
    max_flat = 0.5         # faces flatter than this (share without texture: a drawing) are not judged
    frame_stride = 12      # sample every 12th frame of a video take
    detect_width = 640     # frames are downscaled to this width before face detection
    min_face = 40          # faces narrower than this (pixels, full resolution) are too small to judge
    max_faces = 20         # in a crowd, only the largest faces are described

    [continuity.look]      # thresholds of a look jump between shots that cut together
    delta_e = 8.0          # CIEDE2000 between the mean colours
    stops = 0.7            # exposure difference of the median luminance
    kelvin = 1200.0        # estimated white-balance shift
    contrast = 0.3         # relative change of the lightness spread (whole-frame model only)

    [continuity.look.NIGHT]  # per scene time of day (the scene heading's), overriding the above
    stops = 1.0

Values are read by :func:`setpiece.config.load_section` against the dataclasses below, so
a wrong one fails with the key and its table named. ``face_threshold`` and ``face_other``
left out take the embedder's own distances (dlib 0.6 and 0.75; ArcFace 1.13 and 1.30), as
the scales of two models differ; ``face_model`` is a path relative to the project folder.

The quality limits were set on real photos and on generated faces that are plainly
judgeable, not fitted to the evaluation: every face of bench/continuity_identity_eval.py's
real photos is above 500 in sharpness, below 0.14 in turn and below 0.12 in flatness
(generated Magic-Me faces: below 0.16); an LFW face blown up from 25 px measures 50 to 65
in sharpness, a profile 0.5 and more in turn, a line drawing of a face 0.77 in flatness. ``[continuity.look]`` mixes the
thresholds with one sub-table per time of day; each sub-table overrides only the keys it
gives, over the built-in defaults for that time of day, over ``[continuity.look]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from setpiece.config import load_section, setting
from setpiece.continuity.embedders import EMBEDDERS

__all__ = ["ContinuitySettings", "LookThresholds", "continuity_settings"]


@dataclass(frozen=True)
class LookThresholds:
    """How far two shots that cut together may differ before it is a look jump."""

    delta_e: float = setting(8.0, low=0.0)
    stops: float = setting(0.7, low=0.0)
    kelvin: float = setting(1200.0, low=0.0)
    contrast: float = setting(0.3, low=0.0)


# Times of day whose light changes quickly, or is dim, get looser defaults.
_TIME_DEFAULTS: dict[str, dict[str, float]] = {
    # At night the set is dim and deeply blue, where a white balance is uncertain: between
    # shots of the demo's night scenes lit alike it differed by up to 1,863 K.
    "NIGHT": {"stops": 1.0, "delta_e": 10.0, "kelvin": 2000.0},
    "DAWN": {"kelvin": 2000.0, "stops": 1.0},
    "DUSK": {"kelvin": 2000.0, "stops": 1.0},
    "SUNSET": {"kelvin": 2000.0, "stops": 1.0},
    "SUNRISE": {"kelvin": 2000.0, "stops": 1.0},
    "MAGIC HOUR": {"kelvin": 2000.0, "stops": 1.0},
}


@dataclass(frozen=True)
class ContinuitySettings:
    """Every continuity setting, with its default.

    ``look_by_time`` is not a key of the toml: it is built from the sub-tables of
    ``[continuity.look]`` (see the module docstring).
    """

    face_threshold: float | None = setting(None, positive=True, high=2.0)
    face_other: float | None = setting(None, positive=True, high=2.0)
    embedder: str = setting("dlib-resnet-v1", choices=tuple(EMBEDDERS))
    face_model: str = ""
    judge_frames: int = setting(8, low=1, high=64)
    min_sharpness: float = setting(100.0, low=0.0)
    max_turn: float = setting(0.35, low=0.0, high=1.0)
    max_flat: float = setting(0.5, low=0.0, high=1.0)
    frame_stride: int = setting(12, low=1)
    detect_width: int = setting(640, low=64)
    min_face: int = setting(40, low=1)
    max_faces: int = setting(20, low=1)
    look: LookThresholds = field(default_factory=LookThresholds)
    look_by_time: dict[str, LookThresholds] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (
            self.face_threshold is not None
            and self.face_other is not None
            and self.face_other <= self.face_threshold
        ):
            raise ValueError(
                f"face_other ({self.face_other:g}) must be larger than face_threshold "
                f"({self.face_threshold:g}): between the two lies a drifting likeness"
            )

    def look_for(self, time_of_day: str | None) -> LookThresholds:
        """The look thresholds for a scene's time of day (the plain ones when none is set)."""
        return self.look_by_time.get(_time_key(time_of_day), self.look)


def _time_key(time_of_day: str | None) -> str:
    return " ".join((time_of_day or "").upper().split())


def continuity_settings(settings: dict[str, Any] | None) -> ContinuitySettings:
    """Reads ``[continuity]`` from the parsed setpiece.toml (``production.config.settings``).

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or out of range,
            named as ``setpiece.toml [continuity.look] key`` (the table, then the key).
    """
    table = (settings or {}).get("continuity")
    times: dict[str, Any] = {}
    if isinstance(table, Mapping) and isinstance(table.get("look"), Mapping):
        look = table["look"]
        times = {key: value for key, value in look.items() if isinstance(value, Mapping)}
        scalars = {key: value for key, value in look.items() if key not in times}
        table = {**table, "look": scalars}
    loaded = load_section(ContinuitySettings, table, section="continuity", look_by_time={})
    by_time = {name: replace(loaded.look, **values) for name, values in _TIME_DEFAULTS.items()}
    for key, value in times.items():
        name = _time_key(key)
        given = load_section(LookThresholds, value, section=f"continuity.look.{key}")
        base = by_time.get(name, loaded.look)
        by_time[name] = replace(base, **{k: getattr(given, k) for k in value})
    return replace(loaded, look_by_time=by_time)

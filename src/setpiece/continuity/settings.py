"""The ``[continuity]`` section of setpiece.toml, with its defaults kept in one place.

The CLI, the web board and the bench read these same defaults; a project overrides
them in its toml::

    [continuity]
    face_threshold = 0.6   # dlib's Euclidean distance that separates two people
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
a wrong one fails with the key and its table named. ``[continuity.look]`` mixes the
thresholds with one sub-table per time of day; each sub-table overrides only the keys it
gives, over the built-in defaults for that time of day, over ``[continuity.look]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from setpiece.config import load_section, setting

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

    face_threshold: float = setting(0.6, positive=True, high=2.0)
    frame_stride: int = setting(12, low=1)
    detect_width: int = setting(640, low=64)
    min_face: int = setting(40, low=1)
    max_faces: int = setting(20, low=1)
    look: LookThresholds = field(default_factory=LookThresholds)
    look_by_time: dict[str, LookThresholds] = field(default_factory=dict)

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

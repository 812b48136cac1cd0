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
    contrast = 0.3         # relative change of the lightness spread

    [continuity.look.NIGHT]  # per scene time of day (the scene heading's), overriding the above
    stops = 1.0

Values are validated when read; a wrong one fails with the key's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from setpiece.errors import InvalidInputError

__all__ = ["ContinuitySettings", "LookThresholds", "continuity_settings"]


@dataclass(frozen=True)
class LookThresholds:
    """How far two shots that cut together may differ before it is a look jump."""

    delta_e: float = 8.0
    stops: float = 0.7
    kelvin: float = 1200.0
    contrast: float = 0.3


# Times of day whose light changes quickly, or is dim, get looser defaults.
_TIME_DEFAULTS: dict[str, dict[str, float]] = {
    "NIGHT": {"stops": 1.0, "delta_e": 10.0},
    "DAWN": {"kelvin": 2000.0, "stops": 1.0},
    "DUSK": {"kelvin": 2000.0, "stops": 1.0},
    "SUNSET": {"kelvin": 2000.0, "stops": 1.0},
    "SUNRISE": {"kelvin": 2000.0, "stops": 1.0},
    "MAGIC HOUR": {"kelvin": 2000.0, "stops": 1.0},
}


@dataclass(frozen=True)
class ContinuitySettings:
    """Every continuity setting, with its default."""

    face_threshold: float = 0.6
    frame_stride: int = 12
    detect_width: int = 640
    min_face: int = 40
    max_faces: int = 20
    look: LookThresholds = field(default_factory=LookThresholds)
    look_by_time: dict[str, LookThresholds] = field(default_factory=dict)

    def look_for(self, time_of_day: str | None) -> LookThresholds:
        """The look thresholds for a scene's time of day (the plain ones when none is set)."""
        key = " ".join((time_of_day or "").upper().split())
        return self.look_by_time.get(key, self.look)


def _number(section: dict[str, Any], key: str, default: float, where: str, *, low: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
        raise InvalidInputError(
            f"setpiece.toml: {where}.{key} = {value!r} must be a number of at least {low}"
        )
    return float(value)


def _integer(section: dict[str, Any], key: str, default: int, where: str, *, low: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInputError(
            f"setpiece.toml: {where}.{key} = {value!r} must be a whole number of at least {low}"
        )
    return value


def _look(section: dict[str, Any], base: LookThresholds, where: str) -> LookThresholds:
    names = {f.name for f in fields(LookThresholds)}
    for key, value in section.items():
        if key not in names and not isinstance(value, dict):
            raise InvalidInputError(
                f"setpiece.toml: unknown key {where}.{key}; known are {', '.join(sorted(names))}"
            )
    return replace(
        base,
        **{
            name: _number(section, name, getattr(base, name), where, low=0.0)
            for name in names
            if name in section
        },
    )


def continuity_settings(settings: dict[str, Any] | None) -> ContinuitySettings:
    """Reads ``[continuity]`` from the parsed setpiece.toml (``production.config.settings``).

    Raises:
        InvalidInputError: A value of the wrong type or out of range; the message names the key.
    """
    section = (settings or {}).get("continuity") or {}
    if not isinstance(section, dict):
        raise InvalidInputError("setpiece.toml: [continuity] must be a table")
    defaults = ContinuitySettings()
    known = {f.name for f in fields(ContinuitySettings)} - {"look_by_time"}
    for key in section:
        if key not in known:
            raise InvalidInputError(
                f"setpiece.toml: unknown key continuity.{key}; known are {', '.join(sorted(known))}"
            )
    threshold = _number(section, "face_threshold", defaults.face_threshold, "continuity", low=0.0)
    if not 0 < threshold < 2:
        raise InvalidInputError(
            f"setpiece.toml: continuity.face_threshold = {threshold} must be between 0 and 2"
        )
    look_section = section.get("look") or {}
    if not isinstance(look_section, dict):
        raise InvalidInputError("setpiece.toml: [continuity.look] must be a table")
    look = _look(look_section, defaults.look, "continuity.look")
    by_time = {name: replace(look, **values) for name, values in _TIME_DEFAULTS.items()}
    for key, value in look_section.items():
        if isinstance(value, dict):
            name = " ".join(key.upper().split())
            by_time[name] = _look(value, by_time.get(name, look), f"continuity.look.{key}")
    return ContinuitySettings(
        face_threshold=threshold,
        frame_stride=_integer(section, "frame_stride", defaults.frame_stride, "continuity", low=1),
        detect_width=_integer(section, "detect_width", defaults.detect_width, "continuity", low=64),
        min_face=_integer(section, "min_face", defaults.min_face, "continuity", low=1),
        max_faces=_integer(section, "max_faces", defaults.max_faces, "continuity", low=1),
        look=look,
        look_by_time=by_time,
    )

"""The integrity check's settings: one frozen set of defaults, read from setpiece.toml.

``[integrity]`` in setpiece.toml overrides any of them; the CLI and the arrival hook
read the same values through :func:`integrity_settings`. The defaults come from the
evaluation in bench/integrity_eval.py (see bench/RESULTS.md): a Hamming
radius that lets every transformed copy reach pixel verification, and floors on the
three verification measures (SSIM, coarse SSIM, colour agreement) that separate aligned
copies from unrelated photographs and, mostly, from other frames of the same previs film.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from setpiece.errors import InvalidInputError

__all__ = ["IntegritySettings", "integrity_settings"]


@dataclass(frozen=True)
class IntegritySettings:
    """How references are sampled and how takes are matched against them.

    Attributes:
        check_on_arrival: Check new takes as soon as they are imported or rendered.
        hamming: Largest Hamming distance (of 64 bits) for a code to be a candidate.
        ssim: Smallest SSIM (64 px, equalised), after alignment, for a near-duplicate.
        coarse_ssim: Smallest SSIM of the raw grey pictures at 32 px, same alignment.
        colour: Smallest colour agreement (a*/b* correlation at 16 px), unless either
            picture has no colour; -1 turns the test off.
        stride: Every ``stride``-th video frame is sampled (plus every shot change).
        cut: Mean absolute grey difference (0-255) that marks a shot change.
        candidates: Most candidate reference frames verified on the pixels per take frame.
        thumb: Longest side of the reference thumbnails kept for verification.
    """

    check_on_arrival: bool = False
    hamming: int = 14
    # The three floors, chosen together at Hamming 14 (bench/RESULTS.md): natural
    # copies recall 0.956 with no false positive; previs frames of other locations 13 false
    # matches of 158 (SSIM 0.4 alone: 885 of 1,041; SSIM 0.5 alone: 382 of 538).
    ssim: float = 0.4
    coarse_ssim: float = 0.7
    colour: float = 0.55
    stride: int = 12
    cut: float = 30.0
    candidates: int = 8
    thumb: int = 256


_RANGES: dict[str, tuple[float, float]] = {
    "hamming": (0, 32),
    "ssim": (0.0, 1.0),
    "coarse_ssim": (0.0, 1.0),
    "colour": (-1.0, 1.0),
    "stride": (1, 100000),
    "cut": (0.0, 255.0),
    "candidates": (1, 1000),
    "thumb": (32, 4096),
}


def integrity_settings(settings: dict[str, Any] | None) -> IntegritySettings:
    """The ``[integrity]`` table of a parsed setpiece.toml over the defaults.

    Raises:
        InvalidInputError: An unknown key, or a value of the wrong type or range.
    """
    table = (settings or {}).get("integrity", {})
    if not isinstance(table, dict):
        raise InvalidInputError("[integrity] in setpiece.toml must be a table")
    defaults = IntegritySettings()
    known = {f.name: f for f in fields(IntegritySettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise InvalidInputError(
                f"integrity.{key} in setpiece.toml is not a setting; known: {', '.join(known)}"
            )
        default = getattr(defaults, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise InvalidInputError(f"integrity.{key} must be true or false, not {value!r}")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInputError(f"integrity.{key} must be a whole number, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"integrity.{key} must be a number, not {value!r}")
        if key in _RANGES:
            low, high = _RANGES[key]
            if not low <= value <= high:
                raise InvalidInputError(
                    f"integrity.{key} = {value!r} is out of range: use {low} to {high}"
                )
        values[key] = float(value) if isinstance(default, float) else value
    return replace(defaults, **values)

"""What checks report, in the shapes every check and every reader share.

Findings of every check share one table whose kind-specific part is JSON (``findings.data``).
The check that writes a kind and the readers of it (the integrity report, the CLI, the web
pages, the tests) agree on that part through one frozen dataclass per kind here, instead
of each spelling the keys of a dict. A payload is stored as its fields in order
(``production.views.jsonable``), so the JSON is what the checks wrote before they were typed;
:func:`read_payload` reads a stored one back.

``Unreadable`` is a take a check could not read (continuity and integrity both report them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "FindingPayload",
    "FormatMismatch",
    "IdentityDrift",
    "IdentityDriftWithinTake",
    "IdentityFound",
    "LookJump",
    "NearDuplicate",
    "ReferenceWorkRef",
    "TemporalFlicker",
    "Unreadable",
    "read_payload",
]


@dataclass(frozen=True)
class Unreadable:
    """A take a check could not read (or read only up to ``frame``), and why.

    Attributes:
        take: The take's id.
        label: The take as ``SHOT/NUMBER``.
        shot: The take's shot.
        frame: The frame where decoding stopped (the frames before it were checked);
            None when nothing could be read.
        reason: What went wrong, in one line.
    """

    take: str
    label: str
    shot: str
    frame: int | None
    reason: str


@dataclass(frozen=True)
class IdentityDrift:
    """``identity_drift``: a character's face is too far from their references."""

    largest: float
    frames_over: int
    character: str
    embedder: str


@dataclass(frozen=True)
class IdentityDriftWithinTake:
    """``identity_drift`` within a take: a face moves away from its own first appearance."""

    within_take: bool
    from_frame: int
    character: str
    embedder: str


@dataclass(frozen=True)
class IdentityFound:
    """``identity_missing`` and ``identity_unexpected``: which character, by which embedder."""

    character: str
    embedder: str


@dataclass(frozen=True)
class LookJump:
    """``look_jump``: the look changes at a cut between two shots of a scene."""

    from_shot: str
    from_take: str
    time_of_day: str | None
    delta_e2000: float
    stops: float
    kelvin: float
    contrast: float
    model: str
    fix: str


@dataclass(frozen=True)
class FormatMismatch:
    """``format_mismatch``: how a take differs from the project's format."""

    problems: list[str]


@dataclass(frozen=True)
class TemporalFlicker:
    """``temporal_flicker``: a take flickers far more than its scene's median."""

    scene: str
    scene_median: float


@dataclass(frozen=True)
class ReferenceWorkRef:
    """A reference work as a finding names it."""

    id: int
    title: str


@dataclass(frozen=True)
class NearDuplicate:
    """``near_duplicate``: a take's frame copies a frame of a reference work."""

    reference: ReferenceWorkRef
    reference_frame: int
    hamming: int
    ssim: float
    coarse_ssim: float
    colour: float | None
    mirrored: bool
    box: list[int]


FindingPayload = (
    IdentityDrift
    | IdentityDriftWithinTake
    | IdentityFound
    | LookJump
    | FormatMismatch
    | TemporalFlicker
    | NearDuplicate
)

_BY_KIND: dict[str, tuple[type[Any], ...]] = {
    "identity_drift": (IdentityDriftWithinTake, IdentityDrift),
    "identity_missing": (IdentityFound,),
    "identity_unexpected": (IdentityFound,),
    "look_jump": (LookJump,),
    "format_mismatch": (FormatMismatch,),
    "temporal_flicker": (TemporalFlicker,),
    "near_duplicate": (NearDuplicate,),
}


def read_payload(kind: str, data: Mapping[str, Any]) -> FindingPayload | None:
    """The typed payload of a stored finding; None for a kind or a shape this Setpiece
    does not know (a finding written by a later version, or by a plugin's check)."""
    for cls in _BY_KIND.get(kind, ()):
        names = [f.name for f in fields(cls)]
        if set(names) <= set(data):
            values = {name: data[name] for name in names}
            if cls is NearDuplicate:
                reference = values["reference"]
                if not isinstance(reference, Mapping):
                    return None
                values["reference"] = ReferenceWorkRef(
                    int(reference.get("id", 0)), str(reference.get("title", ""))
                )
            payload: FindingPayload = cls(**values)
            return payload
    return None

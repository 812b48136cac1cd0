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
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

__all__ = [
    "FindingPayload",
    "FormatMismatch",
    "IdentityDrift",
    "IdentityDriftWithinTake",
    "IdentityFound",
    "IdentityVerdict",
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
class IdentityVerdict:
    """Every identity finding since issue 27: the frames judged and the verdict's reason.

    ``identity_drift`` (a drifting likeness, with ``severity`` and ``worst_frames``; or
    ``within_take`` with ``from_frame``), ``identity_other`` (a different person),
    ``identity_uncertain`` (too small, blurred, turned or ambiguous to judge),
    ``identity_missing`` and ``identity_unexpected``. Older findings keep the shapes above.

    Attributes:
        character: The character judged.
        embedder: The face model that judged (its registered name).
        frames: The frames the verdict was made from.
        reason: Why, in one line.
        distance: The verdict's distance (the median over ``frames``), if one was measured.
        calibration: What the character's decision distances come from, in words.
        severity: ``slight``, ``clear`` or ``strong`` (a drifting likeness only).
        worst_frames: The frames where the likeness is farthest (drift only).
        within_take: The face moved from its own first sighting (drift only).
        from_frame: That first sighting's frame.
    """

    character: str
    embedder: str
    frames: list[int]
    reason: str
    distance: float | None = None
    calibration: str | None = None
    severity: str | None = None
    worst_frames: list[int] | None = None
    within_take: bool = False
    from_frame: int | None = None


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
    inliers: int | None = None  # found by the keypoint stage: its fit's inliers
    agreement: float | None = None  # fraction of overlapping cells that agree

    def to_json(self) -> dict[str, Any]:
        """The stored form; the two keypoint fields only when set, so findings of the
        code path are stored byte for byte as before."""
        out = asdict(self)
        for name in ("inliers", "agreement"):
            if out[name] is None:
                del out[name]
        return out


FindingPayload = (
    IdentityVerdict
    | IdentityDrift
    | IdentityDriftWithinTake
    | IdentityFound
    | LookJump
    | FormatMismatch
    | TemporalFlicker
    | NearDuplicate
)

_BY_KIND: dict[str, tuple[type[Any], ...]] = {
    "identity_drift": (IdentityVerdict, IdentityDriftWithinTake, IdentityDrift),
    "identity_missing": (IdentityVerdict, IdentityFound),
    "identity_unexpected": (IdentityVerdict, IdentityFound),
    "identity_other": (IdentityVerdict,),
    "identity_uncertain": (IdentityVerdict,),
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
        required = {f.name for f in fields(cls) if f.default is MISSING}
        if required <= set(data):
            values = {name: data[name] for name in names if name in data}
            if cls is IdentityVerdict:
                values["frames"] = [int(f) for f in values["frames"]]
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

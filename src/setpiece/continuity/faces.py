"""Identity continuity: is the face in the take the character the shot says is there?

Each character's reference images give reference descriptors (the largest face of
each image). In every sampled frame of a take, the characters the shot lists are
matched to the faces found, nearest pair first (a greedy assignment: with the
handful of people in a frame it gives the optimal pairing in practice, and it needs
no solver). Then:

* ``identity_drift``: the face taken for X is farther than the threshold from X's
  references (a face that plainly matches another bible character instead is not
  taken for X: it is that character, reported as unexpected); or, in a video, X's face moves farther than the threshold from what it
  was at the first sampled frame (the character slowly becoming someone else), with
  the frame where it first happens;
* ``identity_missing``: in a close shot (ECU, CU, MCU) an expected character has no
  face in any sampled frame;
* ``identity_unexpected``: a face left over matches another bible character, one the
  shot does not list.

A character without reference images is not guessed at: it is reported in the notes.
Faces too small to describe reliably and faces beyond the per-frame limit are counted
in the notes too, never judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from setpiece.continuity.embedders import Face, FaceEmbedder
from setpiece.continuity.settings import ContinuitySettings
from setpiece.store.frames import Frame

__all__ = [
    "CLOSE_SIZES",
    "CharacterReference",
    "IdentityIssue",
    "IdentityResult",
    "check_identity",
    "reference_for",
]

CLOSE_SIZES = frozenset({"ECU", "CU", "MCU"})


@dataclass(frozen=True)
class CharacterReference:
    """A character's reference descriptors (one per reference image that shows a face)."""

    name: str
    descriptors: list[np.ndarray]
    crop: np.ndarray | None = None  # the first reference face, for evidence
    notes: list[str] = field(default_factory=list)


def reference_for(
    embedder: FaceEmbedder,
    name: str,
    pictures: Sequence[tuple[str, np.ndarray]],
    settings: ContinuitySettings,
) -> CharacterReference:
    """Describes a character from its reference pictures, given as (label, RGB pixels)."""
    descriptors: list[np.ndarray] = []
    crop = None
    notes: list[str] = []
    if not pictures:
        notes.append(f"{name} has no reference images: identity not checked for {name}")
    for label, rgb in pictures:
        scan = embedder.scan(
            rgb, detect_width=settings.detect_width, min_face=settings.min_face, max_faces=1
        )
        if not scan.faces:
            notes.append(
                f"{name}'s reference {label} shows no usable face"
                + (f" ({scan.too_small} too small)" if scan.too_small else "")
            )
            continue
        if scan.found > 1:
            notes.append(f"{name}'s reference {label} shows {scan.found} faces: the largest used")
        descriptors.append(scan.faces[0].descriptor)
        if crop is None:
            crop = scan.faces[0].crop(rgb).copy()
    if pictures and not descriptors:
        notes.append(f"{name} has no reference face: identity not checked for {name}")
    return CharacterReference(name, descriptors, crop, notes)


@dataclass(frozen=True)
class IdentityIssue:
    """One identity finding of a take, before it is stored."""

    kind: str
    character: str
    frame: int | None
    score: float | None
    threshold: float
    detail: str
    face: np.ndarray | None = None  # the offending face crop
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityResult:
    issues: list[IdentityIssue]
    frames: int
    faces: int
    notes: list[str]


@dataclass
class _Track:
    first: tuple[int, np.ndarray] | None = None
    worst: tuple[int, float, np.ndarray] | None = None  # first frame over the threshold
    largest: float = 0.0
    over: int = 0
    seen: int = 0
    drift: tuple[int, float, np.ndarray] | None = None  # within the take


def _nearest(
    face: Face, references: dict[str, CharacterReference], embedder: FaceEmbedder
) -> dict[str, float]:
    return {
        name: min(embedder.distance(face.descriptor, d) for d in ref.descriptors)
        for name, ref in references.items()
        if ref.descriptors
    }


def check_identity(
    embedder: FaceEmbedder,
    frames: Sequence[Frame],
    expected: Sequence[str],
    references: dict[str, CharacterReference],
    settings: ContinuitySettings,
    *,
    close_shot: bool,
) -> IdentityResult:
    """Matches the faces of a take's sampled frames to the characters expected in it.

    Args:
        embedder: The face model.
        frames: The take's sampled frames, in order.
        expected: The characters the shot lists, in blocking order.
        references: Every bible character's references (for unexpected faces too).
        settings: Thresholds and detection sizes.
        close_shot: Whether the shot size says faces are visible (ECU, CU, MCU).
    """
    threshold = settings.face_threshold
    judged = [name for name in expected if name in references and references[name].descriptors]
    tracks = {name: _Track() for name in judged}
    unexpected: dict[str, tuple[int, float, np.ndarray]] = {}
    faces_total = small_total = crowd_frames = 0
    for frame in frames:
        scan = embedder.scan(
            frame.rgb,
            detect_width=settings.detect_width,
            min_face=settings.min_face,
            max_faces=settings.max_faces,
        )
        faces_total += scan.found
        small_total += scan.too_small
        if scan.found - scan.too_small > len(scan.faces):
            crowd_frames += 1
        distances = [_nearest(face, references, embedder) for face in scan.faces]
        taken = _match_frame(embedder, frame, scan.faces, distances, tracks, threshold)
        for index, face in enumerate(scan.faces):
            if index in taken or not distances[index]:
                continue
            name, distance = min(distances[index].items(), key=lambda item: item[1])
            if name not in expected and distance <= threshold and name not in unexpected:
                unexpected[name] = (frame.index, distance, face.crop(frame.rgb).copy())
    sampled = len(frames)
    issues: list[IdentityIssue] = []
    for name in judged:
        issues.extend(_track_issues(name, tracks[name], threshold, sampled))
        if close_shot and tracks[name].seen == 0 and sampled:
            issues.append(
                IdentityIssue(
                    "identity_missing",
                    name,
                    frames[0].index,
                    None,
                    threshold,
                    f"no face for {name} in {sampled} sampled frame(s) of a close shot",
                )
            )
    for name, (at, distance, crop) in sorted(unexpected.items()):
        issues.append(
            IdentityIssue(
                "identity_unexpected",
                name,
                at,
                round(distance, 4),
                threshold,
                f"a face matches {name} ({distance:.3f}, threshold {threshold:g}) at frame {at}, "
                "but the shot does not list them",
                crop,
            )
        )
    notes: list[str] = []
    if small_total:
        notes.append(f"{small_total} face(s) smaller than {settings.min_face} px not judged")
    if crowd_frames:
        notes.append(
            f"{crowd_frames} frame(s) with more than {settings.max_faces} faces: "
            "only the largest judged"
        )
    return IdentityResult(issues, sampled, faces_total, notes)


def _match_frame(
    embedder: FaceEmbedder,
    frame: Frame,
    faces: Sequence[Face],
    distances: list[dict[str, float]],
    tracks: dict[str, _Track],
    threshold: float,
) -> set[int]:
    """Pairs the judged characters with a frame's faces, nearest pair first, and follows
    each pair in its character's track. Returns the indexes of the faces taken."""
    pairs = sorted(
        (d[name], i, name) for i, d in enumerate(distances) for name in tracks if name in d
    )
    taken: set[int] = set()
    placed: set[str] = set()
    for distance, index, name in pairs:
        if index in taken or name in placed:
            continue
        closest, nearest = min(distances[index].items(), key=lambda item: item[1])
        if distance > threshold and closest != name and nearest <= threshold:
            continue  # plainly someone else from the bible: left for identity_unexpected
        taken.add(index)
        placed.add(name)
        _follow(tracks[name], embedder, frame, faces[index], distance, threshold)
    return taken


def _follow(
    track: _Track,
    embedder: FaceEmbedder,
    frame: Frame,
    face: Face,
    distance: float,
    threshold: float,
) -> None:
    """Adds one sighting of a character: its distance from the references, and how far it
    has moved from the first sighting."""
    track.seen += 1
    track.largest = max(track.largest, distance)
    if distance > threshold:
        track.over += 1
        if track.worst is None:
            track.worst = (frame.index, distance, face.crop(frame.rgb).copy())
    if track.first is None:
        track.first = (frame.index, face.descriptor)
    elif track.drift is None:
        moved = embedder.distance(track.first[1], face.descriptor)
        if moved > threshold:
            track.drift = (frame.index, moved, face.crop(frame.rgb).copy())


def _track_issues(name: str, track: _Track, threshold: float, sampled: int) -> list[IdentityIssue]:
    """The drift findings of one character's track: from its references, within the take."""
    issues: list[IdentityIssue] = []
    if track.worst is not None:
        at, distance, crop = track.worst
        issues.append(
            IdentityIssue(
                "identity_drift",
                name,
                at,
                round(distance, 4),
                threshold,
                f"the face taken for {name} is {distance:.3f} from {name}'s references "
                f"(threshold {threshold:g}) at frame {at}"
                + (f"; {track.over} of {track.seen} sampled frames" if sampled > 1 else ""),
                crop,
                {"largest": round(track.largest, 4), "frames_over": track.over},
            )
        )
    if track.drift is not None and track.first is not None:
        at, moved, crop = track.drift
        issues.append(
            IdentityIssue(
                "identity_drift",
                name,
                at,
                round(moved, 4),
                threshold,
                f"{name}'s face drifts within the take: {moved:.3f} at frame {at} from "
                f"frame {track.first[0]} (threshold {threshold:g})",
                crop,
                {"within_take": True, "from_frame": track.first[0]},
            )
        )
    return issues

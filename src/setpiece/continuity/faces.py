"""Identity continuity: is the face in the take the character the shot says is there?

One frame decides nothing on generated footage: a generator's likeness moves from frame
to frame, and a turned or blurred face measures far from anyone. So a take's verdict
for a character is made from many sampled frames:

1. in every sampled frame, the characters the shot lists are paired with the faces
   found, nearest pair first (a greedy assignment: with the handful of people in a
   frame it gives the optimal pairing in practice, and it needs no solver); a face that
   plainly matches another bible character is not taken for the character;
2. each sighting is kept only when the face is good enough to judge: wide enough,
   sharp enough (variance of the Laplacian at 64 px), frontal enough (the nose's
   offset from the eye midline, from the five landmarks) and textured like skin (a
   drawing is flat between its lines);
3. the verdict distance is the median over the best-quality sightings (up to
   ``judge_frames``), and the frames used are reported.

The decision distances come from each character's own references (:class:`Calibration`):
the same person within ``same`` (the global threshold, raised to the largest distance
between two of the character's references when there are several: a character whose
references vary that much legitimately looks that varied); someone else beyond
``other``; and a band around ``other`` too close to call. A character with a single
reference falls back to the global distances and the report says so. Then:

* no finding: the median is within ``same``;
* ``identity_drift``: between ``same`` and ``other``, a likeness drifting, with a
  severity in units of that gap and the frames where it is worst; also a face that moves
  from its own first sighting by more than ``same`` within the take;
* ``identity_other``: beyond ``other``: a different person where the character should be
  (also, in a close shot, when the only face there is another bible character's, who is
  then ``identity_unexpected`` too);
* ``identity_uncertain``: faces too small, blurred or turned to judge, too few good
  frames, a median within the band around ``other``, or a face as close to another
  character of the film as to this one;
* ``identity_missing``: in a close shot (ECU, CU, MCU) no face at all for a character;
* ``identity_unexpected``: a face left over matches another bible character, one the
  shot does not list.

Measured on ../shared/data (bench/continuity_identity_verdicts.py, bench/RESULTS.md
issue 27): same-person Magic-Me clips at dlib medians of 0.46 to 0.62, the other person
at 0.95 and more; the issue reports other generators' same-person clips at 0.60 to 0.70
and a different person at 0.80, which is why "drifting" and "someone else" are two
distances and not one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from statistics import median
from typing import Any

import numpy as np

from setpiece.continuity.embedders import Face, FaceEmbedder
from setpiece.continuity.settings import ContinuitySettings
from setpiece.errors import InvalidInputError
from setpiece.store.frames import Frame

__all__ = [
    "CLOSE_SIZES",
    "Calibration",
    "CharacterReference",
    "FaceQuality",
    "IdentityIssue",
    "IdentityResult",
    "calibrate",
    "check_identity",
    "check_reference",
    "face_quality",
    "reference_for",
]

CLOSE_SIZES = frozenset({"ECU", "CU", "MCU"})
# A detection counts as a face of a reference photo above this HOG score. The patch on
# scikit-image's astronaut's suit scores 0.12; the weaker face of a two-person photo of
# faces_identity 0.42, every single portrait there 1.0 and more.
REFERENCE_CONFIDENCE = 0.3


@dataclass(frozen=True)
class CharacterReference:
    """A character's reference descriptors (one per reference image that shows a face)."""

    name: str
    descriptors: list[np.ndarray]
    crop: np.ndarray | None = None  # the first reference face, for evidence
    notes: list[str] = field(default_factory=list)


def check_reference(
    path: str | os.PathLike[str], embedder: FaceEmbedder | None = None, *, detect_width: int = 640
) -> None:
    """Refuses a character's reference picture that does not show exactly one face.

    Args:
        path: The picture file.
        embedder: The face model (dlib's by default).
        detect_width: The detection width of the check.

    Raises:
        InvalidInputError: No face, or several faces, named with the file.
        InvalidMediaError: Not a picture.
        MissingExtraError: The faces extra is not installed.
    """
    from setpiece.continuity.embedders import face_embedder
    from setpiece.store.frames import load_rgb

    rgb = load_rgb(path, what="reference")
    model = embedder or face_embedder()
    scan = model.scan(rgb, detect_width=detect_width, min_face=1, max_faces=8)
    faces = [f for f in scan.faces if f.confidence >= REFERENCE_CONFIDENCE]
    if not faces:
        raise InvalidInputError(
            f"reference {os.fspath(path)} shows no face: a character's reference must show "
            "their face, frontal and at least 40 px wide"
        )
    if len(faces) > 1:
        raise InvalidInputError(
            f"reference {os.fspath(path)} shows {len(faces)} faces: a character's reference "
            "must show that character alone (crop it to their face)"
        )


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
class Calibration:
    """A character's decision distances, from their own references and the film's others.

    Attributes:
        same: The same person within this distance.
        other: Someone else beyond ``other + band``; within ``band`` of it, uncertain.
        band: Half the width of the too-close-to-call zone around ``other``.
        spread: The largest distance between two of the character's references (None
            with a single reference).
        nearest: The closest other character of the film and its distance, if any.
        basis: In words, what the distances come from.
    """

    same: float
    other: float
    band: float
    spread: float | None
    nearest: tuple[str, float] | None
    basis: str


def calibrate(
    name: str,
    references: dict[str, CharacterReference],
    embedder: FaceEmbedder,
    settings: ContinuitySettings,
) -> Calibration:
    """The decision distances of one character (see the module docstring)."""
    threshold = settings.face_threshold or embedder.default_threshold
    other = settings.face_other or embedder.default_other
    band = (other - threshold) / 5
    own = references[name].descriptors
    nearest: tuple[str, float] | None = None
    for rival, ref in references.items():
        if rival == name or not ref.descriptors or not own:
            continue
        distance = min(embedder.distance(a, b) for a in own for b in ref.descriptors)
        if nearest is None or distance < nearest[1]:
            nearest = (rival, distance)
    if len(own) < 2:
        return Calibration(
            threshold,
            other,
            band,
            None,
            nearest,
            f"one reference: the global distances ({threshold:g} same, {other:g} other)",
        )
    spread = max(embedder.distance(a, b) for a, b in combinations(own, 2))
    same = min(max(threshold, spread), other - 2 * band)
    basis = f"{len(own)} references, spread {spread:.3f}: same within {same:.3f}"
    if spread > other:
        basis += f" (the references are farther apart than {other:g}: are they one person?)"
    return Calibration(same, other, band, spread, nearest, basis)


@dataclass(frozen=True)
class FaceQuality:
    """How well a face can be judged: its width, sharpness and turn."""

    width: int
    sharpness: float  # variance of the Laplacian of the face box, grey, at 64x64
    turn: float  # the nose's offset from the eye midline over the eye distance: 0 frontal
    flat: float = 0.0  # share of the face without texture (3x3 spread under 1.5 grey levels)

    def problem(self, settings: ContinuitySettings) -> str | None:
        """Why the face cannot be judged ("small", "blurred", "turned"), or None."""
        if self.width < settings.min_face:
            return "small"
        if self.sharpness < settings.min_sharpness:
            return "blurred"
        if self.turn > settings.max_turn:
            return "turned"
        if self.flat > settings.max_flat:
            return "drawn"
        return None

    def score(self, settings: ContinuitySettings) -> float:
        """Higher is better: sharp, frontal and large faces first."""
        sharp = min(1.0, self.sharpness / (4 * max(settings.min_sharpness, 1.0)))
        frontal = 1.0 - min(1.0, self.turn / max(settings.max_turn, 1e-6))
        size = min(1.0, self.width / (3 * settings.min_face))
        return sharp + frontal + size


def face_quality(rgb: np.ndarray, face: Face) -> FaceQuality:
    """Measures one face of a picture."""
    import cv2

    box = np.ascontiguousarray(rgb[face.top : face.bottom, face.left : face.right])
    if box.size == 0:
        return FaceQuality(face.width, 0.0, 1.0)
    grey = cv2.cvtColor(cv2.resize(box, (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(grey.astype(np.float64), cv2.CV_64F).var())
    # Skin has texture even when generated; a drawing is flat between its lines.
    pixels = grey.astype(np.float32)
    mean = cv2.blur(pixels, (3, 3))
    spread = np.sqrt(np.maximum(cv2.blur(pixels * pixels, (3, 3)) - mean * mean, 0.0))
    flat = float((spread < 1.5).mean())
    turn = 0.0
    if face.landmarks is not None:
        points = face.landmarks
        first, second = points[0:2].mean(0), points[2:4].mean(0)
        axis = second - first
        eyes = float(np.linalg.norm(axis))
        if eyes > 0:
            turn = abs(float(np.dot(points[4] - (first + second) / 2, axis / eyes))) / eyes
    return FaceQuality(face.width, sharpness, turn, flat)


@dataclass(frozen=True)
class IdentityIssue:
    """One identity finding of a take, before it is stored.

    ``frames`` are the frames the verdict was made from, ``reason`` why in one line; the
    typed extras (severity, worst frames, distances) are in ``data``.
    """

    kind: str
    character: str
    frame: int | None
    score: float | None
    threshold: float
    detail: str
    face: np.ndarray | None = None  # the offending face crop
    data: dict[str, Any] = field(default_factory=dict)
    frames: list[int] = field(default_factory=list)
    reason: str = ""


@dataclass(frozen=True)
class IdentityResult:
    issues: list[IdentityIssue]
    frames: int
    faces: int
    notes: list[str]


@dataclass(frozen=True)
class _Sighting:
    frame: int
    distance: float
    quality: FaceQuality
    problem: str | None
    rival: tuple[str, float] | None  # the nearest other character and its distance
    descriptor: np.ndarray
    crop: np.ndarray


@dataclass
class _Track:
    sightings: list[_Sighting] = field(default_factory=list)


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
    """Judges the characters expected in a take from its sampled frames.

    Args:
        embedder: The face model.
        frames: The take's sampled frames, in order.
        expected: The characters the shot lists, in blocking order.
        references: Every bible character's references (for unexpected faces too).
        settings: Distances, quality limits and detection sizes.
        close_shot: Whether the shot size says faces are visible (ECU, CU, MCU).
    """
    threshold = settings.face_threshold or embedder.default_threshold
    judged = [name for name in expected if name in references and references[name].descriptors]
    tracks = {name: _Track() for name in judged}
    unexpected: dict[str, tuple[int, float, np.ndarray]] = {}  # the closest sighting
    seen_at: dict[str, list[int]] = {}  # every frame an unlisted character's face is in
    faces_total = small_total = crowd_frames = 0
    crowded: set[int] = set()  # frames with faces too small or too many to describe
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
        if scan.found > len(scan.faces):
            crowded.add(frame.index)
        distances = [_nearest(face, references, embedder) for face in scan.faces]
        taken = _match_frame(frame, scan.faces, distances, tracks, threshold, settings)
        for index, face in enumerate(scan.faces):
            if index in taken or not distances[index]:
                continue
            name, distance = min(distances[index].items(), key=lambda item: item[1])
            if name in expected or distance > threshold:
                continue
            seen_at.setdefault(name, []).append(frame.index)
            if name not in unexpected or distance < unexpected[name][1]:
                unexpected[name] = (frame.index, distance, face.crop(frame.rgb).copy())
    sampled = [f.index for f in frames]
    issues: list[IdentityIssue] = []
    for name in judged:
        calibration = calibrate(name, references, embedder, settings)
        issue = _verdict(name, tracks[name].sightings, calibration, settings, sampled, crowded)
        if issue is not None:
            issues.append(issue)
        drift = _within_take(name, tracks[name].sightings, calibration, embedder)
        if drift is not None and (issue is None or issue.kind != "identity_uncertain"):
            issues.append(drift)
        if not tracks[name].sightings and sampled and close_shot:
            if unexpected:
                # One finding for the one face: the character in whose place it stands is
                # named in it, not reported again as identity_unexpected.
                who = min(unexpected, key=lambda n: unexpected[n][1])
                closest = unexpected.pop(who)
                issues.append(_someone_else(name, who, closest, seen_at[who], calibration))
            else:
                issues.append(_unseen(name, sampled, small_total, settings, threshold))
    for name, (at, distance, crop) in sorted(unexpected.items()):
        issues.append(
            IdentityIssue(
                "identity_unexpected",
                name,
                at,
                round(distance, 4),
                threshold,
                f"a face matches {name} ({distance:.3f}, threshold {threshold:g}) in "
                f"{len(seen_at[name])} of {len(sampled)} sampled frame(s), first at frame "
                f"{seen_at[name][0]}, but the shot does not list them",
                crop,
                frames=seen_at[name],
                reason=f"a face matches {name}, whom the shot does not list",
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
    return IdentityResult(issues, len(frames), faces_total, notes)


def _match_frame(
    frame: Frame,
    faces: Sequence[Face],
    distances: list[dict[str, float]],
    tracks: dict[str, _Track],
    threshold: float,
    settings: ContinuitySettings,
) -> set[int]:
    """Pairs the judged characters with a frame's faces, nearest pair first, and adds each
    pair to its character's track. Returns the indexes of the faces taken."""
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
        face = faces[index]
        quality = face_quality(frame.rgb, face)
        rivals = [(n, d) for n, d in distances[index].items() if n != name]
        tracks[name].sightings.append(
            _Sighting(
                frame.index,
                distance,
                quality,
                quality.problem(settings),
                min(rivals, key=lambda item: item[1]) if rivals else None,
                face.descriptor,
                face.crop(frame.rgb).copy(),
            )
        )
    return taken


def _counted(sightings: Sequence[_Sighting]) -> str:
    problems: dict[str, int] = {}
    for s in sightings:
        if s.problem:
            problems[s.problem] = problems.get(s.problem, 0) + 1
    return ", ".join(f"{count} {problem}" for problem, count in sorted(problems.items()))


def _severity(fraction: float) -> str:
    return "slight" if fraction < 1 / 3 else "clear" if fraction < 2 / 3 else "strong"


def _uncertain(
    name: str, reason: str, frames: list[int], calibration: Calibration, **data: Any
) -> IdentityIssue:
    return IdentityIssue(
        "identity_uncertain",
        name,
        frames[0] if frames else None,
        data.get("distance"),
        calibration.same,
        f"{name} cannot be judged: {reason}",
        data.pop("face", None),
        {"calibration": calibration.basis, **data},
        frames,
        reason,
    )


def _verdict(
    name: str,
    sightings: list[_Sighting],
    calibration: Calibration,
    settings: ContinuitySettings,
    sampled: list[int],
    crowded: frozenset[int] | set[int] = frozenset(),
) -> IdentityIssue | None:
    """The take's verdict for one character from its sightings (None: the same person).

    ``crowded`` are the frames with faces left undescribed (too small, or beyond
    ``max_faces``): there the character may be one of those, so a face that is someone
    else is not proof that the character is absent.
    """
    if not sightings:
        return None
    good = [s for s in sightings if s.problem is None]
    if not good:
        return _uncertain(
            name,
            f"{len(sightings)} face(s) taken for {name}, none good enough to judge "
            f"({_counted(sightings)})",
            [s.frame for s in sightings],
            calibration,
        )
    best = sorted(good, key=lambda s: -s.quality.score(settings))[: settings.judge_frames]
    best.sort(key=lambda s: s.frame)
    used = [s.frame for s in best]
    distance = float(median(s.distance for s in best))
    shown = f"median {distance:.3f} over frames {', '.join(map(str, used))}"
    if distance <= calibration.same:
        return None
    worst = sorted(best, key=lambda s: -s.distance)
    common = {"distance": round(distance, 4), "face": worst[0].crop}
    if len(best) < min(2, len(sampled)):
        return _uncertain(
            name,
            f"only frame {used[0]} of {len(sampled)} sampled shows a face good enough to "
            f"judge ({_counted(sightings) or 'the others show none'}); {shown}",
            used,
            calibration,
            **common,
        )
    if abs(distance - calibration.other) <= calibration.band:
        return _uncertain(
            name,
            f"{shown} is too close to the different-person distance {calibration.other:g} "
            f"(±{calibration.band:.2f}) to call",
            used,
            calibration,
            **common,
        )
    rivals = [s.rival for s in best if s.rival is not None]
    if rivals and len(rivals) == len(best):
        rival = median(d for _, d in rivals)
        who = rivals[0][0]
        if rival <= distance + calibration.band:
            return _uncertain(
                name,
                f"{shown}, and {rival:.3f} from {who}: as close to {who} as to {name}",
                used,
                calibration,
                **common,
            )
    hidden = [f for f in used if f in crowded]
    if distance > calibration.other and len(hidden) * 2 >= len(used):
        return _uncertain(
            name,
            f"{shown}: someone else, but frame(s) {', '.join(map(str, hidden))} also show faces "
            f"too small or too many to describe, and {name} may be one of them",
            used,
            calibration,
            **common,
        )
    if distance > calibration.other:
        return IdentityIssue(
            "identity_other",
            name,
            worst[0].frame,
            round(distance, 4),
            calibration.other,
            f"a different person where {name} should be: {shown}, beyond "
            f"{calibration.other:g} ({calibration.basis})",
            worst[0].crop,
            {"calibration": calibration.basis, "distance": round(distance, 4)},
            used,
            f"{shown} is beyond the different-person distance {calibration.other:g}",
        )
    fraction = (distance - calibration.same) / max(calibration.other - calibration.same, 1e-6)
    severity = _severity(fraction)
    worst_frames = [s.frame for s in worst[:3]]
    return IdentityIssue(
        "identity_drift",
        name,
        worst[0].frame,
        round(distance, 4),
        calibration.same,
        f"{name}'s likeness drifts ({severity}): {shown}, beyond {calibration.same:.3f} but "
        f"within {calibration.other:g} ({calibration.basis}); worst at frame(s) "
        f"{', '.join(map(str, worst_frames))}",
        worst[0].crop,
        {
            "calibration": calibration.basis,
            "distance": round(distance, 4),
            "severity": severity,
            "worst_frames": worst_frames,
            "largest": round(worst[0].distance, 4),
            "frames_over": sum(s.distance > calibration.same for s in best),
        },
        used,
        f"{shown} lies between the same-person distance {calibration.same:.3f} and the "
        f"different-person distance {calibration.other:g}: a drifting likeness",
    )


def _within_take(
    name: str, sightings: list[_Sighting], calibration: Calibration, embedder: FaceEmbedder
) -> IdentityIssue | None:
    """``identity_drift`` within a take: good faces move away from the first good one.

    Two consecutive good sightings must both be farther than ``same`` from the first: one
    odd frame (a generator's glitch, a blink) is not a drift.
    """
    good = [s for s in sightings if s.problem is None]
    if len(good) < 3:
        return None
    first = good[0]
    moved = [embedder.distance(first.descriptor, s.descriptor) for s in good]
    for index in range(1, len(good) - 1):
        if moved[index] > calibration.same and moved[index + 1] > calibration.same:
            sighting, distance = good[index], moved[index]
            reason = (
                f"{name}'s face at frame {sighting.frame} is {distance:.3f} from the same face "
                f"at frame {first.frame} (beyond {calibration.same:.3f}), and stays away at "
                f"frame {good[index + 1].frame}"
            )
            return IdentityIssue(
                "identity_drift",
                name,
                sighting.frame,
                round(distance, 4),
                calibration.same,
                f"{name}'s face drifts within the take: {distance:.3f} at frame {sighting.frame} "
                f"from frame {first.frame} (threshold {calibration.same:g})",
                sighting.crop,
                {"within_take": True, "from_frame": first.frame},
                [first.frame, sighting.frame, good[index + 1].frame],
                reason,
            )
    return None


def _someone_else(
    name: str,
    who: str,
    closest: tuple[int, float, np.ndarray],
    frames: list[int],
    calibration: Calibration,
) -> IdentityIssue:
    """A close shot where the character's place is taken by another bible character, ``who``,
    seen in ``frames`` and closest to their references at ``closest``."""
    at, distance, crop = closest
    reason = (
        f"the face where {name} should be is {who}'s ({distance:.3f} from {who}'s "
        f"references at frame {at}, seen in {len(frames)} frame(s)), and no face is {name}'s"
    )
    return IdentityIssue(
        "identity_other",
        name,
        at,
        None,
        calibration.other,
        f"a different person where {name} should be: {reason}",
        crop,
        {"calibration": calibration.basis, "unexpected": who},
        frames,
        reason,
    )


def _unseen(
    name: str, sampled: list[int], small: int, settings: ContinuitySettings, threshold: float
) -> IdentityIssue:
    """A close shot where no face was taken for the character: missing, or too small to say."""
    if small:
        reason = (
            f"no face for {name} wide enough to judge in {len(sampled)} sampled frame(s): "
            f"{small} face(s) under {settings.min_face} px"
        )
        return IdentityIssue(
            "identity_uncertain",
            name,
            sampled[0],
            None,
            threshold,
            f"{name} cannot be judged: {reason}",
            frames=sampled,
            reason=reason,
        )
    reason = f"no face for {name} in {len(sampled)} sampled frame(s) of a close shot"
    return IdentityIssue(
        "identity_missing", name, sampled[0], None, threshold, reason, frames=sampled, reason=reason
    )

"""The script supervisor's pass: independent checkers over the same takes, one report.

``check_continuity`` gathers the scope once (shots in script order, their scenes,
their takes, the project's format) and hands it to each checker in ``CHECKERS``; each
returns its findings and notes. Adding a check is one line in that list (or passing
``checkers=``): a checker is anything with a ``name``, the finding ``kinds`` it owns,
and ``run(scope)``. The findings replace what the same checks found before on the
same takes and shots, so a re-run never piles up stale findings. Checks that other
capabilities own (motion's ``temporal_flicker``) are added to the list by the layer
above (``setpiece.pipeline.hooks.continuity_checkers``): continuity imports no other
capability, and reads what generators declare through ``setpiece.production.generators``.

Which takes are judged for identity (by the embedder ``[continuity] embedder`` names,
which the notes say; a video sampled every ``frame_stride`` frames, or more often so that
at least 16 frames are judged): imported takes (no generator, or one that is not
registered) and those from generators that declare ``photographic_faces``; previs
takes draw silhouettes, so they are listed as skipped with the reason. Look checks
compare shots that cut together (consecutive shots of a scene) through each shot's
circled take, else its latest; format checks look at every take.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from setpiece.continuity.embedders import FaceEmbedder, face_embedder
from setpiece.continuity.faces import (
    CLOSE_SIZES,
    CharacterReference,
    IdentityIssue,
    check_identity,
    reference_for,
)
from setpiece.continuity.look import (
    Box,
    GradeShift,
    LookDifference,
    SettingLook,
    TakeLight,
    face_boxes,
    format_problems,
    measure_take,
    shows_no_setting,
)
from setpiece.continuity.report import side_by_side
from setpiece.continuity.settings import ContinuitySettings, LookThresholds, continuity_settings
from setpiece.errors import InvalidMediaError, StorageError
from setpiece.model.enums import TakeKind, TakeStatus
from setpiece.model.findings import (
    FindingPayload,
    FormatMismatch,
    IdentityVerdict,
    LookJump,
    Unreadable,
)
from setpiece.production.context import Production
from setpiece.production.views import SceneView, ShotView, TakeView, jsonable
from setpiece.store.frames import Frame, load_rgb, media_source, take_pictures
from setpiece.store.video import reason

__all__ = [
    "CHECKERS",
    "CheckScope",
    "Checker",
    "CheckerOutput",
    "ContinuityFinding",
    "ContinuityReport",
    "FormatChecker",
    "IdentityChecker",
    "LookChecker",
    "Skipped",
    "check_continuity",
    "is_photographic",
    "representative_take",
]

Progress = Callable[[str, int, int], None]
_LOOK_FRAMES = 8  # frames sampled per take for its look
_IDENTITY_FRAMES = 16  # at least this many frames of a video judged for identity


@dataclass(frozen=True)
class ContinuityFinding:
    """A finding as checks return it; JSON: kind, shot, take, character, frame, score, threshold, detail."""

    kind: str
    shot: str
    take: str | None
    character: str | None
    frame: int | None
    score: float | None
    threshold: float | None
    detail: str
    data: FindingPayload | Mapping[str, Any] = field(default_factory=dict)
    evidence_png: bytes | None = None

    # Not jsonable's shape: leaves out ``evidence_png`` (bytes: stored as evidence media instead).
    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "shot": self.shot,
            "take": self.take,
            "character": self.character,
            "frame": self.frame,
            "score": self.score,
            "threshold": self.threshold,
            "detail": self.detail,
            "data": jsonable(self.data),
        }


@dataclass(frozen=True)
class Skipped:
    """A take a check did not apply to, and why."""

    shot: str
    take: str
    check: str
    reason: str


@dataclass(frozen=True)
class ContinuityReport:
    findings: list[ContinuityFinding]
    takes_checked: int
    skipped: list[Skipped]
    notes: list[str]
    unreadable: list[Unreadable]
    # Take id -> SHOT/NUMBER, for every take in scope: what reports show instead of ids.
    labels: dict[str, str] = field(default_factory=dict)

    def label(self, take: str | None) -> str | None:
        """A take as ``SHOT/NUMBER`` (its id if it was not in scope)."""
        return None if take is None else self.labels.get(take, take)


@dataclass
class CheckerOutput:
    findings: list[ContinuityFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)  # take ids examined


class CheckScope:
    """What the checkers look at: shots in script order, their scenes and takes.

    Frames are read here, once per take and stride, so two checkers never decode the
    same take twice; a video that breaks mid-way is noted in ``unreadable`` and its
    frames before the break are used.
    """

    def __init__(
        self,
        production: Production,
        settings: ContinuitySettings,
        shots: list[ShotView],
        scenes: dict[str, SceneView],
        takes: dict[str, list[TakeView]],
        *,
        previous: dict[str, ShotView] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.production = production
        self.settings = settings
        self.shots = shots
        self.scenes = scenes
        self.takes = takes  # by shot code; also holds the takes of the shots in ``previous``
        self.previous = previous or {}  # the shot each shot cuts from, within its scene
        self.progress = progress or (lambda phase, done, total: None)
        self.unreadable: list[Unreadable] = []
        self._frames: dict[tuple[str, int], list[Frame]] = {}
        project = production.project_row()
        self.width, self.height = project.width, project.height
        self.aspect = Fraction(project.aspect_num, project.aspect_den)
        self.fps = production.fps

    def frames(self, take: TakeView, every: int) -> list[Frame]:
        """The take's every ``every``-th frame (a still: its one picture)."""
        key = (take.id, every)
        if key not in self._frames:
            frames: list[Frame] = []
            if take.media is not None:
                try:
                    frames, stopped = take_pictures(
                        take.media, take.label, self.production.store, every=every
                    )
                except (InvalidMediaError, StorageError) as exc:
                    self.unreadable.append(
                        Unreadable(take.id, take.label, take.shot, None, reason(exc))
                    )
                else:
                    if stopped is not None:
                        self.unreadable.append(
                            Unreadable(
                                take.id,
                                take.label,
                                take.shot,
                                stopped.frame,
                                f"{reason(stopped)}; the frames before it were checked",
                            )
                        )
            self._frames[key] = frames
        return self._frames[key]

    def all_takes(self) -> list[TakeView]:
        return [t for shot in self.shots for t in self.takes.get(shot.code, [])]

    @cached_property
    def generators(self) -> dict[str, bool]:
        """Registered generators' ``photographic_faces`` by name."""
        from setpiece.production.generators import generator_directory

        registered = generator_directory().registered()
        return {name: declared.photographic_faces for name, declared in registered.items()}


class Checker(Protocol):
    """One continuity check over a scope of takes."""

    name: str
    kinds: frozenset[str]

    def run(self, scope: CheckScope) -> CheckerOutput: ...


def is_photographic(take: TakeView, generators: dict[str, bool]) -> tuple[bool, str]:
    """Whether a take's media shows real faces, and why (or why not)."""
    backend = take.recipe.backend
    if backend is None:
        return True, "imported"
    if backend not in generators:
        return True, f"imported from {backend}"
    if generators[backend]:
        return True, f"generator {backend} draws photographic faces"
    return False, f"generator {backend} does not draw photographic faces (previs silhouettes)"


def representative_take(takes: list[TakeView]) -> TakeView | None:
    """The take that stands for its shot in the cut: the circled one, else the latest."""
    usable = [t for t in takes if t.media is not None]
    circled = [t for t in usable if t.status == TakeStatus.CIRCLED]
    if circled:
        return circled[-1]
    return max(usable, key=lambda t: t.number) if usable else None


def _evidence(pictures: list[np.ndarray | None], captions: list[str] | None = None) -> bytes | None:
    """The pictures side by side (each captioned, where ``captions`` are given)."""
    kept = [
        (p, captions[i] if captions else "")
        for i, p in enumerate(pictures)
        if p is not None and p.size
    ]
    if not kept:
        return None
    return side_by_side([p for p, _ in kept], captions=[c for _, c in kept] if captions else None)


class IdentityChecker:
    """identity_drift, identity_other, identity_uncertain, identity_missing,
    identity_unexpected (see ``continuity.faces``)."""

    name = "identity"
    kinds = frozenset(
        {
            "identity_drift",
            "identity_other",
            "identity_uncertain",
            "identity_missing",
            "identity_unexpected",
        }
    )

    def __init__(self, embedder: FaceEmbedder | None = None) -> None:
        self._embedder = embedder

    def _references(
        self, scope: CheckScope, embedder: FaceEmbedder
    ) -> dict[str, CharacterReference]:
        from setpiece.model.enums import BibleKind
        from setpiece.production.bible import list_entries

        references = {}
        for entry in list_entries(scope.production, BibleKind.CHARACTER):
            pictures = []
            for index, media in enumerate(entry.refs, 1):
                with media_source(media, f"{entry.name} reference", scope.production.store) as src:
                    pictures.append((f"#{index}", load_rgb(src, what=f"reference of {entry.name}")))
            references[entry.name] = reference_for(embedder, entry.name, pictures, scope.settings)
        return references

    def embedder(self, scope: CheckScope) -> FaceEmbedder:
        """The face model the settings name (a bad model file is refused here, at start)."""
        if self._embedder is not None:
            return self._embedder
        settings = scope.settings
        model = ""
        if settings.face_model:
            path = Path(settings.face_model).expanduser()
            model = os.fspath(path if path.is_absolute() else scope.production.config.root / path)
        return face_embedder(settings.embedder, model)

    def run(self, scope: CheckScope) -> CheckerOutput:
        out = CheckerOutput()
        # A configured model file is checked before anything else, even with nothing to judge.
        embedder = self.embedder(scope) if scope.settings.face_model else None
        judged: list[tuple[ShotView, TakeView]] = []
        for shot in scope.shots:
            for take in scope.takes.get(shot.code, []):
                ok, why = is_photographic(take, scope.generators)
                if ok:
                    judged.append((shot, take))
                else:
                    out.skipped.append(Skipped(shot.code, take.id, self.name, why))
        if not judged:
            return out
        embedder = embedder or self.embedder(scope)
        model = getattr(embedder, "model", None)
        out.notes.append(
            f"identity judged by {embedder.name}" + (f" ({model})" if model is not None else "")
        )
        references = self._references(scope, embedder)
        listed = {s.name for shot, _ in judged for s in shot.subjects if s.kind == "character"}
        for name in sorted(listed):
            if name in references:
                out.notes.extend(references[name].notes)
                if len(references[name].descriptors) == 1:
                    out.notes.append(
                        f"{name} has one reference face: judged against the global distances "
                        "(add references to calibrate on their own spread)"
                    )
        for done, (shot, take) in enumerate(judged, 1):
            scope.progress("identity", done - 1, len(judged))
            frames = scope.frames(take, _identity_stride(take, scope.settings))
            out.checked.add(take.id)
            if not frames:
                continue
            expected = [s.name for s in shot.subjects if s.kind == "character"]
            result = check_identity(
                embedder,
                frames,
                expected,
                references,
                scope.settings,
                close_shot=(shot.size or "").upper() in CLOSE_SIZES,
            )
            out.notes.extend(f"{take.label}: {note}" for note in result.notes)
            for issue in result.issues:
                reference = references.get(issue.character)
                out.findings.append(
                    ContinuityFinding(
                        kind=issue.kind,
                        shot=shot.code,
                        take=take.id,
                        character=issue.character,
                        frame=issue.frame,
                        score=issue.score,
                        threshold=issue.threshold,
                        detail=_with_frames(issue),
                        data=_identity_payload(issue, embedder.name),
                        evidence_png=_evidence([reference.crop if reference else None, issue.face]),
                    )
                )
        scope.progress("identity", len(judged), len(judged))
        return out


def _identity_stride(take: TakeView, settings: ContinuitySettings) -> int:
    """Every how many frames a take is judged: ``frame_stride``, or often enough for 16."""
    if take.kind != TakeKind.VIDEO:
        return 1
    count = take.media.frames if take.media is not None else 0
    return max(1, min(settings.frame_stride, count // _IDENTITY_FRAMES))


def _with_frames(issue: IdentityIssue) -> str:
    """The finding's one line, naming the frames judged where it does not already."""
    if not issue.frames or "frame" in issue.detail:
        return issue.detail
    return f"{issue.detail} (frames judged: {', '.join(map(str, issue.frames))})"


def _identity_payload(issue: IdentityIssue, embedder: str) -> FindingPayload:
    """The stored payload of an identity issue: the frames judged and the reason."""
    extra = issue.data
    worst = extra.get("worst_frames")
    return IdentityVerdict(
        character=issue.character,
        embedder=embedder,
        frames=list(issue.frames),
        reason=issue.reason,
        distance=extra.get("distance"),
        calibration=extra.get("calibration"),
        severity=extra.get("severity"),
        worst_frames=list(worst) if worst is not None else None,
        within_take=bool(extra.get("within_take", False)),
        from_frame=extra.get("from_frame"),
    )


class LookChecker:
    """look_jump: the setting's light changing at a cut between consecutive shots of a
    scene, or inside one take (see ``continuity.look``).

    Each shot is judged through its circled take, else its latest. A shot whose frame
    shows no setting (an insert, an extreme close-up) or whose take has no light to
    measure (black, clipped white, figures over the whole border) is listed as skipped,
    and the cut is judged around it: from the shot before it to the shot after. A grade
    shift inside a take is reported once, at the frame where it happens, and the cut is
    judged from the look the take ends on to the look the next one starts with.
    """

    name = "look"
    kinds = frozenset({"look_jump"})

    def __init__(self, model: SettingLook | None = None) -> None:
        self.model = model or SettingLook()

    def run(self, scope: CheckScope) -> CheckerOutput:
        out = CheckerOutput()
        lights: dict[str, tuple[TakeView, TakeLight] | None] = {}
        order = _scene_order(scope)
        for done, shot in enumerate(order):
            scope.progress("look", done, len(order))
            lights[shot.code] = self._measure(scope, shot, out)
        before: dict[str, ShotView] = {}
        for shot in order:
            previous = scope.previous.get(shot.code)
            while previous is not None and lights.get(previous.code) is None:
                previous = before.get(previous.code) or scope.previous.get(previous.code)
            if previous is not None:
                before[shot.code] = previous
        for shot in order:
            light, previous = lights.get(shot.code), before.get(shot.code)
            if light is None or previous is None or shot not in scope.shots:
                continue
            earlier = lights[previous.code]
            assert earlier is not None  # ``before`` holds only measured shots
            finding = self._cut(scope, previous, shot, earlier, light)
            if finding is not None:
                out.findings.append(finding)
        position = {shot.code: index for index, shot in enumerate(order)}
        out.findings.sort(key=lambda f: (position.get(f.shot, len(order)), f.frame or 0))
        scope.progress("look", len(order), len(order))
        return out

    def _measure(
        self, scope: CheckScope, shot: ShotView, out: CheckerOutput
    ) -> tuple[TakeView, TakeLight] | None:
        take = representative_take(scope.takes.get(shot.code, []))
        if take is None:
            return None
        why = shows_no_setting(shot)
        if why is not None:
            out.skipped.append(Skipped(shot.code, take.id, self.name, why))
            return None
        count = take.media.frames if take.media else 1
        frames = scope.frames(take, max(1, count // _LOOK_FRAMES))
        out.checked.add(take.id)
        if not frames:
            return None
        limits = _limits(scope, shot)
        photographic, _ = is_photographic(take, scope.generators)
        light = measure_take(
            self.model,
            frames,
            limits,
            figures=_figure_finder() if photographic else None,
            every_frame=lambda after, upto: [
                f for f in scope.frames(take, 1) if after < f.index <= upto
            ],
        )
        if light.unmeasured is not None:
            out.skipped.append(Skipped(shot.code, take.id, self.name, light.unmeasured))
            return None
        for shift in light.shifts:
            out.findings.append(self._within(shot, take, shift, limits))
        return take, light

    def _within(
        self, shot: ShotView, take: TakeView, shift: GradeShift, limits: LookThresholds
    ) -> ContinuityFinding:
        worst = shift.difference.worst(limits)
        assert worst is not None  # a shift is past a threshold by definition
        return ContinuityFinding(
            kind="look_jump",
            shot=shot.code,
            take=take.id,
            character=None,
            frame=shift.frame,
            score=round(worst[1], 4),
            threshold=worst[2],
            detail=f"the look changes inside {take.label} at frame {shift.frame} "
            f"(from frame {shift.before}): " + "; ".join(shift.difference.exceeded(limits)),
            data=_look_payload(self.model.name, shot.code, take.label, shift.difference, None),
            evidence_png=_evidence(
                list(shift.pictures),
                [f"{take.label} frame {shift.before}", f"{take.label} frame {shift.frame}"],
            ),
        )

    def _cut(
        self,
        scope: CheckScope,
        first: ShotView,
        second: ShotView,
        measured_a: tuple[TakeView, TakeLight],
        measured_b: tuple[TakeView, TakeLight],
    ) -> ContinuityFinding | None:
        (a_take, a), (b_take, b) = measured_a, measured_b
        if a.last is None or b.first is None:
            return None
        difference = self.model.compare(a.last, b.first)
        limits = _limits(scope, second)
        worst = difference.worst(limits)
        if worst is None:
            return None
        scene = scope.scenes.get(second.scene)
        time_of_day = scene.time_of_day if scene else None
        a_label, b_label = a_take.label, b_take.label
        around = (
            ""
            if scope.previous.get(second.code) == first
            else " (the shots between show no setting)"
        )
        return ContinuityFinding(
            kind="look_jump",
            shot=second.code,
            take=b_take.id,
            character=None,
            frame=b.first_frame[0] if b.first_frame else None,
            score=round(worst[1], 4),
            threshold=worst[2],
            detail=f"cut from {a_label} to {b_label}{around}: "
            + "; ".join(difference.exceeded(limits)),
            data=_look_payload(
                self.model.name, first.code, a_label, difference, time_of_day, b_label
            ),
            evidence_png=_evidence(
                [
                    a.last_frame[1] if a.last_frame else None,
                    b.first_frame[1] if b.first_frame else None,
                ],
                [
                    f"{a_label} frame {a.last_frame[0] if a.last_frame else '?'}",
                    f"{b_label} frame {b.first_frame[0] if b.first_frame else '?'}",
                ],
            ),
        )


def _scene_order(scope: CheckScope) -> list[ShotView]:
    """The checked shots and the shots they cut from, in script order."""
    seen: dict[str, ShotView] = {}
    for shot in scope.shots:
        chain = []
        previous = scope.previous.get(shot.code)
        while previous is not None and previous.code not in seen:
            chain.append(previous)
            previous = scope.previous.get(previous.code)
        for earlier in reversed(chain):
            seen[earlier.code] = earlier
        seen.setdefault(shot.code, shot)
    return list(seen.values())


def _limits(scope: CheckScope, shot: ShotView) -> LookThresholds:
    scene = scope.scenes.get(shot.scene)
    return scope.settings.look_for(scene.time_of_day if scene else None)


def _look_payload(
    model: str,
    from_shot: str,
    from_take: str,
    difference: LookDifference,
    time_of_day: str | None,
    fix_take: str | None = None,
) -> LookJump:
    return LookJump(
        from_shot=from_shot,
        from_take=from_take,
        time_of_day=time_of_day,
        delta_e2000=round(difference.delta_e, 3),
        stops=round(difference.stops, 3),
        kelvin=round(difference.kelvin, 1),
        contrast=round(difference.contrast, 4),
        model=model,
        fix=f"setpiece match {fix_take} --to {from_take}"
        if fix_take
        else f"regrade {from_take} from the frame it changes at, or retake it",
    )


def _figure_finder() -> Callable[[np.ndarray], list[Box]] | None:
    """dlib's face boxes (people left out of the setting) when the faces extra is installed."""
    import importlib.util

    if importlib.util.find_spec("dlib") is None:
        return None
    return face_boxes


class FormatChecker:
    """format_mismatch: resolution, aspect ratio or frame rate unlike the project's."""

    name = "format"
    kinds = frozenset({"format_mismatch"})

    def run(self, scope: CheckScope) -> CheckerOutput:
        out = CheckerOutput()
        from setpiece.production.derive import superseding

        takes = scope.all_takes()
        # A take conformed by a derived take (retimed, colour-matched) gives way to it.
        superseded = {parent: child.label for parent, child in superseding(takes).items()}
        for take in takes:
            if take.media is None:
                continue
            if take.id in superseded:
                out.skipped.append(
                    Skipped(
                        take.shot,
                        take.id,
                        self.name,
                        f"superseded by its derived take {superseded[take.id]}",
                    )
                )
                continue
            out.checked.add(take.id)
            problems = format_problems(
                take.media,
                width=scope.width,
                height=scope.height,
                aspect=scope.aspect,
                fps=scope.fps,
            )
            if problems:
                out.findings.append(
                    ContinuityFinding(
                        kind="format_mismatch",
                        shot=take.shot,
                        take=take.id,
                        character=None,
                        frame=None,
                        score=None,
                        threshold=None,
                        detail=f"{take.label}: " + "; ".join(problems),
                        data=FormatMismatch(problems),
                    )
                )
        return out


# The checks `setpiece check continuity` runs, in order. Add one here and it runs over the
# same takes and lands in the same report.
# Checks other capabilities own are added by the layer above: motion's temporal check
# (setpiece.pipeline.hooks.continuity_checkers, what the CLI and make run).
CHECKERS: list[Checker] = [IdentityChecker(), LookChecker(), FormatChecker()]

_SKIP_STATUSES = frozenset({"rejected", "failed", "pending", "rendering"})


def check_continuity(
    production: Production,
    *,
    scene: str | None = None,
    shot: str | None = None,
    checkers: list[Checker] | None = None,
    progress: Progress | None = None,
    store: bool = True,
) -> ContinuityReport:
    """Runs the continuity checks over a scene, a shot, or the whole film, and stores the findings.

    Args:
        production: The open project.
        scene: Only this scene's shots.
        shot: Only this shot's takes (and its cut from the shot before).
        checkers: The checks to run (default :data:`CHECKERS`).
        progress: Called as (phase, done, total).
        store: Store the findings (replacing the same checks' earlier ones on these takes).

    Raises:
        NotFoundError: Unknown scene or shot.
        InvalidInputError: A bad ``[continuity]`` setting.
    """
    from setpiece.production.records import NewFinding, replace_findings
    from setpiece.production.scenes import list_scenes
    from setpiece.production.shots import get_shot, list_shots
    from setpiece.production.takes import list_takes

    settings = continuity_settings(production.config.settings)
    shots = [get_shot(production, shot)] if shot is not None else list_shots(production, scene)
    previous: dict[str, ShotView] = {}
    for number in dict.fromkeys(s.scene for s in shots):
        in_scene = list_shots(production, number) if shot is not None else None
        ordered = in_scene or [s for s in shots if s.scene == number]
        for before, after in itertools.pairwise(ordered):
            previous[after.code] = before
    wanted = {s.code for s in shots}
    previous = {code: before for code, before in previous.items() if code in wanted}
    codes = wanted | {s.code for s in previous.values()}
    takes: dict[str, list[TakeView]] = {}
    for take in list_takes(production):
        if take.shot in codes and take.status not in _SKIP_STATUSES and take.media is not None:
            takes.setdefault(take.shot, []).append(take)
    scenes = {s.number: s for s in list_scenes(production)}
    scope = CheckScope(
        production, settings, shots, scenes, takes, previous=previous, progress=progress
    )
    output = CheckerOutput()
    chosen = checkers if checkers is not None else CHECKERS
    for checker in chosen:
        result = checker.run(scope)
        output.findings.extend(result.findings)
        output.notes.extend(result.notes)
        output.skipped.extend(result.skipped)
        output.checked |= result.checked
    if store:
        kinds: frozenset[str] = frozenset().union(*(c.kinds for c in chosen))
        own_takes = [t.id for s in shots for t in takes.get(s.code, [])]
        with tempfile.TemporaryDirectory(prefix="setpiece-continuity-") as folder:
            stored = []
            for position, finding in enumerate(output.findings):
                evidence = None
                if finding.evidence_png:
                    evidence = Path(folder) / f"evidence-{position}.png"
                    evidence.write_bytes(finding.evidence_png)
                stored.append(
                    NewFinding(
                        kind=finding.kind,
                        shot=finding.shot,
                        take=finding.take,
                        frame=finding.frame,
                        score=finding.score,
                        threshold=finding.threshold,
                        detail=finding.detail,
                        evidence=os.fspath(evidence) if evidence else None,
                        data=finding.data,
                    )
                )
            replace_findings(
                production, kinds, stored, takes=own_takes, shots=[s.code for s in shots]
            )
    return ContinuityReport(
        findings=output.findings,
        takes_checked=len(output.checked),
        skipped=output.skipped,
        notes=list(dict.fromkeys(output.notes)),
        unreadable=scope.unreadable,
        labels={t.id: t.label for group in takes.values() for t in group},
    )

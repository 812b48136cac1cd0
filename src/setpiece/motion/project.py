"""The motion tools inside a project: derived takes, stored measures, flicker findings.

A retimed or deflickered take is a *derived* take of the same shot (its parent's
recipe kept, the operation and its settings recorded, see
``setpiece.production.derive``). Temporal measures are stored on the take under
``Take.measures["motion"]``, so a check reads them instead of decoding again.
``temporal_findings`` compares each video take's flicker index with its scene's
median and reports ``temporal_flicker`` where a take is far worse than its scene;
``temporal_check`` is that judgement as the continuity pass runs it over a scope of
shots and takes (the layer above hands it to ``setpiece.continuity``, which motion may
not import: ``setpiece.pipeline.hooks``).
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.enums import TakeKind
from setpiece.model.findings import TemporalFlicker
from setpiece.model.operations import Operation
from setpiece.motion.config import MotionSettings, motion_settings
from setpiece.motion.measure import TemporalMeasures, measure_video
from setpiece.production.context import Production
from setpiece.production.records import NewFinding
from setpiece.production.views import ShotView, TakeView

__all__ = [
    "FLICKER_KIND",
    "TemporalCheck",
    "deflicker_take",
    "measure_take",
    "project_settings",
    "retime_take",
    "store_measures",
    "take_media",
    "temporal_check",
    "temporal_findings",
]

FLICKER_KIND = "temporal_flicker"
_KEY = "motion"


def project_settings(production: Production) -> MotionSettings:
    """The project's ``[motion]`` settings over the defaults."""
    return motion_settings(production.config.settings)


@contextlib.contextmanager
def take_media(production: Production, take: TakeView) -> Iterator[Path]:
    """A local path to a video take's media (copied out of a remote store if need be)."""
    from setpiece.store.frames import media_source

    if take.media is None or take.media.kind != TakeKind.VIDEO:
        raise InvalidInputError(f"take {take.label} is not a video: motion tools need one")
    with media_source(take.media, take.label, production.store) as source:
        if isinstance(source, str):
            yield Path(source)
            return
        with tempfile.TemporaryDirectory(prefix="setpiece-motion-") as folder:
            local = Path(folder) / f"media{Path(take.media.path).suffix or '.mp4'}"
            with open(local, "wb") as out:
                shutil.copyfileobj(source, out)
            yield local


def store_measures(production: Production, take: str, measures: dict[str, Any]) -> None:
    """Stores temporal measures on a take (``measures["motion"]``), other keys kept."""
    from setpiece.production.rows import take_row

    with production.transaction() as session:
        production.authorize(session, "record_finding")
        row = take_row(session, take)
        merged = dict(row.measures or {})
        merged[_KEY] = dict(measures)
        row.measures = merged


def stored_measures(production: Production, take: str) -> dict[str, Any] | None:
    """The motion measures stored on a take, if any."""
    from setpiece.production.rows import take_row

    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        value = (take_row(session, take).measures or {}).get(_KEY)
        return dict(value) if value else None


def measure_take(
    production: Production,
    take: str,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> TemporalMeasures:
    """Measures a video take and stores the figures on it."""
    from setpiece.production.takes import get_take

    view = get_take(production, take)
    with take_media(production, view) as path:
        result = measure_video(
            path, project_settings(production), progress=progress, label=f"take {view.label}"
        )
    store_measures(production, view.id, result.to_json())
    return result


def _derive(
    production: Production,
    take: str,
    suffix: str,
    make: Callable[[Path, Path], Operation],
) -> tuple[TakeView, bool, Operation]:
    from setpiece.production.derive import derive_take
    from setpiece.production.takes import get_take

    view = get_take(production, take)
    with (
        take_media(production, view) as source,
        tempfile.TemporaryDirectory(prefix="setpiece-derive-") as folder,
    ):
        target = Path(folder) / f"{view.shot}-{view.number}{suffix}"
        operation = make(source, target)
        derived, created = derive_take(production, view.id, target, operation)
    return derived, created, operation


def retime_take(
    production: Production,
    take: str,
    *,
    fps: Fraction | None = None,
    factor: Fraction | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[TakeView, bool, Any]:
    """Retimes a video take into a derived take of the same shot.

    Returns:
        (the derived take, whether it was created, the RetimeReport).
    """
    from setpiece.motion.retime import retime

    settings = project_settings(production)
    reports: list[Any] = []

    def make(source: Path, target: Path) -> Operation:
        report = retime(
            source, target, fps=fps, factor=factor, settings=settings, progress=progress
        )
        reports.append(report)
        # Version 2: the interpolation adapts per pair (issue 29: fine flow, blending
        # where flow does not help, cuts the flow finds). Version 3: flow on smoothed
        # greys (flow_blur), lost flow counted over texture. Version 4: a pair the coarse
        # flow already blends is not refined with the fine flow. Version 5: a probe at
        # half the coarse side decides the blend and the flow's scale. Version 6: detail
        # that stands still while the picture moves stays in place.
        return Operation(
            "retime",
            6,
            {
                "fps": f"{report.fps.numerator}/{report.fps.denominator}",
                "factor": None if factor is None else str(factor),
                "flow": "dis",
                "flow_long_side": settings.flow_long_side,
                "flow_fine_side": settings.flow_fine_side,
                "fine_motion": settings.fine_motion,
                "flow_blur": settings.flow_blur,
                "fallback_ratio": settings.fallback_ratio,
                "still_detail": settings.still_detail,
                "flow_preset": settings.flow_preset,
                "held_at_cuts": report.held_at_cuts,
            },
        )

    derived, created, _ = _derive(production, take, ".mp4", make)
    return derived, created, reports[0]


def deflicker_take(
    production: Production,
    take: str,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[TakeView, bool, Any]:
    """Deflickers a video take into a derived take of the same shot."""
    from setpiece.motion.deflicker import deflicker

    settings = project_settings(production)
    reports: list[Any] = []

    def make(source: Path, target: Path) -> Operation:
        report = deflicker(source, target, settings=settings, progress=progress)
        reports.append(report)
        return Operation(
            "deflicker",
            1,
            {
                "window": settings.deflicker_window,
                "regions": settings.deflicker_regions,
                "step": settings.deflicker_step,
            },
        )

    derived, created, _ = _derive(production, take, ".mp4", make)
    return derived, created, reports[0]


def temporal_findings(
    production: Production,
    *,
    scene: str | None = None,
    shot: str | None = None,
    only: set[str] | None = None,
) -> tuple[list[NewFinding], int]:
    """``temporal_flicker`` findings: video takes whose flicker is far above their scene's.

    Takes not yet measured are measured (and the figures stored). A take is reported
    when its flicker index is at least ``flicker_ratio`` times the median of the video
    takes of its scene and at least ``flicker_min``. The caller stores the findings
    with ``replace_findings(production, frozenset({FLICKER_KIND}), findings, takes=...)``.
    ``only`` limits the takes measured and judged (the scene's median comes from them).

    Returns:
        The findings, and how many takes were checked.
    """
    from setpiece.production.shots import list_shots
    from setpiece.production.takes import list_takes

    settings = project_settings(production)
    shots = list_shots(production, scene)
    scene_of = {s.code: s.scene for s in shots}
    takes = [
        t
        for s in shots
        for t in list_takes(production, s.code)
        if t.media is not None and t.media.kind == TakeKind.VIDEO and (only is None or t.id in only)
    ]
    flicker: dict[str, float] = {}
    for take in takes:
        figures = stored_measures(production, take.id)
        if figures is None or "flicker" not in figures:
            try:
                figures = measure_take(production, take.id).to_json()
            except InvalidMediaError:
                continue  # undecodable: the continuity report lists it as unreadable
        flicker[take.id] = float(figures["flicker"])
    takes = [t for t in takes if t.id in flicker]
    by_scene: dict[str, list[float]] = {}
    for take in takes:
        by_scene.setdefault(scene_of[take.shot], []).append(flicker[take.id])
    wanted = shot.strip().upper() if shot else None
    findings: list[NewFinding] = []
    checked = 0
    for take in takes:
        if wanted and take.shot != wanted:
            continue
        checked += 1
        others = by_scene[scene_of[take.shot]]
        median = statistics.median(others)
        limit = max(settings.flicker_min, settings.flicker_ratio * median)
        value = flicker[take.id]
        if len(others) >= 2 and value >= limit:
            findings.append(
                NewFinding(
                    kind=FLICKER_KIND,
                    shot=take.shot,
                    take=take.id,
                    score=round(value, 4),
                    threshold=round(limit, 4),
                    detail=(
                        f"take {take.label} flickers {value:.2f} against its scene's median "
                        f"{median:.2f}: try 'setpiece deflicker --take {take.label}'"
                    ),
                    data=TemporalFlicker(scene_of[take.shot], round(median, 4)),
                )
            )
    return findings, checked


@dataclass(frozen=True)
class TemporalCheck:
    """What the temporal check found over a scope of takes.

    Attributes:
        findings: ``temporal_flicker`` findings on the scope's shots.
        skipped: Video takes not judged, with why: ``(take, reason)``.
        checked: Ids of the video takes judged.
    """

    findings: list[NewFinding] = field(default_factory=list)
    skipped: list[tuple[TakeView, str]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


def temporal_check(
    production: Production,
    shots: Sequence[ShotView],
    takes: Iterable[TakeView],
    *,
    flicker_free: Collection[str] = (),
) -> TemporalCheck:
    """Judges the video takes of ``shots`` for flicker against their scenes' medians.

    Args:
        production: The open project.
        shots: The shots in scope, in script order.
        takes: Their takes; stills and takes without media are passed over.
        flicker_free: Generators that draw every frame exactly: their takes are skipped.
    """
    result = TemporalCheck()
    for take in takes:
        if take.media is None or take.media.kind != TakeKind.VIDEO:
            continue
        if take.recipe.backend in flicker_free:
            reason = f"generator {take.recipe.backend} draws every frame exactly (no flicker)"
            result.skipped.append((take, reason))
            continue
        result.checked.append(take.id)
    if not result.checked:
        return result
    codes = {shot.code for shot in shots}
    wanted = set(result.checked)
    for scene in dict.fromkeys(shot.scene for shot in shots):
        found, _ = temporal_findings(production, scene=scene, only=wanted)
        result.findings.extend(item for item in found if item.shot in codes)
    return result

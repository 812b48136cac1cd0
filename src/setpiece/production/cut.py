"""The cut: the assembly in script order, from circled takes, as data every reader shares.

The cut is computed here once and written out by the exporters (``setpiece.edit``:
OpenTimelineIO, EDL, FCP XML, the preview movie, the contact sheet) and credited by
delivery and the AI-use disclosure (``setpiece.provenance``), so they cannot disagree
about what is in it. It lives in ``production``, below both capabilities, because both
read it and neither may import the other; it reads only the production's records.

For each shot of each scene that is not omitted, in script order:

- its circled take; else a provisional pick made by automation (labelled
  PROVISIONAL); else, with ``include_unapproved``, its newest ready take
  (labelled UNAPPROVED); else a slate card ("3A: NOT APPROVED");
- trimmed to the shot's planned duration, or the whole take when shorter; stills
  and slates last the planned duration (two seconds when none is planned).

All time is integer frames at the project's rational rate; a take at another
rate is measured in its own frames (``source_in``, ``source_duration``) and
mapped exactly, so a feature-length cut cannot drift. Takes whose rate or size
differ from the project's are conformed by the exporters and listed in
``warnings``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from setpiece.model.enums import TakeKind, TakeStatus
from setpiece.model.orm import Annotation, Comment, Scene, Shot, Take
from setpiece.production.context import Production
from setpiece.production.rows import media_view, scene_row
from setpiece.production.views import MediaView
from setpiece.timebase import timecode

__all__ = ["DEFAULT_STILL_S", "Cut", "CutClip", "CutMarker", "assemble"]

DEFAULT_STILL_S = 2


@dataclass(frozen=True)
class CutMarker:
    """A drawing's comment on the clip's take: its frames (the take's own, inclusive)."""

    frame_start: int
    frame_end: int
    author: str
    note: str


@dataclass(frozen=True)
class CutClip:
    """One event of the cut: a take (or part of it) or a slate."""

    index: int
    scene: str
    scene_heading: str
    shot: str
    kind: str  # "take" or "slate"
    record_in: int  # project frames from the start of the cut
    duration: int  # project frames
    take: str | None = None  # take id
    take_label: str | None = None  # "3A/2"
    status: str | None = None  # circled, provisional, unapproved; None for slates
    media: MediaView | None = None
    source_in: int = 0  # frames at the media's own rate (0 for stills)
    source_duration: int = 0  # frames at the media's own rate (1 for stills)
    label: str = ""  # what a slate or burn-in says
    markers: tuple[CutMarker, ...] = ()  # comments drawn on the take (production.annotations)

    @property
    def record_out(self) -> int:
        return self.record_in + self.duration

    @property
    def provisional(self) -> bool:
        return self.status == "provisional"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "scene": self.scene,
            "shot": self.shot,
            "kind": self.kind,
            "record_in": self.record_in,
            "duration": self.duration,
            "take": self.take,
            "take_label": self.take_label,
            "status": self.status,
            "media": self.media.to_json() if self.media else None,
            "source_in": self.source_in,
            "source_duration": self.source_duration,
            "label": self.label,
        } | ({"markers": [vars(m) for m in self.markers]} if self.markers else {})


@dataclass(frozen=True)
class Cut:
    """The assembled cut."""

    name: str
    fps: Fraction
    width: int
    height: int
    clips: list[CutClip] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> int:
        return self.clips[-1].record_out if self.clips else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fps": f"{self.fps.numerator}/{self.fps.denominator}",
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
            "timecode": timecode(self.duration, self.fps),
            "clips": [c.to_json() for c in self.clips],
            "warnings": self.warnings,
        }


def _markers(session: Any) -> dict[str, tuple[CutMarker, ...]]:
    """Every take's drawn comments, in one query (a film has far fewer than it has takes)."""
    found: dict[str, list[CutMarker]] = {}
    for take, *row in session.execute(
        select(
            Annotation.take_id,
            Annotation.frame_start,
            Annotation.frame_end,
            Comment.author,
            Comment.note,
        )
        .join(Comment, Annotation.comment_id == Comment.id)
        .order_by(Annotation.frame_start, Annotation.id)
    ).all():
        found.setdefault(take, []).append(CutMarker(*row))
    return {take: tuple(marks) for take, marks in found.items()}


def _pick(takes: list[Take], include_unapproved: bool) -> tuple[Take | None, str | None]:
    circled = [t for t in takes if t.status == TakeStatus.CIRCLED.value and t.media is not None]
    if circled:
        return circled[-1], "circled"
    provisional = [
        t for t in takes if t.provisional and t.status == TakeStatus.READY.value and t.media
    ]
    if provisional:
        return provisional[-1], "provisional"
    if include_unapproved:
        ready = [t for t in takes if t.status == TakeStatus.READY.value and t.media is not None]
        if ready:
            return ready[-1], "unapproved"
    return None, None


def assemble(
    production: Production, *, scene: str | None = None, include_unapproved: bool = False
) -> Cut:
    """Assembles the cut of the film (or one scene) from what the project holds now.

    Raises:
        NotFoundError: An unknown scene.
    """
    fps = production.fps
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        project = production.project_row(session)
        query = (
            select(Shot, Scene)
            .join(Scene, Shot.scene_id == Scene.id)
            .where(Scene.omitted.is_(False))
            .options(selectinload(Shot.takes).selectinload(Take.media))
            .order_by(Scene.position, Shot.position)
        )
        if scene is not None:
            query = query.where(Scene.id == scene_row(session, scene).id)
        clips: list[CutClip] = []
        warnings: list[str] = []
        markers = _markers(session)
        record = 0
        for shot, scene_obj in session.execute(query).all():
            planned = shot.planned_frames
            take, status = _pick(sorted(shot.takes, key=lambda t: t.number), include_unapproved)
            base: dict[str, Any] = {
                "index": len(clips),
                "scene": scene_obj.number,
                "scene_heading": scene_obj.heading,
                "shot": shot.code,
                "record_in": record,
            }
            if take is None or take.media is None:
                duration = planned or DEFAULT_STILL_S * fps.numerator // fps.denominator
                clip = CutClip(
                    **base,
                    kind="slate",
                    duration=max(1, duration),
                    label=f"{shot.code}: NOT APPROVED",
                )
            else:
                media = take.media
                view = media_view(production, media)
                label = f"{shot.code}/{take.number}" + (
                    "  PROVISIONAL"
                    if status == "provisional"
                    else "  UNAPPROVED"
                    if status == "unapproved"
                    else ""
                )
                if media.kind == TakeKind.VIDEO and media.fps:
                    whole = int(
                        Fraction(media.frames) / media.fps * fps
                    )  # the take's length in project frames
                    duration = min(planned, whole) if planned else whole
                    duration = max(1, duration)
                    source = min(media.frames, math.ceil(Fraction(duration) / fps * media.fps))
                    if media.fps != fps:
                        warnings.append(
                            f"{shot.code}/{take.number} is {media.fps_num}/{media.fps_den} fps: "
                            f"conformed to {fps.numerator}/{fps.denominator}"
                        )
                else:
                    duration = max(1, planned or DEFAULT_STILL_S * fps.numerator // fps.denominator)
                    source = 1
                if (media.width, media.height) != (project.width, project.height):
                    warnings.append(
                        f"{shot.code}/{take.number} is {media.width}x{media.height}: "
                        f"conformed to {project.width}x{project.height}"
                    )
                clip = CutClip(
                    **base,
                    kind="take",
                    duration=duration,
                    take=take.id,
                    take_label=f"{shot.code}/{take.number}",
                    status=status,
                    media=view,
                    source_in=0,
                    source_duration=source,
                    label=label,
                    markers=markers.get(take.id, ()),
                )
            clips.append(clip)
            record += clip.duration
        return Cut(project.name, fps, project.width, project.height, clips, warnings)

"""Edit import: the editor's changed cut comes back and updates the shots' planned durations.

The edit is read by ``setpiece.edit.reading`` (an ``.otio``, ``.otioz``, CMX 3600
``.edl`` or FCP 7 ``.xml``; its first video track is the edit; an EDL is read at
the project rate). This module conforms the project to it. Each clip is
matched to a take by, in this order: the ``setpiece`` metadata the export
wrote (``* SETPIECE:`` comments in an EDL), the media file name (the store
names files by sha256, and ``* FROM CLIP:`` carries it through an EDL), the
8-character sha256 reel, then a ``SHOT/NUMBER`` clip name. Slates are matched
to their shot by metadata or by their ``3A: NOT APPROVED`` name.

What it decides:

- A clip whose length differs from what the cut shows now, from the shot's
  plan and from what was exported sets the shot's ``planned_frames`` (project
  frames), all in one transaction with a history event per shot. A take
  shorter than its plan shows shorter in the cut, so its unchanged clip is not
  mistaken for a trim.
- A changed order is reported, never applied: the script decides the order.
- A shot used twice in the edit is reported and left as it is (the cut holds
  each shot once, so no single length is right).
- Clips that match no take are listed, media references that point at no file
  are listed (their durations still count), and nothing is ever deleted.
- The dialogue lines on the edit's audio tracks are kept as they are and listed
  (``lines``): the script places lines, so an editor's move of one changes nothing.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from sqlalchemy import select

from setpiece.edit.reading import EditClip, EditTimeline, read_edit
from setpiece.edit.timeline import SLATE_KIND
from setpiece.model.enums import TakeKind
from setpiece.model.orm import Shot, Take
from setpiece.production.context import Production
from setpiece.production.cut import Cut, CutClip, assemble
from setpiece.production.history import record_event
from setpiece.production.rows import touch_shot
from setpiece.timebase import format_rate

__all__ = [
    "DurationChange",
    "EditImportReport",
    "UnmatchedClip",
    "import_edit",
]

MAX_PLANNED_S = 3600  # the longest planned duration 'shot add' accepts
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_REEL = re.compile(r"^[0-9a-f]{8,64}$")
_LABEL = re.compile(r"^\s*(?P<shot>[A-Za-z0-9][A-Za-z0-9._-]{0,19})/(?P<number>\d+)\b")
_SLATE_NAME = re.compile(r"^\s*(?P<shot>[A-Za-z0-9][A-Za-z0-9._-]{0,19}):\s*NOT APPROVED")


@dataclass(frozen=True)
class DurationChange:
    """A shot whose planned duration the edit changed."""

    shot: str
    take: str | None  # take id; None for a slate
    take_label: str | None
    before: int | None  # planned frames before
    after: int  # planned frames now (the clip's length in the edit)
    in_cut: int | None  # frames the shot had in the cut before the import


@dataclass(frozen=True)
class UnmatchedClip:
    """A clip of the edit that refers to no take or shot of the project."""

    index: int
    name: str
    record_in: int
    duration: int
    reference: str | None
    reason: str


@dataclass(frozen=True)
class EditImportReport:
    """What ``import_edit`` found and changed."""

    path: str
    format: str
    fps: Fraction
    clips: int  # clips in the edit's video track
    matched: int
    changes: list[DurationChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # shots matched with no change
    unmatched: list[UnmatchedClip] = field(default_factory=list)
    missing_media: list[str] = field(default_factory=list)
    order_changed: bool = False
    edit_order: list[str] = field(default_factory=list)  # shots as the edit has them
    script_order: list[str] = field(default_factory=list)  # the same shots in script order
    moved: list[str] = field(default_factory=list)  # the fewest shots whose move explains it
    not_in_edit: list[str] = field(default_factory=list)  # shots of the edit's scenes it left out
    warnings: list[str] = field(default_factory=list)
    applied: bool = True  # False for a dry run
    lines: list[str] = field(default_factory=list)  # dialogue lines on the audio tracks, kept


# Reading --------------------------------------------------------------------------------


# Importing ------------------------------------------------------------------------------


@dataclass
class _Takes:
    """The project's takes, looked up by the names an edit may carry."""

    by_id: dict[str, tuple[str, int]]  # id -> (shot, number)
    by_sha: dict[str, list[str]]  # media sha256 -> take ids
    by_label: dict[str, str]  # "3A/2" -> id
    planned: dict[str, int | None]  # shot -> planned frames
    by_reel: dict[str, list[str]] = field(default_factory=dict)  # sha256[:8] -> sha256s

    def __post_init__(self) -> None:
        for sha in self.by_sha:
            self.by_reel.setdefault(sha[:8], []).append(sha)

    def with_prefix(self, prefix: str) -> list[str]:
        """The takes whose media's sha256 starts with ``prefix`` (8 to 64 hex digits)."""
        shas = [sha for sha in self.by_reel.get(prefix[:8], []) if sha.startswith(prefix)]
        return [take for sha in shas for take in self.by_sha[sha]]

    def label(self, take: str) -> str:
        shot, number = self.by_id[take]
        return f"{shot}/{number}"


@dataclass
class _Match:
    clip: EditClip
    shot: str
    take: str | None


def import_edit(
    production: Production, path: str | os.PathLike[str], *, dry_run: bool = False
) -> EditImportReport:
    """Brings an editor's changed cut back: new lengths become the shots' planned durations.

    Args:
        production: The open project.
        path: The edit: ``.otio``, ``.otioz``, CMX 3600 ``.edl`` (read at the project's
            rate) or FCP 7 ``.xml``.
        dry_run: Report what would change, change nothing.

    Returns:
        The changes, the clips that match nothing, missing media, order changes.

    Raises:
        InvalidInputError: The file cannot be read (see ``read_edit``).
        PermissionDeniedError: The user may not edit the breakdown.
    """
    edit = read_edit(path, production.fps)
    cut = assemble(production, include_unapproved=True)
    in_cut = {clip.shot: clip for clip in cut.clips}
    longest = int(MAX_PLANNED_S * production.fps)
    with production.transaction() as session:
        production.authorize(session, "read" if dry_run else "edit_breakdown")
        takes = _load_takes(session)
        matches, unmatched = _match(edit.clips, takes)
        uses: dict[str, list[_Match]] = defaultdict(list)
        for match in matches:
            uses[match.shot].append(match)
        warnings = list(edit.warnings)
        changes: list[DurationChange] = []
        unchanged: list[str] = []
        for shot, found in uses.items():
            if len(found) > 1:
                warnings.append(
                    f"{shot} is in the edit {len(found)} times: its planned duration is left as "
                    "it is (the cut holds each shot once)"
                )
                continue
            match = found[0]
            change, notes = _compare(match, takes, in_cut.get(shot), longest)
            warnings.extend(notes)
            if change is None:
                unchanged.append(shot)
            else:
                changes.append(change)
        if changes and not dry_run:
            _apply(session, production, changes, edit)
    order = _order(list(uses), cut)
    return EditImportReport(
        path=edit.path,
        format=edit.format,
        fps=edit.fps,
        clips=len(edit.clips),
        matched=len(matches),
        changes=changes,
        unchanged=unchanged,
        unmatched=unmatched,
        missing_media=_missing_media(edit),
        order_changed=bool(order["moved"]),
        edit_order=order["edit"],
        script_order=order["script"],
        moved=order["moved"],
        not_in_edit=_not_in_edit(set(uses), cut),
        warnings=warnings + order["warnings"],
        applied=not dry_run,
        lines=list(edit.lines),
    )


def _load_takes(session: Any) -> _Takes:
    by_id: dict[str, tuple[str, int]] = {}
    by_sha: dict[str, list[str]] = defaultdict(list)
    by_label: dict[str, str] = {}
    rows = session.execute(
        select(Take.id, Take.number, Take.media_sha256, Shot.code).join(
            Shot, Take.shot_id == Shot.id
        )
    )
    for take_id, number, sha, shot in rows:
        by_id[take_id] = (shot, number)
        by_label[f"{shot}/{number}"] = take_id
        if sha:
            by_sha[sha].append(take_id)
    planned = dict(session.execute(select(Shot.code, Shot.planned_frames)).all())
    return _Takes(by_id, dict(by_sha), by_label, planned)


def _match(clips: list[EditClip], takes: _Takes) -> tuple[list[_Match], list[UnmatchedClip]]:
    matches: list[_Match] = []
    unmatched: list[UnmatchedClip] = []
    for clip in clips:
        found, reason = _match_one(clip, takes)
        if found is not None:
            matches.append(found)
        else:
            unmatched.append(
                UnmatchedClip(
                    clip.index,
                    clip.name,
                    clip.record_in,
                    clip.duration,
                    clip.url or clip.reel,
                    reason,
                )
            )
    return matches, unmatched


def _match_one(clip: EditClip, takes: _Takes) -> tuple[_Match | None, str]:
    meta = clip.setpiece
    take = meta.get("take")
    if isinstance(take, str) and take in takes.by_id:
        return _Match(clip, takes.by_id[take][0], take), ""
    shot = meta.get("shot")
    if meta.get("status") == "slate" and isinstance(shot, str) and shot in takes.planned:
        return _Match(clip, shot, None), ""
    if clip.kind == "nested":
        return None, "a nested sequence: flatten it in the editing tool to import its clips"
    label = _LABEL.match(clip.name)
    wanted = (
        takes.by_label.get(f"{label['shot'].upper()}/{int(label['number'])}") if label else None
    )
    if clip.url:
        stem = Path(unquote(urlparse(clip.url).path)).stem.lower()
        if _SHA256.match(stem):
            owners = takes.by_sha.get(stem, [])
            picked = _pick(owners, wanted)
            if picked:
                return _Match(clip, takes.by_id[picked][0], picked), ""
            if len(owners) > 1:
                labels = ", ".join(sorted(takes.label(t) for t in owners))
                return None, f"its media is used by takes {labels} and its name says no one of them"
    if clip.reel and _REEL.match(clip.reel.strip().lower()) and not clip.url:
        picked = _pick(takes.with_prefix(clip.reel.strip().lower()), wanted)
        if picked:
            return _Match(clip, takes.by_id[picked][0], picked), ""
    if wanted:
        return _Match(clip, takes.by_id[wanted][0], wanted), ""
    slate = _SLATE_NAME.match(clip.name)
    if slate and slate["shot"].upper() in takes.planned and clip.kind in ("generator", "missing"):
        return _Match(clip, slate["shot"].upper(), None), ""
    if isinstance(take, str):
        return None, f"take {take} is not in this project"
    if clip.kind == "generator":
        kind = clip.generator or "generator"
        if kind == SLATE_KIND and isinstance(shot, str):
            return None, f"a slate of shot {shot}, which is not in this project"
        return None, f"a {kind} filler that names no shot"
    if clip.url:
        return (
            None,
            f"its media {Path(unquote(urlparse(clip.url).path)).name} is no take of this project",
        )
    return None, "no media, no Setpiece metadata and no SHOT/NUMBER name"


def _pick(owners: list[str], wanted: str | None) -> str | None:
    if len(owners) == 1:
        return owners[0]
    if wanted in owners:
        return wanted
    return None


def _compare(
    match: _Match, takes: _Takes, shown: CutClip | None, longest: int
) -> tuple[DurationChange | None, list[str]]:
    """The change a clip makes, if its length is none of: what the cut shows now, the plan,
    what was exported. A take shorter than its plan shows shorter, and is no trim."""
    clip = match.clip
    planned = takes.planned.get(match.shot)
    exported = clip.setpiece.get("duration")
    known = {planned, exported if isinstance(exported, int) else None}
    if shown is not None:
        known.add(shown.duration)
    notes: list[str] = []
    if (
        match.take is not None
        and shown is not None
        and shown.take is not None
        and shown.take != match.take
    ):
        notes.append(
            f"{match.shot}: the edit uses take {takes.label(match.take)}, the cut now uses "
            f"{shown.take_label}"
        )
    if clip.duration in known:
        return None, notes
    if clip.duration <= 0:
        notes.append(f"{match.shot}: the edit gives it no length: left as it is")
        return None, notes
    if clip.duration > longest:
        notes.append(
            f"{match.shot}: the edit runs {clip.duration} frames, longer than the "
            f"{MAX_PLANNED_S} s a shot may be planned: left as it is"
        )
        return None, notes
    if (
        shown is not None
        and shown.media is not None
        and shown.media.kind == TakeKind.VIDEO
        and shown.source_duration >= shown.media.frames
        and clip.duration > shown.duration
    ):
        notes.append(
            f"{match.shot}: the edit runs {clip.duration} frames but take {shown.take_label} "
            f"has {shown.duration}: the cut shows {shown.duration} until a longer take is circled"
        )
    change = DurationChange(
        shot=match.shot,
        take=match.take,
        take_label=takes.label(match.take) if match.take else None,
        before=planned,
        after=clip.duration,
        in_cut=shown.duration if shown is not None else None,
    )
    return change, notes


def _apply(
    session: Any, production: Production, changes: list[DurationChange], edit: EditTimeline
) -> None:
    rows = {
        shot.code: shot
        for shot in session.scalars(select(Shot).where(Shot.code.in_([c.shot for c in changes])))
    }
    name = Path(edit.path).name
    for change in changes:
        shot = rows[change.shot]
        shot.planned_frames = change.after
        touch_shot(shot, production)
        record_event(
            session,
            production,
            "shot",
            shot.code,
            "duration",
            before=str(change.before) if change.before is not None else None,
            after=str(change.after),
            note=f"from the edit {name}",
            data={
                "file": name,
                "format": edit.format,
                "take": change.take,
                "before_frames": change.before,
                "after_frames": change.after,
                "in_cut_frames": change.in_cut,
                "fps": format_rate(edit.fps),
            },
        )
    session.flush()


def _order(edit_shots: list[str], cut: Cut) -> dict[str, Any]:
    """The edit's order against the script's; ``moved`` is the fewest shots whose moves explain it
    (the shots outside a longest run that keeps script order)."""
    position = {clip.shot: clip.index for clip in cut.clips}
    placed = [shot for shot in edit_shots if shot in position]
    warnings = [
        f"{shot} is not in the cut (its scene is omitted): its order is not compared"
        for shot in edit_shots
        if shot not in position
    ]
    keep = _longest_increasing([position[shot] for shot in placed])
    return {
        "edit": placed,
        "script": sorted(placed, key=position.__getitem__),
        "moved": [shot for i, shot in enumerate(placed) if i not in keep],
        "warnings": warnings,
    }


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []  # values
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        at = bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[at] = value
            tail_index[at] = i
        previous[i] = tail_index[at - 1] if at else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(i)
        i = previous[i]
    return keep


def _not_in_edit(shots: set[str], cut: Cut) -> list[str]:
    scenes = {clip.scene for clip in cut.clips if clip.shot in shots}
    return [clip.shot for clip in cut.clips if clip.scene in scenes and clip.shot not in shots]


def _missing_media(edit: EditTimeline) -> list[str]:
    if edit.format == "otioz":
        return []  # the media travels inside the bundle
    folder = Path(edit.path).parent
    missing: list[str] = []
    for clip in edit.clips:
        if clip.kind != "media" or not clip.url or clip.url in missing:
            continue
        parsed = urlparse(clip.url)
        if parsed.scheme == "file":
            local = Path(url2pathname(unquote(parsed.path)))
        elif parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
            local = folder / unquote(clip.url)
        else:
            continue  # s3://, https://: not checked from here
        if not local.exists():
            missing.append(clip.url)
    return missing

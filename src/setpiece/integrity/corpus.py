"""The reference corpus: existing works the production must not copy.

A work (a still, or a video sampled at shot changes and a fixed stride) becomes a
``ReferenceWork`` row and one ``ReferenceFrame`` per sampled frame, holding the
frame's perceptual codes (see :mod:`setpiece.integrity.hashing`) and a small
thumbnail in the media store, which the check compares pixels against. The work
itself is not copied into the store: a film library is large, and the thumbnail is
all the evidence needs.

Decisions:

* A work is known by the sha256 of its file: adding it again reports the existing
  row (``ReferenceWork.sha256`` is unique), so a corpus script can be re-run.
* Folders are walked with their symbolic links followed, each real folder once, so a
  link loop ends the walk there instead of running forever; a path that is itself a
  link loop is skipped with a message.
* A file that cannot be used (will not decode, too small, not media) is skipped and
  named; the rest are still added. Only when nothing at all is usable does the call
  fail, with nothing written.
* A picture under 16 pixels on a side carries no structure a hash or SSIM can use; it
  is skipped rather than indexed, because every 1x1 picture would match every flat frame.
  For the same reason a frame of a single colour (grey spread under :data:`FLAT_STD`
  levels: a black slug, a colour card) is not indexed, and a work made only of such
  frames is refused with that reason.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from sqlalchemy import select

from setpiece.errors import InvalidInputError, InvalidMediaError, NotFoundError, SetpieceError
from setpiece.integrity.hashing import pack_codes, reference_codes, to_signed
from setpiece.integrity.sampling import sample_frames
from setpiece.integrity.settings import IntegritySettings, integrity_settings
from setpiece.model.orm import ReferenceFrame, ReferenceWork
from setpiece.production.context import Production
from setpiece.production.ingest import media_row, probe_files, store_files
from setpiece.store.frames import DecodeStopped, Frame, iter_frames, load_rgb
from setpiece.store.video import open_container, reason

__all__ = [
    "FLAT_STD",
    "MIN_SIDE",
    "AddReport",
    "ReferenceView",
    "Skipped",
    "add_references",
    "list_references",
    "remove_reference",
]

MIN_SIDE = 16

FLAT_STD = 2.0
"""Standard deviation of grey (0-255) under which a frame is one colour, not a picture."""
"""Smallest width and height of a picture worth indexing."""

MEDIA_SUFFIXES = frozenset(
    ".jpg .jpeg .png .tif .tiff .bmp .webp .gif "
    ".mp4 .mov .m4v .mkv .webm .avi .mxf .mpg .mpeg .ts".split()
)
"""Files a folder walk picks up; a file named directly is tried whatever its name."""

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ReferenceView:
    """A work in the corpus."""

    id: int
    title: str
    source: str
    kind: str
    width: int
    height: int
    frames: int
    sha256: str
    added_at: datetime
    added_by: str | None
    note: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A path that was not added, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class AddReport:
    """What ``reference add`` did: works added, already present, and skipped."""

    added: list[ReferenceView] = field(default_factory=list)
    existing: list[ReferenceView] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _view(work: ReferenceWork) -> ReferenceView:
    return ReferenceView(
        id=work.id,
        title=work.title,
        source=work.source,
        kind=work.kind,
        width=work.width,
        height=work.height,
        frames=work.frames,
        sha256=work.sha256,
        added_at=work.added_at,
        added_by=work.added_by,
        note=(work.data or {}).get("note"),
    )


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[Path]:
    """Media files under ``root``, links followed, each real folder visited once."""
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            skipped.append(Skipped(folder, "a link back to a folder already walked (a loop)"))
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix.lower() not in MEDIA_SUFFIXES:
                continue
            if not path.exists():
                skipped.append(Skipped(str(path), "a broken or looping link"))
                continue
            yield path


def _expand(paths: Sequence[str | os.PathLike[str]], skipped: list[Skipped]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            path.stat()
        except FileNotFoundError:
            if path.is_symlink():
                skipped.append(Skipped(str(path), "a broken link"))
            else:
                skipped.append(Skipped(str(path), "no such file or folder"))
            continue
        except OSError as exc:
            looping = exc.errno == errno.ELOOP
            skipped.append(Skipped(str(path), "a symbolic link loop" if looping else reason(exc)))
            continue
        if path.is_dir():
            files.extend(_walk(path, skipped))
        else:
            files.append(path)
    unique: dict[str, Path] = {}
    for path in files:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def _read_work(
    path: Path, info_kind: str, config: IntegritySettings
) -> tuple[list[Frame], str | None]:
    """The frames to index and a note (why a video stopped early), or raises."""
    if info_kind == "image":
        return [Frame(0, Fraction(0), load_rgb(path, "reference picture"))], None
    import av

    try:
        container = open_container(path)
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMediaError(f"cannot be opened ({reason(exc)})") from exc
    frames: list[Frame] = []
    note = None
    with container:
        try:
            frames.extend(
                sample_frames(
                    iter_frames(container, label=path.name), stride=config.stride, cut=config.cut
                )
            )
        except DecodeStopped as stopped:
            note = str(stopped)
    if not frames:
        raise InvalidMediaError(note or "no frame decodes")
    return frames, note


def _grey_std(rgb: np.ndarray) -> float:
    import cv2

    if rgb.ndim == 2:
        return float(rgb.std())
    return float(cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY).std())


def _thumbnail(rgb: np.ndarray, side: int, target: Path) -> Path:
    from PIL import Image

    image = Image.fromarray(rgb)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    image.save(target, format="PNG")
    return target


def add_references(
    production: Production,
    paths: Sequence[str | os.PathLike[str]],
    *,
    title: str | None = None,
    progress: Progress | None = None,
) -> AddReport:
    """Adds existing works (pictures, videos, folders of them) to the reference corpus.

    Args:
        production: The open project.
        paths: Files or folders.
        title: The work's title; only with a single file (default: the file's name).
        progress: Called as (phase, done, total).

    Raises:
        InvalidInputError: No paths, a bad title, or nothing usable among the paths
            (the message names each skipped path and why).
    """
    from setpiece.store.media import hash_file
    from setpiece.store.probe import probe

    config = integrity_settings(production.config.settings)
    if not paths:
        raise InvalidInputError("give at least one picture, video or folder to add")
    if title is not None and not 0 < len(title.strip()) <= 300:
        raise InvalidInputError("a reference title must be 1-300 characters")
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
    skipped: list[Skipped] = []
    files = _expand(paths, skipped)
    if title is not None and len(files) > 1:
        raise InvalidInputError(
            f"--title names one work, but {len(files)} files were given; add them one by one"
        )
    report = AddReport(skipped=skipped)
    seen: set[str] = set()
    for number, path in enumerate(files):
        if progress:
            progress("index", number, len(files))
        try:
            sha256, _size = hash_file(path)
            if sha256 in seen:
                continue
            seen.add(sha256)
            with production.transaction() as session:
                known = session.scalars(
                    select(ReferenceWork).where(ReferenceWork.sha256 == sha256)
                ).first()
                if known is not None:
                    report.existing.append(_view(known))
                    continue
            info = probe(path)
            if info.kind not in ("image", "video"):
                raise InvalidMediaError(f"is {info.kind}, not a picture or a video")
            if min(info.width, info.height) < MIN_SIDE:
                raise InvalidMediaError(
                    f"is {info.width}x{info.height}: too small to compare, a reference "
                    f"needs at least {MIN_SIDE}x{MIN_SIDE} pixels"
                )
            frames, note = _read_work(path, info.kind, config)
            frames = [f for f in frames if _grey_std(f.rgb) >= FLAT_STD]
            if not frames:
                raise InvalidMediaError(
                    "is a single colour: nothing in it to compare takes against"
                )
            report.added.append(
                _store_work(production, path, sha256, info.kind, frames, note, title, config)
            )
        except SetpieceError as exc:
            text = str(exc)
            text = text.replace(str(path), "").strip(" :") or text
            skipped.append(Skipped(str(path), text))
    if progress:
        progress("index", len(files), len(files))
    if not report.added and not report.existing:
        if not skipped:
            raise InvalidInputError("no pictures or videos found in the paths given")
        raise InvalidInputError(
            "nothing added: " + "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        )
    return report


def _store_work(
    production: Production,
    path: Path,
    sha256: str,
    kind: str,
    frames: list[Frame],
    note: str | None,
    title: str | None,
    config: IntegritySettings,
) -> ReferenceView:
    height, width = frames[0].rgb.shape[:2]
    with tempfile.TemporaryDirectory(prefix="setpiece-ref-") as folder:
        thumbs = [
            _thumbnail(frame.rgb, config.thumb, Path(folder) / f"{frame.index:08d}.png")
            for frame in frames
        ]
        ingested = probe_files(thumbs, kinds=frozenset({"image"}), what="reference thumbnail")
        codes = [reference_codes(frame.rgb) for frame in frames]
        store_files(production, ingested)
        with production.transaction() as session:
            production.authorize(session, "edit_breakdown")
            work = ReferenceWork(
                sha256=sha256,
                title=(title or path.stem).strip()[:300],
                source=str(path.absolute())[:1000],
                kind=kind,
                width=width,
                height=height,
                frames=len(frames),
                data={"note": note} if note else {},
                added_by=production.actor,
            )
            session.add(work)
            session.flush()
            for frame, frame_codes, thumb in zip(frames, codes, ingested, strict=True):
                session.add(
                    ReferenceFrame(
                        work_id=work.id,
                        frame=frame.index,
                        time=float(frame.time),
                        phash=to_signed(int(frame_codes[0])),
                        codes=pack_codes(frame_codes),
                        thumb_sha256=media_row(session, thumb).sha256,
                    )
                )
            session.flush()
            return _view(work)


def list_references(production: Production) -> list[ReferenceView]:
    """The works in the corpus, oldest first."""
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        works = session.scalars(select(ReferenceWork).order_by(ReferenceWork.id)).all()
        return [_view(work) for work in works]


def remove_reference(production: Production, work_id: int) -> ReferenceView:
    """Removes a work and its indexed frames from the corpus (thumbnails stay in the store
    until ``setpiece fsck --gc`` finds them unreferenced).

    Raises:
        NotFoundError: No work has that id.
    """
    with production.transaction() as session:
        production.authorize(session, "edit_project")
        work = session.get(ReferenceWork, work_id)
        if work is None:
            raise NotFoundError(
                f"no reference work {work_id}: 'setpiece reference list' shows the corpus"
            )
        view = _view(work)
        for frame in session.scalars(
            select(ReferenceFrame).where(ReferenceFrame.work_id == work_id)
        ):
            session.delete(frame)
        session.flush()
        session.delete(work)
        return view

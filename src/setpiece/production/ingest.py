"""Bringing files into the production: validate every one, then store, then record.

The order is what keeps imports safe. Every file is probed and hashed before
anything is written, so one bad file refuses the whole batch with nothing
stored. Files then go into the content-addressed store (atomic per file), and
only then are the database rows committed in one transaction. A crash between
the two leaves unreferenced files in the store, which ``fsck`` lists and
``fsck --gc`` removes, but never a row that points at a missing or partial file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.orm import Media

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from setpiece.production.context import Production
    from setpiece.store.probe import MediaInfo

__all__ = ["Ingested", "media_row", "probe_files", "store_files"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Ingested:
    """A validated file: where it is, what it is, and its content hash."""

    path: Path
    info: MediaInfo
    sha256: str
    size: int


def probe_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    kinds: frozenset[str] = frozenset({"image", "video"}),
    what: str = "take",
    progress: Progress | None = None,
) -> list[Ingested]:
    """Probes and hashes every file; raises on the first bad one, having written nothing.

    Raises:
        InvalidInputError: A missing file, or a kind not in ``kinds``.
        InvalidMediaError: A file that is not usable media.
    """
    from setpiece.store.media import hash_file
    from setpiece.store.probe import probe

    if not paths:
        raise InvalidInputError(f"no files given for the {what}")
    result: list[Ingested] = []
    for index, raw in enumerate(paths):
        path = Path(raw)
        info = probe(path)
        if info.kind not in kinds:
            raise InvalidMediaError(
                f"{path} is {info.kind}: a {what} needs {' or '.join(sorted(kinds))}"
            )
        sha256, size = hash_file(path)
        result.append(Ingested(path, info, sha256, size))
        if progress:
            progress(index + 1, len(paths))
    return result


def store_files(
    production: Production, files: Sequence[Ingested], progress: Progress | None = None
) -> None:
    """Puts each file into the media store (deduplicated, atomic)."""
    for index, item in enumerate(files):
        production.store.put(item.path, item.info.ext, sha256=item.sha256)
        if progress:
            progress(index + 1, len(files))


def media_row(session: Session, item: Ingested) -> Media:
    """The media row for a stored file, created if new."""
    existing = session.get(Media, item.sha256)
    if existing is not None:
        return existing
    info = item.info
    media = Media(
        sha256=item.sha256,
        size=item.size,
        kind=info.kind,
        ext=info.ext,
        container=info.container,
        codec=info.codec,
        width=info.width,
        height=info.height,
        fps_num=info.fps.numerator if info.fps else None,
        fps_den=info.fps.denominator if info.fps else None,
        frames=info.frames,
        duration=float(info.duration) if info.duration is not None else None,
        audio_streams=info.audio_streams,
        original_name=item.path.name,
    )
    session.add(media)
    return media

"""Posters: the small JPEG the shot board shows for a take, instead of its media file.

The board used to put each take's own file in the page (a 960x540 PNG, or a video that
the browser fetched to read its first frame): on the demo's 22 shots, 4 had appeared
after 1.5 s. A poster is the first frame, at most ``POSTER_WIDTH`` pixels wide, as a
JPEG of quality ``POSTER_QUALITY`` (about 5-10 KB for a previs frame).

What this module decides:

- **Once per media file.** A poster is keyed by its source's sha256: takes that share a
  file share its poster, and it is never made again. It is a media row of its own in the
  content-addressed store, recorded in ``posters`` (``model/orm.py``), so ``fsck`` checks
  it and ``fsck --gc`` keeps it exactly as long as its source.
- **Made on first request**, not when the take arrives: making one costs about as much as
  reading the take's first frame (``bench/web_board_scale.py`` measures it), and a project
  made before posters existed gets them with no step to run. Two requests racing to make
  the same poster write the same bytes; the second finds the first's row.
- **A source that cannot be read gets a placeholder**, said once in the log: a file that
  does not decode is recorded with the reason (so it is not tried again on every board);
  a file missing from the store is not recorded (``fsck`` reports it; restoring the file
  brings the poster back) and is said once per process.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from setpiece.errors import InvalidInputError, InvalidMediaError, NotFoundError, StorageError
from setpiece.model.orm import Media, Poster
from setpiece.production.context import Production
from setpiece.production.rows import media_view
from setpiece.production.views import MediaView

__all__ = ["PLACEHOLDER_SVG", "POSTER_QUALITY", "POSTER_WIDTH", "PosterFile", "poster_of"]

log = logging.getLogger(__name__)

POSTER_WIDTH = 256
POSTER_QUALITY = 70
PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="256" height="144" viewBox="0 0 256 144">'
    b'<rect width="256" height="144" fill="#333"/>'
    b'<text x="128" y="78" fill="#bbb" font-family="sans-serif" font-size="16" '
    b'text-anchor="middle">no picture</text></svg>'
)

_said: set[str] = set()  # sources whose missing file was logged, by this process
_said_lock = threading.Lock()


@dataclass(frozen=True)
class PosterFile:
    """A take's poster: its own hash and store key, or none (a placeholder) and why."""

    source: str
    sha256: str | None
    key: str | None
    error: str | None = None


def _checked(sha256: str) -> str:
    value = sha256.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInputError("a poster is asked for by its take's media sha256: 64 hex digits")
    return value


def poster_of(production: Production, sha256: str) -> PosterFile:
    """The poster of the stored media ``sha256``, made now if it has none yet.

    Raises:
        InvalidInputError: Not a sha256.
        NotFoundError: No such media in the project.
        StorageError: The poster cannot be written to the store or recorded.
    """
    source = _checked(sha256)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        row = session.get(Poster, source)
        if row is not None and (row.poster_sha256 is None or _present(production, row)):
            return _file(row)
        media = session.get(Media, source)
        if media is None:
            raise NotFoundError(f"no media {source[:12]}… in this project")
        view = media_view(production, media)
    # Decoding and writing happen outside any transaction: a slow file holds no lock.
    with tempfile.TemporaryDirectory(prefix="setpiece-poster-") as folder:
        target = Path(folder) / "poster.jpg"
        try:
            width, height = _draw(production, view, target)
        except InvalidMediaError as exc:
            log.warning("take media %s… gets no poster: %s", source[:12], exc)
            return _record(production, source, None, error=str(exc))
        except StorageError as exc:
            with _said_lock:
                first = source not in _said
                _said.add(source)
            if first:
                log.warning("take media %s… gets no poster: %s", source[:12], exc)
            return PosterFile(source, None, None, str(exc))
        stored = production.store.put(target, ".jpg")
        made = Media(
            sha256=stored.sha256,
            size=stored.size,
            kind="image",
            ext=".jpg",
            container="jpeg",
            codec="mjpeg",
            width=width,
            height=height,
            frames=1,
            original_name=f"poster of {source[:12]}",
        )
    return _record(production, source, made)


def _present(production: Production, row: Poster) -> bool:
    """Whether the poster's file is still in a local store (remote stores are trusted)."""
    sha = row.poster_sha256 or ""
    path = production.store.local_path(f"{sha[:2]}/{sha}.jpg")
    return path is None or path.is_file()


def _file(row: Poster) -> PosterFile:
    sha = row.poster_sha256
    return PosterFile(row.source_sha256, sha, f"{sha[:2]}/{sha}.jpg" if sha else None, row.error)


def _record(
    production: Production, source: str, made: Media | None, *, error: str | None = None
) -> PosterFile:
    """Records the poster (or why there is none); a row another request wrote first wins."""
    try:
        with production.transaction() as session:
            if made is not None and session.get(Media, made.sha256) is None:
                session.add(made)
            row = session.get(Poster, source)
            if row is None:
                row = Poster(source_sha256=source)
                session.add(row)
            row.poster_sha256 = made.sha256 if made is not None else None
            row.error = error
            session.flush()
            return _file(row)
    except IntegrityError:
        with production.transaction(read_only=True) as session:
            found = session.get(Poster, source)
            if found is None:
                raise
            return _file(found)


def _draw(production: Production, media: MediaView, target: Path) -> tuple[int, int]:
    """Writes the first frame of ``media``, scaled down, as a JPEG; returns its size.

    Raises:
        InvalidMediaError: The file does not decode.
        StorageError: The file is missing from the store.
    """
    from PIL import Image

    from setpiece.store.frames import iter_take_frames

    label = f"media {media.sha256[:12]}…"
    frames = iter_take_frames(media, label, production.store)
    try:
        first = next(frames, None)
    finally:
        close = getattr(frames, "close", None)  # a generator: let go of the open file now
        if close is not None:
            close()
    if first is None:
        raise InvalidMediaError(f"{label} has no frame to show")
    picture = Image.fromarray(first.rgb)
    if picture.width > POSTER_WIDTH:
        height = max(1, round(picture.height * POSTER_WIDTH / picture.width))
        picture = picture.resize(
            (POSTER_WIDTH, height), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
    picture.save(target, "JPEG", quality=POSTER_QUALITY)
    return picture.width, picture.height

"""Delivery: the one door every file Setpiece writes for use outside the store goes through.

The media store keeps clean masters, so content addresses never change; a
delivered copy is the master (or a rendered cut, sheet or bundle member) with the
invisible watermark added to its pictures and then a C2PA manifest signed into it.
Watermark first, signature last: the signature covers the marked bytes.

Videos are decoded, each frame marked with the payload of the take it shows
(``frame_payload``), and encoded again with H.264 (CRF 16, so the mark and the
picture lose little); audio is copied as it is. A line's audio (WAV) carries no
watermark and is signed like a picture: its manifest says whether a voice backend
synthesised it (which backend and voice) or a person recorded it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.enums import Origin, TakeKind
from setpiece.provenance.credentials import (
    SOURCE_TYPES,
    Credentials,
    Ingredient,
    SignResult,
    composite_source_type,
    sign_file,
)
from setpiece.provenance.keys import Identity, load_identity
from setpiece.provenance.settings import ProvenanceSettings
from setpiece.provenance.watermark import Payload, detect, embed, embed_luma, project_code

if TYPE_CHECKING:
    import numpy as np

    from setpiece.model.dialogue import LineAudio
    from setpiece.model.orm import Take
    from setpiece.production.context import Production
    from setpiece.production.cut import Cut
    from setpiece.production.views import TakeView

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Delivered",
    "Delivery",
    "deliver",
    "delivery_for",
    "take_credentials",
]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")
NO_TAKE = "00000000"  # the payload of frames that show no take (slates, sheets)
VIDEO_CRF = 16


@dataclass
class Delivery:
    """What delivering needs from the project: settings, its code, the signing identity."""

    settings: ProvenanceSettings
    project_name: str
    project: int
    store_root: Path | None = None  # the local media store: never written by delivery
    _identity: Identity | None = field(default=None, repr=False)

    def check_target(self, target: Path) -> None:
        """Refuses a target inside the media store, which keeps clean masters.

        Raises:
            InvalidInputError: The target is inside the local media store.
        """
        if self.store_root is None:
            return
        resolved = target.expanduser().absolute().resolve()
        if resolved.is_relative_to(self.store_root):
            raise InvalidInputError(
                f"{target} is inside the media store ({self.store_root}), which keeps clean "
                "masters: write the delivered copy elsewhere (--out)"
            )

    def identity(self) -> Identity:
        if self._identity is None:
            certificate, key = self.settings.identity_paths()
            if self.settings.certificate is None and not certificate.exists():
                # First delivery of a project without a studio identity: development keys,
                # labelled UNTRUSTED, so nothing leaves unsigned.
                from setpiece.provenance.keys import init_dev_keys

                init_dev_keys(self.settings.dev_keys, project=self.project_name)
            self._identity = load_identity(certificate, key)
        return self._identity

    def payload(self, take: str | None) -> Payload:
        return Payload(self.project, take or NO_TAKE)


@dataclass(frozen=True)
class Delivered:
    """A delivered file: where, whether marked, and how signed."""

    path: Path
    watermarked: bool
    signed: SignResult | None
    note: str | None = None  # why a still was not watermarked (TOO_FLAT)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "watermarked": self.watermarked,
            "note": self.note,
            "signature": self.signed.to_json() if self.signed else None,
        }


def delivery_for(production: Production) -> Delivery:
    """The delivery settings of an open project (checked; keys are read when first needed)."""
    settings = ProvenanceSettings.from_settings(production.config.root, production.config.settings)
    row = production.project_row()
    media = production.config.media_url
    store_root = None if "://" in media else Path(media).expanduser().absolute().resolve()
    return Delivery(
        settings, row.name, project_code(row.name, row.created_at.isoformat()), store_root
    )


TOO_FLAT = "too flat to carry a watermark: delivered unmarked"
"""What delivery says of a still whose mark does not read back (a flat field: the mark is
kept off flat areas so that it stays invisible, and such a still has nowhere to put it; or
a still whose few textured pixels cannot carry it within 45 dB of the master, ``QIM_PSNR``
in :mod:`.watermark`)."""

DELIVERED_CONFIDENCE = 0.9
"""The confidence a marked still must read back with, straight after marking, to be
delivered marked: the bench's photographs read 0.99-1.0; a contact sheet with one small
textured panel read 0.35-0.62 and sometimes not at all, a mark no re-save would keep."""


def _mark_image(source: Path, target: Path, payload: Payload) -> bool:
    """Writes the marked picture; False (and the picture unmarked) when the mark does not
    read back from it clearly, as on a still too flat to carry one.

    Raises:
        InvalidInputError: The picture already carries another project's or take's mark
            (a delivered copy delivered again): a second mark would hide the first.
    """
    from PIL import Image

    from setpiece.store.frames import load_rgb

    pixels = load_rgb(source)
    before = detect(pixels)
    if before.found and before.payload is not None and before.payload != payload:
        raise InvalidInputError(
            f"{source.name} already carries a watermark (project code "
            f"{before.payload.project:04x}, take {before.payload.take}): deliver its clean "
            "master, not a delivered copy"
        )
    marked_pixels = embed(pixels, payload)
    check = detect(marked_pixels)
    readable = check.found and check.payload == payload
    readable = readable and check.confidence >= DELIVERED_CONFIDENCE
    marked = Image.fromarray(marked_pixels if readable else pixels)
    suffix = target.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        marked.save(target, format="JPEG", quality=95)
    else:
        marked.save(target, format={".png": "PNG", ".webp": "WEBP"}.get(suffix, "TIFF"))
    return readable


#: Frames between two progress reports while a movie is watermarked (and the last one).
MARK_PROGRESS_EVERY = 24


def _mark_video(
    source: Path,
    target: Path,
    frame_payload: Callable[[int], Payload | None],
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Re-encodes ``source`` with each frame's luma marked; the audio is copied.

    ``progress`` is called as ``(frames_done, frames_total)`` every
    ``MARK_PROGRESS_EVERY`` frames and at the end (the total is the container's count,
    or its duration at its rate where it has none)."""
    from fractions import Fraction

    import av

    from setpiece.store.video import Encoding, MovieWriter, movie_codec, open_container, reason

    try:
        src = open_container(source)
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMediaError(f"{source} cannot be opened as video: {reason(exc)}") from None
    with src:
        if not src.streams.video:
            raise InvalidMediaError(f"{source} has no video stream")
        vin = src.streams.video[0]
        width, height = vin.codec_context.width, vin.codec_context.height
        if width % 2 or height % 2:
            raise InvalidMediaError(f"{source} is {width}x{height}: 4:2:0 video needs even sizes")
        codec = movie_codec()
        context = vin.codec_context
        encoding = Encoding(
            codec,
            "yuv420p",
            {"crf": str(VIDEO_CRF), "preset": "veryfast"} if codec == "libx264" else {},
            color_range=int(context.color_range),
            colour=(int(context.colorspace), int(context.color_primaries), int(context.color_trc)),
            bit_rate=None if codec == "libx264" else max(800_000, width * height * 24),
            time_base=vin.time_base,
        )
        rate = Fraction(vin.average_rate or vin.guessed_rate or 24)
        total = _frame_count(vin, src, rate)
        container = "mov" if target.suffix.lower() == ".mov" else "mp4"
        try:
            with MovieWriter(
                target, width, height, rate, encoding, container=container, faststart=True
            ) as out:
                ain = src.streams.audio[0] if src.streams.audio else None
                aout = out.copy_stream(ain) if ain is not None else None
                done = 0
                for frame, planes in _marked_planes(src.decode(vin), frame_payload, height):
                    picture = av.VideoFrame.from_ndarray(planes, format="yuv420p")
                    picture.time_base = frame.time_base
                    out.picture(picture, pts=frame.pts)
                    done += 1
                    if progress is not None and done % MARK_PROGRESS_EVERY == 0:
                        progress(done, max(total, done))
                if progress is not None:
                    progress(done, done)  # the count the movie had
                out.finish()
                if ain is not None and aout is not None:
                    src.seek(0)
                    for packet in src.demux(ain):
                        if packet.dts is None:
                            continue
                        packet.stream = aout
                        out.mux(packet)
        except av.FFmpegError as exc:
            raise InvalidMediaError(f"{source} cannot be re-encoded: {reason(exc)}") from None


def _frame_count(stream: Any, container: Any, rate: Fraction) -> int:
    """A video stream's frame count: the container's, else its duration at ``rate``."""
    if stream.frames:
        return int(stream.frames)
    if container.duration:
        import av

        return round(Fraction(container.duration, av.time_base) * rate)
    return 0


def _marked_planes(
    frames: Iterable[Any], frame_payload: Callable[[int], Payload | None], height: int
) -> Iterator[tuple[Any, np.ndarray]]:
    """Each decoded frame with its YUV 4:2:0 planes, the luma marked, in order.

    The marks are computed by a few threads at once (NumPy and OpenCV release the GIL),
    with at most two frames a thread in flight, so memory stays flat however long the
    movie. Marking is 85-90 % of a delivered movie's time, and serial it used one core
    of two: 7.6 ms a 640x360 frame, 60,000 frames in The Last Birthday Card's cut.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    def mark(planes: np.ndarray, payload: Payload | None) -> np.ndarray:
        if payload is not None:
            planes[:height] = embed_luma(planes[:height], payload)
        return planes

    workers = max(1, min(4, os.cpu_count() or 1))
    pending: deque[tuple[Any, Future[np.ndarray]]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="watermark") as pool:
        for index, frame in enumerate(frames):
            planes = frame.to_ndarray(format="yuv420p")
            pending.append((frame, pool.submit(mark, planes, frame_payload(index))))
            if len(pending) >= 2 * workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()


def deliver(
    delivery: Delivery,
    source: Path,
    target: Path,
    credentials: Credentials | None,
    *,
    take: str | None = None,
    frame_take: Callable[[int], str | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Delivered:
    """Writes ``target`` from ``source``: watermarked (pictures), then signed.

    ``source`` is never changed (it may be a master in the store). ``take`` is what the
    watermark names; a video may name a take per frame with ``frame_take``. ``progress``
    hears ``(frames_done, frames_total)`` while a video's frames are marked.

    Raises:
        InvalidInputError: Bad keys or settings, or an unwritable target.
        InvalidMediaError: The source cannot be read as its kind.
    """
    from setpiece.store.frames import temporary_file

    delivery.check_target(target)
    suffix = target.suffix.lower()
    settings = delivery.settings
    identity = delivery.identity() if settings.sign and credentials is not None else None
    with tempfile.TemporaryDirectory(prefix=".setpiece-deliver-", dir=target.parent) as work:
        marked = Path(work) / f"marked{suffix}"
        watermarked = False
        note: str | None = None
        if settings.watermark and suffix in IMAGE_SUFFIXES:
            watermarked = _mark_image(source, marked, delivery.payload(take))
            note = None if watermarked else TOO_FLAT
            if note and credentials is not None and "watermark" in credentials.setpiece:
                # The manifest says what the file carries: no mark, and why.
                said = {**credentials.setpiece, "watermark": None, "watermark_note": note}
                credentials = replace(credentials, setpiece=said)
        elif settings.watermark and suffix in VIDEO_SUFFIXES:
            if frame_take is not None:
                per_frame = frame_take
                _mark_video(source, marked, lambda i: delivery.payload(per_frame(i)), progress)
            else:
                _mark_video(source, marked, lambda i: delivery.payload(take), progress)
            watermarked = True
        else:
            shutil.copyfile(source, marked)
        if identity is None or credentials is None:
            with temporary_file(target) as temp:
                shutil.copyfile(marked, temp)
            return Delivered(target, watermarked, None, note)
        signed = sign_file(marked, target, credentials, identity)
        return Delivered(target, watermarked, signed, note)


def _when(take: TakeView) -> str:
    return take.created_at.isoformat().replace("+00:00", "Z")


def take_credentials(
    production: Production, take: TakeView, title: str, master: Path
) -> Credentials:
    """The manifest of a take's delivered copy, from the take's recorded recipe and chain."""
    from setpiece.production.derive import operations_of
    from setpiece.production.takes import get_take

    recipe = take.recipe
    made = _made_by(production, {take.id}).get(take.id)
    origin = made.origin if made else None
    agent: dict[str, Any] | None = None
    if recipe.backend:
        agent = {"name": recipe.backend}
        if recipe.model:
            agent["version"] = recipe.model
    actions: list[dict[str, Any]] = []
    ingredients: list[Ingredient] = []
    operations = operations_of(take)
    if recipe.parent:
        parent = get_take(production, recipe.parent)
        if parent.media is not None and "://" not in parent.media.path:
            ingredients.append(
                Ingredient(
                    Path(parent.media.path),
                    f"take {parent.label} ({parent.id})",
                    "parentOf",
                    "parent",
                )
            )
            opened: dict[str, Any] = {
                "action": "c2pa.opened",
                "parameters": {"ingredientIds": ["parent"]},
            }
            if origin is not None:  # the parent master is unsigned: say what it is here
                opened["digitalSourceType"] = SOURCE_TYPES[origin]
            actions.append(opened)
    if not actions:
        if origin is not None:
            created: dict[str, Any] = {
                "action": "c2pa.created",
                "digitalSourceType": SOURCE_TYPES[origin],
                "when": _when(take),
            }
            if agent:
                created["softwareAgent"] = agent
            actions.append(created)
        else:
            # Imported, no generator recorded: the master is the parent; we do not guess how it was made.
            ingredients.append(
                Ingredient(master, f"imported master of take {take.label}", "parentOf", "master")
            )
            actions.append(
                {
                    "action": "c2pa.opened",
                    "parameters": {"ingredientIds": ["master"]},
                    "when": _when(take),
                }
            )
    for operation in operations if recipe.parent else []:
        actions.append(
            {
                "action": "c2pa.edited",
                "when": _when(take),
                "softwareAgent": {"name": f"setpiece {operation.name or 'edit'}"},
                "parameters": {"operation": operation.record()},
            }
        )
    for index, ref in enumerate(recipe.references):
        path = _reference_path(production, ref)
        if path is not None:
            ingredients.append(Ingredient(path, f"reference image {index + 1}", "inputTo"))
    return Credentials(
        title=title,
        actions=actions,
        ingredients=ingredients,
        setpiece={
            "take": take.id,
            "shot": take.shot,
            "label": take.label,
            "generator": recipe.backend,
            "model": recipe.model,
            "origin": origin.value if origin else None,
            "model_hash": recipe.model_hash,
            "seed": recipe.seed,
            "parent": recipe.parent,
            "operations": [operation.record() for operation in operations],
            "master_sha256": take.media.sha256 if take.media else None,
            "watermark": "setpiece-watermark-v1",
        },
    )


def _reference_path(production: Production, sha256: str) -> Path | None:
    from sqlalchemy import select

    from setpiece.model.orm import Media

    with production.transaction() as session:
        media = session.scalars(select(Media).where(Media.sha256 == sha256)).first()
        if media is None:
            return None
        key = media.key
    local = production.store.local_path(key)
    return local if local is not None and local.is_file() else None


def export_take(production: Production, ref: str, out: Path) -> Delivered:
    """``setpiece take export``: a take's master delivered to ``out``, marked and signed.

    Raises:
        NotFoundError: Unknown take.
        InvalidInputError: A take without media, an extension unlike the take's kind.
    """
    from setpiece.production.takes import get_take
    from setpiece.store.frames import check_target, media_source

    take = get_take(production, ref)
    if take.media is None:
        raise InvalidInputError(f"take {take.label} has no media to export (status {take.status})")
    suffixes = IMAGE_SUFFIXES if take.media.kind == TakeKind.IMAGE else VIDEO_SUFFIXES
    target = check_target(out, suffixes, f"export of take {take.label}")
    delivery = delivery_for(production)
    with tempfile.TemporaryDirectory(prefix=".setpiece-export-", dir=target.parent) as work:
        with media_source(take.media, take.label, production.store) as source:
            master = Path(work) / f"master{Path(take.media.path).suffix or target.suffix}"
            if isinstance(source, str):
                shutil.copyfile(source, master)
            else:
                with master.open("wb") as copy:
                    shutil.copyfileobj(source, copy)
        credentials = take_credentials(production, take, target.name, master)
        return deliver(delivery, master, target, credentials, take=take.id)


@dataclass(frozen=True)
class MadeBy:
    """What made a take: its chain's first generator and model, and its origin."""

    generator: str | None
    model: str | None
    origin: Origin | None  # None: imported with no generator, nothing claimed


def made_by(takes: Mapping[str, Take], ids: Iterable[str]) -> dict[str, MadeBy]:
    """For each take id: what made it, read along its chain back to the first take.

    The origin is the nearest one the chain records (a derived take keeps its source's),
    else the one inferred from the generator's name for takes recorded before origins were
    (``Origin.of_chain``). The generator and model are the first take's.

    Args:
        takes: Every take of the project by id (the chains are looked up in it).
        ids: The takes to describe; ids not in ``takes`` are left out.
    """
    made: dict[str, MadeBy] = {}
    for take_id in ids:
        chain: list[Take] = []
        take = takes.get(take_id)
        while take is not None and take not in chain:
            chain.append(take)
            take = takes.get(take.parent_take_id) if take.parent_take_id else None
        if chain:
            made[take_id] = MadeBy(
                chain[-1].backend,
                chain[-1].model_name,
                Origin.of_chain((t.backend, t.parameters) for t in chain),
            )
    return made


def _made_by(production: Production, ids: set[str]) -> dict[str, MadeBy]:
    from sqlalchemy import select

    from setpiece.model.orm import Take

    with production.transaction(read_only=True) as session:
        return made_by({t.id: t for t in session.scalars(select(Take))}, ids)


def line_credentials(line: LineAudio, title: str) -> Credentials:
    """The manifest of a line's delivered audio: synthesised by its voice, or recorded."""
    from datetime import UTC, datetime

    from setpiece.provenance.disclosure import voice_origin

    origin = voice_origin(line)
    action: dict[str, Any] = {
        "action": "c2pa.created",
        "digitalSourceType": SOURCE_TYPES[origin],
        "when": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    if line.voice:
        backend, _, voice = line.voice.partition(":")
        action["softwareAgent"] = {"name": backend, **({"version": voice} if voice else {})}
    return Credentials(
        title=title,
        actions=[action],
        setpiece={
            "line": line.line,
            "scene": line.scene,
            "shot": line.shot,
            "character": line.character,
            "speech": line.source,
            "voice": line.voice,
        },
    )


def line_deliverer(production: Production) -> Callable[[LineAudio, Path, Path], Delivered]:
    """Delivers one line's audio (``.otioz`` bundle members): ``(line, master, target)``."""
    delivery = delivery_for(production)

    def deliver_line(line: LineAudio, master: Path, target: Path) -> Delivered:
        return deliver(delivery, master, target, line_credentials(line, target.name))

    return deliver_line


def cut_credentials(
    production: Production, cut: Cut, title: str, lines: Iterable[LineAudio] = ()
) -> Credentials:
    """The manifest of a delivered cut (movie, sheet, bundle): a composite of its takes and,
    when it speaks, of its lines' voices."""
    from datetime import UTC, datetime

    from setpiece import __version__
    from setpiece.provenance.disclosure import voice_origin

    ids = {c.take for c in cut.clips if c.take}
    made = _made_by(production, ids)
    spoken = list(lines)
    source = composite_source_type(
        [*(m.origin for m in made.values()), *(voice_origin(line) for line in spoken)]
    )
    unknown = MadeBy(None, None, None)
    clips = [
        {
            "shot": c.shot,
            "take": c.take,
            "label": c.take_label,
            "status": c.status,
            "record_in": c.record_in,
            "duration": c.duration,
            "generator": made.get(c.take or "", unknown).generator,
            "model": made.get(c.take or "", unknown).model,
            "origin": (lambda o: o.value if o else None)(made.get(c.take or "", unknown).origin),
        }
        for c in cut.clips
    ]
    return Credentials(
        title=title,
        actions=[
            {
                "action": "c2pa.created",
                "digitalSourceType": source,
                "softwareAgent": {"name": "setpiece", "version": __version__},
                "when": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        ],
        setpiece={
            "cut": cut.name,
            "clips": clips,
            "watermark": "setpiece-watermark-v1",
            **(
                {
                    "lines": [
                        {
                            "line": line.line,
                            "character": line.character,
                            "speech": line.source,
                            "voice": line.voice,
                        }
                        for line in spoken
                    ]
                }
                if spoken
                else {}
            ),
        },
    )


def frame_takes(cut: Cut) -> Callable[[int], str | None]:
    """The take each record frame of the cut shows (None on slates)."""
    import bisect

    starts = [c.record_in for c in cut.clips]

    def take_at(frame: int) -> str | None:
        index = bisect.bisect_right(starts, frame) - 1
        return cut.clips[index].take if 0 <= index < len(cut.clips) else None

    return take_at


def cut_deliverer(
    production: Production,
    cut: Cut,
    lines: Iterable[LineAudio] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Callable[[Path, Path], Delivered]:
    """What the cut's writers call to deliver a file they rendered (``deliver(raw, target)``);
    ``lines``: the dialogue the cut speaks, named in the manifest; ``progress``: hears
    ``(frames_done, frames_total)`` while a movie's frames are watermarked."""
    delivery = delivery_for(production)
    spoken = list(lines)

    def deliver_rendered(raw: Path, target: Path) -> Delivered:
        credentials = cut_credentials(production, cut, target.name, spoken)
        return deliver(
            delivery, raw, target, credentials, frame_take=frame_takes(cut), progress=progress
        )

    return deliver_rendered


def take_deliverer(production: Production) -> Callable[[str, Path, Path], Delivered]:
    """Delivers one take's master copy (``.otioz`` bundle members): ``(take id, master, target)``."""
    from setpiece.production.takes import get_take

    delivery = delivery_for(production)

    def deliver_take(take_id: str, master: Path, target: Path) -> Delivered:
        take = get_take(production, take_id)
        credentials = take_credentials(production, take, target.name, master)
        return deliver(delivery, master, target, credentials, take=take.id)

    return deliver_take


__all__ += [
    "MadeBy",
    "cut_credentials",
    "cut_deliverer",
    "export_take",
    "frame_takes",
    "line_credentials",
    "line_deliverer",
    "made_by",
    "take_deliverer",
]

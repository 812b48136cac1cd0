"""Delivering a cut: the one way ``edit assemble`` and ``make`` hand a cut to people.

A delivery is every file asked for, made the same way whoever asks: the timelines
(``.otio``, an ``.otioz`` bundle with the media, a CMX 3600 ``.edl``, Final Cut Pro 7
XML), the preview movie (burn-in optional) and the contact sheet, each watermarked and
signed as ``setpiece.provenance.deliver`` does; the timelines, which cannot carry a
manifest inside, get a signed ``.c2pa`` sidecar; then every delivered file is verified
and the AI-use disclosure (JSON and HTML) is written beside them, last, from the same
cut. The cut speaks: its lines (``production.dialogue.cut_lines``, the take chosen for
each) are placed once (``edit.sound.place_lines``, ``[dialogue] pause``) and that one
placement is mixed into the movie, put on the timelines' audio tracks (the bundle's WAVs
signed), named in the manifests and disclosed.

Nothing is half-delivered. Every target is checked before anything is written (its
extension, its folder exists, the folder takes a new file: a read-only folder is the
environment, ``StorageError``, exit 5), each file is written to a temporary name and
renamed, and when any file fails the files this delivery already wrote are undone: a new
file is removed, and a file that was there before (last week's ``cut.edl``) comes back as
it was, from a hard link kept beside it while the delivery runs. A failed delivery leaves
no movie, sidecar or disclosure without its cut, and loses nothing that was delivered
before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.errors import InvalidInputError
from setpiece.provenance.credentials import SIDECAR_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Sequence

    from setpiece.edit.movie import PreviewReport
    from setpiece.edit.sound import LinePlacement
    from setpiece.edit.timeline import TimelineExport
    from setpiece.model.dialogue import LineAudio
    from setpiece.production.context import Production
    from setpiece.production.cut import Cut
    from setpiece.provenance.disclosure import Disclosure
    from setpiece.provenance.keys import Identity

__all__ = ["GOOD_STATES", "DeliveryReport", "Progress", "deliver_cut"]

#: Hears a delivery's long parts as ``(what, done, total)``: ``("frames", 240, 2000)``.
Progress = Callable[[str, int, int], None]


def _tell(progress: Progress | None, what: str, done: int, total: int) -> None:
    if progress is not None:
        progress(what, done, total)


def _part(progress: Progress | None, what: str) -> Callable[[int, int], None] | None:
    """``progress`` for one part, as the writers call it: ``(done, total)``."""
    if progress is None:
        return None
    return lambda done, total: progress(what, done, total)


GOOD_STATES = ("Valid", "Trusted")  # what ``verify`` says of a delivered file that is sound


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery wrote, how it was signed and what verifying it found.

    Attributes:
        files: Kind ("otio", "otioz", "edl", "fcp_xml", "movie", "contact_sheet") -> path.
        manifests: Kind -> the ``.c2pa`` sidecar signed for that file (the timelines).
        verified: Kind -> what ``setpiece verify`` says of the file (Valid, Trusted, ...).
        disclosure_files: The AI-use disclosure written beside the files (JSON, HTML).
        signer: The subject of the identity that signed the delivery.
        disclosure: The disclosure those files hold.
        timelines: What the timeline export wrote (None without a timeline).
        preview: What the preview movie holds (None without a movie).
        dialogue: Where the cut's lines were placed (the movie and timelines agree).
    """

    files: dict[str, Path]
    manifests: dict[str, Path]
    verified: dict[str, str]
    disclosure_files: list[Path]
    signer: str
    disclosure: Disclosure = field(repr=False)
    timelines: TimelineExport | None = None
    preview: PreviewReport | None = None
    dialogue: LinePlacement | None = None

    @property
    def ok(self) -> bool:
        """Every delivered file verifies (Valid or Trusted)."""
        return all(state in GOOD_STATES for state in self.verified.values())

    @property
    def unverified(self) -> dict[str, str]:
        """The files that do not verify, kind -> state."""
        return {k: s for k, s in self.verified.items() if s not in GOOD_STATES}

    def to_json(self) -> dict[str, Any]:
        return {
            "files": {kind: str(path) for kind, path in self.files.items()},
            "manifests": {kind: str(path) for kind, path in self.manifests.items()},
            "verified": dict(self.verified),
            "disclosure": [str(path) for path in self.disclosure_files],
            "signer": self.signer,
            "lines": len(self.dialogue.lines) if self.dialogue is not None else 0,
            "dialogue_warnings": list(self.dialogue.warnings) if self.dialogue else [],
            "ok": self.ok,
        }


@dataclass(frozen=True)
class _Targets:
    """The checked, absolute targets of one delivery."""

    timelines: dict[str, Path]
    movie: Path | None
    contact_sheet: Path | None
    disclosure_json: Path
    disclosure_html: Path

    def all(self) -> list[Path]:
        paths = [*self.timelines.values(), self.disclosure_json, self.disclosure_html]
        return paths + [p for p in (self.movie, self.contact_sheet) if p is not None]

    def outputs(self) -> list[Path]:
        """Every file the delivery may write: the targets and the timelines' sidecars."""
        sidecars = [p.with_name(p.name + SIDECAR_SUFFIX) for p in self.timelines.values()]
        return self.all() + sidecars


_State = tuple[int, int, int] | None  # (inode, size, mtime) of a file, None: absent


def _states(paths: list[Path]) -> dict[Path, _State]:
    states: dict[Path, _State] = {}
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            states[path] = None
        else:
            states[path] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return states


def _keep(before: dict[Path, _State]) -> dict[Path, Path]:
    """A hard link (a copy where links fail) to each target that exists, to undo with."""
    kept: dict[Path, Path] = {}
    for path, state in before.items():
        if state is None:
            continue
        keep = path.with_name(f".{path.name}.setpiece-previous")
        with contextlib.suppress(FileNotFoundError):
            keep.unlink()
        try:
            os.link(path, keep)
        except OSError:
            shutil.copy2(path, keep)
        kept[path] = keep
    return kept


def _undo(before: dict[Path, _State], kept: dict[Path, Path]) -> None:
    """Undoes a failed delivery: new files removed, replaced ones put back as they were."""
    for path, state in _states(list(before)).items():
        if state is not None and state != before[path]:
            with contextlib.suppress(OSError):
                if path in kept:
                    os.replace(kept.pop(path), path)
                else:
                    path.unlink()
    _forget(kept)


def _forget(kept: dict[Path, Path]) -> None:
    for keep in kept.values():
        with contextlib.suppress(OSError):
            keep.unlink()


def deliver_cut(
    production: Production,
    cut: Cut,
    *,
    otio: Path | None = None,
    edl: Path | None = None,
    fcp_xml: Path | None = None,
    movie: Path | None = None,
    burn_in: bool = False,
    contact_sheet: Path | None = None,
    disclosure: Path | None = None,
    scene: str | None = None,
    include_unapproved: bool = False,
    progress: Progress | None = None,
    lines: Sequence[LineAudio] | None = None,
) -> DeliveryReport:
    """Delivers ``cut``: the files asked for, signed, verified, with the disclosure beside.

    Args:
        production: The open project.
        cut: The assembled cut (``setpiece.production.cut.assemble`` with the same
            ``scene`` and ``include_unapproved``).
        otio: OpenTimelineIO file; a ``.otioz`` path writes a bundle with the media.
        edl: CMX 3600 EDL.
        fcp_xml: Final Cut Pro 7 XML.
        movie: The preview movie (``.mp4``, ``.m4v``, ``.mov``).
        burn_in: Scene, shot, take and timecode drawn on the movie.
        contact_sheet: The contact sheet (``.png``).
        disclosure: Where the disclosure's JSON goes (its HTML beside it, ``.html``);
            None: ``NAME.disclosure.json`` and ``.html`` beside the first file delivered.
        scene: The scene the cut holds (None: the film), for the sheet and disclosure.
        include_unapproved: The cut takes the newest take where none is circled.
        progress: Called as ``(what, done, total)`` through the long parts: "frames" while
            the movie renders, "watermark frames" while its frames are marked, "takes"
            while a bundle's takes are delivered, "files" as each file is signed and
            verified.
        lines: The lines the cut speaks; None reads them (``cut_lines``, the same ``scene``).

    Returns:
        What was delivered, signed and verified.

    Raises:
        InvalidInputError: Nothing to deliver, a target with the wrong extension, a
            folder, or in a folder that does not exist; an empty cut.
        StorageError: A target's folder cannot be written in (read-only), or the disk
            fails while writing; nothing of this delivery is left behind.
        InvalidMediaError: A take's media cannot be decoded.
    """
    from setpiece.provenance.credentials import verify_file
    from setpiece.provenance.deliver import delivery_for
    from setpiece.provenance.disclosure import disclosure as disclose
    from setpiece.provenance.disclosure import write_html, write_json

    targets = _check_targets(otio, edl, fcp_xml, movie, contact_sheet, disclosure)
    delivery = delivery_for(production)
    for path in targets.all():
        delivery.check_target(path)
    spoken, placement = _dialogue(production, cut, scene, lines)
    before = _states(targets.outputs())
    kept = _keep(before)
    try:
        report = disclose(
            production,
            include_unapproved=include_unapproved,
            scene=scene,
            cut=cut,
            lines=spoken,
        )
        files, timelines, preview = _write(
            production, cut, targets, burn_in, scene, progress, placement
        )
        identity = delivery.identity()
        manifests = _sign_timelines(production, cut, files, identity, spoken)
        verified: dict[str, str] = {}
        for kind, path in files.items():
            _tell(progress, "files verified", len(verified), len(files))
            verified[kind] = verify_file(path, delivery.settings).state
        _tell(progress, "files verified", len(verified), len(files))
        disclosure_files = [
            write_json(report, targets.disclosure_json),
            write_html(report, targets.disclosure_html),
        ]
    except BaseException:
        _undo(before, kept)
        raise
    _forget(kept)
    return DeliveryReport(
        files=files,
        manifests=manifests,
        verified=verified,
        disclosure_files=disclosure_files,
        signer=identity.subject,
        disclosure=report,
        timelines=timelines,
        preview=preview,
        dialogue=placement,
    )


def _dialogue(
    production: Production, cut: Cut, scene: str | None, lines: Sequence[LineAudio] | None
) -> tuple[list[LineAudio], LinePlacement]:
    """The lines the cut speaks, and where: read once, placed once, for every file (a line
    whose shot is not in the cut is left out of all of them, and named in the warnings)."""
    from setpiece.edit.sound import place_lines
    from setpiece.production.dialogue import cut_lines, dialogue_settings

    pause = dialogue_settings(production.config.settings).pause
    if lines is None:
        with production.transaction(read_only=True) as session:
            lines = cut_lines(production, session, scene=scene)
    placement = place_lines(cut, list(lines), pause=pause)
    return [placed.line for placed in placement.lines], placement


def _check_targets(
    otio: Path | None,
    edl: Path | None,
    fcp_xml: Path | None,
    movie: Path | None,
    contact_sheet: Path | None,
    disclosure: Path | None,
) -> _Targets:
    """Every target checked (extension, folder, writable) before anything is written."""
    from setpiece.edit.movie import MOVIE_SUFFIXES
    from setpiece.provenance.disclosure import beside
    from setpiece.store.frames import check_target

    timelines: dict[str, Path] = {}
    if otio is not None:
        timelines["otioz" if otio.suffix.lower() == ".otioz" else "otio"] = otio
    if edl is not None:
        timelines["edl"] = edl
    if fcp_xml is not None:
        timelines["fcp_xml"] = fcp_xml
    first = next((p for p in (movie, otio, edl, fcp_xml, contact_sheet) if p is not None), None)
    if first is None:
        raise InvalidInputError(
            "nothing to deliver: give a timeline, a movie or a contact sheet to write"
        )
    timelines = {kind: _check_timeline(path) for kind, path in timelines.items()}
    if movie is not None:
        movie = check_target(movie, MOVIE_SUFFIXES, "preview movie")
    if contact_sheet is not None:
        contact_sheet = check_target(contact_sheet, (".png",), "contact sheet")
    json_path, html_path = beside(first) if disclosure is None else (disclosure, disclosure)
    json_path = check_target(json_path, (".json",), "disclosure report")
    html_path = check_target(html_path.with_suffix(".html"), (".html",), "disclosure report")
    targets = _Targets(timelines, movie, contact_sheet, json_path, html_path)
    folders = {path.parent: path for path in reversed(targets.all())}  # folder -> a target
    for folder in sorted(folders):
        _check_writable(folder, folders[folder])
    return targets


def _check_timeline(path: Path) -> Path:
    """The folder of a timeline checked; its extension is the exporter's to judge."""
    target = path.expanduser().absolute()
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give the path of the file to write")
    if not target.parent.is_dir():
        raise InvalidInputError(f"cannot write {target}: the folder {target.parent} does not exist")
    return target


def _check_writable(folder: Path, target: Path) -> None:
    """Makes and removes a file in ``folder``, where ``target`` goes: the one sure test
    (root passes ``os.access`` everywhere).

    Raises:
        StorageError: The folder takes no new file (read-only, permissions, a full disk).
    """
    from setpiece.store.video import write_failed

    try:
        fd, probe = tempfile.mkstemp(prefix=".setpiece-delivery-", suffix=".part", dir=folder)
    except OSError as exc:
        raise write_failed(target, exc) from exc
    os.close(fd)
    os.unlink(probe)


def _write(
    production: Production,
    cut: Cut,
    targets: _Targets,
    burn_in: bool,
    scene: str | None,
    progress: Progress | None,
    dialogue: LinePlacement,
) -> tuple[dict[str, Path], TimelineExport | None, PreviewReport | None]:
    """Writes the timelines, the movie and the sheet (watermarked and signed)."""
    from functools import partial

    from setpiece.provenance.deliver import cut_deliverer, line_deliverer, take_deliverer

    spoken = [placed.line for placed in dialogue.lines]

    files: dict[str, Path] = {}
    timelines = None
    if targets.timelines:
        from setpiece.edit.timeline import export_cut

        bundle = "otioz" in targets.timelines
        timelines = export_cut(
            cut,
            otio=targets.timelines.get("otio"),
            otioz=targets.timelines.get("otioz"),
            edl=targets.timelines.get("edl"),
            fcp_xml=targets.timelines.get("fcp_xml"),
            deliver_take=_counted(take_deliverer(production), progress, cut) if bundle else None,
            deliver_bundle=cut_deliverer(production, cut, spoken) if bundle else None,
            dialogue=dialogue,
            deliver_line=line_deliverer(production) if bundle else None,
        )
        files.update(targets.timelines)
    preview = None
    if targets.movie is not None:
        from setpiece.edit.movie import write_preview

        preview = write_preview(
            cut,
            targets.movie,
            burn_in=burn_in,
            store=production.store,
            progress=_part(progress, "frames"),
            deliver=cut_deliverer(production, cut, spoken, _part(progress, "watermark frames")),
            dialogue=dialogue,
        )
        files["movie"] = targets.movie
    if targets.contact_sheet is not None:
        from setpiece.edit.contact_sheet import contact_sheet

        contact_sheet(
            production,
            targets.contact_sheet,
            scene=scene,
            deliver=partial(cut_deliverer, production),  # watermarked and signed as delivered
        )
        files["contact_sheet"] = targets.contact_sheet
    return files, timelines, preview


def _counted(
    deliver_take: Callable[[str, Path, Path], Any], progress: Progress | None, cut: Cut
) -> Callable[[str, Path, Path], Any]:
    """``deliver_take`` telling ``progress`` how many of the cut's takes it has delivered
    (a bundle watermarks and signs each take's master)."""
    total = len({clip.take for clip in cut.clips if clip.take})
    done = 0

    def counted(take: str, master: Path, target: Path) -> Any:
        nonlocal done
        _tell(progress, "takes", done, total)
        delivered = deliver_take(take, master, target)
        done += 1
        _tell(progress, "takes", done, max(total, done))
        return delivered

    return counted


def _sign_timelines(
    production: Production,
    cut: Cut,
    files: dict[str, Path],
    identity: Identity,
    lines: Sequence[LineAudio] = (),
) -> dict[str, Path]:
    """Signs each plain-text timeline with a ``.c2pa`` sidecar (the bundle signed itself)."""
    from setpiece.provenance.credentials import sign_file
    from setpiece.provenance.deliver import cut_credentials

    manifests: dict[str, Path] = {}
    for kind in ("otio", "edl", "fcp_xml"):
        path = files.get(kind)
        if path is None:
            continue
        credentials = cut_credentials(production, cut, path.name, lines)
        signed = sign_file(path, path, credentials, identity)
        if signed.sidecar is not None:
            manifests[kind] = signed.sidecar
    return manifests

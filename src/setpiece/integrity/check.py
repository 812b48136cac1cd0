"""``check integrity``: every take's frames looked up in the reference corpus.

The path of one take: its frames are sampled as references are (shot changes and a
stride), each frame is hashed whole and mirrored, the index returns every reference
code within the Hamming radius, the closest reference frames are verified on the
pixels (:mod:`setpiece.integrity.verify`: SSIM, coarse SSIM and colour agreement,
each over its floor). A frame the codes name nothing for goes to the keypoint stage
(:mod:`setpiece.integrity.keypoints`: banners, logos, half crops), and then to the
references too smooth for features, shortlisted by their low frequencies and verified
whole (their codes are unsteady: a banner moves them as far as an unrelated picture's).
Each reference work a take copies
becomes one ``near_duplicate`` finding, carrying its best frame pair as evidence (the
take's frame beside the reference frame). A re-run replaces the previous findings of
the takes it checked.

The index is built from the database at each check (codes are 8 bytes a window;
a million indexed frames load in seconds), so there is no cache to fall out of date.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sqlalchemy import select

from setpiece.errors import InvalidInputError
from setpiece.integrity.hashing import WINDOWS, Window, query_codes, unpack_codes
from setpiece.integrity.index import HammingIndex, Hits, hamming
from setpiece.integrity.keypoints import SHARED, KeypointCorpus, box_agreement
from setpiece.integrity.sampling import sample_frames
from setpiece.integrity.settings import IntegritySettings, integrity_settings
from setpiece.integrity.verify import Alignment, is_copy, verify
from setpiece.matte import picture_box
from setpiece.model.findings import NearDuplicate, ReferenceWorkRef, Unreadable
from setpiece.model.orm import Media, ReferenceFrame, ReferenceWork
from setpiece.production.context import Production
from setpiece.production.records import NewFinding, replace_findings
from setpiece.production.takes import get_take, list_takes
from setpiece.production.views import FindingView, TakeView
from setpiece.store.frames import DecodeStopped, Frame, iter_take_frames, load_rgb
from setpiece.store.media import MediaStore

__all__ = ["KIND", "IntegrityReport", "Unreadable", "check_integrity"]

KIND = "near_duplicate"
"""The finding kind this check owns."""

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IntegrityReport:
    """What a run checked and found."""

    checked: list[str] = field(default_factory=list)
    frames: int = 0
    references: int = 0
    findings: list[FindingView] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass(frozen=True)
class _Corpus:
    index: HammingIndex
    owner: np.ndarray  # reference frame row position per code
    window: np.ndarray  # window number per code
    frames: list[tuple[int, int, str | None]]  # (work id, frame number, thumbnail key)
    titles: dict[int, str]
    keypoints: list[KeypointCorpus] = field(default_factory=list)  # built when first needed


def _load_corpus(production: Production) -> _Corpus:
    codes: list[np.ndarray] = []
    frames: list[tuple[int, int, str | None]] = []
    with production.transaction() as session:
        titles = {w.id: w.title for w in session.scalars(select(ReferenceWork))}
        rows = session.execute(
            select(ReferenceFrame.work_id, ReferenceFrame.frame, ReferenceFrame.codes, Media.ext)
            .add_columns(ReferenceFrame.thumb_sha256)
            .outerjoin(Media, Media.sha256 == ReferenceFrame.thumb_sha256)
            .order_by(ReferenceFrame.id)
        )
        for work_id, frame, blob, ext, thumb in rows:
            codes.append(unpack_codes(blob))
            frames.append((work_id, frame, MediaStore.key_for(thumb, ext) if thumb else None))
    if codes:
        lengths = np.array([len(c) for c in codes])
        flat = np.concatenate(codes)
        owner = np.repeat(np.arange(len(codes)), lengths)
        window = np.concatenate([np.arange(n) for n in lengths])
    else:
        flat = owner = window = np.empty(0, dtype=np.int64)
    return _Corpus(HammingIndex(flat.astype(np.uint64)), owner, window, frames, titles)


def _take_frames(
    take: TakeView, production: Production, config: IntegritySettings
) -> tuple[list[Frame], str | None]:
    assert take.media is not None
    frames: list[Frame] = []
    problem = None
    try:
        frames.extend(
            sample_frames(
                iter_take_frames(take.media, take.label, production.store),
                stride=config.stride,
                cut=config.cut,
            )
        )
    except DecodeStopped as stopped:
        problem = str(stopped)
    except InvalidInputError as exc:  # InvalidMediaError: the file does not open at all
        problem = str(exc)
    return frames, problem


def _picture(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` cut to its picture inside a matte (:func:`setpiece.matte.picture_box`), for
    the keypoint stage: letterbox bars, or a previs panel's paper and caption strip, are
    not what a take may copy, and every panel of a film shares them. With a staged previs
    frame among six works, the demo's takes of two other scenes were fitted to it through
    them alone (3 false alarms). The codes keep the whole frame: a copy of the whole
    panel is found by them."""
    height, width = rgb.shape[:2]
    top, bottom, left, right = picture_box(rgb)
    if (top, bottom, left, right) == (0, height, 0, width):
        return rgb
    return np.ascontiguousarray(rgb[top:bottom, left:right])


def _evidence(take_rgb: np.ndarray, reference_rgb: np.ndarray, target: Path) -> Path:
    """The take's frame beside the reference frame, both 240 pixels high, as a PNG."""
    from PIL import Image

    height = 240
    pictures = []
    for rgb in (take_rgb, reference_rgb):
        image = Image.fromarray(np.ascontiguousarray(rgb))
        width = max(1, round(image.width * height / image.height))
        pictures.append(image.resize((width, height), Image.Resampling.LANCZOS))
    gap = 8
    canvas = Image.new("RGB", (pictures[0].width + gap + pictures[1].width, height), (0, 0, 0))
    canvas.paste(pictures[0], (0, 0))
    canvas.paste(pictures[1], (pictures[0].width + gap, 0))
    canvas.save(target, format="PNG")
    return target


def _read_thumb(key: str | None, production: Production) -> np.ndarray | None:
    if key is None:
        return None
    local = production.store.local_path(key)
    if local is not None:
        return load_rgb(local, "reference thumbnail")
    with production.store.open(key) as handle:
        return load_rgb(handle, "reference thumbnail")


def check_integrity(
    production: Production,
    takes: Sequence[str] = (),
    *,
    progress: Progress | None = None,
) -> IntegrityReport:
    """Looks up every sampled frame of the takes (all takes with media when none are
    named) in the reference corpus and stores one finding per copied reference work.

    Raises:
        NotFoundError: A named take does not exist.
        InvalidInputError: A named take has no media yet, or a bad setting.
    """
    config = integrity_settings(production.config.settings)
    if takes:
        chosen = [get_take(production, ref) for ref in takes]
        for take in chosen:
            if take.media is None:
                raise InvalidInputError(f"take {take.label} has no media yet ({take.status})")
    else:
        chosen = [t for t in list_takes(production) if t.media is not None]
    corpus = _load_corpus(production)
    found: list[NewFinding] = []
    checked: list[str] = []
    unreadable: list[Unreadable] = []
    frames_seen = 0
    thumbs: dict[int, np.ndarray | None] = {}
    with tempfile.TemporaryDirectory(prefix="setpiece-integrity-") as folder:
        for number, take in enumerate(chosen):
            if progress:
                progress("check", number, len(chosen))
            frames, problem = _take_frames(take, production, config)
            if not frames:
                unreadable.append(
                    Unreadable(take.id, take.label, take.shot, None, problem or "no frame decodes")
                )
                continue
            checked.append(take.id)
            frames_seen += len(frames)
            found.extend(
                _match_take(take, frames, corpus, config, thumbs, production, Path(folder))
            )
        if progress:
            progress("check", len(chosen), len(chosen))
        stored = replace_findings(production, frozenset({KIND}), found, takes=checked)
    return IntegrityReport(
        checked=checked,
        frames=frames_seen,
        references=len(corpus.titles),
        findings=stored,
        unreadable=unreadable,
    )


def _keypoints_on(corpus: _Corpus, config: IntegritySettings) -> bool:
    """Whether the keypoint stage runs: set, and over more than ``SHARED`` works.

    The stage tells a work from what a renderer draws in every picture (a backdrop, a
    caption strip) by what recurs across ``SHARED`` other works; a smaller corpus cannot show
    it, and the stage then matched every previs panel of the demo to its one reference
    (7 false alarms among its 27 takes). Such a corpus keeps the codes' rule alone.
    """
    return config.keypoints and len({work for work, _, _ in corpus.frames}) > SHARED


def _keypoint_corpus(
    corpus: _Corpus,
    config: IntegritySettings,
    thumbs: dict[int, np.ndarray | None],
    production: Production,
) -> KeypointCorpus:
    """Every reference thumbnail's features, built once per check when first needed."""
    if not corpus.keypoints:
        for row, (_, _, path) in enumerate(corpus.frames):
            if row not in thumbs:
                thumbs[row] = _read_thumb(path, production)
        rows = [row for row in range(len(corpus.frames)) if thumbs[row] is not None]
        pictures = [thumbs[row] for row in rows]
        works = [corpus.frames[row][0] for row in rows]
        built = KeypointCorpus([p for p in pictures if p is not None], config, works)
        built.rows = rows
        corpus.keypoints.append(built)
    return corpus.keypoints[0]


def _by_keypoints(
    frame: np.ndarray,
    codes: np.ndarray,
    corpus: _Corpus,
    config: IntegritySettings,
    thumbs: dict[int, np.ndarray | None],
    production: Production,
) -> list[tuple[int, Alignment, int]]:
    """(reference row, alignment, Hamming) of each frame the keypoint stage proves; when it
    proves none, of each smooth reference the frame copies whole (:func:`_by_smooth`)."""
    keypoints = _keypoint_corpus(corpus, config, thumbs, production)
    found = []
    for match in keypoints.match(frame):
        row = keypoints.rows[match.reference]
        reference = thumbs[row]
        assert reference is not None
        scale = reference.shape[1] / keypoints.greys[match.reference].shape[1]
        height, width = reference.shape[:2]
        x0, y0, x1, y1 = (round(v * scale) for v in match.box)
        window = Window(x0 / width, y0 / height, max(1, x1 - x0) / width, max(1, y1 - y0) / height)
        scored = verify(frame, reference, window, match.mirrored)
        alignment = Alignment(
            ssim=scored.ssim,
            box=(x0, y0, x1, y1),
            mirrored=match.mirrored,
            coarse=scored.coarse,
            colour=scored.colour,
            inliers=match.inliers,
            agreement=match.agreement,
        )
        found.append((row, alignment, _distance(corpus, row, codes, match.mirrored)))
    return found or _by_smooth(frame, codes, corpus, config, thumbs, keypoints)


def _by_smooth(
    frame: np.ndarray,
    codes: np.ndarray,
    corpus: _Corpus,
    config: IntegritySettings,
    thumbs: dict[int, np.ndarray | None],
    keypoints: KeypointCorpus,
) -> list[tuple[int, Alignment, int]]:
    """Each smooth reference (too few features for a fit, its code unsteady) that the frame
    copies whole, by the pixels: shortlisted by :meth:`KeypointCorpus.smooth_candidates`."""
    found = []
    for position, mirrored in keypoints.smooth_candidates(frame, config.candidates):
        row = keypoints.rows[position]
        reference = thumbs[row]
        assert reference is not None
        alignment = verify(frame, reference, Window(0.0, 0.0, 1.0, 1.0), mirrored)
        if not is_copy(alignment, config):
            continue
        skip = keypoints.shared_cells[position]
        agreement = box_agreement(reference, frame, alignment.box, alignment.mirrored, skip)
        if agreement < config.keypoint_agreement:
            continue
        alignment = replace(alignment, agreement=round(agreement, 4))
        found.append((row, alignment, _distance(corpus, row, codes, mirrored)))
    return found


def _distance(corpus: _Corpus, row: int, codes: np.ndarray, mirrored: bool) -> int:
    """Hamming distance of the frame's code (mirrored or not) to the row's whole-frame code."""
    whole = corpus.index.codes[corpus.owner == row][:1]
    return int(hamming(whole, codes[1 if mirrored else 0])[0]) if len(whole) else 64


def _by_codes(
    frame: np.ndarray,
    position: int,
    hits: Hits,
    corpus: _Corpus,
    config: IntegritySettings,
    thumbs: dict[int, np.ndarray | None],
    production: Production,
) -> list[tuple[int, Alignment, int]]:
    """(reference row, alignment, Hamming) of each candidate the pixels verify."""
    mine = (hits.query == 2 * position) | (hits.query == 2 * position + 1)
    if not mine.any():
        return []
    order = np.argsort(hits.distance[mine], kind="stable")
    tried: set[int] = set()
    found = []
    for pick in order:
        code = int(hits.code[mine][pick])
        row = int(corpus.owner[code])
        if row in tried:
            continue
        tried.add(row)
        if len(tried) > config.candidates:
            break
        _, _, path = corpus.frames[row]
        if row not in thumbs:
            thumbs[row] = _read_thumb(path, production)
        reference = thumbs[row]
        if reference is None:
            continue
        mirrored = bool(hits.query[mine][pick] % 2)
        window = WINDOWS[int(corpus.window[code])]
        alignment = verify(frame, reference, window, mirrored)
        if not is_copy(alignment, config):
            continue
        if _keypoints_on(corpus, config):
            # the same cell agreement the keypoint stage asks: previs panels of other
            # locations pass SSIM through their shared layout, not through their cells
            keypoints = _keypoint_corpus(corpus, config, thumbs, production)
            skip = (
                keypoints.shared_cells[keypoints.rows.index(row)] if row in keypoints.rows else None
            )
            agreement = box_agreement(reference, frame, alignment.box, alignment.mirrored, skip)
            if agreement < config.keypoint_agreement:
                continue
            alignment = replace(alignment, agreement=round(agreement, 4))
        found.append((row, alignment, int(hits.distance[mine][pick])))
    return found


def _match_take(
    take: TakeView,
    frames: list[Frame],
    corpus: _Corpus,
    config: IntegritySettings,
    thumbs: dict[int, np.ndarray | None],
    production: Production,
    folder: Path,
) -> list[NewFinding]:
    if len(corpus.index) == 0:
        return []
    codes = [query_codes(frame.rgb) for frame in frames]
    hits = corpus.index.search(np.concatenate(codes), config.hamming)
    # work -> (alignment, take frame, ref row, hamming)
    best: dict[int, tuple[Alignment, int, int, int]] = {}
    for position, frame in enumerate(frames):
        found = _by_codes(frame.rgb, position, hits, corpus, config, thumbs, production)
        if not found and _keypoints_on(corpus, config):
            picture = _picture(frame.rgb)
            found = _by_keypoints(picture, codes[position], corpus, config, thumbs, production)
        for row, alignment, distance in found:
            work_id = corpus.frames[row][0]
            if work_id not in best or alignment.ssim > best[work_id][0].ssim:
                best[work_id] = (alignment, position, row, distance)
    findings = []
    for work_id, (alignment, position, row, distance) in sorted(best.items()):
        frame = frames[position]
        _, ref_frame, _ = corpus.frames[row]
        reference = thumbs[row]
        assert reference is not None
        evidence = _evidence(frame.rgb, reference, folder / f"{take.id}-{work_id}.png")
        title = corpus.titles.get(work_id, str(work_id))
        data = NearDuplicate(
            reference=ReferenceWorkRef(work_id, title),
            reference_frame=ref_frame,
            hamming=distance,
            ssim=round(alignment.ssim, 4),
            coarse_ssim=round(alignment.coarse, 4),
            colour=None if alignment.colour is None else round(alignment.colour, 4),
            mirrored=alignment.mirrored,
            box=list(alignment.box),
            inliers=alignment.inliers,
            agreement=alignment.agreement,
        )
        findings.append(
            NewFinding(
                kind=KIND,
                take=take.id,
                frame=frame.index,
                score=round(alignment.ssim, 4),
                threshold=config.ssim,
                detail=(
                    f"frame {frame.index} copies {title!r} frame {ref_frame}"
                    f"{' (mirrored)' if alignment.mirrored else ''}: Hamming {distance}, "
                    f"SSIM {alignment.ssim:.2f}"
                ),
                evidence=evidence,
                data=data,
            )
        )
    return findings

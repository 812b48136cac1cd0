"""Cutting a multi-shot file at its shot boundaries, one file per shot.

Generators hand back clips holding several shots; ``take import --split`` cuts them
where ``setpiece cuts`` finds boundaries (hard cuts, fades, dissolves) and imports
each piece as a take. Pieces are re-encoded (H.264, same rate, range and pixel
format), since a boundary rarely falls on a keyframe; they carry no audio (a sound
track cut at picture boundaries would click, and generated clips rarely have one).
"""

from __future__ import annotations

import os
from pathlib import Path

from setpiece.errors import InvalidInputError
from setpiece.motion.config import MotionSettings

__all__ = ["split_at_cuts"]


def split_at_cuts(
    source: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    settings: MotionSettings | None = None,
    *,
    expected: int | None = None,
) -> list[Path]:
    """Writes one .mp4 per shot of ``source`` into ``folder``, in order.

    Args:
        source: The multi-shot video.
        folder: An existing folder for the pieces.
        settings: Detector and encoder settings.
        expected: How many pieces the caller needs (e.g. the shots listed); a different
            count found is refused rather than guessed.

    Raises:
        InvalidInputError: The count of pieces differs from ``expected``.
        InvalidMediaError: Not a video, no frames; DecodeStopped mid-way.
    """
    from setpiece.motion.cuts import detect_cuts
    from setpiece.store.video import decode, open_writer, probe_video

    settings = settings or MotionSettings()
    info = probe_video(source, "video")
    report = detect_cuts(source, settings)
    starts = [0, *[cut.index for cut in report.cuts]]
    if expected is not None and expected != len(starts):
        found = ", ".join(f"{c.frame} ({c.kind})" for c in report.cuts) or "none"
        raise InvalidInputError(
            f"{source} holds {len(starts)} shot(s) (boundaries at frames: {found}) but "
            f"{expected} shot(s) were listed: list as many shots as the file holds"
        )
    stem = Path(source).stem
    paths = [Path(folder) / f"{stem}-{n + 1:02d}.mp4" for n in range(len(starts))]
    frames = iter(decode(source))
    for n, path in enumerate(paths):
        end = starts[n + 1] if n + 1 < len(starts) else None
        with open_writer(
            path,
            info,
            info.rate,
            audio=False,
            preset=settings.encoder_preset,
            crf=settings.crf,
        ) as writer:
            for frame in frames:
                writer.write(frame.rgb)
                if end is not None and frame.index + 1 >= end:
                    break
    return paths

"""Reading the watermark back from a file: a picture, or a movie's frames voted together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.provenance.watermark import SoftVote

__all__ = ["WINDOW", "detect_file"]

WINDOW = 6  # sampled frames decoded together when a whole movie does not agree


def detect_file(
    path: Path, *, project: tuple[int, str] | None = None, frames: int = 48
) -> dict[str, Any]:
    """``{"found": true, "project": ..., "take": ID, "confidence": ...}`` or ``{"found": false}``.

    ``project`` is the open project's (code, name): a matching code is reported by name.

    Raises:
        InvalidInputError: Not a file.
        InvalidMediaError: Neither a picture nor a video.
    """
    if not path.is_file():
        raise InvalidInputError(f"{path} is not a file")
    vote = SoftVote()
    try:
        from setpiece.store.frames import load_rgb

        vote.add(load_rgb(path))
    except InvalidMediaError:
        _vote_video(path, vote, frames)
    result = vote.result()
    segments: list[dict[str, Any]] = []
    if not result.found and vote.frames > WINDOW:
        # A cut: its frames name the take each shows, so runs are decoded on their own.
        for start, found in vote.windows(WINDOW):
            if found.found and found.payload is not None:
                segments.append(
                    {
                        "sample": start,
                        "take": _take(found.payload.take),
                        "confidence": found.confidence,
                    }
                )
                if not result.found or found.confidence > result.confidence:
                    result = found
    if not result.found or result.payload is None:
        return {"found": False, "frames": vote.frames}
    code = result.payload.project
    name = project[1] if project is not None and project[0] == code else f"{code:04x}"
    report: dict[str, Any] = {
        "found": True,
        "project": name,
        "project_code": f"{code:04x}",
        "take": _take(result.payload.take),
        "confidence": result.confidence,
        "frames": vote.frames,
    }
    if segments:
        report["segments"] = segments
    return report


def _take(take: str) -> str | None:
    return None if take == "00000000" else take


def _vote_video(path: Path, vote: SoftVote, frames: int) -> None:
    import av

    from setpiece.store.video import open_container, reason

    try:
        container = open_container(path)
    except (av.FFmpegError, OSError) as exc:
        raise InvalidMediaError(f"{path} is neither a picture nor a video: {reason(exc)}") from None
    with container:
        if not container.streams.video:
            raise InvalidMediaError(f"{path} has no pictures to look for a watermark in")
        stream = container.streams.video[0]
        total = stream.frames or 0
        every = max(1, total // frames) if total else 1
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index % every == 0:
                    vote.add(frame.to_ndarray(format="rgb24"))
                if vote.frames >= frames:
                    break
        except av.FFmpegError:
            if not vote.frames:
                raise InvalidMediaError(f"{path}: no frame could be decoded") from None

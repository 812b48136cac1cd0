"""Parallel decoding in keyframe spans: decode()'s frames exactly, or decode() itself."""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import setpiece.store.video as video
from mediafactory import corrupt_bytes
from setpiece.store.frames import DecodeStopped
from setpiece.store.video import decode, decode_spans

from .conftest import sliding, write_frames


def _keyframed(path: Path, count: int = 120, gop: int = 10) -> Path:
    """H.264 with a keyframe every ``gop`` frames, B-frames, and uneven timestamps."""
    picture = sliding(w=96, h=64, step=2)
    stamps = [i + i // 7 for i in range(count)]  # a frame missing every 7: variable rate
    with av.open(os.fspath(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20", "g": str(gop), "bf": "2"}
        for i in range(count):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts, frame.time_base = stamps[i], Fraction(1, 24)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _same(a: list, b: list) -> bool:  # type: ignore[type-arg]
    return len(a) == len(b) and all(
        x.index == y.index and x.time == y.time and np.array_equal(x.rgb, y.rgb)
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("size, rough", [((32, 18), True), (None, False)])
def test_spans_deliver_the_frames_decode_delivers(tmp_path: Path, size, rough) -> None:
    clip = _keyframed(tmp_path / "gop.mp4")
    planned = video._spans(clip, "video", 2)
    spans = planned[0] if planned else None
    assert spans is not None and len(spans) >= 2
    assert sum(span.packets for span in spans) == 120
    whole = list(decode(clip, size=size, rough=rough))
    assert _same(list(decode_spans(clip, size=size, rough=rough)), whole)
    assert whole[-1].time > Fraction(119, 24)  # the gaps are kept: timed, not counted


def test_a_long_gop_file_is_decoded_in_one_piece(tmp_path: Path) -> None:
    clip = write_frames(tmp_path / "one.mp4", sliding(), 30)  # one keyframe
    assert video._spans(clip, "video", 2) is None
    assert _same(list(decode_spans(clip, size=(32, 18))), list(decode(clip, size=(32, 18))))


def test_a_span_that_loses_a_frame_is_logged_and_left_to_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clip = _keyframed(tmp_path / "gop.mp4")
    real = video._decode_span

    def lossy(path, span, size, grey, rough):  # type: ignore[no-untyped-def]
        frames = real(path, span, size, grey, rough)
        return frames[:-1] if span.start is not None else frames  # a later span short

    monkeypatch.setattr(video, "_decode_span", lossy)
    with caplog.at_level(logging.INFO, logger="setpiece.store.video"):
        assert _same(list(decode_spans(clip, size=(32, 18))), list(decode(clip, size=(32, 18))))
    said = [r for r in caplog.records if r.name == "setpiece.store.video"]
    assert [r.levelno for r in said] == [logging.INFO]
    assert said[0].getMessage().startswith(f"the video {clip}: the span from frame ")
    assert "frames for" in said[0].getMessage() and "in one piece" in said[0].getMessage()


def test_a_span_that_fails_is_logged_and_left_to_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clip = _keyframed(tmp_path / "gop.mp4")
    real = video._decode_span

    def failing(path, span, size, grey, rough):  # type: ignore[no-untyped-def]
        if span.start is not None:
            raise av.InvalidDataError(-1094995529, "Invalid data found when processing input")
        return real(path, span, size, grey, rough)

    monkeypatch.setattr(video, "_decode_span", failing)
    with caplog.at_level(logging.INFO, logger="setpiece.store.video"):
        assert _same(list(decode_spans(clip, size=(32, 18))), list(decode(clip, size=(32, 18))))
    said = [r for r in caplog.records if r.name == "setpiece.store.video"]
    assert [r.levelno for r in said] == [logging.WARNING]
    message = said[0].getMessage()
    assert "failed to decode (InvalidDataError: Invalid data found when processing input)" in (
        message
    )
    assert "\n" not in message


def test_a_file_that_cannot_be_cut_into_spans_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clip = _keyframed(tmp_path / "gop.mp4")
    real = video._open

    class Broken:
        def __init__(self, container: object) -> None:
            self.container = container

        def __enter__(self) -> Broken:
            return self

        def __exit__(self, *exc: object) -> None:
            self.container.close()  # type: ignore[attr-defined]

        @property
        def streams(self) -> object:
            return self.container.streams  # type: ignore[attr-defined]

        def demux(self, stream: object) -> object:
            raise av.InvalidDataError(-1094995529, "Invalid data found when processing input")

    opened: list[int] = []

    def open_once(path, label):  # type: ignore[no-untyped-def]
        opened.append(1)
        return Broken(real(path, label)) if len(opened) == 1 else real(path, label)

    monkeypatch.setattr(video, "_open", open_once)
    with caplog.at_level(logging.INFO, logger="setpiece.store.video"):
        frames = list(decode_spans(clip, size=(32, 18), workers=2))
    assert len(frames) == 120
    said = [r.getMessage() for r in caplog.records if r.name == "setpiece.store.video"]
    assert said == [
        f"the video {clip} cannot be cut into spans (Invalid data found when processing "
        "input): decoding it in one piece"
    ]


def test_a_broken_file_stops_where_decode_stops(tmp_path: Path) -> None:
    clip = corrupt_bytes(_keyframed(tmp_path / "gop.mp4", count=96), at=0.6, count=2048)

    def read(frames) -> tuple[list, str]:  # type: ignore[no-untyped-def,type-arg]
        got = []
        try:
            for frame in frames:
                got.append(frame)
        except DecodeStopped as exc:
            return got, str(exc)
        return got, ""

    whole, error = read(decode(clip, size=(32, 18), rough=True))
    spans, span_error = read(decode_spans(clip, size=(32, 18), rough=True))
    assert "stops decoding at frame" in error  # the damage is in a later span
    assert span_error == error
    assert _same(spans, whole)

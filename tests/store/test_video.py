"""The one video module: its writer's bad inputs (odd sizes, rotation, 10 bits, a folder
that cannot be written, a disk that fails), and the one ``reason()``."""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import locked
from setpiece.errors import ExitCode, InvalidInputError, StorageError
from setpiece.store.video import (
    Encoding,
    MovieWriter,
    decode,
    open_writer,
    probe_video,
    reason,
)

RATE = Fraction(24)


def _pictures(w: int, h: int, count: int = 4) -> list[np.ndarray]:
    """Gradients that move a pixel a frame, different in each channel."""
    x = np.arange(w, dtype=np.int32)[None, :]
    y = np.arange(h, dtype=np.int32)[:, None]
    return [
        np.stack([(x * 4 + i) % 256 + 0 * y, (y * 4 + i) % 256 + 0 * x, (x + y) % 256], axis=-1)
        .astype(np.uint8)
        .copy()
        for i in range(count)
    ]


def _source(path: Path, pictures: list[np.ndarray], pix_fmt: str = "yuv420p") -> Path:
    """A small H.264 file (or lossless PNG in QuickTime, for odd sizes) of the pictures."""
    h, w = pictures[0].shape[:2]
    codec, container = ("png", "mov") if pix_fmt == "rgb24" else ("libx264", "mp4")
    with av.open(os.fspath(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=RATE)
        stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
        if codec == "libx264":
            stream.options = {"crf": "10", "preset": "ultrafast"}
        for i, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, 1 / RATE
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _copy_through(source: Path, target: Path) -> object:
    """Reads ``source`` with decode() and writes it with open_writer(), as motion does."""
    info = probe_video(source)
    with open_writer(target, info, info.rate, preset="ultrafast", crf=18) as writer:
        for frame in decode(source):
            writer.write(frame.rgb)
    return writer


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# Odd sizes -----------------------------------------------------------------------------


def test_the_careful_writer_pads_an_odd_picture_to_even(tmp_path: Path) -> None:
    """Today's behaviour, kept: 4:2:0 output of a 33x19 picture is 34x20, the last column
    and row repeated, no source pixel lost."""
    pictures = _pictures(33, 19)
    source = _source(tmp_path / "odd.mov", pictures, pix_fmt="rgb24")
    writer = _copy_through(source, tmp_path / "even.mp4")
    assert writer.padded and writer.pix_fmt == "yuv420p"  # type: ignore[attr-defined]
    info = probe_video(tmp_path / "even.mp4")
    assert (info.width, info.height) == (34, 20)
    first = next(iter(decode(tmp_path / "even.mp4"))).rgb.astype(int)
    assert np.abs(first[:, 33] - first[:, 32]).max() <= 12  # the repeated column
    assert np.abs(first[19] - first[18]).max() <= 12  # the repeated row


@pytest.mark.parametrize(("size", "pix_fmt"), [((33, 19), "rgb24"), ((1280, 720), "yuv420p")])
def test_pictures_prepared_in_threads_make_the_same_movie(
    tmp_path: Path, size: tuple[int, int], pix_fmt: str
) -> None:
    """retime converts its pictures in its threads (``prepare``) and the writer only
    encodes: the same movie, byte for byte, as pictures handed to ``write`` as RGB, padded
    alike (an odd size) and in the same matrix (BT.709 from 720 lines)."""
    from concurrent.futures import ThreadPoolExecutor

    pictures = _pictures(*size)
    source = _source(tmp_path / f"in.{'mov' if pix_fmt == 'rgb24' else 'mp4'}", pictures, pix_fmt)
    info = probe_video(source)
    frames = [f.rgb for f in decode(source)]
    with open_writer(tmp_path / "direct.mp4", info, info.rate, preset="ultrafast", crf=18) as w:
        for rgb in frames:
            w.write(rgb)
    with (
        open_writer(tmp_path / "prepared.mp4", info, info.rate, preset="ultrafast", crf=18) as p,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        for prepared in [pool.submit(p.prepare, rgb) for rgb in frames]:
            p.write(prepared.result())
    assert p.padded == w.padded == (size == (33, 19)) and p.pix_fmt == w.pix_fmt  # type: ignore[attr-defined]
    direct = [f.rgb for f in decode(tmp_path / "direct.mp4")]
    made = [f.rgb for f in decode(tmp_path / "prepared.mp4")]
    assert len(made) == len(direct) == len(pictures)
    assert all(np.array_equal(x, y) for x, y in zip(made, direct, strict=True))


def test_the_encoder_refuses_an_odd_size_for_420_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "odd.mp4"
    with pytest.raises(InvalidInputError) as caught:
        MovieWriter(target, 33, 20, RATE, Encoding("libx264"))
    assert str(caught.value) == "cannot encode 33x20 as yuv420p: it needs an even width and height"
    assert not target.exists()
    with pytest.raises(InvalidInputError, match=r"even width$"):
        MovieWriter(target, 33, 19, RATE, Encoding("libx264", "yuv422p"))
    with MovieWriter(target, 33, 19, RATE, Encoding("libx264", "yuv444p")) as movie:
        movie.rgb(_pictures(33, 19, 1)[0])
    assert (probe_video(target).width, probe_video(target).height) == (33, 19)


def test_a_generated_take_of_odd_size_is_refused(tmp_path: Path) -> None:
    from setpiece.generate.backends._diffusers_output import write_mp4
    from setpiece.generate.base import RenderError

    frames = np.zeros((2, 19, 34, 3), np.uint8)
    with pytest.raises(RenderError, match="give an even width and height"):
        write_mp4(frames, RATE, tmp_path, "take", 1)
    assert list(tmp_path.iterdir()) == []


# Rotation and 10 bits --------------------------------------------------------------------


def test_a_rotated_source_is_written_upright_without_rotation(tmp_path: Path) -> None:
    import imageio_ffmpeg

    plain = _source(tmp_path / "plain.mp4", _pictures(96, 64))
    turned = tmp_path / "turned.mp4"
    subprocess.run(
        [
            *(imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-display_rotation", "90"),
            *("-i", str(plain), "-c", "copy", str(turned)),
        ],
        check=True,
    )
    assert probe_video(turned).width == 96  # stored sideways, turned when shown
    _copy_through(turned, tmp_path / "upright.mp4")
    info = probe_video(tmp_path / "upright.mp4")
    assert (info.width, info.height) == (64, 96)  # stored upright
    with av.open(os.fspath(tmp_path / "upright.mp4")) as container:
        frame = next(container.decode(video=0))
        assert not int(getattr(frame, "rotation", 0) or 0)  # no display matrix left
    upright = next(iter(decode(tmp_path / "upright.mp4"))).rgb
    assert upright.shape == (96, 64, 3)


def test_ten_bit_input_keeps_a_ten_bit_output(tmp_path: Path) -> None:
    source = _source(tmp_path / "ten.mp4", _pictures(64, 48), pix_fmt="yuv420p10le")
    assert probe_video(source).bit_depth == 10
    frames = list(decode(source))
    assert frames[0].rgb.dtype == np.uint8  # processing is 8-bit RGB
    writer = _copy_through(source, tmp_path / "out.mp4")
    assert writer.pix_fmt == "yuv420p10le"  # type: ignore[attr-defined]
    out = probe_video(tmp_path / "out.mp4")
    assert (out.pix_fmt, out.bit_depth, out.color_range) == ("yuv420p10le", 10, "tv")
    again = next(iter(decode(tmp_path / "out.mp4"))).rgb.astype(int)
    assert np.abs(again - frames[0].rgb.astype(int)).mean() < 3


# Where it cannot write --------------------------------------------------------------------


unwritable = locked.unwritable


def test_an_unwritable_folder_is_the_environment_and_leaves_nothing(
    tmp_path: Path, unwritable: Path
) -> None:
    source = _source(tmp_path / "in.mp4", _pictures(32, 16))
    target = unwritable / "take-out.mp4"
    with pytest.raises(StorageError) as caught:
        _copy_through(source, target)
    message = str(caught.value)
    assert message.startswith(f"cannot write {target}") and "\n" not in message
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert not target.exists()
    assert not [p for p in unwritable.iterdir() if p.name.startswith(".take-out.mp4.")]
    direct = MovieWriter(unwritable / "direct.mp4", 32, 16, RATE, Encoding("libx264"))
    with pytest.raises(StorageError), direct as movie:  # the file is made when first written
        movie.rgb(_pictures(32, 16, 1)[0])
    assert not (unwritable / "direct.mp4").exists()


def test_a_disk_that_fails_while_writing_is_the_environment() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    full = MovieWriter("/dev/full", 32, 16, RATE, Encoding("libx264"))
    with pytest.raises(StorageError) as caught, full as movie:
        for picture in _pictures(32, 16, 48):
            movie.rgb(picture)
    assert str(caught.value).startswith("cannot write /dev/full: No space left on device")


def test_a_failure_mid_way_leaves_no_temporary_file(tmp_path: Path) -> None:
    source = _source(tmp_path / "in.mp4", _pictures(32, 16))
    info = probe_video(source)
    target = tmp_path / "out.mp4"
    writing = open_writer(target, info, info.rate, preset="ultrafast", crf=18)
    with pytest.raises(RuntimeError, match="stopped"), writing as writer:
        writer.write(_pictures(32, 16, 1)[0])
        raise RuntimeError("stopped")
    assert not target.exists() and _leftovers(tmp_path) == []


def test_the_cli_exits_5_for_an_unwritable_folder(cli, tmp_path: Path, unwritable: Path) -> None:
    source = _source(tmp_path / "in.mp4", _pictures(32, 16))
    target = unwritable / "slow.mp4"
    code, _, err = cli("retime", source, target, "--fps", "48")
    assert code == ExitCode.ENVIRONMENT, err
    assert err.count("\n") == 1 and f"cannot write {target}" in err
    assert not target.exists()


# reason() ----------------------------------------------------------------------------------


def test_reason_is_one_line() -> None:
    assert reason(PermissionError(13, "Permission denied", "/x/y.mp4")) == "Permission denied"
    assert reason(ValueError("  bad\n  value\t here ")) == "bad value here"
    assert reason(KeyError()) == "KeyError"
    with pytest.raises(av.FFmpegError) as caught:
        av.open("/nonexistent/folder/clip.mp4")
    assert reason(caught.value) == "No such file or directory"

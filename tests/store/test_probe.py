"""Probing real files: every good kind is described exactly, every bad one refused by name."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mediafactory import (
    corrupt_bytes,
    truncate,
    video_codec,
    write_animated,
    write_audio_mp4,
    write_bomb_png,
    write_corrupt_mp4,
    write_corrupt_png,
    write_jpeg,
    write_mp4,
    write_png,
    write_truncated_mp4,
    write_video,
    write_wav,
)
from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.store import probe as probe_module
from setpiece.store.probe import MediaInfo, probe

# Any warning that escapes probe() fails the test.
pytestmark = pytest.mark.filterwarnings("error")


def refused(path: Path, error: type[Exception] = InvalidMediaError) -> str:
    """Probe ``path``, expect ``error``, and check the message is one line naming the file."""
    with pytest.raises(error) as caught:
        probe(path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    return message


# Good files --------------------------------------------------------------------------------------


def test_png(tmp_path: Path) -> None:
    info = probe(write_png(tmp_path / "plate.png", w=64, h=48))
    assert info == MediaInfo(
        kind="image",
        container="png",
        codec="png",
        width=64,
        height=48,
        fps=None,
        frames=1,
        duration=None,
        audio_streams=0,
        ext=".png",
    )


def test_jpeg(tmp_path: Path) -> None:
    info = probe(write_jpeg(tmp_path / "still.jpeg", w=40, h=30))
    assert (info.kind, info.container, info.codec, info.ext) == ("image", "jpeg", "mjpeg", ".jpg")
    assert (info.width, info.height, info.frames) == (40, 30, 1)


@pytest.mark.parametrize("fmt,container,ext", [("WEBP", "webp", ".webp"), ("TIFF", "tiff", ".tif")])
def test_other_stills(tmp_path: Path, fmt: str, container: str, ext: str) -> None:
    path = tmp_path / "still.bin"
    Image.new("RGB", (20, 10), (10, 200, 30)).save(path, format=fmt)
    info = probe(path)
    assert (info.kind, info.container, info.ext, info.width, info.height) == (
        "image",
        container,
        ext,
        20,
        10,
    )


def test_mp4_without_audio(tmp_path: Path) -> None:
    info = probe(write_mp4(tmp_path / "take.mp4", frames=12, fps=Fraction(24), w=64, h=48))
    assert info.kind == "video"
    assert (info.container, info.ext) == ("mp4", ".mp4")
    assert info.codec == ("h264" if video_codec() == "libx264" else "mpeg4")
    assert (info.width, info.height) == (64, 48)
    assert info.fps == Fraction(24)
    assert info.frames == 12
    assert info.duration == Fraction(1, 2)
    assert info.audio_streams == 0


def test_mp4_with_audio(tmp_path: Path) -> None:
    info = probe(write_mp4(tmp_path / "take.mp4", frames=10, audio=True))
    assert info.audio_streams == 1
    assert info.frames == 10


def test_ntsc_rate_is_an_exact_fraction(tmp_path: Path) -> None:
    info = probe(write_mp4(tmp_path / "take.mp4", frames=12, fps=Fraction(24000, 1001)))
    assert info.fps == Fraction(24000, 1001)
    assert info.duration == Fraction(12 * 1001, 24000)
    assert info.to_json()["fps"] == "24000/1001"
    assert info.to_json()["duration"] == 0.5005


def test_to_json(tmp_path: Path) -> None:
    assert probe(write_mp4(tmp_path / "take.mp4", frames=12)).to_json() == {
        "kind": "video",
        "container": "mp4",
        "codec": "h264" if video_codec() == "libx264" else "mpeg4",
        "width": 64,
        "height": 48,
        "fps": "24/1",
        "frames": 12,
        "duration": 0.5,
        "audio_streams": 0,
        "ext": ".mp4",
    }
    still = probe(write_png(tmp_path / "plate.png")).to_json()
    assert still["fps"] is None and still["duration"] is None and still["frames"] == 1


@pytest.mark.parametrize(
    "container,codec,short,ext",
    [
        ("mov", None, "mov", ".mov"),
        ("matroska", None, "matroska", ".mkv"),
        ("webm", "libvpx-vp9", "webm", ".webm"),
        ("avi", "mpeg4", "avi", ".avi"),
    ],
)
def test_video_containers(
    tmp_path: Path, container: str, codec: str | None, short: str, ext: str
) -> None:
    if codec is not None and codec not in av.codecs_available:
        pytest.skip(f"this PyAV build has no {codec}")
    info = probe(write_video(tmp_path / "take.bin", frames=6, container=container, codec=codec))
    assert (info.kind, info.container, info.ext, info.frames, info.fps) == (
        "video",
        short,
        ext,
        6,
        Fraction(24),
    )


def test_content_decides_not_the_extension(tmp_path: Path) -> None:
    assert probe(write_png(tmp_path / "looks_like.mp4")).kind == "image"
    info = probe(write_mp4(tmp_path / "looks_like.png"))
    assert (info.kind, info.ext) == ("video", ".mp4")


def test_still_gif_is_an_image(tmp_path: Path) -> None:
    info = probe(write_animated(tmp_path / "one.gif", "GIF", frames=1))
    assert (info.kind, info.container, info.ext) == ("image", "gif", ".gif")


@pytest.mark.parametrize("fmt,container,ext", [("GIF", "gif", ".gif"), ("PNG", "apng", ".png")])
def test_animated_gif_and_apng_are_videos(
    tmp_path: Path, fmt: str, container: str, ext: str
) -> None:
    info = probe(write_animated(tmp_path / "loop.bin", fmt, frames=5))
    assert (info.kind, info.container, info.ext, info.frames) == ("video", container, ext, 5)
    assert info.fps == Fraction(10)


def test_import_does_not_load_pyav_or_pillow() -> None:
    code = (
        "import sys, setpiece.store.probe, setpiece.store.media\n"
        "heavy = {'av', 'PIL', 'numpy', 'fsspec'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# Bad files ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.mp4"
    message = refused(path, InvalidInputError)
    assert message == f"no such file: {path}"
    with pytest.raises(InvalidInputError) as caught:
        probe(path)
    assert not isinstance(caught.value, InvalidMediaError)


def test_folder(tmp_path: Path) -> None:
    assert "folder" in refused(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "take.mp4"
    path.touch()
    assert f"{path} is empty (0 bytes)" in refused(path)


def test_text_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "take.mp4"
    path.write_text("INT. KITCHEN - NIGHT\n\nNot a video at all.\n" * 20)
    assert refused(path).startswith(
        f"{path} is a text file, not an image or a video Setpiece can read; use PNG"
    )


def test_text_file_ffmpeg_would_play_as_ansi_art(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("FADE IN:\n" * 50)
    assert f"{path} is a text file, not an image or a video Setpiece can read" in refused(path)


SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" '
    'height="16"/></svg>\n'
)


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        (
            "still.png",
            "<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n",
            "an HTML document",
        ),
        (
            "still.png",
            "\ufeff  <html lang=en><p>saved from a browser</p></html>",
            "an HTML document",
        ),
        ("still.jpg", "Scene 12, plate for the window.\nSee the shared drive.\n", "a text file"),
        ("still.png", '<?xml version="1.0"?><xmeml version="5"></xmeml>', "an XML document"),
        ("still.png", "%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "a PDF document"),
    ],
)
def test_a_document_named_as_media_is_named_for_what_it_is(
    tmp_path: Path, name: str, content: str, what: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    message = refused(path)
    assert message.startswith(f"{path} is {what}, not an image or a video Setpiece can read")
    assert "PNG image" not in message and "convert it to PNG" not in message


@pytest.mark.parametrize("name", ["logo.svg", "logo.png"])
def test_an_svg_is_refused_clearly(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(SVG, encoding="utf-8")
    assert refused(path) == (
        f"{path} is an SVG drawing, which Setpiece cannot read: export it as PNG first"
    )


@pytest.mark.parametrize("name", ["noise.png", "noise.svg"])
def test_bytes_named_as_a_picture_are_not_called_that_picture(tmp_path: Path, name: str) -> None:
    """FFmpeg picks a decoder by the extension (none for .svg here): its guess is not repeated."""
    path = tmp_path / name
    path.write_bytes(bytes(range(256)) * 40)
    message = refused(path)
    assert message == (
        f"{path} is not an image or a video that Setpiece can read; use PNG, JPEG, WebP, "
        "TIFF or a video such as MP4, MOV, MKV or WebM"
    )


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.mov"
    path.write_bytes(bytes(range(256)) * 40)
    assert "is not an image or a video" in refused(path)


def test_corrupt_png(tmp_path: Path) -> None:
    assert "corrupt or truncated image" in refused(write_corrupt_png(tmp_path / "plate.png"))


def test_png_with_a_bad_checksum(tmp_path: Path) -> None:
    path = corrupt_bytes(write_png(tmp_path / "plate.png", w=128, h=96), at=0.5, count=16)
    assert "corrupt or truncated image" in refused(path)


@pytest.mark.parametrize("writer", [write_png, write_jpeg])
def test_truncated_image(tmp_path: Path, writer) -> None:
    path = truncate(writer(tmp_path / "plate.img", w=128, h=96), keep=0.5)
    assert "corrupt or truncated" in refused(path)


def test_truncated_mp4_with_index_first(tmp_path: Path) -> None:
    message = refused(write_truncated_mp4(tmp_path / "take.mp4", faststart=True))
    assert "is truncated: it declares 48 frames but only" in message


def test_truncated_mp4_without_its_index(tmp_path: Path) -> None:
    message = refused(write_truncated_mp4(tmp_path / "take.mp4", faststart=False))
    assert "looks like an MP4/MOV video but cannot be opened" in message
    assert "corrupt or truncated" in message


def test_truncated_matroska(tmp_path: Path) -> None:
    path = write_video(tmp_path / "take.mkv", frames=48, w=128, h=96, container="matroska")
    message = refused(truncate(path, keep=0.5))
    assert "is truncated: it declares 2.000 s of video" in message


def test_corrupt_mp4(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    message = refused(write_corrupt_mp4(tmp_path / "take.mp4"))
    assert "is corrupt or truncated: decoding failed after frame" in message
    assert capfd.readouterr().err == ""  # FFmpeg printed nothing


@pytest.mark.parametrize("writer", [write_audio_mp4, write_wav])
def test_audio_only(tmp_path: Path, writer) -> None:
    assert "has no video stream, only audio" in refused(writer(tmp_path / "sound.mp4"))


def test_animated_webp_is_refused(tmp_path: Path) -> None:
    assert "animated WebP" in refused(write_animated(tmp_path / "loop.webp", "WEBP"))


def test_image_only_ffmpeg_reads_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plate.ppm"
    Image.new("RGB", (16, 16)).save(path, format="PPM")
    assert "convert it to PNG" in refused(path)


@pytest.mark.parametrize("over,pixels", [(2.2, "196,864,000"), (1.5, "134,224,000")])
def test_decompression_bomb(tmp_path: Path, over: float, pixels: str) -> None:
    """Above 2x the limit Pillow raises; between 1x and 2x it only warns: both are refused."""
    message = refused(write_bomb_png(tmp_path / "bomb.png", over=over))
    assert pixels in message
    assert f"{Image.MAX_IMAGE_PIXELS:,}" in message


def test_bomb_warning_is_refused_even_if_warning_filters_are_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Warning filters are process-wide; another thread may reset them mid-probe."""
    monkeypatch.setattr(probe_module, "_pillow_guard", contextlib.nullcontext)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "134,224,000 pixels" in refused(write_bomb_png(tmp_path / "bomb.png", over=1.5))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_png(tmp_path / "plate.png")
    path.chmod(0)
    refused(path, InvalidInputError)


# Robustness --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("good")
    return {
        "png": write_png(folder / "a.png").read_bytes(),
        "jpeg": write_jpeg(folder / "a.jpg").read_bytes(),
        "mp4": write_mp4(folder / "a.mp4", audio=True, faststart=True).read_bytes(),
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["png", "jpeg", "mp4"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_damaged_files_never_leak_library_errors(
    tmp_path: Path, good_files: dict[str, bytes], kind: str, cut: float, flips
) -> None:
    """Any cut or bit-flip of a good file is either still readable or refused cleanly."""
    data = bytearray(good_files[kind][: max(1, int(len(good_files[kind]) * cut))])
    for at, mask in flips:
        data[min(len(data) - 1, int(len(data) * at))] ^= mask
    path = tmp_path / f"damaged.{kind}"
    path.write_bytes(bytes(data))
    try:
        info = probe(path)
    except InvalidMediaError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:
        assert info.kind in ("image", "video")


def test_probe_accepts_pathlike_and_str(tmp_path: Path) -> None:
    path = write_png(tmp_path / "plate.png")
    copy = tmp_path / "copy.png"
    shutil.copy(path, copy)
    assert probe(str(path)) == probe(copy)

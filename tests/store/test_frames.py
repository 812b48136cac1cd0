"""Reading pictures: stills as a viewer shows them, video frames by timestamp, damage mid-way."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

import locked
from mediafactory import write_corrupt_mp4, write_mp4
from setpiece.errors import ExitCode, InvalidInputError, InvalidMediaError, StorageError
from setpiece.store.frames import (
    DecodeStopped,
    check_target,
    iter_frames,
    load_rgb,
    temporary_file,
)


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (255, 0, 0)  # red on the left of the stored picture
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    image.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    shown = load_rgb(tmp_path / "rotated.jpg")
    assert shown.shape == (40, 20, 3)
    assert shown[5, 10, 0] > 200 and shown[35, 10, 0] < 60  # red now on top


@pytest.mark.parametrize(
    ("mode", "value"),
    [("CMYK", (0, 255, 255, 0)), ("I;16", 65535), ("L", 255), ("RGBA", (255, 0, 0, 255))],
)
def test_unusual_modes_become_8bit_rgb(tmp_path: Path, mode: str, value: object) -> None:
    image = Image.new(mode, (8, 6), value)  # type: ignore[arg-type]
    suffix = ".jpg" if mode == "CMYK" else ".png"
    image.save(tmp_path / f"pic{suffix}")
    pixels = load_rgb(tmp_path / f"pic{suffix}")
    assert pixels.dtype == np.uint8 and pixels.shape == (6, 8, 3)
    assert pixels[..., 0].mean() > 240  # red or white: the red channel is full


def test_alpha_is_composited_on_black(tmp_path: Path) -> None:
    Image.new("RGBA", (4, 4), (255, 255, 255, 0)).save(tmp_path / "clear.png")
    assert load_rgb(tmp_path / "clear.png").max() == 0


def test_bad_stills_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.png").write_bytes(bytes(range(256)))
    with pytest.raises(InvalidMediaError, match="cannot be read"):
        load_rgb(tmp_path / "junk.png")
    page = tmp_path / "face.png"
    page.write_text("<!doctype html><html><body>Sign in</body></html>")
    expected = "the picture {} is an HTML document, not a picture Setpiece can read; use PNG"
    with pytest.raises(InvalidMediaError) as caught:
        load_rgb(page)
    assert str(caught.value).startswith(expected.format(page.name))  # a Path shows its name
    with page.open("rb") as handle, pytest.raises(InvalidMediaError) as caught:
        load_rgb(handle)
    assert str(caught.value).startswith(expected.format(page))
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(InvalidMediaError, match=r"notes\.png is a text file, not a picture"):
        load_rgb(tmp_path / "notes.png")
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_rgb(tmp_path / "nothing.png")


def test_frames_have_indices_and_timestamps(tmp_path: Path) -> None:
    path = write_mp4(tmp_path / "clip.mp4", frames=12, fps=Fraction(24000, 1001))
    with av.open(str(path)) as container:
        frames = list(iter_frames(container, every=4))
    assert [f.index for f in frames] == [0, 4, 8]
    assert frames[1].time == pytest.approx(4 * 1001 / 24000, abs=1e-3)
    assert frames[0].rgb.dtype == np.uint8 and frames[0].rgb.ndim == 3


def test_damage_mid_way_keeps_the_frames_before_it(tmp_path: Path) -> None:
    path = write_corrupt_mp4(tmp_path / "damaged.mp4")
    seen: list[int] = []
    with av.open(str(path)) as container, pytest.raises(DecodeStopped) as stopped:
        for frame in iter_frames(container):
            seen.append(frame.index)
    assert 0 < stopped.value.frame == len(seen) < 48
    assert seen == list(range(len(seen)))
    assert f"frame {len(seen)}" in str(stopped.value)


def test_temporary_file_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    with pytest.raises(RuntimeError), temporary_file(target) as temp:
        Path(temp).write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


unwritable = locked.unwritable


def test_an_unwritable_folder_is_the_environment_as_for_the_video_writer(
    unwritable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = unwritable / "report.html"
    with monkeypatch.context() as patched:
        if os.geteuid() == 0:  # root passes every permission check: the folder's mode says no
            patched.setattr(os, "access", lambda path, mode: Path(path) != unwritable)
        with pytest.raises(StorageError) as refused:
            check_target(target, (".html",), "HTML report")
    assert refused.value.exit_code == ExitCode.ENVIRONMENT
    assert "not writable" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(StorageError) as caught, temporary_file(target) as temp:
        Path(temp).write_text("never")
    assert caught.value.exit_code == ExitCode.ENVIRONMENT
    assert str(caught.value).startswith(f"cannot write {target}: ")
    assert not target.exists()
    assert not [p for p in unwritable.iterdir() if p.name.startswith(".report.html.")]

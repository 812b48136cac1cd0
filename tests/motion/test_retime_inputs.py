"""Retime on the inputs issue 29 lists as bad: a cut every two frames, a fade, a still
repeated, motion over a quarter of the frame, 10-bit input and an odd size. Each runs
the ``setpiece retime`` command a user types, as a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from setpiece.store.video import decode

from .conftest import sliding, write_frames

ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"


def setpiece(*args: object) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout) if done.returncode == 0 else {}, done.stderr


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2)[:, 12:-12].mean())
    return 10 * np.log10(255**2 / max(mse, 1e-9))


def _retimed(
    tmp_path: Path, frames: list[np.ndarray], **options: Any
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """``frames`` at 12 fps (lossless unless ``options`` say otherwise) retimed to 24
    fps as PNG pictures, so that what is compared is the interpolation, not a codec."""
    import cv2

    lossless: dict[str, Any] = {"pix_fmt": "rgb24", "codec": "png", "container": "mov"}
    suffix = ".mp4" if options else ".mov"
    source = write_frames(tmp_path / f"in{suffix}", frames, fps=12, **(options or lossless))
    target = tmp_path / "frames"
    code, report, err = setpiece("retime", source, target, "--fps", "24", "--json")
    assert code == 0, err
    assert report["frames"] == 2 * len(frames)
    pictures = sorted(target.glob("*.png"))
    return report, [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in pictures]


def _no_worse_than_blending(out: list[np.ndarray], truth: Callable[[int], np.ndarray]) -> None:
    for k in range(1, len(out) - 2, 2):
        blend = ((out[k - 1].astype(float) + out[k + 1]) / 2 + 0.5).astype(np.uint8)
        assert psnr(out[k], truth(k)) >= psnr(blend, truth(k)) - 0.1, k


def test_a_cut_every_two_frames_is_never_blended(tmp_path: Path) -> None:
    shots = [sliding(seed=seed, step=3) for seed in (1, 9, 17, 25, 33, 41)]
    frames = [shots[i // 2](2 * i) for i in range(12)]  # a new shot every two frames
    report, out = _retimed(tmp_path, frames)
    assert report["held_at_cuts"] == 5 and report["cuts"] == [2, 4, 6, 8, 10]
    for i in range(11):
        a, b, middle = frames[i], frames[i + 1], out[2 * i + 1]
        if i % 2 == 1:  # across a cut: a copy of one side, not a mix of two shots
            assert max(psnr(middle, a), psnr(middle, b)) > 30, i
        else:  # within a shot: interpolated
            assert psnr(middle, shots[i // 2](2 * i + 1)) > 27, i


def test_a_fade_is_interpolated_not_held(tmp_path: Path) -> None:
    move = sliding(step=3)

    def truth(k: int) -> np.ndarray:  # frame k of the 24 fps truth, fading to black
        return (move(k) * (1 - k / 26)).astype(np.uint8)

    report, out = _retimed(tmp_path, [truth(2 * i) for i in range(12)])
    assert report["held_at_cuts"] == 0 and report["interpolated"] == 11
    _no_worse_than_blending(out, truth)


def test_a_still_repeated_stays_the_still(tmp_path: Path) -> None:
    still = sliding()(0)
    target = tmp_path / "frames"
    source = write_frames(
        tmp_path / "still.mov", [still] * 8, fps=12, pix_fmt="rgb24", codec="png", container="mov"
    )
    code, report, err = setpiece("retime", source, target, "--fps", "24", "--json")
    assert code == 0, err
    assert report["frames"] == 16 and report["held_at_cuts"] == 0
    decoded = still
    pictures = sorted(target.glob("*.png"))
    assert len(pictures) == 16
    import cv2

    for path in pictures:
        picture = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        assert np.abs(picture.astype(int) - decoded).max() <= 1, path.name


def test_motion_over_a_quarter_of_the_frame_is_never_a_double_picture(tmp_path: Path) -> None:
    fast = sliding(w=160, h=96, step=22)  # 44 px per source frame: 27 % of the width
    report, out = _retimed(tmp_path, [fast(2 * i) for i in range(5)])
    # Beyond the flow's reach the two pictures share nothing it can find: the pair is
    # held like a cut (the source's own judder), never a ghosted mix of the two.
    for k in range(1, 8, 2):
        held = max(psnr(out[k], out[k - 1]), psnr(out[k], out[k + 1])) > 30
        blend = ((out[k - 1].astype(float) + out[k + 1]) / 2 + 0.5).astype(np.uint8)
        assert held or psnr(out[k], fast(k)) >= psnr(blend, fast(k)) - 0.1, k
    assert report["held_at_cuts"] + report["interpolated"] == 4


def test_ten_bit_input_is_interpolated_like_eight_bit(tmp_path: Path) -> None:
    half = sliding(step=6)
    source = write_frames(
        tmp_path / "ten.mp4", [half(2 * i) for i in range(6)], fps=12, pix_fmt="yuv420p10le"
    )
    code, report, err = setpiece("retime", source, tmp_path / "out.mp4", "--fps", "24", "--json")
    assert code == 0, err
    assert report["pix_fmt"] == "yuv420p10le" and report["interpolated"] == 5
    out = [f.rgb for f in decode(tmp_path / "out.mp4")]
    for k in (1, 3, 5, 7):
        assert psnr(out[k], half(k)) > 27, k


def test_an_odd_size_is_interpolated_at_its_own_size(tmp_path: Path) -> None:
    half = sliding(w=65, h=47, step=2)
    source = write_frames(
        tmp_path / "odd.mov",
        [half(2 * i) for i in range(6)],
        pix_fmt="rgb24",
        codec="png",
        container="mov",
    )
    code, report, err = setpiece("retime", source, tmp_path / "frames", "--fps", "24", "--json")
    assert code == 0, err
    assert report["interpolated"] == 5
    import cv2

    pictures = sorted((tmp_path / "frames").glob("*.png"))
    middle = cv2.cvtColor(cv2.imread(str(pictures[3])), cv2.COLOR_BGR2RGB)
    assert middle.shape == (47, 65, 3)
    assert psnr(middle, half(3)) > 27

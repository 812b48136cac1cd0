"""The motion commands as a user meets them: outputs, and every bad input (exit 2, one
line, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mediafactory import write_audio_mp4, write_corrupt_mp4, write_mp4

from .conftest import sliding, write_frames


def _refused(result: tuple[int, str, str], text: str, folder: Path) -> None:
    code, _, err = result
    assert code == 2, err
    assert err.count("\n") == 1 and text in err
    assert not [p for p in folder.iterdir() if p.name.startswith(("out", ".out"))]


def test_cuts_json_shape(cli, tmp_path: Path) -> None:
    first, second = sliding(seed=1, step=2), sliding(seed=7, step=2)
    write_frames(tmp_path / "c.mp4", [first(i) if i < 8 else second(i) for i in range(16)])
    code, out, _ = cli("cuts", tmp_path / "c.mp4", "--json")
    assert code == 0
    assert json.loads(out) == {
        "fps": "12/1",
        "frames": 16,
        "cuts": [{"frame": 8, "time": 0.667, "kind": "cut"}],
    }


def test_bad_inputs_are_refused_and_write_nothing(cli, tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "in.mp4", frames=12)
    _refused(cli("retime", clip, clip, "--fps", "24"), "is the input", tmp_path)
    _refused(cli("retime", clip, tmp_path / "out.mp4", "--factor", "0"), "above 0", tmp_path)
    _refused(cli("retime", clip, tmp_path / "out.mp4", "--fps", "-24"), "frame rate", tmp_path)
    _refused(cli("retime", clip, tmp_path / "out.mp4"), "either --fps", tmp_path)
    sound = write_audio_mp4(tmp_path / "sound.mp4")
    _refused(cli("retime", sound, tmp_path / "out.mp4", "--fps", "24"), "audio only", tmp_path)
    _refused(cli("deflicker", sound, tmp_path / "out.mp4"), "audio only", tmp_path)
    _refused(cli("cuts", sound), "audio only", tmp_path)
    _refused(cli("measure", tmp_path / "missing.mp4"), "does not exist", tmp_path)
    broken = write_corrupt_mp4(tmp_path / "broken.mp4")
    result = cli("retime", broken, tmp_path / "out.mp4", "--fps", "24")
    _refused(result, "stops decoding at frame 20", tmp_path)  # no half-written output
    _refused(cli("deflicker", broken, tmp_path / "out.mp4"), "stops decoding", tmp_path)
    _refused(cli("cuts", broken), "stops decoding at frame 20", tmp_path)


def test_empty_video_is_refused(cli, tmp_path: Path) -> None:
    import av

    with av.open(str(tmp_path / "empty.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    _refused(
        cli("retime", tmp_path / "empty.mp4", tmp_path / "out.mp4", "--fps", "24"), "", tmp_path
    )


def test_one_frame_odd_size_and_ten_bit(cli, tmp_path: Path) -> None:
    odd = sliding(w=65, h=47)
    write_frames(tmp_path / "one.mp4", [odd(0)[:, :64]], pix_fmt="yuv444p")
    code, out, err = cli(
        "retime", tmp_path / "one.mp4", tmp_path / "one24.mp4", "--fps", "24", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["frames"] == 2
    write_frames(tmp_path / "odd.mp4", [odd(i) for i in range(6)], pix_fmt="yuv444p")
    code, out, err = cli(
        "retime", tmp_path / "odd.mp4", tmp_path / "odd.mkv", "--fps", "24", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["padded"] is False  # 4:4:4 kept: no padding needed
    write_frames(
        tmp_path / "oddpng.mov",
        [odd(i) for i in range(6)],
        pix_fmt="rgb24",
        codec="png",
        container="mov",
    )
    code, out, err = cli(
        "retime", tmp_path / "oddpng.mov", tmp_path / "even.mp4", "--fps", "24", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["padded"] is True and json.loads(out)["pix_fmt"] == "yuv420p"
    from setpiece.store.video import decode

    padded = next(iter(decode(tmp_path / "even.mp4"))).rgb
    assert padded.shape == (48, 66, 3)  # 65x47 padded by one repeated column and row
    from setpiece.motion.retime import retime
    from setpiece.store.video import probe_video

    ten = write_frames(
        tmp_path / "ten.mp4", [sliding()(i) for i in range(6)], pix_fmt="yuv420p10le"
    )
    report = retime(ten, tmp_path / "ten24.mp4", fps=24)  # type: ignore[arg-type]
    assert report.pix_fmt == "yuv420p10le"
    assert probe_video(tmp_path / "ten24.mp4").bit_depth == 10


def test_variable_frame_rate_is_read_by_timestamps(cli, tmp_path: Path) -> None:
    from setpiece.store.video import decode

    truth = sliding(step=3)
    stamps = [0, 1, 2, 4, 5, 8, 9, 10, 11]  # frames 3, 6 and 7 missing: VFR
    vfr = write_frames(tmp_path / "vfr.mp4", [truth(t) for t in stamps], fps=24, pts=stamps)
    code, out, err = cli("retime", vfr, tmp_path / "cfr.mp4", "--fps", "24", "--json")
    assert code == 0, err
    assert json.loads(out)["frames"] == 12
    frames = [f.rgb for f in decode(tmp_path / "cfr.mp4")]
    for missing in (3, 6, 7):
        mse = ((frames[missing].astype(float) - truth(missing)) ** 2)[:, 12:-12].mean()
        assert 10 * np.log10(255**2 / mse) > 26


def test_rotation_metadata_is_honoured(tmp_path: Path) -> None:
    import subprocess

    import imageio_ffmpeg

    from setpiece.motion.retime import retime
    from setpiece.store.video import decode

    plain = write_frames(tmp_path / "plain.mp4", sliding(w=96, h=64), 4)
    turned = tmp_path / "turned.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-display_rotation",
            "90",
            "-i",
            str(plain),
            "-c",
            "copy",
            str(turned),
        ],
        check=True,
    )
    assert next(iter(decode(turned))).rgb.shape == (96, 64, 3)
    retime(turned, tmp_path / "upright.mp4", fps=24)  # type: ignore[arg-type]
    assert next(iter(decode(tmp_path / "upright.mp4"))).rgb.shape == (96, 64, 3)
